//! Equity entities and shareholdings: the 100 % cap holds under concurrency.

use serde_json::{Value, json};

use crate::helpers::*;

async fn project(app: &TestApp, token: &str) -> String {
    let created = app
        .post("/api/v1/equity-entities")
        .bearer(token)
        .json(&json!({"kind": "project", "name": "南永青村蔬菜大棚项目"}))
        .send()
        .await;
    let body = created.assert_status(201);
    assert_eq!(body["organization_id"], json!(app.fixture.org));
    assert_eq!(body["allocated_percentage"], "0.00");
    body["id"].as_str().unwrap().to_owned()
}

fn share(name: &str, holder_type: &str, percentage: &str) -> Value {
    json!({"holder_name": name, "holder_type": holder_type, "percentage": percentage})
}

#[tokio::test]
async fn twenty_racing_additions_of_ten_percent_to_thirty_percent_let_exactly_seven_in() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let id = project(&app, &operator).await;
    let path = format!("/api/v1/equity-entities/{id}/shareholdings");
    app.post(&path)
        .bearer(&operator)
        .json(&share("南永青村股份经济合作社", "collective", "30"))
        .send()
        .await
        .assert_status(201);

    let calls = (0..20).map(|i| {
        app.post(&path)
            .bearer(&operator)
            .json(&share(&format!("投资方{i}"), "enterprise", "10.00"))
            .send()
    });
    let replies = futures_util::future::join_all(calls).await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        won,
        7,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for lost in replies.iter().filter(|r| r.status != 201) {
        lost.assert_problem(409, "shares_exceed_100");
    }
    let entity = app
        .get(&format!("/api/v1/equity-entities/{id}"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(entity.body["allocated_percentage"], "100.00");
    let rows = app
        .get(&format!("{path}?limit=100"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(rows.body["items"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn the_30_60_10_project_and_its_collective_share_as_an_asset() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let id = project(&app, &operator).await;
    let path = format!("/api/v1/equity-entities/{id}/shareholdings");
    let collective = app
        .post(&path)
        .bearer(&operator)
        .json(&share("南永青村股份经济合作社", "collective", "30.00"))
        .send()
        .await
        .assert_status(201)
        .clone();
    let enterprise = app
        .post(&path)
        .bearer(&operator)
        .json(&share("绛县绿源农业有限公司", "enterprise", "60.00"))
        .send()
        .await
        .assert_status(201)
        .clone();
    app.post(&path)
        .bearer(&operator)
        .json(&share("参股农户", "households", "10.00"))
        .send()
        .await
        .assert_status(201);
    app.post(&path)
        .bearer(&operator)
        .json(&share("多出的", "individual", "0.01"))
        .send()
        .await
        .assert_problem(409, "shares_exceed_100");
    app.post(&path)
        .bearer(&operator)
        .json(&share("", "individual", "0"))
        .send()
        .await
        .assert_fields(&[("holder_name", "blank"), ("percentage", "out_of_range")]);
    app.post(&path)
        .bearer(&operator)
        .json(&share("x", "individual", "12.345"))
        .send()
        .await
        .assert_fields(&[("percentage", "invalid_decimal")]);

    let asset = |shareholding: &Value| {
        json!({
            "kind": "equity", "name": "南永青大棚项目30%股权", "region_code": VILLAGE, "address": "南永青村",
            "quantity": "30", "unit": "%", "certificate_no": "股权证第001号",
            "shareholding_id": shareholding["id"],
        })
    };
    app.post("/api/v1/assets")
        .bearer(&operator)
        .json(&asset(&enterprise))
        .send()
        .await
        .assert_fields(&[("shareholding_id", "not_a_collective_shareholding")]);
    let registered = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&asset(&collective))
        .send()
        .await;
    assert_eq!(registered.assert_status(201)["kind"], "equity");
    app.post("/api/v1/assets")
        .bearer(&operator)
        .json(&asset(&collective))
        .send()
        .await
        .assert_problem(409, "shareholding_registered");

    // A registered share cannot be removed; another can, and frees its percentage.
    let collective_id = collective["id"].as_str().unwrap();
    app.delete(&format!("{path}/{collective_id}"))
        .bearer(&operator)
        .send()
        .await
        .assert_problem(409, "shareholding_registered");
    app.delete(&format!("{path}/{}", enterprise["id"].as_str().unwrap()))
        .bearer(&operator)
        .send()
        .await
        .assert_status(204);
    let entity = app
        .get(&format!("/api/v1/equity-entities/{id}"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(entity.body["allocated_percentage"], "40.00");
}

#[tokio::test]
async fn entities_are_the_tenants_own() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let id = project(&app, &operator).await;
    let path = format!("/api/v1/equity-entities/{id}");
    let read = app.get(&path).bearer(&operator).send().await;
    let etag = read.header("etag").unwrap().to_owned();
    app.patch(&path)
        .bearer(&operator)
        .header("if-match", &etag)
        .json(&json!({"name": "南永青大棚项目"}))
        .send()
        .await
        .assert_status(200);
    app.patch(&path)
        .bearer(&operator)
        .header("if-match", &etag)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .assert_problem(412, "precondition_failed");

    let stranger = app
        .token_bound("org_operator", Some(app.fixture.other_org), None)
        .await;
    app.get(&path)
        .bearer(&stranger)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/shareholdings"))
        .bearer(&stranger)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/shareholdings"))
        .bearer(&stranger)
        .json(&share("x", "individual", "1"))
        .send()
        .await
        .assert_problem(404, "not_found");
    let list = app
        .get("/api/v1/equity-entities")
        .bearer(&stranger)
        .send()
        .await;
    assert!(list.body["items"].as_array().unwrap().is_empty());
    app.post("/api/v1/equity-entities")
        .bearer(&stranger)
        .json(&json!({"kind": "company", "name": "x", "organization_id": app.fixture.org}))
        .send()
        .await
        .assert_fields(&[("organization_id", "unknown_organization")]);
    let supervisor = app.token_for("supervisor").await;
    assert_eq!(app.get(&path).bearer(&supervisor).send().await.status, 200);
    app.post("/api/v1/equity-entities")
        .bearer(&supervisor)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(403, "forbidden");
}
