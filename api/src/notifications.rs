//! Notifications: each application status change tells whoever must act next, in the
//! transaction of the change (`notify_move`, called by `transition::move_application`, and the
//! shortfall evaluation). Stored as a code with parameters; rendered in the reader's language.
//! A user reads only their own feed.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entity::{ApplicationStatus, Role, UserStatus, loan_application, notification, user};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query as Select};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Authorized;
use crate::auth::permissions::UseOwnAccount;
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Query;
use crate::i18n::Lang;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(unread_count)
        .service(list)
        .service(read_all)
        .service(read_one);
}

/// Who hears of an application's move to `to`.
enum Audience {
    /// The organization's operators.
    Village,
    /// The bank's loan officers.
    Officers,
    /// The officer the application is assigned to.
    Assignee,
    /// The bank's approvers.
    Approvers,
}

fn audience(to: ApplicationStatus, resubmitted: bool) -> Option<Audience> {
    match to {
        ApplicationStatus::Submitted if !resubmitted => Some(Audience::Officers),
        ApplicationStatus::UnderReview if resubmitted => Some(Audience::Assignee),
        ApplicationStatus::InfoRequested
        | ApplicationStatus::Approved
        | ApplicationStatus::Rejected
        | ApplicationStatus::Disbursed => Some(Audience::Village),
        ApplicationStatus::Recommended => Some(Audience::Approvers),
        _ => None,
    }
}

/// Tells whoever must act next that `application` moved to `to` (`resubmitted` when the
/// village answered a request for information). In the caller's transaction.
pub async fn notify_move(
    txn: &impl ConnectionTrait,
    application: &loan_application::Model,
    to: ApplicationStatus,
    resubmitted: bool,
) -> Result<(), ApiError> {
    let Some(audience) = audience(to, resubmitted) else {
        return Ok(());
    };
    let code = if resubmitted {
        "application.resubmitted".to_owned()
    } else {
        format!("application.{}", to.as_str())
    };
    notify(txn, application, audience, &code, None).await
}

/// Tells the village its loan is short of cover.
pub async fn notify_shortfall(
    txn: &impl ConnectionTrait,
    application: &loan_application::Model,
) -> Result<(), ApiError> {
    notify(
        txn,
        application,
        Audience::Village,
        "application.shortfall",
        None,
    )
    .await
}

/// Tells the village a period of its loan is overdue: once per period, however often the sweep
/// runs and on however many instances.
pub async fn notify_overdue(
    txn: &impl ConnectionTrait,
    application: &loan_application::Model,
    period: i32,
) -> Result<(), ApiError> {
    let key = format!("overdue:{}:{period}", application.id);
    notify(
        txn,
        application,
        Audience::Village,
        "application.repayment_overdue",
        Some(key),
    )
    .await
}

