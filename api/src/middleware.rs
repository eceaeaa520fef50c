//! Middleware of our own: the access log and the deadline for receiving a request body.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::error::{ApiError, request_id};
use crate::state::AppState;

/// Set by the `Caller` extractor: who made the request, for the access log.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub Uuid);

/// One structured line per request: method, route pattern (never the raw path with its ids and
/// query), status, duration, request id and user. Never headers or bodies, so never a token or a
/// password.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    let request = response.request();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "UNMATCHED".to_owned());
    let user_id = request.extensions().get::<SignedIn>().map(|s| s.0);
    tracing::info!(
        target: "access",
        method,
        route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = request_id(request).unwrap_or_default(),
        user_id = user_id.map(|id| id.to_string()).unwrap_or_default(),
        "request"
    );
    Ok(response)
}

/// A client must send its whole body within the configured time, or get 408: a client that
/// declares a length and then stalls cannot hold a connection and a worker open for ever.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limit = req.app_data::<web::Data<AppState>>().map_or(
        Duration::from_secs(crate::config::defaults::body_timeout()),
        |state| state.body_timeout,
    );
    let timed_out = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    req.set_payload(with_deadline(payload, limit, timed_out.clone()));
    let response = next.call(req).await?;
    if timed_out.get() {
        tracing::info!(
            security_event = "body_timeout",
            "request body did not arrive in time"
        );
        let (request, _) = response.into_parts();
        return Ok(
            ServiceResponse::from_err(ApiError::RequestTimeout, request).map_into_right_body()
        );
    }
    Ok(response.map_into_left_body())
}

fn with_deadline(payload: Payload, limit: Duration, timed_out: Rc<Cell<bool>>) -> Payload {
    let deadline = tokio::time::Instant::now() + limit;
    let stream = futures_util::stream::unfold(Some(payload), move |state| {
        let timed_out = timed_out.clone();
        async move {
            let mut payload = state?;
            match tokio::time::timeout_at(deadline, payload.next()).await {
                Ok(Some(item)) => Some((item, Some(payload))),
                Ok(None) => None,
                Err(_) => {
                    timed_out.set(true);
                    let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "body timed out");
                    Some((Err(PayloadError::Io(err)), None))
                }
            }
        }
    });
    // Fused: multipart readers poll again after the end.
    Payload::Stream {
        payload: Box::pin(stream.fuse()),
    }
}
