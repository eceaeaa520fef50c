//! Races across instances, on the real binary: two `rural-collateral` processes on one
//! database, requests dealt to them in turn. Every invariant that matters under load is a
//! constraint or a conditional update in the database, so the processes cannot both win.

use serde_json::Value;

use crate::binary::spawn_processes;
use crate::loans::{draft, open_liens, setup};

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
