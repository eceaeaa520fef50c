//! Products, matching and applications from draft to submit, with liens and idempotency.

use chrono::{Duration, NaiveDate};
use entity::{LienStatus, audit_event, lien};
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const PDF: &[u8] = b"%PDF-1.7\nassembly resolution\n%%EOF";

pub(crate) fn today() -> NaiveDate {
    (chrono::Utc::now() + Duration::hours(8)).date_naive()
}

pub(crate) fn product_body(name: &str, rate: &str, ltv: &str) -> Value {
    json!({
        "name": name,
        "collateral": [{"kind": "land_management_right", "max_ltv": ltv}],
        "amount_min": "10000.00",
        "amount_max": "5000000.00",
        "term_min_months": 6,
        "term_max_months": 60,
        "annual_rate": rate,
        "repayment_methods": ["annuity", "equal_principal"],
        "purposes": ["planting", "working_capital"],
    })
}

/// What a loan test needs: an approver's active product at the fixture bank, and a verified,
/// valued land right of the fixture organization with an assembly resolution uploaded.
pub(crate) struct Loan {
    pub operator: String,
    pub admin: String,
    pub product: String,
    pub asset: String,
    pub resolution: String,
}

pub(crate) async fn active_product(app: &TestApp, approver: &str, body: &Value) -> String {
    let created = app
        .post("/api/v1/products")
        .bearer(approver)
        .json(body)
        .send()
        .await;
    let id = created.created_id();
    let active = app
        .post(&format!("/api/v1/products/{id}/activate"))
        .bearer(approver)
        .send()
        .await;
    assert_eq!(active.assert_status(200)["status"], "active");
    id
}

pub(crate) async fn valued_land(app: &TestApp, admin: &str, value: &str) -> String {
    let asset = app
        .post("/api/v1/assets")
        .bearer(admin)
        .json(&json!({
            "organization_id": app.fixture.org, "kind": "land_management_right", "name": "北庄村土地经营权",
            "region_code": VILLAGE, "address": "北庄村东", "quantity": "50", "unit": "亩",
            "certificate_no": "晋(2021)绛县农村土地经营权第0001号",
            "right_start": "2021-01-01", "right_end": "2040-12-31",
        }))
        .send()
        .await;
    let id = asset.created_id();
    app.post(&format!("/api/v1/assets/{id}/verification"))
        .bearer(admin)
        .json(&json!({"decision": "verified"}))
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/assets/{id}/valuations"))
        .bearer(admin)
        .json(&json!({
            "value": value, "method": "income", "appraiser": "评估所",
            "appraisal_date": (today() - Duration::days(30)).to_string(),
            "valid_until": (today() + Duration::days(335)).to_string(),
        }))
        .send()
        .await
        .assert_status(201);
    id
}

pub(crate) async fn setup(app: &TestApp) -> Loan {
    let admin = app.admin_token().await;
    let operator = app.token_for("org_operator").await;
    let approver = app.token_for("bank_approver").await;
    let product = active_product(
        app,
        &approver,
        &product_body("土地经营权抵押贷款", "4.35", "0.7"),
    )
    .await;
    let asset = valued_land(app, &admin, "400000.00").await;
    let resolution = app
        .post(&format!("/api/v1/assets/{asset}/documents"))
        .bearer(&operator)
        .multipart(
            Form::new()
                .text("kind", "assembly_resolution")
                .part("file", Part::bytes(PDF.to_vec()).file_name("决议.pdf")),
        )
        .send()
        .await;
    let resolution = resolution.created_id();
    Loan {
        operator,
        admin,
        product,
        asset,
        resolution,
    }
}

pub(crate) fn draft(loan: &Loan, amount: &str) -> Value {
    json!({
        "amount": amount, "term_months": 36, "purpose": "planting", "repayment_method": "annuity",
        "asset_ids": [loan.asset], "product_id": loan.product,
        "resolution_date": (today() - Duration::days(10)).to_string(),
        "resolution_document_id": loan.resolution,
    })
}

