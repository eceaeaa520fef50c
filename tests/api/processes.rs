//! Races across instances, on the real binary: two `rural-collateral` processes on one
//! database, requests dealt to them in turn. Every invariant that matters under load is a
//! constraint or a conditional update in the database, so the processes cannot both win.

use entity::{ApplicationStatus, Money, audit_event, loan_application, repayment};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::binary::spawn_processes;
use crate::helpers::TestApp;
use crate::loans::{draft, open_liens, setup};
use crate::review::{act, approved, desk, disbursement, recommendation, submitted};

#[tokio::test]
async fn fifty_submits_pledging_one_asset_across_two_processes_make_one_lien() {
    let (app, servers) = spawn_processes(2).await;
    let loan = setup(&app).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        let created = app
            .post("/api/v1/applications")
            .bearer(&loan.operator)
            .json(&draft(&loan, "100000.00"))
            .send()
            .await;
        ids.push(
            created.assert_status(201)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let client = reqwest::Client::new();
    let submits = ids.iter().enumerate().map(|(i, id)| {
        let server = &servers[i % servers.len()].address;
        client
            .post(format!("{server}/api/v1/applications/{id}/submit"))
            .bearer_auth(&loan.operator)
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(submits)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(open_liens(&app).await, 1);
}

#[tokio::test]
async fn one_idempotency_key_sent_to_both_processes_at_once_has_one_effect() {
    let (app, servers) = spawn_processes(2).await;
    let loan = setup(&app).await;
    let client = reqwest::Client::new();
    let body = draft(&loan, "100000.00");
    let creates = (0..10).map(|i| {
        let server = &servers[i % servers.len()].address;
        client
            .post(format!("{server}/api/v1/applications"))
            .bearer_auth(&loan.operator)
            .header("idempotency-key", "both-processes-1")
            .json(&body)
            .send()
    });
    let mut created = Vec::new();
    for reply in futures_util::future::join_all(creates).await {
        let reply = reply.unwrap();
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap_or_default();
        // The first claims the key; the others replay its answer, or are told it is still
        // being worked on (409 `idempotency_key_in_flight`) and may retry.
        match status {
            201 => created.push(body["id"].as_str().unwrap().to_owned()),
            409 => assert_eq!(body["code"], "idempotency_key_in_flight", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|id| *id == created[0]), "{created:?}");
    let all = app
        .get("/api/v1/applications")
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

/// `POST {server}/api/v1/applications/{id}/{action}` as `token`: (status, body).
async fn act_on(server: &str, token: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .post(format!("{server}/api/v1/applications/{id}/{action}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or_default())
}

#[tokio::test]
async fn twenty_officers_claiming_one_application_across_two_processes_leave_one_assignee() {
    let (app, servers) = spawn_processes(2).await;
    let desk = desk(&app).await;
    let id = submitted(&app, &desk, "100000.00").await;
    let mut officers = Vec::new();
    for _ in 0..20 {
        officers.push(app.token_for("bank_officer").await);
    }
    let claims = officers
        .iter()
        .enumerate()
        .map(|(i, token)| act_on(&servers[i % 2].address, token, &id, "claim", json!({})));
    let outcomes = futures_util::future::join_all(claims).await;
    let statuses: Vec<u16> = outcomes.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|(s, body)| *s == 200 || (*s == 409 && body["current_state"] == "under_review"))
    );
    let stored = loan_application::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.assigned_to.is_some());
    assert_eq!(audit_events_of(&app, &id, "application.claim").await, 1);
}

#[tokio::test]
async fn two_approvers_approving_at_once_on_two_processes_make_one_decision() {
    let (app, servers) = spawn_processes(2).await;
    let desk = desk(&app).await;
    let id = submitted(&app, &desk, "100000.00").await;
    act(&app, &desk.officer, &id, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.officer,
        &id,
        "recommend",
        recommendation("100000.00"),
    )
    .await
    .assert_status(200);
    let other_approver = app.token_for("bank_approver").await;
    let (a, b) = tokio::join!(
        act_on(
            &servers[0].address,
            &desk.approver,
            &id,
            "approve",
            json!({"opinion": "同意"})
        ),
        act_on(
            &servers[1].address,
            &other_approver,
            &id,
            "approve",
            json!({"opinion": "同意"})
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} / {b:?}");
    assert_eq!(audit_events_of(&app, &id, "application.approve").await, 1);
}

#[tokio::test]
async fn ten_repayments_of_the_last_period_across_two_processes_settle_once() {
    let (app, servers) = spawn_processes(2).await;
    let desk = desk(&app).await;
    let id = approved(&app, &desk, "30000.00").await;
    act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("30000.00", "PROC-1"),
    )
    .await
    .assert_status(200);
    let today = crate::loans::today().to_string();
    let client = reqwest::Client::new();
    let payments = (0..10).map(|i| {
        client
            .post(format!(
                "{}/api/v1/applications/{id}/repayments",
                servers[i % 2].address
            ))
            .bearer_auth(&desk.approver)
            .json(&json!({"date": today, "amount": "30000.00"}))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(payments)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    let stored = loan_application::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Settled);
    assert_eq!(stored.outstanding_principal, Some(Money::ZERO));
    let paid = repayment::Entity::find()
        .filter(repayment::Column::ApplicationId.eq(stored.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(paid, 1);
}

async fn audit_events_of(app: &TestApp, id: &str, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::ObjectId.eq(id.parse::<Uuid>().unwrap()))
        .filter(audit_event::Column::Action.eq(action))
        .count(&app.db)
        .await
        .unwrap()
}
