//! The bank's half of the lifecycle over HTTP: the officer's queue, claim to settlement, every
//! refusal, and the races.

use chrono::Duration;
use entity::{LienStatus, lien, loan_installment, repayment};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::loans::{Loan, draft, open_liens, setup, today, valued_land};

/// The people of one bank's review, and a village ready to borrow.
pub(crate) struct Desk {
    pub(crate) loan: Loan,
    pub(crate) officer: String,
    pub(crate) other_officer: String,
    pub(crate) approver: String,
}

pub(crate) async fn desk(app: &TestApp) -> Desk {
    Desk {
        loan: setup(app).await,
        officer: app.token_for("bank_officer").await,
        other_officer: app.token_for("bank_officer").await,
        approver: app.token_for("bank_approver").await,
    }
}

/// A submitted application for `amount` on the desk's land.
pub(crate) async fn submitted(app: &TestApp, desk: &Desk, amount: &str) -> String {
    submitted_on(app, desk, amount, &desk.loan.asset).await
}

/// A submitted application for `amount` pledging `asset`.
async fn submitted_on(app: &TestApp, desk: &Desk, amount: &str, asset: &str) -> String {
    let mut body = draft(&desk.loan, amount);
    body["asset_ids"] = json!([asset]);
    let created = app
        .post("/api/v1/applications")
        .bearer(&desk.loan.operator)
        .json(&body)
        .send()
        .await;
    let id = created.created_id();
    app.post(&format!("/api/v1/applications/{id}/submit"))
        .bearer(&desk.loan.operator)
        .send()
        .await
        .assert_status(200);
    id
}

pub(crate) async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> Reply {
    app.post(&format!("/api/v1/applications/{id}/{action}"))
        .bearer(token)
        .json(&body)
        .send()
        .await
}

async fn liens_of(app: &TestApp, id: &str) -> Vec<(Uuid, LienStatus)> {
    let id: Uuid = id.parse().unwrap();
    lien::Entity::find()
        .filter(lien::Column::ApplicationId.eq(id))
        .order_by_asc(lien::Column::AssetId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.asset_id, l.status))
        .collect()
}

pub(crate) fn recommendation(amount: &str) -> Value {
    json!({
        "amount": amount, "rate": "4.35", "term_months": 12,
        "repayment_method": "equal_principal", "opinion": "经营稳定，抵押充足",
    })
}

pub(crate) fn disbursement(amount: &str, registration: &str) -> Value {
    json!({
        "contract_no": format!("HT-{registration}"), "lien_registration_no": registration,
        "amount": amount, "date": today().to_string(),
    })
}

/// Claimed, recommended and approved: ready to disburse.
pub(crate) async fn approved(app: &TestApp, desk: &Desk, amount: &str) -> String {
    let id = submitted(app, desk, amount).await;
    act(app, &desk.officer, &id, "claim", json!({}))
        .await
        .assert_status(200);
    act(app, &desk.officer, &id, "recommend", recommendation(amount))
        .await
        .assert_status(200);
    act(
        app,
        &desk.approver,
        &id,
        "approve",
        json!({"opinion": "同意"}),
    )
    .await
    .assert_status(200);
    id
}