/// `count` drafts of `draft(loan, "100000.00")`, all pledging the loan's asset.
pub(crate) async fn drafts(app: &TestApp, loan: &Loan, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let created = app
            .post("/api/v1/applications")
            .bearer(&loan.operator)
            .json(&draft(loan, "100000.00"))
            .send()
            .await;
        ids.push(created.created_id());
    }
    ids
}

pub(crate) async fn open_liens(app: &TestApp) -> u64 {
    lien::Entity::find()
        .filter(lien::Column::Status.is_in([LienStatus::Reserved, LienStatus::Active]))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn quote_create_submit_see_encumbered_withdraw_see_free() {
    let app = spawn_app().await;
    let loan = setup(&app).await;

    let quote = app
        .post("/api/v1/matching/quote")
        .bearer(&loan.operator)
        .json(&json!({"amount": "1000000.00", "term_months": 36, "asset_ids": [loan.asset], "purpose": "planting"}))
        .send()
        .await;
    let best = quote.assert_status(200)["matches"][0].clone();
    assert_eq!(best["product_id"], loan.product.as_str());
    assert_eq!(
        best["eligible"], false,
        "400,000 × 0.7 cannot carry 1,000,000"
    );
    assert_eq!(best["max_loanable"], "280000.00");
    assert_eq!(best["reasons"][0]["code"], "insufficient_collateral");
    assert_eq!(
        best["first_payment"], "29679.93",
        "the documented annuity example"
    );
    assert_eq!(best["total_repayment"], "1068477.65");

    let created = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&draft(&loan, "250000.00"))
        .send()
        .await;
    let application = created.assert_status(201).clone();
    assert_eq!(application["status"], "draft");
    let reference = application["reference"].as_str().unwrap();
    assert!(
        reference.starts_with("JX-20") && reference.len() == 14,
        "{reference}"
    );
    let id = application["id"].as_str().unwrap();

    let matches = app
        .get(&format!("/api/v1/applications/{id}/matches"))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(matches.assert_status(200)["matches"][0]["eligible"], true);

    let submitted = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&loan.operator)
        .send()
        .await;
    let submitted = submitted.assert_status(200).clone();
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submitted_at"].is_string());
    let asset = app
        .get(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(asset.body["encumbered"], true);
    assert_eq!(open_liens(&app).await, 1);
    let encumbered = app
        .get("/api/v1/assets?encumbered=true")
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(encumbered.body["items"].as_array().unwrap().len(), 1);

    // The bank now sees the application and the pledged asset.
    let officer = app.token_for("bank_officer").await;
    app.get(&format!("/api/v1/applications/{id}"))
        .bearer(&officer)
        .send()
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&officer)
        .send()
        .await
        .assert_status(200);

    // Under a lien, the asset's quantity cannot change and it cannot be removed.
    app.patch(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&loan.operator)
        .json(&json!({"quantity": "60"}))
        .send()
        .await
        .assert_problem(409, "asset_encumbered");
    app.delete(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_problem(409, "asset_encumbered");

    // Acting from the wrong state is a 409 naming the current one.
    let again = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(
        again.assert_problem(409, "invalid_state")["current_state"],
        "submitted"
    );
    app.patch(&format!("/api/v1/applications/{id}"))
        .bearer(&loan.operator)
        .json(&json!({"amount": "1.00"}))
        .send()
        .await
        .assert_problem(409, "invalid_state");

    let withdrawn = app
        .post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(withdrawn.assert_status(200)["status"], "withdrawn");
    let asset = app
        .get(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(asset.body["encumbered"], false);
    assert_eq!(open_liens(&app).await, 0);
    let twice = app
        .post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(
        twice.assert_problem(409, "invalid_state")["current_state"],
        "withdrawn"
    );

    let events: Vec<String> = audit_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        events.contains(&"application.submit".to_owned())
            && events.contains(&"application.withdraw".to_owned())
    );
}

