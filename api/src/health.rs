//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{get, web};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready);
}

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthStatus)))]
#[get("/health/live")]
async fn live() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// The process can serve: the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = HealthStatus),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<HealthStatus>> {
    // A probe that hangs is worse than one that fails: balancers time out at a second or two.
    let within = std::time::Duration::from_secs(1);
    match tokio::time::timeout(within, state.db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => Ok(web::Json(HealthStatus { status: "ok" })),
        Ok(Err(err)) => Err(ApiError::Unavailable(err.into())),
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "the database did not answer within {within:?}"
        ))),
    }
}
