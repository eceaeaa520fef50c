//! Money is exact on every backend: stored as integer fen, summed in SQL without a float.

use entity::{Money, user};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::helpers::*;

async fn approver_with_limit(app: &TestApp, admin: &str, limit: &str) -> serde_json::Value {
    let mut body = app.user_body(&unique_mobile(), "bank_approver");
    body["approval_limit"] = json!(limit);
    let reply = app
        .post("/api/v1/users")
        .bearer(admin)
        .json(&body)
        .send()
        .await;
    reply.assert_status(201).clone()
}

#[tokio::test]
async fn amounts_round_trip_exactly_and_sum_exactly_in_sql() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let big = approver_with_limit(&app, &admin, "9999999999999999.99").await;
    let dime = approver_with_limit(&app, &admin, "0.10").await;
    let twenty = approver_with_limit(&app, &admin, "0.2").await;

    for (user, expected) in [
        (&big, "9999999999999999.99"),
        (&dime, "0.10"),
        (&twenty, "0.20"),
    ] {
        assert_eq!(user["approval_limit"], expected);
        let read = app
            .get(&format!("/api/v1/users/{}", user["id"].as_str().unwrap()))
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(read.assert_status(200)["approval_limit"], expected);
    }

    let stored =
        user::Entity::find_by_id(big["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        stored.approval_limit,
        Some(Money::from_fen(999_999_999_999_999_999))
    );

    let ids: Vec<uuid::Uuid> = [&dime, &twenty]
        .iter()
        .map(|u| u["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let sum: Option<i64> = user::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(user::Column::ApprovalLimit)),
                "BIGINT",
            )),
            "total",
        )
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .one(&app.db)
        .await
        .unwrap();
    let total = Money::from_fen(sum.unwrap());
    assert_eq!(total.to_string(), "0.30");
    assert_eq!(total.to_decimal(), rust_decimal::Decimal::new(30, 2));
}

#[tokio::test]
async fn amounts_beyond_the_range_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut body = app.user_body(&unique_mobile(), "bank_approver");
    body["approval_limit"] = json!("99999999999999999999.00");
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&body)
        .send()
        .await
        .assert_fields(&[("approval_limit", "invalid_amount")]);
    body["approval_limit"] = json!(100.5);
    app.post("/api/v1/users")
        .bearer(&admin)
        .json(&body)
        .send()
        .await
        .assert_fields(&[("approval_limit", "invalid_type")]);
}
