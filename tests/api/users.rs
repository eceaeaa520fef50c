//! User management by the admin: create, list, read, update with ETags, reset passwords.

use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_every_kind_of_user() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for role in ROLES {
        let reply = app
            .post("/api/v1/users")
            .bearer(&admin)
            .json(&app.user_body(&unique_mobile(), role))
            .send()
            .await;
        let body = reply.assert_status(201).clone();
        assert_eq!(body["role"], role);
        assert_eq!(body["status"], "active");
        assert_eq!(body["version"], 1);
        assert_eq!(reply.header("etag"), Some("\"1\""));
        assert_eq!(
            reply.header("location").unwrap(),
            format!("/api/v1/users/{}", body["id"].as_str().unwrap())
        );
        // The new user can sign in, and their token carries the binding.
        let login = app
            .sign_in(body["mobile"].as_str().unwrap(), USER_PASSWORD)
            .await;
        assert_eq!(login["user"]["organization_id"], body["organization_id"]);
        assert_eq!(login["user"]["bank_id"], body["bank_id"]);
    }
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 6);
}

#[tokio::test]
async fn invalid_users_are_refused_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let reply = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({
            "mobile": "12345",
            "display_name": "  ",
            "role": "org_operator",
            "password": "short",
            "bank_id": uuid::Uuid::now_v7(),
        }))
        .send()
        .await;
    reply.assert_fields(&[
        ("mobile", "invalid_mobile"),
        ("display_name", "blank"),
        ("password", "weak_password"),
        ("organization_id", "required_for_role"),
        ("bank_id", "not_allowed_for_role"),
    ]);
    let messages: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().all(|m| !m.is_empty()));

    let unknown_role = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({"mobile": unique_mobile(), "display_name": "x", "role": "root", "password": USER_PASSWORD}))
        .send()
        .await;
    unknown_role.assert_fields(&[("role", "invalid_value")]);

    let bad_amount = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({
            "mobile": unique_mobile(), "display_name": "x", "role": "bank_approver",
            "password": USER_PASSWORD, "bank_id": app.fixture.bank, "approval_limit": "12.345"
        }))
        .send()
        .await;
    bad_amount.assert_fields(&[("approval_limit", "invalid_amount")]);

    let negative = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({
            "mobile": unique_mobile(), "display_name": "x", "role": "bank_approver",
            "password": USER_PASSWORD, "bank_id": app.fixture.bank, "approval_limit": "-1.00"
        }))
        .send()
        .await;
    negative.assert_fields(&[("approval_limit", "negative")]);

    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_mobile_is_registered_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mobile = unique_mobile();
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&app.user_body(&mobile, "supervisor"))
        .send()
        .await
        .assert_status(201);
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&app.user_body(&mobile, "bank_officer"))
        .send()
        .await
        .assert_problem(409, "mobile_taken");
}

#[tokio::test]
async fn racing_creations_of_one_mobile_yield_one_user() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mobile = unique_mobile();
    let calls = (0..6).map(|_| {
        app.post("/api/v1/users")
            .bearer(&admin)
            .json(&app.user_body(&mobile, "supervisor"))
            .send()
    });
    let replies = futures_util::future::join_all(calls).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    for reply in replies.iter().filter(|r| r.status != 201) {
        reply.assert_problem(409, "mobile_taken");
    }
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 2);
}

#[tokio::test]
async fn lists_page_by_cursor_and_filter() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for _ in 0..5 {
        app.create_user("bank_officer").await;
    }
    app.create_user("supervisor").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?role=bank_officer&limit=2&cursor={c}"),
            None => "/api/v1/users?role=bank_officer&limit=2".to_owned(),
        };
        let page = app.get(&path).bearer(&admin).send().await;
        let page = page.assert_status(200).clone();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["role"], "bank_officer");
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "stable order, no repeats");

    let found = app
        .get("/api/v1/users?q=supervisor")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(
        found.assert_status(200)["items"].as_array().unwrap().len(),
        1
    );
    let percent = app.get("/api/v1/users?q=%25").bearer(&admin).send().await;
    assert_eq!(
        percent.assert_status(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    app.get("/api/v1/users?limit=101")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/users?limit=0")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/users?cursor=%21%21")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/api/v1/users?role=root")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

#[tokio::test]
async fn update_with_etag_and_stale_etag_gets_412() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_user("bank_approver").await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());

    let read = app.get(&path).bearer(&admin).send().await;
    read.assert_status(200);
    let etag = read.header("etag").unwrap().to_owned();

    let changed = app
        .patch(&path)
        .bearer(&admin)
        .header("if-match", &etag)
        .json(&json!({"approval_limit": "8000000.00", "display_name": "李审批"}))
        .send()
        .await;
    let body = changed.assert_status(200);
    assert_eq!(body["approval_limit"], "8000000.00");
    assert_eq!(body["display_name"], "李审批");
    assert_eq!(body["version"], 2);
    assert_eq!(changed.header("etag"), Some("\"2\""));

    let stale = app
        .patch(&path)
        .bearer(&admin)
        .header("if-match", &etag)
        .json(&json!({"display_name": "Someone else"}))
        .send()
        .await;
    stale.assert_problem(412, "precondition_failed");
    let now = app.get(&path).bearer(&admin).send().await;
    assert_eq!(now.body["display_name"], "李审批");

    // A tag we never issued never matches, but a missing object is a 404 first (found by the
    // contract fuzzing: a garbled If-Match answered 412 for any id); a list matches any of its
    // tags.
    for garbled in ["garbage", "\"v2\"", "\"\""] {
        app.patch(&path)
            .bearer(&admin)
            .header("if-match", garbled)
            .json(&json!({"display_name": "Someone else"}))
            .send()
            .await
            .assert_problem(412, "precondition_failed");
        app.patch(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()))
            .bearer(&admin)
            .header("if-match", garbled)
            .json(&json!({"display_name": "Someone else"}))
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    let listed = app
        .patch(&path)
        .bearer(&admin)
        .header("if-match", "\"1\", \"2\"")
        .json(&json!({"display_name": "王审批"}))
        .send()
        .await;
    assert_eq!(listed.assert_status(200)["version"], 3);
}

