//! The audit record over HTTP, for the county and supervisors: the events, filtered and paged
//! (or as CSV), and verification of the chains and seals.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::chain::{self, Report};
use crate::auth::Authorized;
use crate::auth::permissions::ReadAudit;
use crate::csv_out::text_cell;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Query;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(verify).service(list_events);
}

/// One event of the audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    #[schema(example = "application.submit")]
    pub action: String,
    #[schema(example = "application")]
    pub object_type: String,
    pub object_id: Uuid,
    /// What changed, as recorded (before and after of the changed fields, or a snapshot).
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    pub at: DateTime<Utc>,
    /// Position in the object's chain, from 1.
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl From<audit_event::Model> for AuditEventView {
    fn from(e: audit_event::Model) -> Self {
        AuditEventView {
            summary: serde_json::from_str(&e.summary)
                .unwrap_or(serde_json::Value::String(e.summary.clone())),
            id: e.id,
            actor_id: e.actor_id,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            at: e.at,
            seq: e.seq,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `application`, `asset`, `user`, `organization`, …
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// e.g. `application.approve`
    pub action: Option<String>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// The audit record, oldest first, filtered; `Accept: text/csv` for a spreadsheet of the page.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditFilter, PageParams),
    responses(
        (status = 200, description = "A page of events: JSON by default, CSV with `Accept: text/csv`", content(
            (Page<AuditEventView> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
async fn list_events(
    state: web::Data<AppState>,
    _caller: Authorized<ReadAudit>,
    filter: Query<AuditFilter>,
    page: Query<PageParams>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    use audit_event::Column as C;
    let limit = page.limit()?;
    let mut query = audit_event::Entity::find().order_by_asc(C::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(C::Id.gt(after));
    }
    if let Some(object_type) = &filter.object_type {
        query = query.filter(C::ObjectType.eq(object_type.trim()));
    }
    if let Some(object_id) = filter.object_id {
        query = query.filter(C::ObjectId.eq(object_id));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(C::ActorId.eq(actor));
    }
    if let Some(action) = &filter.action {
        query = query.filter(C::Action.eq(action.trim()));
    }
    if let Some(from) = filter.from {
        query = query.filter(C::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(C::At.lt(to));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |e| e.id, AuditEventView::from);
    if !crate::csv_out::wanted(&request) {
        return Ok(HttpResponse::Ok().json(page));
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, row: &[&str]| {
        out.write_record(row.iter().map(|cell| text_cell(cell).into_owned()))
            .map_err(|e| ApiError::Internal(e.into()))
    };
    write(
        &mut out,
        &[
            "id",
            "at",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "seq",
            "summary",
            "hash",
        ],
    )?;
    for e in &page.items {
        let actor = e.actor_id.map(|a| a.to_string()).unwrap_or_default();
        write(
            &mut out,
            &[
                &e.id.to_string(),
                &e.at.to_rfc3339(),
                &actor,
                &e.action,
                &e.object_type,
                &e.object_id.to_string(),
                &e.seq.to_string(),
                &e.summary.to_string(),
                &e.hash,
            ],
        )?;
    }
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"));
    if let Some(next) = &page.next_cursor {
        response.insert_header(("x-next-cursor", next.clone()));
    }
    Ok(response.body(
        out.into_inner()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?,
    ))
}

/// Walks every audit chain and the seals: each event's position, predecessor and own hash, each
/// chain's head, the seals' own chain, and the newest seal's root. Answers the first break.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    responses((status = 200, body = Report))
)]
#[get("/audit-events/verify")]
async fn verify(
    state: web::Data<AppState>,
    _caller: Authorized<ReadAudit>,
) -> ApiResult<web::Json<Report>> {
    Ok(web::Json(chain::verify(&state.db).await?))
}
