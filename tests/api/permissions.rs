//! The role matrix, tried for real: every role on every protected endpoint.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Every protected endpoint, with a request that changes nothing, and who may call it.
/// Allowed roles must get past authorization (anything but 401/403); the others get 403.
fn matrix(someone: &str) -> Vec<(Method, String, Option<Value>, &'static [&'static str])> {
    const EVERYONE: &[&str] = &ROLES;
    const READERS: &[&str] = &["admin", "supervisor"];
    const ADMIN: &[&str] = &["admin"];
    vec![
        (Method::GET, "/api/v1/me".into(), None, EVERYONE),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            Some(json!({})),
            EVERYONE,
        ),
        (Method::POST, "/api/v1/auth/logout".into(), None, EVERYONE),
        (Method::GET, "/api/v1/users".into(), None, READERS),
        (
            Method::GET,
            format!("/api/v1/users/{someone}"),
            None,
            READERS,
        ),
        (Method::POST, "/api/v1/users".into(), Some(json!({})), ADMIN),
        (
            Method::PATCH,
            format!("/api/v1/users/{someone}"),
            Some(json!({"display_name": ""})),
            ADMIN,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{someone}/reset-password"),
            Some(json!({"new_password": "weak"})),
            ADMIN,
        ),
    ]
}

#[tokio::test]
async fn every_role_on_every_protected_endpoint() {
    let app = spawn_app().await;
    let someone = app.create_user("supervisor").await;
    let someone = someone["id"].as_str().unwrap();
    for role in ROLES {
        for (method, path, body, allowed) in matrix(someone) {
            // A fresh sign-in per call: logout would end a shared one.
            let token = if role == "admin" {
                app.admin_token().await
            } else {
                app.token_for(role).await
            };
            let mut call = app.call(method.clone(), &path).bearer(&token);
            if let Some(body) = &body {
                call = call.json(body);
            }
            let reply = call.send().await;
            if allowed.contains(&role) {
                assert!(
                    ![401, 403].contains(&reply.status.as_u16()),
                    "{role} should be allowed {method} {path}: {}",
                    reply.text
                );
            } else {
                reply.assert_problem(403, "forbidden");
            }
        }
        // Unauthenticated: always 401.
        for (method, path, body, _) in matrix(someone) {
            let mut call = app.call(method.clone(), &path);
            if let Some(body) = &body {
                call = call.json(body);
            }
            call.send().await.assert_problem(401, "unauthenticated");
        }
    }
}

#[test]
fn the_matrix_covers_every_protected_endpoint() {
    let document = api::openapi::document();
    let documented: BTreeSet<(String, String)> = document
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let operations = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            operations
                .into_iter()
                .filter(|(_, op)| op.as_ref().is_some_and(|op| op.security.is_some()))
                .map(|(method, _)| (method.to_owned(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let tested: BTreeSet<(String, String)> = matrix("{id}")
        .into_iter()
        .map(|(method, path, _, _)| (method.to_string(), path))
        .collect();
    assert_eq!(
        documented, tested,
        "every protected endpoint belongs in the matrix test"
    );
}

#[test]
fn the_code_matrix_agrees_with_this_table() {
    use api::auth::permissions::{Action, permits};
    use entity::Role;
    let expected: [(Action, &[Role]); 3] = [
        (Action::UseOwnAccount, &Role::ALL),
        (Action::ReadUsers, &[Role::Admin, Role::Supervisor]),
        (Action::ManageUsers, &[Role::Admin]),
    ];
    for (action, roles) in expected {
        for role in Role::ALL {
            assert_eq!(
                permits(role, action),
                roles.contains(&role),
                "{role:?} {action:?}"
            );
        }
    }
}