#[tokio::test]
async fn every_ineligibility_reason_appears_with_its_code() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    // A product of a bank that serves nothing, for machinery only, lending for breeding.
    let stranger = app
        .token_bound("bank_approver", None, Some(app.fixture.other_bank))
        .await;
    let mut body = product_body("农机贷", "3.9", "0.5");
    body["collateral"] = json!([{"kind": "machinery", "max_ltv": "0.5"}]);
    body["purposes"] = json!(["breeding"]);
    body["term_max_months"] = json!(12);
    body["amount_min"] = json!("500000.00");
    let narrow = active_product(&app, &stranger, &body).await;

    // An unverified asset without valuation, and one already pledged elsewhere.
    let unverified = app
        .post("/api/v1/assets")
        .bearer(&loan.operator)
        .json(&json!({
            "kind": "land_management_right", "name": "未核验地块", "region_code": VILLAGE, "address": "村西",
            "quantity": "10", "unit": "亩", "certificate_no": "X-1", "right_start": "2021-01-01", "right_end": "2027-06-30",
        }))
        .send()
        .await
        .created_id();
    let pledged = valued_land(&app, &loan.admin, "100000.00").await;
    let mut other = draft(&loan, "50000.00");
    other["asset_ids"] = json!([pledged]);
    let other = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&other)
        .send()
        .await
        .assert_status(201)
        .clone();
    app.post(&format!(
        "/api/v1/applications/{}/submit",
        other["id"].as_str().unwrap()
    ))
    .bearer(&loan.operator)
    .send()
    .await
    .assert_status(200);

    let quote = app
        .post("/api/v1/matching/quote")
        .bearer(&loan.operator)
        .header("accept-language", "zh-CN")
        .json(&json!({"amount": "300000.00", "term_months": 24, "asset_ids": [unverified, pledged], "purpose": "planting"}))
        .send()
        .await;
    let matches = quote.assert_status(200)["matches"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(matches.len(), 2);
    let mut codes: Vec<String> = matches
        .iter()
        .flat_map(|m| {
            m["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
        })
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(
        codes,
        vec![
            "amount_out_of_range",
            "asset_encumbered",
            "asset_not_verified",
            "collateral_kind_not_accepted",
            "insufficient_collateral",
            "no_valid_valuation",
            "purpose_not_accepted",
            "region_not_served",
            "term_exceeds_right",
            "term_out_of_range",
        ]
    );
    let narrow_match = matches
        .iter()
        .find(|m| m["product_id"] == narrow.as_str())
        .unwrap();
    assert!(
        narrow_match["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("银行"),
        "messages follow the language"
    );

    app.post("/api/v1/matching/quote")
        .bearer(&loan.operator)
        .json(&json!({"amount": "0", "term_months": 0, "asset_ids": [], "purpose": "planting"}))
        .send()
        .await
        .assert_fields(&[
            ("amount", "out_of_range"),
            ("term_months", "out_of_range"),
            ("asset_ids", "required"),
        ]);
    let foreign = app.post("/api/v1/matching/quote").bearer(&loan.operator)
        .json(&json!({"amount": "1000", "term_months": 12, "asset_ids": [uuid::Uuid::now_v7()], "purpose": "planting"}))
        .send().await;
    foreign.assert_fields(&[("asset_ids[0]", "unknown_asset")]);
}

#[tokio::test]
async fn submit_checks_everything_again() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let bare = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&json!({"amount": "2000000.00", "term_months": 36, "purpose": "planting"}))
        .send()
        .await;
    let id = bare.created_id();
    app.post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_fields(&[
            ("asset_ids", "required"),
            ("resolution_date", "required"),
            ("resolution_document_id", "required"),
            ("product_id", "required"),
        ]);
    let mut old = draft(&loan, "2000000.00");
    old["resolution_date"] = json!((today() - Duration::days(400)).to_string());
    app.patch(&format!("/api/v1/applications/{id}"))
        .bearer(&loan.operator)
        .json(&old)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_fields(&[
            ("resolution_date", "resolution_too_old"),
            ("amount", "insufficient_collateral"),
        ]);
    app.patch(&format!("/api/v1/applications/{id}")).bearer(&loan.operator)
        .json(&json!({"repayment_method": "interest_only", "product_id": uuid::Uuid::now_v7(), "resolution_document_id": loan.asset}))
        .send().await
        .assert_fields(&[("product_id", "unknown_product"), ("resolution_document_id", "unknown_document")]);
    assert_eq!(open_liens(&app).await, 0);
    let still = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(still.body["status"], "draft");
}