#[tokio::test]
async fn a_loan_goes_from_the_village_to_settlement_along_every_edge() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let operator = &desk.loan.operator;
    let id = submitted(&app, &desk, "120000.00").await;
    let asset: Uuid = desk.loan.asset.parse().unwrap();
    assert_eq!(liens_of(&app, &id).await, [(asset, LienStatus::Reserved)]);

    // submitted → under_review (claim) → submitted (release) → under_review (claim).
    let claimed = act(&app, &desk.officer, &id, "claim", json!({})).await;
    let claimed = claimed.assert_status(200);
    assert_eq!(claimed["status"], "under_review");
    assert_eq!(claimed["assigned_officer"]["role"], "bank_officer");
    assert!(claimed["assigned_to"].is_string());
    let released = act(&app, &desk.officer, &id, "release", json!({})).await;
    assert_eq!(released.assert_status(200)["status"], "submitted");
    assert!(released.body["assigned_to"].is_null());
    act(&app, &desk.officer, &id, "claim", json!({}))
        .await
        .assert_status(200);

    // under_review → info_requested → under_review, with a second asset added to the pledge.
    let asked = act(
        &app,
        &desk.officer,
        &id,
        "request-info",
        json!({"message": "请补充土地流转合同"}),
    )
    .await;
    let asked = asked.assert_status(200);
    assert_eq!(asked["status"], "info_requested");
    assert_eq!(asked["info_request"], "请补充土地流转合同");
    let village_sees = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(village_sees.body["info_request"], "请补充土地流转合同");
    assert!(
        village_sees.body["assigned_to"].is_null(),
        "no staff ids for the village"
    );
    let second = valued_land(&app, &desk.loan.admin, "100000.00").await;
    let resubmitted = act(
        &app,
        operator,
        &id,
        "resubmit",
        json!({"amount": "150000.00", "asset_ids": [desk.loan.asset, second], "message": "已补充"}),
    )
    .await;
    let resubmitted = resubmitted.assert_status(200);
    assert_eq!(resubmitted["status"], "under_review");
    assert_eq!(resubmitted["amount"], "150000.00");
    assert!(resubmitted["info_request"].is_null());
    assert_eq!(liens_of(&app, &id).await.len(), 2);
    assert_eq!(open_liens(&app).await, 2);

    // under_review → recommended → approved → disbursed.
    let recommended = act(
        &app,
        &desk.officer,
        &id,
        "recommend",
        recommendation("120000.00"),
    )
    .await;
    let recommended = recommended.assert_status(200);
    assert_eq!(recommended["status"], "recommended");
    assert_eq!(recommended["recommendation"]["amount"], "120000.00");
    assert_eq!(
        recommended["recommendation"]["opinion"],
        "经营稳定，抵押充足"
    );
    let village_sees = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(operator)
        .send()
        .await;
    assert!(village_sees.body["recommendation"]["opinion"].is_null());
    let approved = act(
        &app,
        &desk.approver,
        &id,
        "approve",
        json!({"amount": "120000.00", "opinion": "同意"}),
    )
    .await;
    let approved = approved.assert_status(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approval"]["amount"], "120000.00");
    let disbursed = act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("120000.00", "晋(2026)绛县不动产证明第0001号"),
    )
    .await;
    let disbursed = disbursed.assert_status(200);
    assert_eq!(disbursed["status"], "disbursed");
    assert_eq!(
        disbursed["disbursement"]["outstanding_principal"],
        "120000.00"
    );
    assert!(
        liens_of(&app, &id)
            .await
            .iter()
            .all(|(_, s)| *s == LienStatus::Active)
    );

    // The stored schedule: 12 periods of 10,000.00 principal, interest on the balance.
    let schedule = app
        .get(&format!("/api/v1/applications/{id}/schedule"))
        .bearer(operator)
        .send()
        .await;
    let periods = schedule.assert_status(200)["periods"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(periods.len(), 12);
    assert_eq!(periods[0]["principal"], "10000.00");
    assert_eq!(periods[0]["interest"], "435.00");
    assert_eq!(periods[0]["installment"], "10435.00");
    assert_eq!(periods[0]["status"], "upcoming");
    assert_eq!(periods[11]["interest"], "36.25");
    let stored = loan_installment::Entity::find()
        .filter(loan_installment::Column::ApplicationId.eq(id.parse::<Uuid>().unwrap()))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 12);

    // A prepayment of 60,000.00 shortens the schedule to six periods.
    let paid = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.officer)
        .json(&json!({"date": today().to_string(), "amount": "60000.00"}))
        .send()
        .await;
    let paid = paid.assert_status(201);
    assert_eq!(paid["principal"], "60000.00");
    assert_eq!(paid["interest"], "0.00");
    let schedule = app
        .get(&format!("/api/v1/applications/{id}/schedule"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(schedule.body["outstanding_principal"], "60000.00");
    let periods = schedule.body["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 6);
    assert_eq!(periods[0]["principal"], "10000.00");
    assert_eq!(periods[0]["interest"], "217.50");

    // Everything owed, and not a fen more: the loan settles and its liens are released.
    let over = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.officer)
        .json(&json!({"date": today().to_string(), "amount": "60000.01"}))
        .send()
        .await;
    assert_eq!(
        over.assert_problem(422, "overpayment")["outstanding"],
        "60000.00"
    );
    let last = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.approver)
        .json(&json!({"date": today().to_string(), "amount": "60000.00"}))
        .send()
        .await;
    last.assert_status(201);
    let settled = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(settled.body["status"], "settled");
    assert!(settled.body["settled_at"].is_string());
    assert!(
        liens_of(&app, &id)
            .await
            .iter()
            .all(|(_, s)| *s == LienStatus::Released)
    );
    assert_eq!(open_liens(&app).await, 0);
    let repayments = app
        .get(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(repayments.body["items"].as_array().unwrap().len(), 2);
    let after = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.officer)
        .json(&json!({"date": today().to_string(), "amount": "1.00"}))
        .send()
        .await;
    assert_eq!(
        after.assert_problem(409, "invalid_state")["current_state"],
        "settled"
    );

    // The other edges: reject from submitted (an approver), from under_review (the assigned
    // officer), from recommended; withdraw from info_requested. Each releases the liens.
    let from_submitted = submitted(&app, &desk, "50000.00").await;
    let rejected = act(
        &app,
        &desk.approver,
        &from_submitted,
        "reject",
        json!({"reason_code": "policy", "text": "暂停该类贷款"}),
    )
    .await;
    let rejected = rejected.assert_status(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection"]["reason_code"], "policy");
    assert_eq!(rejected["rejection"]["reason"], "Bank policy");
    assert_eq!(open_liens(&app).await, 0);
    let in_chinese = app
        .get(&format!("/api/v1/applications/{from_submitted}"))
        .bearer(operator)
        .header("accept-language", "zh-CN")
        .send()
        .await;
    assert_eq!(in_chinese.body["rejection"]["reason"], "银行政策原因");

    let under_review = submitted(&app, &desk, "50000.00").await;
    act(&app, &desk.officer, &under_review, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.officer,
        &under_review,
        "reject",
        json!({"reason_code": "repayment_capacity", "text": "收入不足"}),
    )
    .await
    .assert_status(200);

    let recommended = submitted(&app, &desk, "50000.00").await;
    act(&app, &desk.officer, &recommended, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.officer,
        &recommended,
        "recommend",
        recommendation("50000.00"),
    )
    .await
    .assert_status(200);
    act(
        &app,
        &desk.approver,
        &recommended,
        "reject",
        json!({"reason_code": "insufficient_collateral", "text": "抵押不足"}),
    )
    .await
    .assert_status(200);

    let asked = submitted(&app, &desk, "50000.00").await;
    act(&app, &desk.officer, &asked, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.officer,
        &asked,
        "request-info",
        json!({"message": "补充材料"}),
    )
    .await
    .assert_status(200);
    let withdrawn = app
        .post(&format!("/api/v1/applications/{asked}/withdraw"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(withdrawn.assert_status(200)["status"], "withdrawn");
    assert_eq!(open_liens(&app).await, 0);
}

#[tokio::test]
async fn every_refusal_is_a_clear_problem_and_changes_nothing() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let id = submitted(&app, &desk, "100000.00").await;

    // Roles that never may: 403; the wrong state: 409 with the state.
    act(&app, &desk.loan.operator, &id, "claim", json!({}))
        .await
        .assert_problem(403, "forbidden");
    act(&app, &desk.approver, &id, "claim", json!({}))
        .await
        .assert_problem(403, "forbidden");
    let early = act(
        &app,
        &desk.approver,
        &id,
        "approve",
        json!({"opinion": "同意"}),
    )
    .await;
    assert_eq!(
        early.assert_problem(409, "invalid_state")["current_state"],
        "submitted"
    );
    for (action, body) in [
        ("recommend", recommendation("100000.00")),
        ("request-info", json!({"message": "?"})),
        ("release", json!({})),
        ("resubmit", json!({"message": "?"})),
        ("disburse", disbursement("100000.00", "R-1")),
    ] {
        let token = if action == "resubmit" {
            &desk.loan.operator
        } else if action == "disburse" {
            &desk.approver
        } else {
            &desk.officer
        };
        let reply = act(&app, token, &id, action, body).await;
        assert_eq!(
            reply.assert_problem(409, "invalid_state")["current_state"],
            "submitted",
            "{action}"
        );
    }
    let repay = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.officer)
        .json(&json!({"date": today().to_string(), "amount": "1.00"}))
        .send()
        .await;
    repay.assert_problem(409, "invalid_state");

    // Only the assigned officer works on a claimed application.
    act(&app, &desk.officer, &id, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.other_officer,
        &id,
        "recommend",
        recommendation("100000.00"),
    )
    .await
    .assert_problem(403, "not_assigned");
    act(
        &app,
        &desk.other_officer,
        &id,
        "reject",
        json!({"reason_code": "other", "text": "x"}),
    )
    .await
    .assert_problem(403, "not_assigned");

    // Recommendation rules.
    act(
        &app,
        &desk.officer,
        &id,
        "recommend",
        recommendation("100000.01"),
    )
    .await
    .assert_fields(&[("amount", "above_requested")]);
    let mut greedy = recommendation("100000.00");
    greedy["rate"] = json!("9.99");
    greedy["term_months"] = json!(120);
    greedy["repayment_method"] = json!("interest_only");
    act(&app, &desk.officer, &id, "recommend", greedy)
        .await
        .assert_fields(&[
            ("rate", "out_of_product_range"),
            ("term_months", "out_of_product_range"),
            ("repayment_method", "method_not_offered"),
        ]);
    // A stale If-Match is 412.
    app.post(&format!("/api/v1/applications/{id}/recommend"))
        .bearer(&desk.officer)
        .header("if-match", "\"1\"")
        .json(&recommendation("100000.00"))
        .send()
        .await
        .assert_problem(412, "precondition_failed");
    act(
        &app,
        &desk.officer,
        &id,
        "recommend",
        recommendation("100000.00"),
    )
    .await
    .assert_status(200);

    // Approval: above recommended, over the limit, four eyes.
    act(
        &app,
        &desk.approver,
        &id,
        "approve",
        json!({"amount": "100000.01", "opinion": "同意"}),
    )
    .await
    .assert_fields(&[("amount", "above_recommended")]);
    let mut small = app.user_body(&unique_mobile(), "bank_approver");
    small["approval_limit"] = json!("50000.00");
    let small = app.create_user_with(&small).await;
    let small = token_of(
        &app.sign_in(small["mobile"].as_str().unwrap(), USER_PASSWORD)
            .await,
    );
    let over = act(&app, &small, &id, "approve", json!({"opinion": "同意"})).await;
    assert_eq!(
        over.assert_problem(403, "over_approval_limit")["approval_limit"],
        "50000.00"
    );
    // The officer who recommended is made an approver: still not the one to approve.
    let me = app.get("/api/v1/me").bearer(&desk.officer).send().await;
    let officer_id = me.body["id"].as_str().unwrap().to_owned();
    let mobile = me.body["mobile"].as_str().unwrap().to_owned();
    let admin = app.admin_token().await;
    app.patch(&format!("/api/v1/users/{officer_id}"))
        .bearer(&admin)
        .json(&json!({"role": "bank_approver", "bank_id": app.fixture.bank, "approval_limit": "9000000.00"}))
        .send()
        .await
        .assert_status(200);
    let promoted = token_of(&app.sign_in(&mobile, USER_PASSWORD).await);
    act(&app, &promoted, &id, "approve", json!({"opinion": "同意"}))
        .await
        .assert_problem(403, "four_eyes");
    let state = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&desk.approver)
        .send()
        .await;
    assert_eq!(state.body["status"], "recommended");
    act(
        &app,
        &desk.approver,
        &id,
        "approve",
        json!({"opinion": "同意"}),
    )
    .await
    .assert_status(200);

    // Disbursement above the approved amount, and a registration number used twice.
    act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("100000.01", "R-1"),
    )
    .await
    .assert_fields(&[("amount", "above_approved")]);
    let tomorrow = json!({
        "contract_no": "HT-1", "lien_registration_no": "R-1", "amount": "100000.00",
        "date": (today() + Duration::days(1)).to_string(),
    });
    act(&app, &desk.approver, &id, "disburse", tomorrow)
        .await
        .assert_fields(&[("date", "in_future")]);
    act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("100000.00", "R-1"),
    )
    .await
    .assert_status(200);
    let before_disbursement = app
        .post(&format!("/api/v1/applications/{id}/repayments"))
        .bearer(&desk.approver)
        .json(&json!({"date": (today() - Duration::days(1)).to_string(), "amount": "1.00"}))
        .send()
        .await;
    before_disbursement.assert_fields(&[("date", "before_disbursement")]);
    let count = repayment::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(count, 0, "refusals write nothing");

    // Another bank's staff: 404 on every {id} route, reads and actions alike.
    let other_bank = app
        .token_bound("bank_officer", None, Some(app.fixture.other_bank))
        .await;
    let other_approver = app
        .token_bound("bank_approver", None, Some(app.fixture.other_bank))
        .await;
    for path in ["", "/schedule", "/repayments", "/matches"] {
        app.get(&format!("/api/v1/applications/{id}{path}"))
            .bearer(&other_bank)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    for (token, action, body) in [
        (&other_bank, "claim", json!({})),
        (&other_bank, "release", json!({})),
        (&other_bank, "request-info", json!({"message": "x"})),
        (&other_bank, "recommend", recommendation("1.00")),
        (&other_approver, "approve", json!({"opinion": "x"})),
        (
            &other_approver,
            "reject",
            json!({"reason_code": "other", "text": "x"}),
        ),
        (&other_approver, "disburse", disbursement("1.00", "R-2")),
        (
            &other_approver,
            "repayments",
            json!({"date": today().to_string(), "amount": "1.00"}),
        ),
    ] {
        act(&app, token, &id, action, body)
            .await
            .assert_problem(404, "not_found");
    }
    // The same registration number at the same bank is refused.
    let land = valued_land(&app, &desk.loan.admin, "100000.00").await;
    let second = submitted_on(&app, &desk, "20000.00", &land).await;
    act(&app, &desk.other_officer, &second, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.other_officer,
        &second,
        "recommend",
        recommendation("20000.00"),
    )
    .await
    .assert_status(200);
    act(
        &app,
        &desk.approver,
        &second,
        "approve",
        json!({"opinion": "同意"}),
    )
    .await
    .assert_status(200);
    act(
        &app,
        &desk.approver,
        &second,
        "disburse",
        disbursement("20000.00", "R-1"),
    )
    .await
    .assert_problem(409, "lien_registration_taken");
    let state = app
        .get(&format!("/api/v1/applications/{second}"))
        .bearer(&desk.approver)
        .send()
        .await;
    assert_eq!(state.body["status"], "approved");
}

