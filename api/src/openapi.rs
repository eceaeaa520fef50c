//! The OpenAPI document: paths and schemas come from the handlers' annotations (collected by
//! utoipa-actix-web as routes are registered); this adds the info block and the security scheme.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rural asset collateral and loan-matching platform API",
        description = "Village collectives register assets and apply for collateral loans; banks review \
            and approve; the county bureau onboards villages and watches the figures.\n\n\
            Money is a decimal string with two places (`\"12345.67\"`). Errors are \
            `application/problem+json` with a stable `code`; send `Accept-Language: zh-CN` for Chinese texts.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, sessions and one's own account"),
        (name = "users", description = "User accounts (admin)"),
        (name = "regions", description = "Administrative divisions"),
        (name = "organizations", description = "Village collective organizations, incomes, CSV import"),
        (name = "banks", description = "Banks, branches and the regions they serve"),
        (name = "statistics", description = "County figures"),
        (name = "assets", description = "Assets, verification, valuations, documents"),
        (name = "equity", description = "Equity entities and shareholdings"),
        (name = "products", description = "Banks' loan products"),
        (name = "matching", description = "Which products fit a request, and why not"),
        (name = "applications", description = "Loan applications"),
        (name = "operations", description = "Health probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// Answers every operation of a kind can give, said once here so that generated clients (and the
/// contract fuzzing of `tests/reliability/contract.sh`) know them all:
/// - with a token: 401 (no valid session) and 403 (the role may not, or the password must be
///   changed first);
/// - with parameters or a body: 400 (a malformed id, query, cursor, header or JSON);
/// - with a body: 408 (sent too slowly), 413 (too large), 415 (not the documented media type),
///   422 (fields missing or of the wrong type);
/// - with an `Idempotency-Key`: 409 (the same key is still being processed) and 422 (the key was
///   used for a different request);
/// - every operation: 503 while the database cannot be reached (`Retry-After`).
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::Header;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for operation in operations_mut(openapi) {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = operation.request_body.is_some();
            let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let idempotent = operation.parameters.as_ref().is_some_and(|p| {
                p.iter().any(
                    |p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case("Idempotency-Key")),
                )
            });
            let mut shared = Vec::new();
            if secured {
                shared.push(("401", "No valid access token (`unauthenticated`, `invalid_token`, `token_expired`, `session_revoked`)"));
                shared.push(("403", "The role may not do this (`forbidden`), or the password must be changed first (`password_change_required`)"));
            }
            if has_body || has_parameters {
                shared.push(("400", "The request is malformed: a path id, query, cursor, header or JSON that does not parse (`bad_request`, `malformed_json`, `invalid_query`, `invalid_cursor`)"));
            }
            if idempotent {
                shared.push(("409", "The same `Idempotency-Key` is still being processed (`idempotency_key_in_flight`)"));
                shared.push(("422", "The `Idempotency-Key` was used for a different request (`idempotency_key_reused`)"));
            }
            if has_body {
                shared.push(("408", "The body arrived too slowly (`request_timeout`)"));
                shared.push(("413", "The body is over the limit (`payload_too_large`)"));
                shared.push((
                    "415",
                    "The body is not of the documented media type (`unsupported_media_type`)",
                ));
                shared.push(("422", "The body's fields are missing, of the wrong type or invalid (`validation_failed`, with `errors`)"));
            }
            let responses = &mut operation.responses.responses;
            for (status, description) in shared {
                responses
                    .entry(status.into())
                    .or_insert_with(|| problem(description));
            }
            responses.entry("503".into()).or_insert_with(|| {
                let mut unavailable = problem("The database cannot be reached; retry after `Retry-After` seconds (`service_unavailable`)");
                if let RefOr::T(response) = &mut unavailable {
                    let mut retry = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
                    retry.description = Some("Seconds to wait before retrying".into());
                    response
                        .headers
                        .insert("Retry-After".into(), RefOr::T(retry));
                }
                unavailable
            });
        }
    }
}

fn operations_mut(
    document: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

/// OpenAPI requires a description on every response; where a handler gives none, the status's
/// reason phrase ("OK", "Not Found") stands in.
pub fn describe_responses(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for operation in operations_mut(document) {
        for (status, response) in operation.responses.responses.iter_mut() {
            if let RefOr::T(response) = response
                && response.description.is_empty()
            {
                response.description = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("Response")
                    .to_owned();
            }
        }
    }
}

/// The full document, as served at `/api-docs/openapi.json` and committed in `docs/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::startup::api_routes_document()
}