async fn notify(
    txn: &impl ConnectionTrait,
    application: &loan_application::Model,
    audience: Audience,
    code: &str,
    dedup_key: Option<String>,
) -> Result<(), ApiError> {
    let active = user::Column::Status.eq(UserStatus::Active);
    let recipients = match audience {
        Audience::Village => Condition::all()
            .add(user::Column::Role.eq(Role::OrgOperator))
            .add(user::Column::OrganizationId.eq(application.organization_id)),
        Audience::Officers => Condition::all()
            .add(user::Column::Role.eq(Role::BankOfficer))
            .add(user::Column::BankId.eq(application.bank_id)),
        Audience::Approvers => Condition::all()
            .add(user::Column::Role.eq(Role::BankApprover))
            .add(user::Column::BankId.eq(application.bank_id)),
        Audience::Assignee => Condition::all().add(user::Column::Id.eq(application.assigned_to)),
    };
    let users: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(recipients.add(active))
        .into_tuple()
        .all(txn)
        .await?;
    if users.is_empty() {
        return Ok(());
    }
    let params = serde_json::json!({"reference": application.reference}).to_string();
    let now = db::now();
    notification::Entity::insert_many(users.into_iter().map(|user_id| {
        notification::ActiveModel::from(notification::Model {
            id: Uuid::now_v7(),
            user_id,
            code: code.to_owned(),
            params: params.clone(),
            application_id: Some(application.id),
            created_at: now,
            read_at: None,
            dedup_key: dedup_key.clone(),
        })
    }))
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// Stable code, e.g. `application.info_requested`.
    pub code: String,
    /// In the request's language.
    pub title: String,
    pub body: String,
    pub application_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn render(n: notification::Model, lang: Lang) -> NotificationView {
    let params: serde_json::Value = serde_json::from_str(&n.params).unwrap_or_default();
    let reference = params["reference"].as_str().unwrap_or_default();
    let (title, body) = texts(&n.code, reference, lang);
    NotificationView {
        id: n.id,
        code: n.code,
        title,
        body,
        application_id: n.application_id,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

fn texts(code: &str, reference: &str, lang: Lang) -> (String, String) {
    let (en, zh) = match code {
        "application.submitted" => (
            (
                "New application",
                "A village submitted application {r} to your bank.",
            ),
            ("新的贷款申请", "村集体向贵行提交了贷款申请 {r}。"),
        ),
        "application.resubmitted" => (
            (
                "Information supplied",
                "The village answered your request on application {r}.",
            ),
            ("村集体已补充材料", "贷款申请 {r} 已按您的要求补充材料。"),
        ),
        "application.info_requested" => (
            (
                "The bank needs more information",
                "Please answer the bank's request on application {r}.",
            ),
            (
                "银行要求补充材料",
                "请根据银行要求为贷款申请 {r} 补充材料。",
            ),
        ),
        "application.recommended" => (
            (
                "Awaiting your approval",
                "Application {r} was recommended for approval.",
            ),
            ("待您审批", "贷款申请 {r} 已由客户经理推荐，等待审批。"),
        ),
        "application.approved" => (
            ("Loan approved", "Application {r} was approved."),
            ("贷款已获批准", "贷款申请 {r} 已审批通过。"),
        ),
        "application.rejected" => (
            (
                "Application rejected",
                "Application {r} was rejected; see the reason in the application.",
            ),
            (
                "贷款申请未获批准",
                "贷款申请 {r} 未获批准，原因请查看申请详情。",
            ),
        ),
        "application.disbursed" => (
            (
                "Loan disbursed",
                "The loan of application {r} was paid out; see the repayment schedule.",
            ),
            ("贷款已发放", "贷款申请 {r} 已放款，请查看还款计划。"),
        ),
        "application.repayment_overdue" => (
            (
                "Repayment overdue",
                "A repayment of loan {r} is past its due date; see the schedule.",
            ),
            ("还款已逾期", "贷款 {r} 有一期还款已逾期，请查看还款计划。"),
        ),
        "application.shortfall" => (
            (
                "Collateral below the loan",
                "The collateral of loan {r} no longer covers it; contact your bank.",
            ),
            (
                "抵押物价值不足",
                "贷款 {r} 的抵押物价值已不足以覆盖贷款余额，请联系银行。",
            ),
        ),
        _ => (("Notice", "{r}"), ("通知", "{r}")),
    };
    let (title, body) = match lang {
        Lang::Zh => zh,
        Lang::En => en,
    };
    (title.to_owned(), body.replace("{r}", reference))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilter {
    /// Only the unread ones.
    pub unread: Option<bool>,
    /// For polling: only notifications newer than this one (a notification id).
    pub after: Option<Uuid>,
}

/// Your notifications, newest first; with `after`, only those newer than that one. The answer
/// carries an `ETag`: a poll sending it as `If-None-Match` answers 304 while nothing changed.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationFilter, PageParams, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Page<NotificationView>, headers(("ETag" = String))),
        (status = 304, description = "Nothing new since the `ETag` sent"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notifications")]
async fn list(
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
    filter: Query<NotificationFilter>,
    page: Query<PageParams>,
    request: HttpRequest,
    lang: Lang,
) -> ApiResult<HttpResponse> {
    use notification::Column as C;
    let limit = page.limit()?;
    let before = page.after::<Uuid>()?;
    // The cheap check first: an unchanged feed answers 304 without reading the page.
    let etag = format!(
        "\"{}-{}\"",
        state_of_feed(&state, caller.id()).await?,
        filter.after.map(|a| a.to_string()).unwrap_or_default()
    );
    let unchanged = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent == etag);
    if unchanged {
        return Ok(HttpResponse::build(StatusCode::NOT_MODIFIED)
            .insert_header((ETAG, etag))
            .finish());
    }
    let mut query = notification::Entity::find()
        .filter(C::UserId.eq(caller.id()))
        .order_by_desc(C::Id);
    if filter.unread == Some(true) {
        query = query.filter(C::ReadAt.is_null());
    }
    if let Some(after) = filter.after {
        query = query.filter(C::Id.gt(after));
    }
    if let Some(before) = before {
        query = query.filter(C::Id.lt(before));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |n| n.id, |n| render(n, lang));
    Ok(HttpResponse::Ok().insert_header((ETAG, etag)).json(page))
}

/// What changes whenever the feed does: the newest notification and how many are unread, in one
/// statement (a poll is then the session check, this, and the page when it changed).
async fn state_of_feed(state: &AppState, user_id: Uuid) -> Result<String, ApiError> {
    use notification::Column as C;
    let newest = Select::select()
        .column(C::Id)
        .from(notification::Entity)
        .and_where(Expr::col(C::UserId).eq(user_id))
        .order_by(C::Id, Order::Desc)
        .limit(1)
        .to_owned();
    let unread = Select::select()
        .expr(Expr::col(C::Id).count())
        .from(notification::Entity)
        .and_where(Expr::col(C::UserId).eq(user_id))
        .and_where(Expr::col(C::ReadAt).is_null())
        .to_owned();
    let feed = Select::select()
        .expr_as(Expr::SubQuery(None, Box::new(newest.into())), "newest")
        .expr_as(Expr::SubQuery(None, Box::new(unread.into())), "unread")
        .to_owned();
    let row =
        state.db.query_one(&feed).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the feed's state returned no row"))
        })?;
    let newest: Option<Uuid> = row.try_get("", "newest")?;
    let unread: i64 = row.try_get("", "unread")?;
    Ok(format!(
        "{}-{unread}",
        newest.map(|n| n.simple().to_string()).unwrap_or_default()
    ))
}

async fn unread(state: &AppState, user_id: Uuid) -> Result<u64, ApiError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(&state.db)
        .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

/// How many of your notifications are unread.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount))
)]
#[get("/notifications/unread-count")]
async fn unread_count(
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
) -> ApiResult<web::Json<UnreadCount>> {
    Ok(web::Json(UnreadCount {
        unread: unread(&state, caller.id()).await?,
    }))
}

/// Mark one of your notifications read (another user's is 404).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Read"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/{id}/read")]
async fn read_one(
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = notification::Entity::find_by_id(*id)
        .filter(notification::Column::UserId.eq(caller.id()))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(db::now()))
        .filter(notification::Column::Id.eq(found.id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark all your notifications read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 204, description = "All read"))
)]
#[post("/notifications/read-all")]
async fn read_all(
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
) -> ApiResult<HttpResponse> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(db::now()))
        .filter(notification::Column::UserId.eq(caller.id()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
