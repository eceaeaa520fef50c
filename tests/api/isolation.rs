//! Tenant isolation, generated from the live OpenAPI document of the compiled binary: every route
//! with an id in its path, called with another tenant's token (another organization's operator,
//! another bank's officer and approver) on one organization's and one bank's objects, must answer
//! exactly as for an id that names nothing — 404 (or 403 where the role never may) — and change
//! nothing. A new route is covered the day it is documented; one whose object or body this test
//! does not know fails it until added below.

use std::collections::BTreeMap;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::binary::spawn_processes;
use crate::helpers::*;
use crate::loans::{PDF, today};
use crate::permissions::Ids;
use crate::review::{act, approved, desk, disbursement, recommendation};

/// Reads every tenant may make of any object: the region tree, the banks, and the product
/// catalogue (a published product is public so villages can compare offers; a draft is not, see
/// `a_draft_product_is_its_own_banks_alone`).
const SHARED: &[(&str, &str)] = &[
    ("GET", "/api/v1/regions/{code}"),
    ("GET", "/api/v1/banks/{id}"),
    ("GET", "/api/v1/products/{id}"),
];

/// The path with the owner's ids in it, or with ids that name nothing (`absent`; a region code
/// and a year stay, they are not objects).
fn fill(ids: &Ids, path: &str, absent: bool) -> String {
    let object = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .next()
        .unwrap_or_default();
    let id = match object {
        "applications" => &ids.application,
        "assets" => &ids.asset,
        "documents" => &ids.document,
        "equity-entities" => &ids.entity,
        "products" => &ids.product,
        "notifications" => &ids.notification,
        "organizations" => &ids.org,
        "banks" => &ids.bank,
        "users" => &ids.user,
        "regions" => &ids.code,
        other => panic!("a new kind of object in {path} ({other}): name its owner's id here"),
    };
    let mut filled = path.to_owned();
    for (placeholder, value, names_an_object) in [
        ("{id}", id, true),
        ("{valuation_id}", &ids.valuation, true),
        ("{sid}", &ids.share, true),
        ("{year}", &ids.year, false),
        ("{code}", &ids.code, false),
    ] {
        let value = if absent && names_an_object {
            Uuid::now_v7().to_string()
        } else {
            value.clone()
        };
        filled = filled.replace(placeholder, &value);
    }
    assert!(!filled.contains('{'), "an unknown path parameter in {path}");
    filled
}

/// A body the route would accept from its owner, so that the only thing wrong is whose object it
/// is (an invalid body would be refused before the object is looked at).
fn valid_body(method: &str, path: &str) -> Option<Value> {
    let body = match (method, path) {
        ("PATCH", "/api/v1/applications/{id}") => json!({"amount": "90000.00"}),
        ("POST", "/api/v1/applications/{id}/approve") => json!({"opinion": "同意"}),
        ("POST", "/api/v1/applications/{id}/disburse") => disbursement("100000.00", "REG-X"),
        ("POST", "/api/v1/applications/{id}/recommend") => recommendation("100000.00"),
        ("POST", "/api/v1/applications/{id}/reject") => {
            json!({"reason_code": "policy", "text": "不符合政策"})
        }
        ("POST", "/api/v1/applications/{id}/repayments") => {
            json!({"date": today().to_string(), "amount": "100.00"})
        }
        ("POST", "/api/v1/applications/{id}/request-info") => json!({"message": "请补充材料"}),
        ("POST", "/api/v1/applications/{id}/resubmit") => json!({"message": "已补充"}),
        ("PATCH", "/api/v1/assets/{id}") => json!({"name": "改名"}),
        ("POST", "/api/v1/assets/{id}/valuations") => json!({
            "value": "300000.00", "method": "income", "appraiser": "评估所",
            "appraisal_date": today().to_string(),
            "valid_until": (today() + chrono::Duration::days(300)).to_string(),
        }),
        ("POST", "/api/v1/assets/{id}/verification") => json!({"decision": "verified"}),
        ("PATCH", "/api/v1/banks/{id}") => json!({"name": "改名银行"}),
        ("POST", "/api/v1/banks/{id}/branches") => json!({"name": "新支行", "region_code": COUNTY}),
        ("PUT", "/api/v1/banks/{id}/regions") => json!({"region_codes": [COUNTY]}),
        ("PATCH", "/api/v1/equity-entities/{id}") => json!({"name": "改名项目"}),
        ("POST", "/api/v1/equity-entities/{id}/shareholdings") => {
            json!({"holder_name": "张三", "holder_type": "individual", "percentage": "1.00"})
        }
        ("PATCH", "/api/v1/organizations/{id}") => json!({"member_households": 300}),
        ("PUT", "/api/v1/organizations/{id}/incomes/{year}") => json!({"amount": "1.00"}),
        ("PATCH", "/api/v1/products/{id}") => json!({"name": "改名产品"}),
        ("PATCH", "/api/v1/users/{id}") => json!({"display_name": "改名"}),
        ("POST", "/api/v1/users/{id}/reset-password") => json!({"new_password": "Fresh-Pass-2026"}),
        _ => return None,
    };
    Some(body)
}