#[tokio::test]
async fn twenty_applications_racing_for_one_asset_let_exactly_one_in() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let ids = drafts(&app, &loan, 20).await;
    let submits = ids.iter().map(|id| {
        app.post(&format!("/api/v1/applications/{id}/submit"))
            .bearer(&loan.operator)
            .send()
    });
    let replies = futures_util::future::join_all(submits).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    for lost in replies.iter().filter(|r| r.status != 200) {
        let body = lost.assert_problem(409, "asset_encumbered");
        assert_eq!(body["asset_id"], loan.asset.as_str());
    }
    assert_eq!(open_liens(&app).await, 1);
    let submitted = app
        .get("/api/v1/applications?status=submitted")
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(submitted.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn retried_submits_with_one_key_change_nothing_twice() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let created = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&draft(&loan, "100000.00"))
        .send()
        .await;
    let id = created.created_id();
    let submit = || {
        app.post(&format!("/api/v1/applications/{id}/submit"))
            .bearer(&loan.operator)
            .header("idempotency-key", "submit-once-7f3a")
            .send()
    };
    // Two at once (one may find the other in flight), then a late retry.
    let (a, b) = futures_util::join!(submit(), submit());
    let late = submit().await;
    let firsts: Vec<&Reply> = [&a, &b].into_iter().filter(|r| r.status == 200).collect();
    assert!(!firsts.is_empty());
    for other in [&a, &b].into_iter().filter(|r| r.status != 200) {
        other.assert_problem(409, "idempotency_key_in_flight");
    }
    assert_eq!(late.status, 200);
    assert_eq!(late.bytes, firsts[0].bytes, "byte for byte");
    assert_eq!(late.header("idempotent-replayed"), Some("true"));
    assert_eq!(open_liens(&app).await, 1);
    let submits = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("application.submit"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(submits, 1);
}

