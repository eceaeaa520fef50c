//! Races across instances, on the real binary: two `rural-collateral` processes on one
//! database, requests dealt to them in turn. Every invariant that matters under load is a
//! constraint or a conditional update in the database, so the processes cannot both win.

use std::sync::{Arc, Mutex};

use entity::{
    ApplicationStatus, Money, asset, asset_document, audit_event, loan_application, repayment,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::binary::{spawn_processes, start_process};
use crate::helpers::{TestApp, spawn_app};
use crate::loans::{draft, drafts, open_liens, setup, today, valued_land};
use crate::review::{act, approved, desk, disbursement, recommendation, submitted};

#[tokio::test]
async fn fifty_submits_pledging_one_asset_across_two_processes_make_one_lien() {
    let (app, servers) = spawn_processes(2).await;
    let loan = setup(&app).await;
    let ids = drafts(&app, &loan, 50).await;
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
    let today = today().to_string();
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

/// What the database must never hold, each as a query counting the violations. The same text on
/// both backends; `docs/reliability.md` lists them.
pub(crate) const INVARIANTS: [(&str, &str); 6] = [
    (
        "an open lien whose application does not hold it",
        "SELECT COUNT(*) FROM liens l JOIN loan_applications a ON a.id = l.application_id \
         WHERE (l.status = 'reserved' AND a.status NOT IN \
                ('submitted', 'under_review', 'info_requested', 'recommended', 'approved')) \
            OR (l.status = 'active' AND a.status <> 'disbursed')",
    ),
    (
        "an application past draft without its liens",
        "SELECT COUNT(*) FROM loan_applications a WHERE a.status <> 'draft' \
         AND a.submitted_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM liens l WHERE l.application_id = a.id)",
    ),
    (
        "an application past draft without its audit events",
        "SELECT COUNT(*) FROM loan_applications a WHERE a.submitted_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.object_id = a.id \
                         AND e.action = 'application.submit')",
    ),
    (
        "an equity entity whose shares exceed 100 %",
        "SELECT COUNT(*) FROM (SELECT entity_id FROM shareholdings GROUP BY entity_id \
         HAVING SUM(percentage_bp) > 10000) over_full",
    ),
    (
        "a loan repaid beyond what was disbursed, or owing what was not repaid",
        "SELECT COUNT(*) FROM loan_applications a WHERE a.disbursed_amount IS NOT NULL \
         AND a.disbursed_amount - COALESCE((SELECT SUM(r.principal) FROM repayments r \
             WHERE r.application_id = a.id), 0) <> a.outstanding_principal",
    ),
    (
        "a document row whose asset is gone",
        "SELECT COUNT(*) FROM asset_documents d \
         WHERE NOT EXISTS (SELECT 1 FROM assets s WHERE s.id = d.asset_id)",
    ),
];

pub(crate) async fn assert_invariants(app: &TestApp) {
    for (name, query) in INVARIANTS {
        assert_eq!(app.sql_number(query).await, 0, "{name}");
    }
    let report = api::audit::chain::verify(&app.db).await.unwrap();
    assert!(report.ok, "audit chain: {report:?}");
}

/// What the client saw answered 2xx during the load.
#[derive(Default)]
struct Confirmed {
    submitted: Vec<String>,
    repayments: Vec<String>,
    documents: Vec<String>,
    /// (asset, version, description)
    edits: Vec<(String, i64, String)>,
}

#[tokio::test]
async fn a_process_killed_mid_write_loses_nothing_it_confirmed_and_breaks_no_invariant() {
    let (app, mut servers) = spawn_processes(1).await;
    let desk = desk(&app).await;
    let loan = approved(&app, &desk, "30000.00").await;
    act(
        &app,
        &desk.approver,
        &loan,
        "disburse",
        disbursement("30000.00", "CRASH-1"),
    )
    .await
    .assert_status(200);
    let mut drafts = Vec::new();
    for _ in 0..30 {
        let asset = valued_land(&app, &desk.loan.admin, "400000.00").await;
        let mut body = draft(&desk.loan, "100000.00");
        body["asset_ids"] = json!([asset]);
        let created = app
            .post("/api/v1/applications")
            .bearer(&desk.loan.operator)
            .json(&body)
            .send()
            .await;
        drafts.push(created.created_id());
    }
    let edited = valued_land(&app, &desk.loan.admin, "100000.00").await;

    let server = servers.remove(0);
    let base = server.address.clone();
    let confirmed = Arc::new(Mutex::new(Confirmed::default()));
    let client = reqwest::Client::new();
    let mut load = Vec::new();
    {
        let (client, base, confirmed) = (client.clone(), base.clone(), confirmed.clone());
        let operator = desk.loan.operator.clone();
        load.push(tokio::spawn(async move {
            for id in drafts {
                let Ok(reply) = client
                    .post(format!("{base}/api/v1/applications/{id}/submit"))
                    .bearer_auth(&operator)
                    .send()
                    .await
                else {
                    return;
                };
                if reply.status().is_success() {
                    confirmed.lock().unwrap().submitted.push(id);
                }
            }
        }));
    }
    {
        let (client, base, confirmed) = (client.clone(), base.clone(), confirmed.clone());
        let (approver, loan) = (desk.approver.clone(), loan.clone());
        let today = today().to_string();
        load.push(tokio::spawn(async move {
            for _ in 0..500 {
                let answer = client
                    .post(format!("{base}/api/v1/applications/{loan}/repayments"))
                    .bearer_auth(&approver)
                    .json(&json!({"date": today, "amount": "1.00"}))
                    .send()
                    .await;
                let Ok(id) = created_id(answer).await else {
                    return;
                };
                confirmed.lock().unwrap().repayments.extend(id);
            }
        }));
    }
    {
        let (client, base, confirmed) = (client.clone(), base.clone(), confirmed.clone());
        let (operator, asset) = (desk.loan.operator.clone(), desk.loan.asset.clone());
        load.push(tokio::spawn(async move {
            for i in 0..500 {
                let form = reqwest::multipart::Form::new()
                    .text("kind", "appraisal_report")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(b"%PDF-1.7\n%%EOF".to_vec())
                            .file_name(format!("report-{i}.pdf")),
                    );
                let answer = client
                    .post(format!("{base}/api/v1/assets/{asset}/documents"))
                    .bearer_auth(&operator)
                    .multipart(form)
                    .send()
                    .await;
                let Ok(id) = created_id(answer).await else {
                    return;
                };
                confirmed.lock().unwrap().documents.extend(id);
            }
        }));
    }
    {
        let (client, base, confirmed) = (client.clone(), base.clone(), confirmed.clone());
        let admin = desk.loan.admin.clone();
        load.push(tokio::spawn(async move {
            for i in 0..500 {
                let Ok(current) = client
                    .get(format!("{base}/api/v1/assets/{edited}"))
                    .bearer_auth(&admin)
                    .send()
                    .await
                else {
                    return;
                };
                let Some(etag) = current.headers().get("etag").cloned() else {
                    return;
                };
                let description = format!("第{i}次修改");
                let Ok(reply) = client
                    .patch(format!("{base}/api/v1/assets/{edited}"))
                    .bearer_auth(&admin)
                    .header("if-match", etag)
                    .json(&json!({"description": description}))
                    .send()
                    .await
                else {
                    return;
                };
                if reply.status().is_success() {
                    let body: Value = reply.json().await.unwrap_or_default();
                    let version = body["version"].as_i64().unwrap_or_default();
                    confirmed
                        .lock()
                        .unwrap()
                        .edits
                        .push((edited.clone(), version, description));
                }
            }
        }));
    }
    // In the middle of the load: some submits done, the others not yet sent.
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    server.kill9();
    for task in load {
        task.await.unwrap();
    }

    let restarted = start_process(&app.database).await;
    let confirmed = std::mem::take(&mut *confirmed.lock().unwrap());
    println!(
        "confirmed before the kill: {} submits, {} repayments, {} uploads, {} edits",
        confirmed.submitted.len(),
        confirmed.repayments.len(),
        confirmed.documents.len(),
        confirmed.edits.len()
    );
    assert!(
        confirmed.submitted.len() + confirmed.repayments.len() + confirmed.documents.len() > 0,
        "the kill came before any write"
    );
    for id in &confirmed.submitted {
        let stored = loan_application::Entity::find_by_id(id.parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(stored.status, ApplicationStatus::Draft, "{id}");
    }
    for id in &confirmed.repayments {
        let found = repayment::Entity::find_by_id(id.parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap();
        assert!(found.is_some(), "repayment {id}");
    }
    for id in &confirmed.documents {
        let found = asset_document::Entity::find_by_id(id.parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap();
        assert!(found.is_some(), "document {id}");
    }
    if let Some((asset, version, description)) = confirmed.edits.last() {
        let stored = asset::Entity::find_by_id(asset.parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(i64::from(stored.version) >= *version);
        if i64::from(stored.version) == *version {
            assert_eq!(&stored.description, description);
        }
    }
    // Every stored document's bytes are there; bytes of an upload the kill cut short are
    // removed by the clean-up (hourly, for bytes older than an hour; here at once).
    let removed =
        api::assets::remove_orphan_objects(&app.db, &app.store(), chrono::Duration::zero())
            .await
            .unwrap();
    println!("orphan document objects removed after the kill: {removed}");
    let store = app.database.data_dir.path().join("documents");
    let rows = asset_document::Entity::find().all(&app.db).await.unwrap();
    for document in &rows {
        assert!(
            store.join(&document.storage_key).exists(),
            "document {} lost its bytes",
            document.id
        );
    }
    let objects = files_under(&store.join("assets"));
    assert_eq!(
        objects.len(),
        rows.len(),
        "an object without its row remains: {objects:?}"
    );
    assert_invariants(&app).await;
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", restarted.address))
        .bearer_auth(&desk.loan.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the restarted process serves");
}

/// The `id` of a 2xx answer (`None` for a refusal); `Err` once the server is gone.
async fn created_id(answer: reqwest::Result<reqwest::Response>) -> reqwest::Result<Option<String>> {
    let reply = answer?;
    if !reply.status().is_success() {
        return Ok(None);
    }
    let body: Value = reply.json().await.unwrap_or_default();
    Ok(body["id"].as_str().map(str::to_owned))
}

/// Every file beneath `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test]
async fn the_clean_up_spares_referenced_and_recent_bytes() {
    use object_store::ObjectStoreExt;
    let app = spawn_app().await;
    let loan = setup(&app).await;
    let store = app.store();
    let stray = object_store::path::Path::from(format!("assets/{}/stray", loan.asset));
    store
        .put(&stray, object_store::PutPayload::from_static(b"%PDF-1.7"))
        .await
        .unwrap();
    // A write the store never finished: a kill between writing the staging file and renaming it.
    let staged = app.database.data_dir.path().join(format!(
        "documents/assets/{}/{}#3",
        loan.asset,
        Uuid::now_v7()
    ));
    std::fs::write(&staged, b"%PDF-1.").unwrap();
    // Younger than the grace period: an upload that may still be committing its row.
    let kept = api::assets::remove_orphan_objects(&app.db, &store, chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(kept, 0);
    let removed = api::assets::remove_orphan_objects(&app.db, &store, chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(removed, 2, "only the stray bytes and the unfinished write");
    assert!(store.head(&stray).await.is_err());
    assert!(!staged.exists());
    // The resolution uploaded by the set-up still reads.
    let content = app
        .get(&format!("/api/v1/documents/{}/content", loan.resolution))
        .bearer(&loan.operator)
        .send()
        .await;
    assert_eq!(content.status, 200);
}
