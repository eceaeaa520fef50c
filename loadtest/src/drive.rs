//! The HTTP load: a fixed number of tasks send requests back to back for a fixed time (or until
//! a scenario's supply of fresh objects runs out) and record every latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Builds request number `i` of a scenario; `None` when the scenario has nothing left to send.
pub type MakeRequest = Arc<dyn Fn(u64) -> Option<reqwest::RequestBuilder> + Send + Sync>;

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub concurrency: usize,
    pub requests: u64,
    /// Answers outside 2xx/304, and transport errors.
    pub errors: u64,
    pub seconds: f64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_error: Option<String>,
}

pub async fn drive(concurrency: usize, duration: Duration, make: MakeRequest) -> Outcome {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline {
                let Some(request) = make(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let sent = Instant::now();
                let answer = request.send().await;
                let failure = match answer {
                    Ok(reply) => {
                        let status = reply.status();
                        let body = reply.bytes().await;
                        if status.is_success() || status.as_u16() == 304 {
                            None
                        } else {
                            Some(format!(
                                "{status}: {}",
                                String::from_utf8_lossy(&body.unwrap_or_default())
                            ))
                        }
                    }
                    Err(err) => Some(err.to_string()),
                };
                latencies.push(sent.elapsed());
                if let Some(failure) = failure {
                    errors += 1;
                    first_error.get_or_insert(failure);
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        if let Ok((mut l, e, f)) = task.await {
            latencies.append(&mut l);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let quantile = |q: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let requests = latencies.len() as u64;
    Outcome {
        concurrency,
        requests,
        errors,
        seconds,
        throughput: (requests - errors) as f64 / seconds,
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
        first_error,
    }
}