#[tokio::test]
async fn racing_officers_claims_resubmissions_and_last_repayments_each_let_one_through() {
    let app = spawn_app().await;
    let desk = desk(&app).await;

    // Two officers claim at once: one wins, the other gets 409.
    let id = submitted(&app, &desk, "100000.00").await;
    let (a, b) = tokio::join!(
        act(&app, &desk.officer, &id, "claim", json!({})),
        act(&app, &desk.other_officer, &id, "claim", json!({})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);

    // A resubmission adding an asset races another application's submit of that asset.
    let winner = if a.status.as_u16() == 200 {
        &desk.officer
    } else {
        &desk.other_officer
    };
    act(
        &app,
        winner,
        &id,
        "request-info",
        json!({"message": "加一块地"}),
    )
    .await
    .assert_status(200);
    let contested = valued_land(&app, &desk.loan.admin, "200000.00").await;
    let mut rival = draft(&desk.loan, "50000.00");
    rival["asset_ids"] = json!([contested]);
    let rival = app
        .post("/api/v1/applications")
        .bearer(&desk.loan.operator)
        .json(&rival)
        .send()
        .await;
    let rival = rival.created_id();
    let (resubmitted, rival_submitted) = tokio::join!(
        act(
            &app,
            &desk.loan.operator,
            &id,
            "resubmit",
            json!({"asset_ids": [desk.loan.asset, contested], "message": "已加"}),
        ),
        app.post(&format!("/api/v1/applications/{rival}/submit"))
            .bearer(&desk.loan.operator)
            .send(),
    );
    let wins = [resubmitted.status.as_u16(), rival_submitted.status.as_u16()];
    assert_eq!(wins.iter().filter(|s| **s == 200).count(), 1, "{wins:?}");
    let loser = if wins[0] == 200 {
        &rival_submitted
    } else {
        &resubmitted
    };
    assert_eq!(
        loser.assert_problem(409, "asset_encumbered")["asset_id"],
        contested.as_str()
    );
    let holders = lien::Entity::find()
        .filter(lien::Column::AssetId.eq(contested.parse::<Uuid>().unwrap()))
        .filter(lien::Column::Status.eq(LienStatus::Reserved))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(holders, 1);

    // Two repayments of everything owed race: one settles, the other is refused.
    app.post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer(&desk.loan.operator)
        .send()
        .await
        .assert_status(200);
    let loan = approved(&app, &desk, "30000.00").await;
    act(
        &app,
        &desk.approver,
        &loan,
        "disburse",
        disbursement("30000.00", "RACE-1"),
    )
    .await
    .assert_status(200);
    let pay = || {
        app.post(&format!("/api/v1/applications/{loan}/repayments"))
            .bearer(&desk.approver)
            .json(&json!({"date": today().to_string(), "amount": "30000.00"}))
            .send()
    };
    let (first, second) = tokio::join!(pay(), pay());
    let mut outcomes = [first.status.as_u16(), second.status.as_u16()];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [201, 409], "{} / {}", first.text, second.text);
    let state = app
        .get(&format!("/api/v1/applications/{loan}"))
        .bearer(&desk.approver)
        .send()
        .await;
    assert_eq!(state.body["status"], "settled");
    assert_eq!(state.body["disbursement"]["outstanding_principal"], "0.00");
    let paid = repayment::Entity::find()
        .filter(repayment::Column::ApplicationId.eq(loan.parse::<Uuid>().unwrap()))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(paid, 1);
}

