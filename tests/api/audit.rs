//! Every state change leaves exactly one audit event, in its own transaction, with no secret.

use entity::audit_event;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::json;

use crate::helpers::*;

/// The events not among `before`.
async fn events_since(app: &TestApp, before: &[uuid::Uuid]) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !before.contains(&e.id))
        .collect()
}

async fn ids(app: &TestApp) -> Vec<uuid::Uuid> {
    audit_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

async fn count(app: &TestApp) -> u64 {
    audit_event::Entity::find().count(&app.db).await.unwrap()
}

/// Runs one request and asserts it wrote exactly one event named `action` about `object_id`.
async fn exactly_one(app: &TestApp, call: Call, status: u16, action: &str) -> Reply {
    let before = ids(app).await;
    let reply = call.send().await;
    reply.assert_status(status);
    let events = events_since(app, &before).await;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, [action], "{}", reply.text);
    let event = &events[0];
    if let Some(id) = reply.body["id"].as_str() {
        assert_eq!(event.object_id.to_string(), id, "{action}");
    }
    assert!(event.actor_id.is_some(), "{action} has no actor");
    for secret in [USER_PASSWORD, "Reset-pass-2026", "$argon2"] {
        assert!(!event.summary.contains(secret), "{action} holds a secret");
    }
    reply
}

