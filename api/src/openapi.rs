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

/// The full document, as served at `/api-docs/openapi.json` and committed in `docs/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::startup::api_routes_document()
}