#[tokio::test]
async fn a_shortfall_is_flagged_by_a_lower_valuation_and_by_expiry_and_cleared_by_cover() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // 400,000.00 of land at 70 %: 280,000.00 of cover for a 250,000.00 loan.
    let id = approved(&app, &desk, "250000.00").await;
    act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("250000.00", "SF-1"),
    )
    .await
    .assert_status(200);
    let loan = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert!(loan.body["shortfall"].is_null());
    assert_eq!(loan.body["collateral"]["max_loanable"], "280000.00");

    // A new, lower appraisal by the bank's officer: 300,000.00 × 0.7 < 250,000.00 owed? No:
    // 210,000.00 < 250,000.00, so the loan is short.
    let valuation = |value: &str| {
        json!({
            "value": value, "method": "market", "appraiser": "银行评估",
            "appraisal_date": today().to_string(),
            "valid_until": (today() + Duration::days(365)).to_string(),
        })
    };
    app.post(&format!("/api/v1/assets/{}/valuations", desk.loan.asset))
        .bearer(&desk.officer)
        .json(&valuation("300000.00"))
        .send()
        .await
        .assert_status(201);
    let short = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(short.body["shortfall"]["coverage"], "210000.00");
    assert_eq!(
        short.body["shortfall"]["outstanding_principal"],
        "250000.00"
    );
    let queue = app
        .get("/api/v1/applications?shortfall=true")
        .bearer(&desk.officer)
        .send()
        .await;
    let items = queue.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());

    // A valid valuation that restores the cover clears it.
    app.post(&format!("/api/v1/assets/{}/valuations", desk.loan.asset))
        .bearer(&desk.officer)
        .json(&valuation("380000.00"))
        .send()
        .await
        .assert_status(201);
    let covered = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert!(covered.body["shortfall"].is_null());

    // Every valuation expires: the sweep flags the loan, once however often it runs.
    use sea_orm::sea_query::Expr;
    entity::asset_valuation::Entity::update_many()
        .col_expr(
            entity::asset_valuation::Column::AppraisalDate,
            Expr::value(today() - Duration::days(400)),
        )
        .col_expr(
            entity::asset_valuation::Column::ValidUntil,
            Expr::value(today() - Duration::days(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        api::applications::ops::sweep_shortfalls(&app.db),
        api::applications::ops::sweep_shortfalls(&app.db),
    );
    a.unwrap();
    b.unwrap();
    let flagged = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("application.shortfall_set"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(flagged, 2, "set by the low valuation, then by expiry, once");
    let expired = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(expired.body["shortfall"]["coverage"], "0.00");
}

#[tokio::test]
async fn the_officer_queue_filters_sorts_by_submission_and_pages_on_a_compound_key() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let mut ids = Vec::new();
    for amount in ["10000.00", "20000.00", "30000.00", "40000.00", "50000.00"] {
        let id = submitted(&app, &desk, amount).await;
        // One asset, one open application at a time: withdraw all but the last.
        ids.push(id);
        if ids.len() < 5 {
            app.post(&format!(
                "/api/v1/applications/{}/withdraw",
                ids.last().unwrap()
            ))
            .bearer(&desk.loan.operator)
            .send()
            .await
            .assert_status(200);
        }
    }
    // All five share a submission second on a fast machine: the (submitted_at, id) keyset
    // still pages through them exactly once each.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/applications?sort=submitted_at&limit=2&cursor={c}"),
            None => "/api/v1/applications?sort=submitted_at&limit=2".to_owned(),
        };
        let page = app.get(&path).bearer(&desk.officer).send().await;
        let page = page.assert_status(200).clone();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "oldest submission first, each once");

    let last = ids.last().unwrap();
    act(&app, &desk.officer, last, "claim", json!({}))
        .await
        .assert_status(200);
    let mine = app
        .get("/api/v1/applications?assigned_to=me")
        .bearer(&desk.officer)
        .send()
        .await;
    let mine = mine.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    let row = &mine[0];
    assert_eq!(row["organization_name"], "北庄村股份经济合作社");
    assert_eq!(row["region_name"], "北庄村");
    assert_eq!(row["product_name"], "土地经营权抵押贷款");
    assert_eq!(row["collateral"]["kinds"], json!(["land_management_right"]));
    assert_eq!(row["collateral"]["current_value"], "400000.00");
    assert_eq!(row["collateral"]["max_loanable"], "280000.00");
    assert_eq!(row["assigned_officer"]["role"], "bank_officer");
    assert_eq!(row["days_waiting"], 0);
    let nobody = app
        .get("/api/v1/applications?assigned_to=none&status=submitted")
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(nobody.body["items"].as_array().unwrap().len(), 0);
    let today = today().to_string();
    let dated = app
        .get(&format!(
            "/api/v1/applications?submitted_from={today}&submitted_to={today}"
        ))
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(dated.body["items"].as_array().unwrap().len(), 5);
    let tomorrow = (crate::loans::today() + Duration::days(1)).to_string();
    let later = app
        .get(&format!("/api/v1/applications?submitted_from={tomorrow}"))
        .bearer(&desk.officer)
        .send()
        .await;
    assert_eq!(later.body["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/applications?assigned_to=someone")
        .bearer(&desk.officer)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    // Another bank's staff see none of them.
    let other_bank = app
        .token_bound("bank_officer", None, Some(app.fixture.other_bank))
        .await;
    let theirs = app
        .get("/api/v1/applications?sort=submitted_at")
        .bearer(&other_bank)
        .send()
        .await;
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 0);
}