#[tokio::test]
async fn users_assets_valuations_and_documents_are_audited_once_each() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let operator = app.token_for("org_operator").await;

    let body = app.user_body(&unique_mobile(), "bank_officer");
    let user = exactly_one(
        &app,
        app.post("/api/v1/users").bearer(&admin).json(&body),
        201,
        "user.create",
    )
    .await;
    let user_id = user.body["id"].as_str().unwrap().to_owned();
    let patched = exactly_one(
        &app,
        app.patch(&format!("/api/v1/users/{user_id}"))
            .bearer(&admin)
            .json(&json!({"status": "disabled"})),
        200,
        "user.update",
    )
    .await;
    assert_eq!(patched.body["status"], "disabled");
    exactly_one(
        &app,
        app.post(&format!("/api/v1/users/{user_id}/reset-password"))
            .bearer(&admin)
            .json(&json!({"new_password": "Reset-pass-2026"})),
        200,
        "user.reset_password",
    )
    .await;

    let asset = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&json!({
            "kind": "production_facility", "name": "冷库", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
        }))
        .send()
        .await;
    let asset_id = asset.assert_status(201)["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.post(&format!("/api/v1/assets/{asset_id}/verification"))
            .bearer(&admin)
            .json(&json!({"decision": "verified"})),
        200,
        "asset.verify",
    )
    .await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    exactly_one(
        &app,
        app.post(&format!("/api/v1/assets/{asset_id}/valuations"))
            .bearer(&admin)
            .json(&json!({
                "value": "100000.00", "method": "cost", "appraiser": "评估所",
                "appraisal_date": today.to_string(),
                "valid_until": (today + chrono::Duration::days(30)).to_string(),
            })),
        201,
        "valuation.add",
    )
    .await;
    exactly_one(
        &app,
        app.post(&format!("/api/v1/assets/{asset_id}/documents"))
            .bearer(&operator)
            .multipart(
                reqwest::multipart::Form::new()
                    .text("kind", "appraisal_report")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(b"%PDF-1.7\n%%EOF".to_vec())
                            .file_name("r.pdf"),
                    ),
            ),
        201,
        "document.upload",
    )
    .await;

    // A refused change writes nothing.
    let before = count(&app).await;
    app.post(&format!("/api/v1/assets/{asset_id}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "rejected"}))
        .send()
        .await
        .assert_fields(&[("note", "required")]);
    assert_eq!(count(&app).await, before);
}

#[tokio::test]
async fn onboarding_equity_asset_and_product_changes_are_audited_once_each() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let operator = app.token_for("org_operator").await;
    let approver = app.token_for("bank_approver").await;

    // Organizations and incomes.
    let village = "140826100002";
    app.post("/api/v1/regions")
        .bearer(&admin)
        .json(&json!({"code": village, "name": "郭家庄村"}))
        .send()
        .await
        .assert_status(201);
    let org = exactly_one(
        &app,
        app.post("/api/v1/organizations").bearer(&admin).json(&json!({
            "name": "郭家庄村股份经济合作社", "uscc": uscc_for(village), "region_code": village,
            "legal_rep_name": "郭建国", "legal_rep_mobile": "13912345678", "member_households": 236,
        })),
        201,
        "organization.create",
    )
    .await;
    let org_id = org.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.patch(&format!("/api/v1/organizations/{org_id}"))
            .bearer(&admin)
            .json(&json!({"member_households": 240})),
        200,
        "organization.update",
    )
    .await;
    exactly_one(
        &app,
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/organizations/{org_id}/incomes/2021"),
        )
        .bearer(&admin)
        .json(&json!({"amount": "120000.00"})),
        200,
        "organization.set_income",
    )
    .await;

    // Banks.
    let bank = exactly_one(
        &app,
        app.post("/api/v1/banks")
            .bearer(&admin)
            .json(&json!({"name": "绛县村镇银行", "code": "JXVB"})),
        201,
        "bank.create",
    )
    .await;
    let bank_id = bank.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.patch(&format!("/api/v1/banks/{bank_id}"))
            .bearer(&admin)
            .json(&json!({"name": "山西绛县村镇银行"})),
        200,
        "bank.update",
    )
    .await;
    exactly_one(
        &app,
        app.post(&format!("/api/v1/banks/{bank_id}/branches"))
            .bearer(&admin)
            .json(&json!({"name": "营业部"})),
        201,
        "bank.add_branch",
    )
    .await;
    exactly_one(
        &app,
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/banks/{bank_id}/regions"),
        )
        .bearer(&admin)
        .json(&json!({"region_codes": [COUNTY]})),
        200,
        "bank.set_regions",
    )
    .await;

    // Equity.
    let entity = exactly_one(
        &app,
        app.post("/api/v1/equity-entities")
            .bearer(&operator)
            .json(&json!({"kind": "project", "name": "南永青村蔬菜大棚项目"})),
        201,
        "equity_entity.create",
    )
    .await;
    let entity_id = entity.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.patch(&format!("/api/v1/equity-entities/{entity_id}"))
            .bearer(&operator)
            .json(&json!({"name": "南永青村日光温室项目"})),
        200,
        "equity_entity.update",
    )
    .await;
    let share = exactly_one(
        &app,
        app.post(&format!(
            "/api/v1/equity-entities/{entity_id}/shareholdings"
        ))
        .bearer(&operator)
        .json(
            &json!({"holder_name": "村集体", "holder_type": "collective", "percentage": "30.00"}),
        ),
        201,
        "shareholding.add",
    )
    .await;
    let share_id = share.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.delete(&format!(
            "/api/v1/equity-entities/{entity_id}/shareholdings/{share_id}"
        ))
        .bearer(&operator),
        204,
        "shareholding.remove",
    )
    .await;

    // Assets.
    let asset = exactly_one(
        &app,
        app.post("/api/v1/assets").bearer(&operator).json(&json!({
            "kind": "production_facility", "name": "冷库", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
        })),
        201,
        "asset.create",
    )
    .await;
    let asset_id = asset.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.patch(&format!("/api/v1/assets/{asset_id}"))
            .bearer(&operator)
            .json(&json!({"address": "北庄村东"})),
        200,
        "asset.update",
    )
    .await;
    exactly_one(
        &app,
        app.delete(&format!("/api/v1/assets/{asset_id}"))
            .bearer(&operator),
        204,
        "asset.delete",
    )
    .await;

    // Products.
    let product = exactly_one(
        &app,
        app.post("/api/v1/products").bearer(&approver).json(&json!({
            "name": "审计贷",
            "collateral": [{"kind": "land_management_right", "max_ltv": "0.6"}],
            "amount_min": "10000.00", "amount_max": "5000000.00",
            "term_min_months": 6, "term_max_months": 60, "annual_rate": "4.35",
            "repayment_methods": ["annuity"], "purposes": ["planting"],
        })),
        201,
        "product.create",
    )
    .await;
    let product_id = product.body["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        app.patch(&format!("/api/v1/products/{product_id}"))
            .bearer(&approver)
            .json(&json!({"annual_rate": "4.10"})),
        200,
        "product.update",
    )
    .await;
}
