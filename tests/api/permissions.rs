//! The role matrix, tried for real: every role on every protected endpoint.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Ids to put in paths: real ones, or the OpenAPI placeholders.
pub(crate) struct Ids {
    pub(crate) user: String,
    pub(crate) org: String,
    pub(crate) bank: String,
    pub(crate) code: String,
    pub(crate) year: String,
    pub(crate) asset: String,
    pub(crate) valuation: String,
    pub(crate) document: String,
    pub(crate) entity: String,
    pub(crate) share: String,
    pub(crate) product: String,
    pub(crate) application: String,
    pub(crate) notification: String,
}

type Row = (
    Method,
    String,
    &'static str,
    Option<Value>,
    &'static [&'static str],
);

/// Every protected endpoint, with a request that changes nothing (its body is invalid or it
/// only reads), and who may call it. Allowed roles must get past authorization (anything but
/// 401/403); the others get 403.
fn matrix(ids: &Ids) -> Vec<Row> {
    const EVERYONE: &[&str] = &ROLES;
    const READERS: &[&str] = &["admin", "supervisor"];
    const ADMIN: &[&str] = &["admin"];
    const EDITORS: &[&str] = &["admin", "org_operator"];
    const OPERATORS: &[&str] = &["org_operator"];
    const APPROVERS: &[&str] = &["bank_approver"];
    const APPRAISERS: &[&str] = &["admin", "bank_officer"];
    const OFFICERS: &[&str] = &["bank_officer"];
    const BANK_STAFF: &[&str] = &["bank_officer", "bank_approver"];
    const PORTFOLIO_READERS: &[&str] = &["admin", "supervisor", "bank_officer", "bank_approver"];
    let Ids {
        user,
        org,
        bank,
        code,
        year,
        asset,
        valuation,
        document,
        entity,
        share,
        product,
        application,
        notification,
    } = ids;
    let invalid = Some(json!({}));
    vec![
        (Method::GET, "/api/v1/me".into(), "", None, EVERYONE),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            "",
            invalid.clone(),
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/auth/logout".into(),
            "",
            None,
            EVERYONE,
        ),
        (Method::GET, "/api/v1/users".into(), "", None, READERS),
        (
            Method::GET,
            format!("/api/v1/users/{user}"),
            "",
            None,
            READERS,
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{user}"),
            "",
            Some(json!({"display_name": ""})),
            ADMIN,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{user}/reset-password"),
            "",
            Some(json!({"new_password": "weak"})),
            ADMIN,
        ),
        (Method::GET, "/api/v1/regions".into(), "", None, EVERYONE),
        (
            Method::GET,
            format!("/api/v1/regions/{code}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/regions".into(),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::GET,
            "/api/v1/organizations".into(),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/organizations/{org}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/organizations/{org}/incomes"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/organizations".into(),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::POST,
            "/api/v1/organizations/import".into(),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::PATCH,
            format!("/api/v1/organizations/{org}"),
            "",
            Some(json!({"member_households": -1})),
            EDITORS,
        ),
        (
            Method::PUT,
            format!("/api/v1/organizations/{org}/incomes/{year}"),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (Method::GET, "/api/v1/banks".into(), "", None, EVERYONE),
        (
            Method::GET,
            format!("/api/v1/banks/{bank}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/banks".into(),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::PATCH,
            format!("/api/v1/banks/{bank}"),
            "",
            Some(json!({"name": ""})),
            ADMIN,
        ),
        (
            Method::POST,
            format!("/api/v1/banks/{bank}/branches"),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::PUT,
            format!("/api/v1/banks/{bank}/regions"),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::GET,
            "/api/v1/stats/income".into(),
            "?year=2021",
            None,
            READERS,
        ),
        (
            Method::GET,
            "/api/v1/stats/portfolio".into(),
            "",
            None,
            PORTFOLIO_READERS,
        ),
        (Method::GET, "/api/v1/assets".into(), "", None, EVERYONE),
        (
            Method::GET,
            format!("/api/v1/assets/{asset}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/assets".into(),
            "",
            invalid.clone(),
            EDITORS,
        ),
        (
            Method::PATCH,
            format!("/api/v1/assets/{asset}"),
            "",
            Some(json!({"name": ""})),
            EDITORS,
        ),
        (
            Method::DELETE,
            format!("/api/v1/assets/{asset}"),
            "",
            None,
            EDITORS,
        ),
        (
            Method::POST,
            format!("/api/v1/assets/{asset}/verification"),
            "",
            invalid.clone(),
            ADMIN,
        ),
        (
            Method::GET,
            format!("/api/v1/assets/{asset}/valuations"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            format!("/api/v1/assets/{asset}/valuations"),
            "",
            invalid.clone(),
            APPRAISERS,
        ),
        (
            Method::GET,
            format!("/api/v1/assets/{asset}/valuations/{valuation}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/assets/{asset}/documents"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            format!("/api/v1/assets/{asset}/documents"),
            "",
            invalid.clone(),
            EDITORS,
        ),
        (
            Method::GET,
            format!("/api/v1/documents/{document}/content"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            "/api/v1/equity-entities".into(),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/equity-entities/{entity}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/equity-entities".into(),
            "",
            invalid.clone(),
            EDITORS,
        ),
        (
            Method::PATCH,
            format!("/api/v1/equity-entities/{entity}"),
            "",
            Some(json!({"name": ""})),
            EDITORS,
        ),
        (
            Method::GET,
            format!("/api/v1/equity-entities/{entity}/shareholdings"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            format!("/api/v1/equity-entities/{entity}/shareholdings"),
            "",
            invalid.clone(),
            EDITORS,
        ),
        (
            Method::GET,
            format!("/api/v1/equity-entities/{entity}/shareholdings/{share}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::DELETE,
            format!("/api/v1/equity-entities/{entity}/shareholdings/{share}"),
            "",
            None,
            EDITORS,
        ),
        (Method::GET, "/api/v1/products".into(), "", None, EVERYONE),
        (
            Method::GET,
            format!("/api/v1/products/{product}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/products".into(),
            "",
            invalid.clone(),
            APPROVERS,
        ),
        (
            Method::PATCH,
            format!("/api/v1/products/{product}"),
            "",
            invalid.clone(),
            APPROVERS,
        ),
        (
            Method::POST,
            format!("/api/v1/products/{product}/activate"),
            "",
            None,
            APPROVERS,
        ),
        (
            Method::POST,
            format!("/api/v1/products/{product}/retire"),
            "",
            None,
            APPROVERS,
        ),
        (
            Method::POST,
            "/api/v1/matching/quote".into(),
            "",
            invalid.clone(),
            EDITORS,
        ),
        (
            Method::GET,
            "/api/v1/applications".into(),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{application}"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{application}/matches"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/applications".into(),
            "",
            invalid.clone(),
            OPERATORS,
        ),
        (
            Method::PATCH,
            format!("/api/v1/applications/{application}"),
            "",
            invalid.clone(),
            OPERATORS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/submit"),
            "",
            None,
            OPERATORS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/withdraw"),
            "",
            None,
            OPERATORS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/resubmit"),
            "",
            invalid.clone(),
            OPERATORS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/claim"),
            "",
            None,
            OFFICERS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/release"),
            "",
            None,
            OFFICERS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/request-info"),
            "",
            invalid.clone(),
            OFFICERS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/recommend"),
            "",
            invalid.clone(),
            OFFICERS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/approve"),
            "",
            invalid.clone(),
            APPROVERS,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/reject"),
            "",
            invalid.clone(),
            BANK_STAFF,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/disburse"),
            "",
            invalid.clone(),
            BANK_STAFF,
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{application}/repayments"),
            "",
            invalid.clone(),
            BANK_STAFF,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{application}/repayments"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{application}/schedule"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            "/api/v1/audit-events".into(),
            "",
            None,
            READERS,
        ),
        (
            Method::GET,
            "/api/v1/audit-events/verify".into(),
            "",
            None,
            READERS,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{application}/timeline"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            "/api/v1/notifications".into(),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::GET,
            "/api/v1/notifications/unread-count".into(),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            format!("/api/v1/notifications/{notification}/read"),
            "",
            None,
            EVERYONE,
        ),
        (
            Method::POST,
            "/api/v1/notifications/read-all".into(),
            "",
            None,
            EVERYONE,
        ),
    ]
}

#[tokio::test]
async fn every_role_on_every_protected_endpoint() {
    let app = spawn_app().await;
    let someone = app.create_user("supervisor").await;
    let ids = Ids {
        user: someone["id"].as_str().unwrap().to_owned(),
        org: app.fixture.org.to_string(),
        bank: app.fixture.bank.to_string(),
        code: VILLAGE.to_owned(),
        year: "2021".to_owned(),
        // Ids that name nothing: allowed callers get 404, never a change.
        asset: uuid::Uuid::now_v7().to_string(),
        valuation: uuid::Uuid::now_v7().to_string(),
        document: uuid::Uuid::now_v7().to_string(),
        entity: uuid::Uuid::now_v7().to_string(),
        share: uuid::Uuid::now_v7().to_string(),
        product: uuid::Uuid::now_v7().to_string(),
        application: uuid::Uuid::now_v7().to_string(),
        notification: uuid::Uuid::now_v7().to_string(),
    };
    for role in ROLES {
        for (method, path, query, body, allowed) in matrix(&ids) {
            // A fresh sign-in per call: logout would end a shared one.
            let token = if role == "admin" {
                app.admin_token().await
            } else {
                app.token_for(role).await
            };
            let mut call = app
                .call(method.clone(), &format!("{path}{query}"))
                .bearer(&token);
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
        for (method, path, query, body, _) in matrix(&ids) {
            let mut call = app.call(method.clone(), &format!("{path}{query}"));
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
    let placeholders = Ids {
        user: "{id}".into(),
        org: "{id}".into(),
        bank: "{id}".into(),
        code: "{code}".into(),
        year: "{year}".into(),
        asset: "{id}".into(),
        valuation: "{valuation_id}".into(),
        document: "{id}".into(),
        entity: "{id}".into(),
        share: "{sid}".into(),
        product: "{id}".into(),
        application: "{id}".into(),
        notification: "{id}".into(),
    };
    let tested: BTreeSet<(String, String)> = matrix(&placeholders)
        .into_iter()
        .map(|(method, path, _, _, _)| (method.to_string(), path))
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
    let everyone = &Role::ALL;
    let readers = &[Role::Admin, Role::Supervisor];
    let admin = &[Role::Admin];
    let editors = &[Role::Admin, Role::OrgOperator];
    let bank_staff = &[Role::BankOfficer, Role::BankApprover];
    let expected: [(Action, &[Role]); 26] = [
        (Action::UseOwnAccount, everyone),
        (Action::ReadUsers, readers),
        (Action::ManageUsers, admin),
        (Action::ReadRegions, everyone),
        (Action::ManageRegions, admin),
        (Action::ReadOrganizations, everyone),
        (Action::EditOrganization, &[Role::Admin, Role::OrgOperator]),
        (Action::ManageOrganizations, admin),
        (Action::ReadBanks, everyone),
        (Action::ManageBanks, admin),
        (Action::ReadIncomeStats, readers),
        (
            Action::ReadPortfolioStats,
            &[
                Role::Admin,
                Role::Supervisor,
                Role::BankOfficer,
                Role::BankApprover,
            ],
        ),
        (Action::ReadAssets, everyone),
        (Action::ManageAssets, editors),
        (Action::VerifyAssets, admin),
        (Action::AppraiseAssets, &[Role::Admin, Role::BankOfficer]),
        (Action::ReadProducts, everyone),
        (Action::ManageProducts, &[Role::BankApprover]),
        (Action::QuoteLoans, editors),
        (Action::ReadApplications, everyone),
        (Action::ApplyForLoans, &[Role::OrgOperator]),
        (Action::ReviewApplications, &[Role::BankOfficer]),
        (Action::ApproveApplications, &[Role::BankApprover]),
        (Action::RejectApplications, bank_staff),
        (Action::ServiceLoans, bank_staff),
        (Action::ReadAudit, readers),
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