async fn feed(app: &TestApp, token: &str) -> Vec<String> {
    let page = app
        .get("/api/v1/notifications?limit=100")
        .bearer(token)
        .send()
        .await;
    let mut codes: Vec<String> = page.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_owned())
        .collect();
    codes.reverse();
    codes
}

#[tokio::test]
async fn each_role_sees_its_timeline_and_whoever_must_act_is_told() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    let operator = &desk.loan.operator;
    let other_bank = app
        .token_bound("bank_officer", None, Some(app.fixture.other_bank))
        .await;
    let id = submitted(&app, &desk, "100000.00").await;
    act(&app, &desk.officer, &id, "claim", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &desk.officer,
        &id,
        "request-info",
        json!({"message": "请补充流转合同"}),
    )
    .await
    .assert_status(200);
    act(
        &app,
        operator,
        &id,
        "resubmit",
        json!({"message": "已补充"}),
    )
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
    act(
        &app,
        &desk.approver,
        &id,
        "approve",
        json!({"opinion": "同意放款"}),
    )
    .await
    .assert_status(200);
    act(
        &app,
        &desk.approver,
        &id,
        "disburse",
        disbursement("100000.00", "TL-1"),
    )
    .await
    .assert_status(200);

    // The village's timeline: every step, by role and name, in Chinese; no internal opinion.
    let village = app
        .get(&format!("/api/v1/applications/{id}/timeline"))
        .bearer(operator)
        .header("accept-language", "zh-CN")
        .send()
        .await;
    let steps = village.assert_status(200)["steps"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = steps
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "application.create",
            "application.submit",
            "application.claim",
            "application.request_info",
            "application.resubmit",
            "application.recommend",
            "application.approve",
            "application.disburse",
        ]
    );
    assert_eq!(steps[1]["title"], "提交银行");
    assert_eq!(steps[3]["message"], "请补充流转合同");
    assert_eq!(steps[4]["message"], "已补充");
    assert_eq!(steps[2]["actor"]["role"], "bank_officer");
    assert!(steps[2]["actor"]["display_name"].is_string());
    assert!(steps[2]["actor"].get("id").is_none(), "no staff ids");
    assert!(
        steps[5]["message"].is_null(),
        "opinions stay inside the bank"
    );
    assert!(steps[6]["message"].is_null());
    // The bank's timeline, in English, with the opinions.
    let bank = app
        .get(&format!("/api/v1/applications/{id}/timeline"))
        .bearer(&desk.approver)
        .send()
        .await;
    let steps = bank.assert_status(200)["steps"].as_array().unwrap().clone();
    assert_eq!(steps[1]["title"], "Submitted to the bank");
    assert_eq!(steps[5]["message"], "经营稳定，抵押充足");
    assert_eq!(steps[6]["message"], "同意放款");
    app.get(&format!("/api/v1/applications/{id}/timeline"))
        .bearer(&other_bank)
        .send()
        .await
        .assert_problem(404, "not_found");

    // Whoever must act next was told, and nobody else.
    assert_eq!(
        feed(&app, operator).await,
        [
            "application.info_requested",
            "application.approved",
            "application.disbursed"
        ]
    );
    assert_eq!(
        feed(&app, &desk.officer).await,
        ["application.submitted", "application.resubmitted"]
    );
    assert_eq!(
        feed(&app, &desk.other_officer).await,
        ["application.submitted"]
    );
    assert_eq!(
        feed(&app, &desk.approver).await,
        ["application.recommended"]
    );
    assert!(feed(&app, &other_bank).await.is_empty());
    let zh = app
        .get("/api/v1/notifications")
        .bearer(operator)
        .header("accept-language", "zh-CN")
        .send()
        .await;
    assert_eq!(zh.body["items"][0]["title"], "贷款已发放");
    let en = app
        .get("/api/v1/notifications")
        .bearer(operator)
        .send()
        .await;
    assert_eq!(en.body["items"][0]["title"], "Loan disbursed");
    assert!(
        en.body["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("JX-")
    );

    // Polling: nothing new answers 304; reading changes the feed.
    let etag = en.header("etag").unwrap().to_owned();
    let poll = app
        .get("/api/v1/notifications")
        .bearer(operator)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(poll.status, 304);
    let count = app
        .get("/api/v1/notifications/unread-count")
        .bearer(operator)
        .send()
        .await;
    assert_eq!(count.body["unread"], 3);
    let first = en.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/notifications/{first}/read"))
        .bearer(&desk.approver)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("/api/v1/notifications/{first}/read"))
        .bearer(operator)
        .send()
        .await
        .assert_status(204);
    let unread = app
        .get("/api/v1/notifications?unread=true")
        .bearer(operator)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(unread.status, 200);
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 2);
    let newer = app
        .get(&format!("/api/v1/notifications?after={first}"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(newer.body["items"].as_array().unwrap().len(), 0);
    app.post("/api/v1/notifications/read-all")
        .bearer(operator)
        .send()
        .await
        .assert_status(204);
    let count = app
        .get("/api/v1/notifications/unread-count")
        .bearer(operator)
        .send()
        .await;
    assert_eq!(count.body["unread"], 0);
}
