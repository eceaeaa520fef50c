//! Regions: codes validated for shape, level and parent.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_adds_a_village_beneath_its_township() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created = app
        .post("/api/v1/regions")
        .bearer(&admin)
        .json(&json!({"code": "140826100002", "name": "郭家庄村"}))
        .send()
        .await;
    let body = created.assert_status(201);
    assert_eq!(body["level"], "village");
    assert_eq!(body["parent_code"], TOWNSHIP);

    let operator = app.token_for("org_operator").await;
    let read = app
        .get("/api/v1/regions/140826100002")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(read.assert_status(200)["name"], "郭家庄村");

    let children = app
        .get(&format!("/api/v1/regions?parent_code={TOWNSHIP}"))
        .bearer(&operator)
        .send()
        .await;
    let codes: Vec<&str> = children.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec![VILLAGE, "140826100002"]);

    let townships = app
        .get("/api/v1/regions?level=township&limit=1")
        .bearer(&operator)
        .send()
        .await;
    let townships = townships.assert_status(200).clone();
    assert_eq!(townships["items"][0]["code"], TOWNSHIP);
    let next = app
        .get(&format!(
            "/api/v1/regions?level=township&limit=1&cursor={}",
            townships["next_cursor"].as_str().unwrap()
        ))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(next.body["items"][0]["code"], OTHER_TOWNSHIP);
    assert!(next.body.get("next_cursor").is_none());
}

#[tokio::test]
async fn bad_codes_levels_and_parents_are_named() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let create = |body: serde_json::Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.post("/api/v1/regions")
                .bearer(&admin)
                .json(&body)
                .send()
                .await
        }
    };
    create(json!({"code": "14082610000", "name": "x"}))
        .await
        .assert_fields(&[("code", "invalid_region_code")]);
    create(json!({"code": "140826000201", "name": "x"}))
        .await
        .assert_fields(&[("code", "invalid_region_code")]);
    create(json!({"code": "140826100003", "name": ""}))
        .await
        .assert_fields(&[("name", "blank")]);
    create(json!({"code": "140826102001", "name": "无镇之村"}))
        .await
        .assert_fields(&[("code", "unknown_parent")]);
    create(json!({"code": "140826100003", "name": "x", "level": "township"}))
        .await
        .assert_fields(&[("level", "level_mismatch")]);
    create(json!({"code": "140826100003", "name": "x", "parent_code": COUNTY}))
        .await
        .assert_fields(&[("parent_code", "parent_mismatch")]);
    create(json!({"code": VILLAGE, "name": "again"}))
        .await
        .assert_problem(409, "region_exists");

    let count = entity::region::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(count, 7, "nothing was written");

    app.get("/api/v1/regions/999999999999")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/regions?parent_code=abc")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

use sea_orm::EntityTrait;