#[tokio::test]
async fn a_creation_key_replays_and_refuses_another_body() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let create = |amount: &str| {
        app.post("/api/v1/applications")
            .bearer(&loan.operator)
            .header("idempotency-key", "create-1")
            .json(&draft(&loan, amount))
            .send()
    };
    let first = create("100000.00").await;
    first.assert_status(201);
    let retry = create("100000.00").await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.bytes, first.bytes);
    create("200000.00")
        .await
        .assert_problem(422, "idempotency_key_reused");
    let all = app
        .get("/api/v1/applications")
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn references_are_unique_under_concurrent_creation() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let creates = (0..12).map(|_| {
        app.post("/api/v1/applications")
            .bearer(&loan.operator)
            .json(&draft(&loan, "10000.00"))
            .send()
    });
    let replies = futures_util::future::join_all(creates).await;
    let mut references: Vec<String> = replies
        .iter()
        .map(|r| {
            r.assert_status(201)["reference"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 12);
}

#[tokio::test]
async fn products_belong_to_their_bank_and_move_draft_active_retired() {
    let app = spawn_app().await;
    let approver = app.token_for("bank_approver").await;
    let created = app
        .post("/api/v1/products")
        .bearer(&approver)
        .json(&product_body("设施贷", "5.2", "0.5"))
        .send()
        .await;
    let product = created.assert_status(201).clone();
    assert_eq!(product["status"], "draft");
    assert_eq!(product["bank_id"], json!(app.fixture.bank));
    let id = product["id"].as_str().unwrap();

    let mut bad = product_body("", "4", "1.5");
    bad["amount_max"] = json!("1.00");
    bad["collateral"] =
        json!([{"kind": "building", "max_ltv": "1.5"}, {"kind": "building", "max_ltv": "0.5"}]);
    bad["repayment_methods"] = json!([]);
    app.post("/api/v1/products")
        .bearer(&approver)
        .json(&bad)
        .send()
        .await
        .assert_fields(&[
            ("name", "blank"),
            ("collateral[0].max_ltv", "out_of_range"),
            ("collateral[1].kind", "duplicate"),
            ("amount_max", "below_minimum"),
            ("repayment_methods", "required"),
        ]);

    let quote_before = app
        .get("/api/v1/products?status=active")
        .bearer(&approver)
        .send()
        .await;
    assert!(
        quote_before.body["items"].as_array().unwrap().is_empty(),
        "drafts are not offered"
    );
    app.post(&format!("/api/v1/products/{id}/retire"))
        .bearer(&approver)
        .send()
        .await
        .assert_problem(409, "invalid_state");
    app.post(&format!("/api/v1/products/{id}/activate"))
        .bearer(&approver)
        .send()
        .await
        .assert_status(200);
    let again = app
        .post(&format!("/api/v1/products/{id}/activate"))
        .bearer(&approver)
        .send()
        .await;
    assert_eq!(
        again.assert_problem(409, "invalid_state")["current_state"],
        "active"
    );

    let other_bank = app
        .token_bound("bank_approver", None, Some(app.fixture.other_bank))
        .await;
    app.post(&format!("/api/v1/products/{id}/retire"))
        .bearer(&other_bank)
        .send()
        .await
        .assert_problem(404, "not_found");
    let officer = app.token_for("bank_officer").await;
    app.post("/api/v1/products")
        .bearer(&officer)
        .json(&product_body("x", "1", "0.5"))
        .send()
        .await
        .assert_problem(403, "forbidden");

    let operator = app.token_for("org_operator").await;
    let by_kind = app
        .get("/api/v1/products?kind=land_management_right")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(by_kind.body["items"].as_array().unwrap().len(), 1);
    app.post(&format!("/api/v1/products/{id}/retire"))
        .bearer(&approver)
        .send()
        .await
        .assert_status(200);
    app.patch(&format!("/api/v1/products/{id}"))
        .bearer(&approver)
        .json(&product_body("y", "1", "0.5"))
        .send()
        .await
        .assert_problem(409, "product_retired");
}

#[tokio::test]
async fn what_never_reached_a_bank_stays_hidden_from_it() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    // A draft that names the bank's product, withdrawn without ever being submitted.
    let created = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&draft(&loan, "100000.00"))
        .send()
        .await;
    let id = created.created_id();
    app.post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_status(200);
    let officer = app.token_for("bank_officer").await;
    app.get(&format!("/api/v1/applications/{id}"))
        .bearer(&officer)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&officer)
        .send()
        .await
        .assert_problem(404, "not_found");
    let valuation = json!({
        "value": "1.00", "method": "market", "appraiser": "x",
        "appraisal_date": today().to_string(), "valid_until": (today() + Duration::days(1)).to_string(),
    });
    app.post(&format!("/api/v1/assets/{}/valuations", loan.asset))
        .bearer(&officer)
        .json(&valuation)
        .send()
        .await
        .assert_problem(404, "not_found");

    // Once pledged to the bank, its officer may appraise it; after withdrawal no longer.
    let pledged = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&draft(&loan, "100000.00"))
        .send()
        .await;
    let pledged = pledged.created_id();
    app.post(&format!("/api/v1/applications/{pledged}/submit"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/assets/{}/valuations", loan.asset))
        .bearer(&officer)
        .json(&valuation)
        .send()
        .await
        .assert_status(201);
    let before = upload_document(&app, &loan).await;
    let asset_routes = [
        format!("/api/v1/assets/{}", loan.asset),
        format!("/api/v1/assets/{}/valuations", loan.asset),
        format!("/api/v1/assets/{}/documents", loan.asset),
        format!("/api/v1/documents/{before}/content"),
    ];
    for path in &asset_routes {
        app.get(path)
            .bearer(&officer)
            .send()
            .await
            .assert_status(200);
    }
    app.post(&format!("/api/v1/applications/{pledged}/withdraw"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_status(200);
    // The bank keeps the application's record, but no longer sees the collateral itself:
    // neither what it saw before nor what the village adds afterwards.
    app.get(&format!("/api/v1/applications/{pledged}"))
        .bearer(&officer)
        .send()
        .await
        .assert_status(200);
    let after = upload_document(&app, &loan).await;
    for path in asset_routes
        .iter()
        .cloned()
        .chain([format!("/api/v1/documents/{after}/content")])
    {
        app.get(&path)
            .bearer(&officer)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    let listed = app.get("/api/v1/assets").bearer(&officer).send().await;
    assert_eq!(listed.assert_status(200)["items"], json!([]));
    app.post(&format!("/api/v1/assets/{}/valuations", loan.asset))
        .bearer(&officer)
        .json(&valuation)
        .send()
        .await
        .assert_problem(404, "not_found");
}

/// The operator uploads an appraisal report for the loan's asset; returns the document id.
async fn upload_document(app: &TestApp, loan: &Loan) -> String {
    let form = reqwest::multipart::Form::new()
        .text("kind", "appraisal_report")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.7\n%%EOF".to_vec()).file_name("report.pdf"),
        );
    let reply = app
        .post(&format!("/api/v1/assets/{}/documents", loan.asset))
        .bearer(&loan.operator)
        .multipart(form)
        .send()
        .await;
    reply.created_id()
}

#[tokio::test]
async fn a_product_retired_after_it_was_chosen_cannot_be_submitted_to() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let created = app
        .post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&draft(&loan, "100000.00"))
        .send()
        .await;
    let id = created.created_id();
    let approver = app.token_for("bank_approver").await;
    app.post(&format!("/api/v1/products/{}/retire", loan.product))
        .bearer(&approver)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_fields(&[("product_id", "unknown_product")]);
    assert_eq!(open_liens(&app).await, 0);
}

#[tokio::test]
async fn an_asset_whose_document_resolves_an_application_is_kept() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let other = valued_land(&app, &loan.admin, "100000.00").await;
    let mut body = draft(&loan, "50000.00");
    body["asset_ids"] = json!([other]);
    app.post("/api/v1/applications")
        .bearer(&loan.operator)
        .json(&body)
        .send()
        .await
        .assert_status(201);
    // The resolution lives on `loan.asset`, which no application pledges.
    app.delete(&format!("/api/v1/assets/{}", loan.asset))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_problem(409, "asset_in_application");
    app.delete(&format!("/api/v1/assets/{other}"))
        .bearer(&loan.operator)
        .send()
        .await
        .assert_problem(409, "asset_in_application");
}

