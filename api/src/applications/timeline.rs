//! An application's timeline, as the village's phone and the bank client show it: built from the
//! application's audit events (its chain), in the request's language, with who acted by role
//! and name (never an internal id) and the messages each side may read.

use std::collections::HashMap;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use entity::{RejectReason, Role, audit_event, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{StaffView, Viewer, find_visible};
use crate::auth::Authorized;
use crate::auth::permissions::ReadApplications;
use crate::error::{ApiError, ApiResult, Problem};
use crate::i18n::{self, Lang};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub application_id: Uuid,
    pub steps: Vec<Step>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    pub at: DateTime<Utc>,
    /// The action's code, e.g. `application.submit`.
    pub action: String,
    /// The action in the request's language.
    pub title: String,
    /// Who acted: role and display name; absent for the platform itself (e.g. the shortfall
    /// sweep).
    pub actor: Option<StaffView>,
    /// What the step said: the request for information, the village's answer, the rejection's
    /// reason and text, and — for the bank, the county and supervisors only — the officer's and
    /// approver's opinions.
    pub message: Option<String>,
}

/// The steps of an application so far, oldest first.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Timeline),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    id: web::Path<Uuid>,
    lang: Lang,
) -> ApiResult<web::Json<Timeline>> {
    let application = find_visible(&state.db, &caller, *id).await?;
    let viewer = Viewer::of(&caller, lang);
    Ok(web::Json(Timeline {
        application_id: application.id,
        steps: steps(&state.db, application.id, viewer).await?,
    }))
}

pub async fn steps(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    viewer: Viewer,
) -> Result<Vec<Step>, ApiError> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ObjectType.eq("application"))
        .filter(audit_event::Column::ObjectId.eq(application_id))
        .order_by_asc(audit_event::Column::Seq)
        .all(db)
        .await?;
    let actors: HashMap<Uuid, (Role, String)> = user::Entity::find()
        .filter(user::Column::Id.is_in(events.iter().filter_map(|e| e.actor_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, (u.role, u.display_name)))
        .collect();
    Ok(events
        .into_iter()
        .map(|e| {
            let summary: serde_json::Value = serde_json::from_str(&e.summary).unwrap_or_default();
            let text = |field: &str| summary[field].as_str().map(str::to_owned);
            let message = match e.action.as_str() {
                "application.request_info" | "application.resubmit" => text("message"),
                "application.reject" => {
                    let reason =
                        serde_json::from_value::<RejectReason>(summary["reason_code"].clone())
                            .ok()
                            .map(|r| i18n::reject_reason(r, viewer.lang).to_owned());
                    match (reason, text("text")) {
                        (Some(reason), Some(text)) => Some(format!("{reason}: {text}")),
                        (reason, text) => reason.or(text),
                    }
                }
                "application.recommend" | "application.approve" if viewer.inside => text("opinion"),
                _ => None,
            };
            Step {
                title: i18n::step_title(&e.action, viewer.lang).to_owned(),
                actor: e.actor_id.and_then(|id| {
                    actors.get(&id).map(|(role, name)| StaffView {
                        role: *role,
                        display_name: name.clone(),
                    })
                }),
                at: e.at,
                action: e.action,
                message,
            }
        })
        .collect())
}