/// Every operation whose path names an object, as the live document lists it.
fn routes_with_ids(document: &Value) -> Vec<(String, String, bool)> {
    let mut routes = Vec::new();
    for (method, path, operation) in crate::openapi::operations(document) {
        if !path.contains('{') {
            continue;
        }
        let body = &operation["requestBody"]["content"];
        let multipart = body.get("multipart/form-data").is_some();
        if body.get("application/json").is_some() {
            let required = operation["requestBody"]["required"] != json!(false);
            assert!(
                valid_body(&method, path).is_some() || !required,
                "{method} {path} takes a body: give it a valid one in valid_body"
            );
        }
        routes.push((method, path.to_owned(), multipart));
    }
    routes
}

async fn request(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    multipart: bool,
    body: Option<&Value>,
) -> Reply {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut call = app.call(method, path).bearer(token);
    if multipart {
        call = call.multipart(
            Form::new()
                .text("kind", "other")
                .part("file", Part::bytes(PDF.to_vec()).file_name("x.pdf")),
        );
    } else if let Some(body) = body {
        call = call.json(body);
    }
    call.send().await
}

/// Rows of every table a write could touch, to prove that nothing changed.
async fn fingerprint(app: &TestApp) -> Vec<(String, i64)> {
    let mut queries: Vec<String> = [
        "audit_events",
        "asset_documents",
        "asset_valuations",
        "shareholdings",
        "repayments",
        "organization_incomes",
        "bank_branches",
        "bank_regions",
        "liens",
    ]
    .iter()
    .map(|table| format!("SELECT COUNT(*) AS n FROM {table}"))
    .collect();
    for versioned in [
        "loan_applications",
        "assets",
        "equity_entities",
        "loan_products",
        "organizations",
        "banks",
        "users",
    ] {
        queries.push(format!(
            "SELECT COALESCE(SUM(version), 0) AS n FROM {versioned}"
        ));
    }
    queries.push("SELECT COUNT(*) AS n FROM notifications WHERE read_at IS NULL".to_owned());
    let mut counts = Vec::new();
    for sql in queries {
        let n = app.sql_number(&sql).await;
        counts.push((sql, n));
    }
    counts
}

async fn owned_objects(app: &TestApp) -> (Ids, String) {
    let desk = desk(app).await;
    let application = approved(app, &desk, "100000.00").await;
    act(
        app,
        &desk.officer,
        &application,
        "disburse",
        disbursement("100000.00", "REG-ISO-1"),
    )
    .await
    .assert_status(200);
    let first_id = |reply: &Reply| {
        let list = reply.assert_status(200);
        let items = list["items"]
            .as_array()
            .or(list.as_array())
            .expect("a list");
        items[0]["id"].as_str().expect("id").to_owned()
    };
    let valuations = app
        .get(&format!("/api/v1/assets/{}/valuations", desk.loan.asset))
        .bearer(&desk.loan.admin)
        .send()
        .await;
    let notifications = app
        .get("/api/v1/notifications")
        .bearer(&desk.loan.operator)
        .send()
        .await;
    let entity = app
        .post("/api/v1/equity-entities")
        .bearer(&desk.loan.operator)
        .json(&json!({"kind": "project", "name": "北庄村蔬菜大棚项目"}))
        .send()
        .await;
    let entity = entity.created_id();
    let share = app
        .post(&format!("/api/v1/equity-entities/{entity}/shareholdings"))
        .bearer(&desk.loan.operator)
        .json(&json!({"holder_name": "北庄村股份经济合作社", "holder_type": "collective", "percentage": "51.00"}))
        .send()
        .await;
    let share = share.created_id();
    let user = app.create_user("org_operator").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owned = Ids {
        application,
        valuation: first_id(&valuations),
        document: desk.loan.resolution.clone(),
        asset: desk.loan.asset.clone(),
        entity,
        share,
        product: desk.loan.product.clone(),
        notification: first_id(&notifications),
        org: app.fixture.org.to_string(),
        bank: app.fixture.bank.to_string(),
        user,
        code: VILLAGE.to_owned(),
        year: "2021".to_owned(),
    };
    (owned, desk.loan.operator)
}