#[tokio::test]
async fn amounts_are_capped_before_any_arithmetic() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    app.post("/api/v1/matching/quote")
        .bearer(&loan.operator)
        .json(&json!({"amount": "92233720368547758.07", "term_months": 360, "asset_ids": [loan.asset], "purpose": "planting"}))
        .send()
        .await
        .assert_fields(&[("amount", "out_of_range")]);
}

/// Product moves take the same path as applications: one wins a race, the loser learns the
/// state it lost to, and each move leaves exactly one audit event.
#[tokio::test]
async fn racing_product_moves_let_one_win_and_are_audited_once() {
    let app = spawn_app().await;
    let approver = app.token_for("bank_approver").await;
    let created = app
        .post("/api/v1/products")
        .bearer(&approver)
        .json(&product_body("竞速贷", "4.35", "0.6"))
        .send()
        .await;
    let id = created.created_id();
    let path = format!("/api/v1/products/{id}/activate");
    let racers = (0..8).map(|_| app.post(&path).bearer(&approver).send());
    let replies = futures_util::future::join_all(racers).await;
    let won = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1);
    for lost in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(
            lost.assert_problem(409, "invalid_state")["current_state"],
            "active"
        );
    }
    app.post(&format!("/api/v1/products/{id}/retire"))
        .bearer(&approver)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/products/{id}/retire"))
        .bearer(&approver)
        .send()
        .await
        .assert_problem(409, "invalid_state");
    let product: uuid::Uuid = id.parse().unwrap();
    let events: Vec<String> = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::ObjectId.eq(product))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        events,
        ["product.create", "product.activate", "product.retire"]
    );
}

