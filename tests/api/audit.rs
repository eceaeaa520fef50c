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