#[tokio::test]
async fn every_route_with_an_id_hides_one_tenants_objects_from_every_other_tenant() {
    let (app, _servers) = spawn_processes(1).await;
    let (owned, operator) = owned_objects(&app).await;
    let document: Value = reqwest::get(format!("{}/api-docs/openapi.json", app.address))
        .await
        .expect("document served")
        .json()
        .await
        .expect("document is JSON");
    let routes = routes_with_ids(&document);
    assert!(routes.len() >= 50, "only {} routes found", routes.len());
    let strangers = [
        (
            "operator of another organization",
            app.token_bound("org_operator", Some(app.fixture.other_org), None)
                .await,
        ),
        (
            "officer of another bank",
            app.token_bound("bank_officer", None, Some(app.fixture.other_bank))
                .await,
        ),
        (
            "approver of another bank",
            app.token_bound("bank_approver", None, Some(app.fixture.other_bank))
                .await,
        ),
    ];
    let before = fingerprint(&app).await;
    let mut tally: BTreeMap<u16, usize> = BTreeMap::new();
    for (method, path, multipart) in &routes {
        let shared = SHARED.contains(&(method.as_str(), path.as_str()));
        let body = valid_body(method, path);
        for (who, token) in &strangers {
            let call = |absent| {
                let path = fill(&owned, path, absent);
                let body = body.as_ref();
                let app = &app;
                async move { request(app, token, method, &path, *multipart, body).await }
            };
            let theirs = call(false).await;
            if shared {
                theirs.assert_status(200);
                continue;
            }
            let nothing = call(true).await;
            let status = theirs.status.as_u16();
            assert!(
                status == 404 || status == 403,
                "{who}: {method} {path} answered {status}: {}",
                theirs.text
            );
            assert_eq!(
                (status, &theirs.body["code"]),
                (nothing.status.as_u16(), &nothing.body["code"]),
                "{who}: {method} {path} tells another tenant's object from none"
            );
            *tally.entry(status).or_default() += 1;
        }
    }
    assert_eq!(
        fingerprint(&app).await,
        before,
        "another tenant changed something"
    );
    assert!(
        tally.get(&404).copied().unwrap_or_default() >= 40,
        "{tally:?}"
    );
    eprintln!(
        "isolation: {} routes × 3 strangers: {tally:?}",
        routes.len()
    );

    // The owner still reaches every object the strangers were refused.
    app.get(&format!("/api/v1/applications/{}", owned.application))
        .bearer(&operator)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_draft_product_is_its_own_banks_alone() {
    let app = spawn_app().await;
    let approver = app.token_for("bank_approver").await;
    let created = app
        .post("/api/v1/products")
        .bearer(&approver)
        .json(&crate::loans::product_body("未发布的产品", "3.95", "0.6"))
        .send()
        .await;
    let draft = created.created_id();
    let strangers = [
        app.token_bound("bank_officer", None, Some(app.fixture.other_bank))
            .await,
        app.token_bound("bank_approver", None, Some(app.fixture.other_bank))
            .await,
        app.token_for("org_operator").await,
    ];
    let listed = |reply: &Reply| {
        reply.assert_status(200)["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["id"] == draft.as_str())
    };
    for token in &strangers {
        app.get(&format!("/api/v1/products/{draft}"))
            .bearer(token)
            .send()
            .await
            .assert_problem(404, "not_found");
        let list = app.get("/api/v1/products").bearer(token).send().await;
        assert!(!listed(&list), "a stranger lists another bank's draft");
    }
    let colleague = app.token_for("bank_officer").await;
    for token in [&approver, &colleague, &app.admin_token().await] {
        app.get(&format!("/api/v1/products/{draft}"))
            .bearer(token)
            .send()
            .await
            .assert_status(200);
        let list = app.get("/api/v1/products").bearer(token).send().await;
        assert!(listed(&list));
    }
    // Published, everyone reads it.
    app.post(&format!("/api/v1/products/{draft}/activate"))
        .bearer(&approver)
        .send()
        .await
        .assert_status(200);
    for token in &strangers {
        app.get(&format!("/api/v1/products/{draft}"))
            .bearer(token)
            .send()
            .await
            .assert_status(200);
    }
}