/// A product whose stored list does not parse is an error when read, never an empty list that
/// would silently make every application ineligible.
#[tokio::test]
async fn a_corrupt_stored_list_fails_loudly() {
    let app = spawn_app().await;
    let approver = app.token_for("bank_approver").await;
    let id = active_product(&app, &approver, &product_body("坏数据贷", "4.35", "0.6")).await;
    let product: uuid::Uuid = id.parse().unwrap();
    let corrupted = entity::loan_product::Entity::update_many()
        .col_expr(
            entity::loan_product::Column::Purposes,
            sea_orm::sea_query::Expr::value("not json"),
        )
        .filter(entity::loan_product::Column::Id.eq(product))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(corrupted.rows_affected, 1);
    app.get(&format!("/api/v1/products/{id}"))
        .bearer(&approver)
        .send()
        .await
        .assert_problem(500, "internal_error");
}

/// Makes storing an idempotent answer fail, as if the process died right after the work: on
/// each backend, a trigger refusing the update that records the answer.
async fn break_answer_storage(app: &TestApp, broken: bool) {
    use sea_orm::ConnectionTrait;
    let postgres = app.database.url.starts_with("postgres");
    let statements: &[&str] = match (postgres, broken) {
        (false, true) => &[
            "CREATE TRIGGER fail_answer BEFORE UPDATE OF response_status ON idempotency_keys \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        ],
        (false, false) => &["DROP TRIGGER fail_answer"],
        (true, true) => &[
            "CREATE FUNCTION fail_answer() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER fail_answer BEFORE UPDATE ON idempotency_keys FOR EACH ROW \
             WHEN (NEW.response_status IS NOT NULL) EXECUTE FUNCTION fail_answer()",
        ],
        (true, false) => &[
            "DROP TRIGGER fail_answer ON idempotency_keys",
            "DROP FUNCTION fail_answer()",
        ],
    };
    for statement in statements {
        app.db.execute_unprepared(statement).await.unwrap();
    }
}

/// The work and its stored answer commit together: when storing the answer fails after the
/// work, the work is undone too, so the retry runs it exactly once.
#[tokio::test]
async fn a_failure_after_the_work_leaves_no_effect_for_the_retry_to_repeat() {
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let applications = || async {
        entity::loan_application::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    let before = applications().await;
    let create = || {
        app.post("/api/v1/applications")
            .bearer(&loan.operator)
            .header("idempotency-key", "create-after-crash")
            .json(&draft(&loan, "100000.00"))
            .send()
    };
    break_answer_storage(&app, true).await;
    create().await.assert_problem(500, "internal_error");
    assert_eq!(
        applications().await,
        before,
        "the failed attempt left an application"
    );
    break_answer_storage(&app, false).await;

    let first = create().await;
    let id = first.assert_status(201)["id"].clone();
    assert_eq!(applications().await, before + 1);
    let replayed = create().await;
    assert_eq!(replayed.assert_status(201)["id"], id);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(applications().await, before + 1);
}