#[tokio::test]
async fn changing_role_rebinds_and_signs_the_user_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_user("bank_approver").await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let login = app
        .sign_in(user["mobile"].as_str().unwrap(), USER_PASSWORD)
        .await;

    let demoted = app
        .patch(&path)
        .bearer(&admin)
        .json(&json!({"role": "bank_officer"}))
        .send()
        .await;
    let body = demoted.assert_status(200);
    assert_eq!(body["role"], "bank_officer");
    assert_eq!(body["bank_id"], user["bank_id"]);
    assert!(body["approval_limit"].is_null());
    app.get("/api/v1/me")
        .bearer(&token_of(&login))
        .send()
        .await
        .assert_problem(401, "session_revoked");

    let needs_org = app
        .patch(&path)
        .bearer(&admin)
        .json(&json!({"role": "org_operator"}))
        .send()
        .await;
    needs_org.assert_fields(&[("organization_id", "required_for_role")]);

    let promoted = app
        .patch(&path)
        .bearer(&admin)
        .json(&json!({"role": "bank_approver"}))
        .send()
        .await;
    promoted.assert_fields(&[("approval_limit", "required_for_role")]);
}

#[tokio::test]
async fn admin_cannot_demote_or_disable_itself() {
    let app = spawn_app().await;
    let login = app.sign_in(ADMIN_MOBILE, ADMIN_PASSWORD).await;
    let path = format!("/api/v1/users/{}", login["user"]["id"].as_str().unwrap());
    let admin = token_of(&login);
    app.patch(&path)
        .bearer(&admin)
        .json(&json!({"status": "disabled"}))
        .send()
        .await
        .assert_problem(409, "cannot_modify_self");
    app.patch(&path)
        .bearer(&admin)
        .json(&json!({"role": "supervisor"}))
        .send()
        .await
        .assert_problem(409, "cannot_modify_self");
    app.patch(&path)
        .bearer(&admin)
        .json(&json!({"display_name": "县农业农村局"}))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn unknown_user_is_404() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ghost = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
    app.get(&ghost)
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.patch(&ghost)
        .bearer(&admin)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/users/not-a-uuid")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn reset_password_generates_one_unlocks_and_signs_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_user("org_operator").await;
    let mobile = user["mobile"].as_str().unwrap();
    let old_login = app.sign_in(mobile, USER_PASSWORD).await;
    for _ in 0..5 {
        app.login(mobile, "Wrong-pass-1").await;
    }
    app.login(mobile, USER_PASSWORD)
        .await
        .assert_problem(423, "account_locked");

    let path = format!(
        "/api/v1/users/{}/reset-password",
        user["id"].as_str().unwrap()
    );
    let reset = app.post(&path).bearer(&admin).send().await;
    let temporary = reset.assert_status(200)["temporary_password"]
        .as_str()
        .unwrap()
        .to_owned();

    let fresh = app.sign_in(mobile, &temporary).await;
    assert_eq!(fresh["user"]["must_change_password"], true);
    app.get("/api/v1/me")
        .bearer(&token_of(&old_login))
        .send()
        .await
        .assert_problem(401, "session_revoked");

    let chosen = app
        .post(&path)
        .bearer(&admin)
        .json(&json!({"new_password": "Chosen-pass-7"}))
        .send()
        .await;
    assert!(chosen.assert_status(200)["temporary_password"].is_null());
    app.sign_in(mobile, "Chosen-pass-7").await;

    app.post(&path)
        .bearer(&admin)
        .json(&json!({"new_password": "weak"}))
        .send()
        .await
        .assert_fields(&[("new_password", "weak_password")]);
}

#[tokio::test]
async fn bindings_must_name_existing_tenants() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut operator = app.user_body(&unique_mobile(), "org_operator");
    operator["organization_id"] = json!(uuid::Uuid::now_v7());
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&operator)
        .send()
        .await
        .assert_fields(&[("organization_id", "unknown_organization")]);

    let mut officer = app.user_body(&unique_mobile(), "bank_officer");
    officer["bank_id"] = json!(app.fixture.other_bank);
    officer["branch_id"] = json!(app.fixture.branch);
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&officer)
        .send()
        .await
        .assert_fields(&[("branch_id", "unknown_branch")]);

    officer["bank_id"] = json!(app.fixture.bank);
    let created = app.create_user_with(&officer).await;
    assert_eq!(created["branch_id"], json!(app.fixture.branch));
    let login = app
        .sign_in(created["mobile"].as_str().unwrap(), USER_PASSWORD)
        .await;
    assert_eq!(login["user"]["bank_id"], json!(app.fixture.bank));
}
