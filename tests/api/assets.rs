//! Assets from the mobile app's point of view, and the county's checks on them.

use chrono::{Duration, NaiveDate};
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::*;

fn land_body() -> Value {
    json!({
        "kind": "land_management_right",
        "name": "北庄村韭菜基地土地经营权",
        "region_code": VILLAGE,
        "address": "北庄村东50亩",
        "quantity": "50",
        "unit": "亩",
        "certificate_no": "晋(2021)绛县农村土地经营权第0001号",
        "right_start": "2021-01-01",
        "right_end": "2035-12-31",
        "acquisition_cost": "300000.00",
    })
}

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00certificate photo";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF";

fn upload(kind: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("kind", kind.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

fn today() -> NaiveDate {
    (chrono::Utc::now() + Duration::hours(8)).date_naive()
}

#[tokio::test]
async fn the_mobile_flow_from_registration_to_current_value() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let admin = app.admin_token().await;

    // The operator registers an asset of its own organization.
    let created = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&land_body())
        .send()
        .await;
    let asset = created.assert_status(201).clone();
    assert_eq!(asset["organization_id"], json!(app.fixture.org));
    assert_eq!(asset["verification"], "pending");
    assert_eq!(asset["quantity"], "50.00");
    assert!(asset["current_value"].is_null());
    let id = asset["id"].as_str().unwrap().to_owned();

    // …uploads the certificate photo.
    let uploaded = app
        .post(&format!("/api/v1/assets/{id}/documents"))
        .bearer(&operator)
        .multipart(upload("certificate_photo", "证书.png", JPEG.to_vec()))
        .send()
        .await;
    let document = uploaded.assert_status(201).clone();
    assert_eq!(
        document["content_type"], "image/jpeg",
        "read from the bytes, not the name"
    );
    assert_eq!(document["size"], JPEG.len());
    let content_url = document["content_url"].as_str().unwrap().to_owned();
    let bytes = app.get(&content_url).bearer(&operator).send().await;
    assert_eq!(bytes.status, 200);
    assert_eq!(bytes.header("content-type"), Some("image/jpeg"));
    let etag = format!("\"{}\"", document["sha256"].as_str().unwrap());
    assert_eq!(bytes.header("etag"), Some(etag.as_str()));
    assert_eq!(bytes.bytes, JPEG);
    let again = app
        .get(&content_url)
        .bearer(&operator)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, 304);

    // The county verifies it and adds an appraisal.
    let verified = app
        .post(&format!("/api/v1/assets/{id}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "verified", "note": "权证核验无误"}))
        .send()
        .await;
    assert_eq!(verified.assert_status(200)["verification"], "verified");
    let valuation = app
        .post(&format!("/api/v1/assets/{id}/valuations"))
        .bearer(&admin)
        .json(&json!({
            "value": "400000.00", "method": "income", "appraiser": "山西晋审资产评估有限公司",
            "appraisal_date": today().to_string(), "valid_until": (today() + Duration::days(365)).to_string(),
        }))
        .send()
        .await;
    let valuation = valuation.assert_status(201).clone();

    // The operator sees the outcome and the current value.
    let read = app
        .get(&format!("/api/v1/assets/{id}"))
        .bearer(&operator)
        .send()
        .await;
    let read = read.assert_status(200);
    assert_eq!(read["verification"], "verified");
    assert_eq!(read["verification_note"], "权证核验无误");
    assert_eq!(read["current_value"]["value"], "400000.00");
    assert_eq!(read["current_value"]["valuation_id"], valuation["id"]);

    // Another organization's operator finds none of it.
    let stranger = app
        .token_bound("org_operator", Some(app.fixture.other_org), None)
        .await;
    for path in [
        format!("/api/v1/assets/{id}"),
        format!("/api/v1/assets/{id}/valuations"),
        format!("/api/v1/assets/{id}/documents"),
        content_url.clone(),
    ] {
        app.get(&path)
            .bearer(&stranger)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    app.patch(&format!("/api/v1/assets/{id}"))
        .bearer(&stranger)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/api/v1/assets/{id}"))
        .bearer(&stranger)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("/api/v1/assets/{id}/documents"))
        .bearer(&stranger)
        .multipart(upload("certificate_photo", "x.jpg", JPEG.to_vec()))
        .send()
        .await
        .assert_problem(404, "not_found");
    let list = app.get("/api/v1/assets").bearer(&stranger).send().await;
    assert!(list.body["items"].as_array().unwrap().is_empty());

    // Bank staff see no assets until one is pledged to their bank.
    let officer = app.token_for("bank_officer").await;
    app.get(&format!("/api/v1/assets/{id}"))
        .bearer(&officer)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn current_value_is_the_newest_valuation_valid_today() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut body = land_body();
    body["organization_id"] = json!(app.fixture.org);
    let asset = app
        .post("/api/v1/assets")
        .bearer(&admin)
        .json(&body)
        .send()
        .await
        .assert_status(201)
        .clone();
    let id = asset["id"].as_str().unwrap();
    let value = |v: &str, from: i64, until: i64| {
        json!({
            "value": v, "method": "market", "appraiser": "评估所",
            "appraisal_date": (today() - Duration::days(from)).to_string(),
            "valid_until": (today() + Duration::days(until)).to_string(),
        })
    };
    for (v, from, until) in [
        ("100000.00", 400, -30),
        ("350000.00", 200, 100),
        ("380000.00", 10, 300),
        ("999999.00", 5, -1),
    ] {
        app.post(&format!("/api/v1/assets/{id}/valuations"))
            .bearer(&admin)
            .json(&value(v, from, until))
            .send()
            .await
            .assert_status(201);
    }
    let read = app
        .get(&format!("/api/v1/assets/{id}"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(read.body["current_value"]["value"], "380000.00");
    let all = app
        .get(&format!("/api/v1/assets/{id}/valuations"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 4);

    app.post(&format!("/api/v1/assets/{id}/valuations")).bearer(&admin)
        .json(&json!({"value": "0.00", "method": "cost", "appraiser": "", "appraisal_date": (today() + Duration::days(1)).to_string(), "valid_until": today().to_string()}))
        .send().await
        .assert_fields(&[("value", "out_of_range"), ("appraiser", "blank"), ("appraisal_date", "in_future"), ("valid_until", "not_after_appraisal_date")]);
    let operator = app.token_for("org_operator").await;
    app.post(&format!("/api/v1/assets/{id}/valuations"))
        .bearer(&operator)
        .json(&value("1.00", 1, 1))
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn every_asset_rule_names_its_field() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let post = |body: Value| {
        let operator = operator.clone();
        let app = &app;
        async move {
            app.post("/api/v1/assets")
                .bearer(&operator)
                .json(&body)
                .send()
                .await
        }
    };
    let mut bad = land_body();
    bad["unit"] = json!("台");
    bad["certificate_no"] = Value::Null;
    bad["right_end"] = json!("2020-01-01");
    bad["name"] = json!("");
    bad["acquisition_cost"] = json!("-5.00");
    post(bad).await.assert_fields(&[
        ("name", "blank"),
        ("acquisition_cost", "negative"),
        ("unit", "unit_not_allowed_for_kind"),
        ("certificate_no", "required_for_kind"),
        ("right_end", "not_after_start"),
    ]);
    let mut no_term = land_body();
    no_term.as_object_mut().unwrap().remove("right_start");
    post(no_term)
        .await
        .assert_fields(&[("right_start", "required_for_kind")]);

    let herd = json!({"kind": "livestock", "name": "肉牛", "region_code": VILLAGE, "address": "养殖场", "quantity": "120", "unit": "头"});
    post(herd.clone())
        .await
        .assert_fields(&[("head_count", "required_for_kind")]);
    let mut tagged = herd.clone();
    tagged["head_count"] = json!(120);
    tagged["ear_tags"] = json!(["JX-0001", "JX-0002"]);
    let created = post(tagged).await;
    assert_eq!(
        created.assert_status(201)["ear_tags"],
        json!(["JX-0001", "JX-0002"])
    );
    assert!(
        created.body["certificate_no"].is_null(),
        "livestock needs no certificate"
    );

    let greenhouse = json!({"kind": "production_facility", "name": "日光温室", "region_code": VILLAGE, "address": "村南", "quantity": "14", "unit": "座", "head_count": 3});
    post(greenhouse)
        .await
        .assert_fields(&[("head_count", "not_allowed_for_kind")]);

    let mut elsewhere = land_body();
    elsewhere["region_code"] = json!("140826109001");
    post(elsewhere)
        .await
        .assert_fields(&[("region_code", "unknown_region")]);
    let mut other_org = land_body();
    other_org["organization_id"] = json!(app.fixture.other_org);
    post(other_org)
        .await
        .assert_fields(&[("organization_id", "unknown_organization")]);
    let mut quantity = land_body();
    quantity["quantity"] = json!("1.234");
    post(quantity)
        .await
        .assert_fields(&[("quantity", "invalid_decimal")]);

    assert_eq!(
        entity::asset::Entity::find().count(&app.db).await.unwrap(),
        1,
        "only the herd"
    );
}

#[tokio::test]
async fn editing_what_was_verified_sends_it_back_and_etags_guard_edits() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let admin = app.admin_token().await;
    let asset = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&land_body())
        .send()
        .await
        .assert_status(201)
        .clone();
    let path = format!("/api/v1/assets/{}", asset["id"].as_str().unwrap());
    app.post(&format!("{path}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "verified"}))
        .send()
        .await
        .assert_status(200);

    let read = app.get(&path).bearer(&operator).send().await;
    let etag = read.header("etag").unwrap().to_owned();
    let described = app
        .patch(&path)
        .bearer(&operator)
        .header("if-match", &etag)
        .json(&json!({"description": "种植韭菜"}))
        .send()
        .await;
    assert_eq!(
        described.assert_status(200)["verification"],
        "verified",
        "a description is not verified"
    );
    app.patch(&path)
        .bearer(&operator)
        .header("if-match", &etag)
        .json(&json!({"quantity": "60"}))
        .send()
        .await
        .assert_problem(412, "precondition_failed");
    let grown = app
        .patch(&path)
        .bearer(&operator)
        .json(&json!({"quantity": "60"}))
        .send()
        .await;
    let grown = grown.assert_status(200);
    assert_eq!(grown["verification"], "pending");
    assert_eq!(grown["quantity"], "60.00");
    app.patch(&path)
        .bearer(&operator)
        .json(&json!({"right_end": "2000-01-01"}))
        .send()
        .await
        .assert_fields(&[("right_end", "not_after_start")]);

    app.post(&format!("{path}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "rejected"}))
        .send()
        .await
        .assert_fields(&[("note", "required")]);
    let rejected = app
        .post(&format!("{path}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "rejected", "note": "权证照片不清晰"}))
        .send()
        .await;
    assert_eq!(rejected.assert_status(200)["verification"], "rejected");
    app.post(&format!("{path}/verification"))
        .bearer(&operator)
        .json(&json!({"decision": "verified"}))
        .send()
        .await
        .assert_problem(403, "forbidden");

    app.delete(&path)
        .bearer(&operator)
        .header("if-match", "\"1\"")
        .send()
        .await
        .assert_problem(412, "precondition_failed");
    app.delete(&path)
        .bearer(&operator)
        .send()
        .await
        .assert_status(204);
    app.get(&path)
        .bearer(&operator)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn documents_are_checked_by_content_and_size() {
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    let asset = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&land_body())
        .send()
        .await
        .assert_status(201)
        .clone();
    let path = format!("/api/v1/assets/{}/documents", asset["id"].as_str().unwrap());

    let disguised = app
        .post(&path)
        .bearer(&operator)
        .multipart(upload(
            "certificate_photo",
            "photo.jpg",
            b"<html>not a photo</html>".to_vec(),
        ))
        .send()
        .await;
    disguised.assert_fields(&[("file", "unsupported_file_type")]);
    let no_kind = app
        .post(&path)
        .bearer(&operator)
        .multipart(Form::new().part("file", Part::bytes(PDF.to_vec()).file_name("r.pdf")))
        .send()
        .await;
    no_kind.assert_fields(&[("kind", "required")]);
    let bad_kind = app
        .post(&path)
        .bearer(&operator)
        .multipart(upload("selfie", "r.pdf", PDF.to_vec()))
        .send()
        .await;
    bad_kind.assert_fields(&[("kind", "invalid_value")]);

    let mut huge = b"%PDF-1.7\n".to_vec();
    huge.resize(10 * 1024 * 1024 + 1, b'0');
    let too_big = app
        .post(&path)
        .bearer(&operator)
        .multipart(upload("appraisal_report", "big.pdf", huge))
        .send()
        .await;
    too_big.assert_problem(413, "payload_too_large");

    let mut limit = b"%PDF-1.7\n".to_vec();
    limit.resize(10 * 1024 * 1024, b'0');
    let at_limit = app
        .post(&path)
        .bearer(&operator)
        .multipart(upload("appraisal_report", "ok.pdf", limit))
        .send()
        .await;
    assert_eq!(
        at_limit.assert_status(201)["content_type"],
        "application/pdf"
    );

    let list = app.get(&path).bearer(&operator).send().await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        entity::asset_document::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn pages_neither_lose_nor_repeat_rows_while_rows_are_inserted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut body = land_body();
    body["organization_id"] = json!(app.fixture.org);
    for _ in 0..12 {
        app.post("/api/v1/assets")
            .bearer(&admin)
            .json(&body)
            .send()
            .await
            .assert_status(201);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/assets?limit=5&cursor={c}"),
            None => "/api/v1/assets?limit=5".to_owned(),
        };
        let page = app
            .get(&path)
            .bearer(&admin)
            .send()
            .await
            .assert_status(200)
            .clone();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        // Someone registers another asset between two pages.
        if seen.len() <= 15 {
            app.post("/api/v1/assets")
                .bearer(&admin)
                .json(&body)
                .send()
                .await
                .assert_status(201);
        }
    }
    let total = entity::asset::Entity::find().count(&app.db).await.unwrap() as usize;
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no row repeated");
    assert_eq!(
        seen.len(),
        total,
        "no row lost: rows added behind the cursor are reached too"
    );

    app.get("/api/v1/assets?cursor=bm90LWEtdXVpZA")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/api/v1/assets?kind=castle")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    let pending = app
        .get("/api/v1/assets?verification=pending&kind=land_management_right&limit=100")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), total);
}
