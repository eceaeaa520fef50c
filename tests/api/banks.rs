//! Banks, branches and served regions.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_sets_up_a_bank() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created = app
        .post("/api/v1/banks")
        .bearer(&admin)
        .json(&json!({"name": "中国邮政储蓄银行绛县支行", "code": "psbc-jx"}))
        .send()
        .await;
    let bank = created.assert_status(201).clone();
    assert_eq!(bank["code"], "PSBC-JX");
    let id = bank["id"].as_str().unwrap();

    let branch = app
        .post(&format!("/api/v1/banks/{id}/branches"))
        .bearer(&admin)
        .json(&json!({"name": "横水营业所", "region_code": OTHER_TOWNSHIP}))
        .send()
        .await;
    branch.assert_status(201);
    app.post(&format!("/api/v1/banks/{id}/branches"))
        .bearer(&admin)
        .json(&json!({"name": "横水营业所"}))
        .send()
        .await
        .assert_problem(409, "branch_name_taken");

    let served = app
        .call(reqwest::Method::PUT, &format!("/api/v1/banks/{id}/regions"))
        .bearer(&admin)
        .json(&json!({"region_codes": [COUNTY, TOWNSHIP, COUNTY]}))
        .send()
        .await;
    let served = served.assert_status(200);
    assert_eq!(served["served_region_codes"], json!([COUNTY, TOWNSHIP]));
    assert_eq!(served["branches"][0]["name"], "横水营业所");

    let bad = app
        .call(reqwest::Method::PUT, &format!("/api/v1/banks/{id}/regions"))
        .bearer(&admin)
        .json(&json!({"region_codes": [COUNTY, "12", "140826109000"]}))
        .send()
        .await;
    bad.assert_fields(&[
        ("region_codes[1]", "invalid_region_code"),
        ("region_codes[2]", "unknown_region"),
    ]);
    let unchanged = app
        .get(&format!("/api/v1/banks/{id}"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(
        unchanged.body["served_region_codes"],
        json!([COUNTY, TOWNSHIP])
    );

    app.post("/api/v1/banks")
        .bearer(&admin)
        .json(&json!({"name": "重复", "code": "PSBC-JX"}))
        .send()
        .await
        .assert_problem(409, "bank_code_taken");
    app.post("/api/v1/banks")
        .bearer(&admin)
        .json(&json!({"name": "", "code": "x y"}))
        .send()
        .await
        .assert_fields(&[("name", "blank"), ("code", "invalid_bank_code")]);

    let officer = app.token_for("bank_officer").await;
    let list = app.get("/api/v1/banks").bearer(&officer).send().await;
    assert_eq!(
        list.assert_status(200)["items"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn bank_edits_need_a_fresh_etag() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/banks/{}", app.fixture.bank);
    let read = app.get(&path).bearer(&admin).send().await;
    let etag = read.header("etag").unwrap().to_owned();
    let renamed = app
        .patch(&path)
        .bearer(&admin)
        .header("if-match", &etag)
        .json(&json!({"name": "山西绛县农村商业银行"}))
        .send()
        .await;
    assert_eq!(renamed.assert_status(200)["name"], "山西绛县农村商业银行");
    app.patch(&path)
        .bearer(&admin)
        .header("if-match", &etag)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .assert_problem(412, "precondition_failed");
    app.patch(&path)
        .bearer(&admin)
        .json(&json!({"code": "ABCJX"}))
        .send()
        .await
        .assert_problem(409, "bank_code_taken");
}
