//! HTTP conventions that hold for every endpoint: problems, languages, limits, request ids,
//! health, metrics, docs.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn unknown_route_is_a_problem_in_either_language() {
    let app = spawn_app().await;
    let english = app.get("/api/v1/nowhere").send().await;
    let body = english.assert_problem(404, "not_found");
    assert_eq!(body["title"], "Not found");
    assert_eq!(body["instance"], "/api/v1/nowhere");

    let chinese = app
        .get("/api/v1/nowhere")
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")
        .send()
        .await;
    let body = chinese.assert_problem(404, "not_found");
    assert_eq!(body["title"], "资源不存在");
}

#[tokio::test]
async fn field_messages_follow_the_language_but_codes_do_not() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let reply = app
        .post("/api/v1/users")
        .bearer(&admin)
        .header("accept-language", "zh-CN")
        .json(&json!({"mobile": "1", "display_name": "x", "role": "supervisor", "password": USER_PASSWORD}))
        .send()
        .await;
    reply.assert_fields(&[("mobile", "invalid_mobile")]);
    assert_eq!(reply.body["title"], "请求参数校验失败");
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("手机号")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let ok = app.get("/health/live").send().await;
    let id = ok.header("x-request-id").expect("request id").to_owned();
    assert_eq!(id.len(), 36);
    let problem = app.get("/api/v1/me").send().await;
    let problem_id = problem.header("x-request-id").unwrap();
    assert_eq!(problem.body["request_id"], problem_id);
    assert_ne!(problem_id, id);
}

#[tokio::test]
async fn oversized_bodies_are_413_problems() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"mobile\": \"{}\", \"password\": \"x\"}}",
        "1".repeat(1024 * 1024 + 1)
    );
    let reply = app
        .post("/api/v1/auth/login")
        .body("application/json", huge)
        .send()
        .await;
    reply.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn nothing_leaks_into_error_bodies() {
    let app = spawn_app().await;
    let replies = [
        app.post("/api/v1/auth/login")
            .body("application/json", "{\"mobile\": [}")
            .send()
            .await,
        app.post("/api/v1/auth/login")
            .body("application/json", "null")
            .send()
            .await,
        app.post("/api/v1/auth/login")
            .body("application/json", "")
            .send()
            .await,
        app.get("/api/v1/users/%00").send().await,
    ];
    for reply in replies {
        assert!(reply.status.is_client_error(), "{}", reply.text);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        for needle in ["SELECT", "argon2", "/root", "/tmp", "sqlx", "panicked"] {
            assert!(!reply.text.contains(needle), "{needle} in {}", reply.text);
        }
    }
}

#[tokio::test]
async fn wrong_method_is_a_problem_not_html() {
    let app = spawn_app().await;
    let reply = app
        .call(reqwest::Method::DELETE, "/api/v1/auth/login")
        .send()
        .await;
    assert!(reply.status.is_client_error());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn health_probes() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/health/live").send().await.assert_status(200)["status"],
        "ok"
    );
    assert_eq!(
        app.get("/health/ready").send().await.assert_status(200)["status"],
        "ok"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let database = TestDatabase::create().await;
    let db = api::db::connect(&database.url).await.unwrap();
    api::db::migrate(&db).await.unwrap();
    let settings = api::Settings {
        admin_mobile: None,
        admin_password: None,
        ..test_settings(&database)
    };
    let app = api::Application::build_with_db(settings, db.clone())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    db.close_by_ref().await.unwrap();

    let reply = reqwest::get(format!("{address}/health/ready"))
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 503);
    assert_eq!(
        reply.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable");
    let live = reqwest::get(format!("{address}/health/live"))
        .await
        .unwrap();
    assert_eq!(live.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = spawn_app().await;
    app.login(ADMIN_MOBILE, "Wrong-pass-1").await;
    app.get("/health/live").send().await;
    let metrics = app.get("/metrics").send().await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.text.contains("api_http_requests_total"));
    assert!(
        metrics
            .text
            .contains("api_http_requests_duration_seconds_bucket")
    );
    assert!(metrics.text.contains("endpoint=\"/api/v1/auth/login\""));
    assert!(metrics.text.contains("status=\"401\""));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let redirect = app.get("/docs").send().await;
    assert!(redirect.status.is_redirection());
    assert_eq!(redirect.header("location"), Some("/docs/"));
    let page = app.get("/docs/").send().await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger"));
    // Every asset the page loads is relative: nothing is fetched from the internet.
    assert!(!page.text.contains("http://") && !page.text.contains("https://"));
    let init = app.get("/docs/swagger-initializer.js").send().await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/api-docs/openapi.json"));
    let bundle = app.get("/docs/swagger-ui-bundle.js").send().await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
}

#[tokio::test]
async fn the_served_document_is_openapi_3() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json").send().await;
    let doc = doc.assert_status(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// Every 201 says where the new object lives and which version it is; the location answers.
#[tokio::test]
async fn created_objects_carry_location_and_etag() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let operator = app.token_for("org_operator").await;
    let mut created = Vec::new();
    created.push(
        app.post("/api/v1/regions")
            .bearer(&admin)
            .json(&serde_json::json!({"code": "140826100002", "name": "郭家庄村"}))
            .send()
            .await,
    );
    let asset = app
        .post("/api/v1/assets")
        .bearer(&operator)
        .json(&serde_json::json!({
            "kind": "production_facility", "name": "冷库", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
        }))
        .send()
        .await;
    let asset_id = asset.created_id();
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    created.push(
        app.post(&format!("/api/v1/assets/{asset_id}/valuations"))
            .bearer(&admin)
            .json(&serde_json::json!({
                "value": "100000.00", "method": "cost", "appraiser": "评估所",
                "appraisal_date": today.to_string(),
                "valid_until": (today + chrono::Duration::days(30)).to_string(),
            }))
            .send()
            .await,
    );
    created.push(
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
            )
            .send()
            .await,
    );
    let entity = app
        .post("/api/v1/equity-entities")
        .bearer(&operator)
        .json(&serde_json::json!({"kind": "project", "name": "南永青村蔬菜大棚项目"}))
        .send()
        .await;
    let entity_id = entity.created_id();
    created.push(
        app.post(&format!("/api/v1/equity-entities/{entity_id}/shareholdings"))
            .bearer(&operator)
            .json(&serde_json::json!({
                "holder_name": "南永青村股份经济合作社", "holder_type": "collective", "percentage": "30.00",
            }))
            .send()
            .await,
    );
    for reply in created {
        reply.assert_status(201);
        let location = reply.header("location").expect("Location").to_owned();
        assert!(reply.header("etag").is_some(), "no ETag for {location}");
        let read = app.get(&location).bearer(&admin).send().await;
        assert_eq!(read.status, 200, "{location}: {}", read.text);
        if read.body.is_object() {
            assert_eq!(read.body["id"], reply.body["id"], "{location}");
        }
    }
}
