//! Loan applications: drafts by the village operator, submission with lien reservation,
//! withdrawal; bank staff see the applications submitted to their bank.

mod actions;
mod collateral;
mod lifecycle;
pub mod ops;
pub mod review;
pub mod servicing;
mod timeline;

pub use collateral::CollateralSummary;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{
    ApplicationStatus, DocumentKind, LoanPurpose, Money, ProductStatus, Rate, RejectReason,
    RepaymentMethod, Role, application_asset, asset, asset_document, loan_application,
    loan_product, organization, reference_counter, region, user,
};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::permissions::{ApplyForLoans, ReadApplications};
use crate::auth::{Authorized, Caller, Tenant, sees_nothing};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{IfMatch, Query, parse_json, with_etag};
use crate::i18n::{self, Lang};
use crate::idempotency::{self, Answer};
use crate::matching::{parse_amount, parse_term};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::{db, validate};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_application)
        .service(list_applications)
        .service(get_application)
        .service(update_application)
        .service(lifecycle::submit)
        .service(lifecycle::withdraw)
        .service(lifecycle::matches)
        .service(actions::claim)
        .service(actions::release)
        .service(actions::request_info)
        .service(actions::resubmit)
        .service(actions::recommend)
        .service(actions::approve)
        .service(actions::reject)
        .service(actions::disburse)
        .service(actions::record_repayment)
        .service(actions::list_repayments)
        .service(actions::schedule)
        .service(timeline::timeline);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    #[schema(example = "JX-2026-000123")]
    pub reference: String,
    pub organization_id: Uuid,
    pub organization_name: String,
    /// The organization's village.
    pub region_code: String,
    pub region_name: String,
    pub product_id: Option<Uuid>,
    pub product_name: Option<String>,
    pub bank_id: Option<Uuid>,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: LoanPurpose,
    pub repayment_method: RepaymentMethod,
    pub status: ApplicationStatus,
    /// The collateral.
    pub asset_ids: Vec<Uuid>,
    /// What the collateral is worth to the chosen product today.
    pub collateral: CollateralSummary,
    pub resolution_date: Option<NaiveDate>,
    pub resolution_document_id: Option<Uuid>,
    /// The officer who claimed it (bank staff, admin and supervisors only: filter the queue
    /// with `assigned_to=`).
    pub assigned_to: Option<Uuid>,
    pub assigned_officer: Option<StaffView>,
    /// Whole days since submission, while the bank has not decided yet.
    pub days_waiting: Option<i64>,
    /// The officer's request for information, while it is open.
    pub info_request: Option<String>,
    pub recommendation: Option<RecommendationView>,
    pub approval: Option<ApprovalView>,
    pub rejection: Option<RejectionView>,
    pub disbursement: Option<DisbursementView>,
    /// Set while the collateral's lendable value is below the outstanding principal.
    pub shortfall: Option<ShortfallView>,
    pub settled_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member of a bank's staff as others see them: no internal id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffView {
    pub role: Role,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    pub amount: Money,
    pub annual_rate: Rate,
    pub term_months: i32,
    pub repayment_method: RepaymentMethod,
    /// The officer's opinion: shown to the bank, the county and supervisors only.
    pub opinion: Option<String>,
    pub by: Option<StaffView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    pub amount: Money,
    /// Shown to the bank, the county and supervisors only.
    pub opinion: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub by: Option<StaffView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionView {
    pub reason_code: RejectReason,
    /// The reason in the request's language.
    pub reason: String,
    pub text: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisbursementView {
    pub contract_no: String,
    pub lien_registration_no: String,
    pub amount: Money,
    pub date: NaiveDate,
    pub outstanding_principal: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortfallView {
    pub since: DateTime<Utc>,
    pub outstanding_principal: Money,
    /// What the collateral lends today (Σ current value × max_ltv).
    pub coverage: Money,
}

/// Who is looking: decides what of the bank's internal notes a view shows.
#[derive(Clone, Copy)]
pub struct Viewer {
    pub inside: bool,
    pub lang: Lang,
}

impl Viewer {
    pub fn of(caller: &Caller, lang: Lang) -> Viewer {
        Viewer {
            inside: !matches!(caller.tenant(), Tenant::Organization(_) | Tenant::Unbound),
            lang,
        }
    }
}

/// Views of applications, with their organizations, products, staff and collateral read for
/// all of them at once.
pub async fn views(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    rows: Vec<loan_application::Model>,
) -> Result<Vec<ApplicationView>, ApiError> {
    // The organization with its village's name, in one statement.
    let organizations: HashMap<Uuid, (String, String, String)> = organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .column(organization::Column::Name)
        .column(organization::Column::RegionCode)
        .column_as(region::Column::Name, "region_name")
        .join(
            JoinType::LeftJoin,
            organization::Entity::belongs_to(region::Entity)
                .from(organization::Column::RegionCode)
                .to(region::Column::Code)
                .into(),
        )
        .filter(organization::Column::Id.is_in(rows.iter().map(|a| a.organization_id)))
        .into_tuple::<(Uuid, String, String, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, name, region, region_name)| {
            (id, (name, region, region_name.unwrap_or_default()))
        })
        .collect();
    let staff_ids = rows
        .iter()
        .flat_map(|a| [a.assigned_to, a.recommended_by, a.approved_by])
        .flatten();
    let staff: HashMap<Uuid, StaffView> = user::Entity::find()
        .filter(user::Column::Id.is_in(staff_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                StaffView {
                    role: u.role,
                    display_name: u.display_name,
                },
            )
        })
        .collect();
    let collateral::Collateral {
        mut pledged,
        product_names: products,
    } = collateral::summaries(db, &rows.iter().collect::<Vec<_>>()).await?;
    let now = db::now();
    let staff_of = |id: Option<Uuid>| id.and_then(|id| staff.get(&id).cloned());
    let inside = |text: Option<String>| text.filter(|_| viewer.inside);
    Ok(rows
        .into_iter()
        .map(|a| {
            let (organization_name, region_code, region_name) = organizations
                .get(&a.organization_id)
                .cloned()
                .unwrap_or_default();
            let (asset_ids, summary) = pledged.remove(&a.id).unwrap_or_else(|| {
                (
                    Vec::new(),
                    CollateralSummary {
                        kinds: Vec::new(),
                        current_value: Money::ZERO,
                        max_loanable: Money::ZERO,
                    },
                )
            });
            let undecided = matches!(
                a.status,
                ApplicationStatus::Submitted
                    | ApplicationStatus::UnderReview
                    | ApplicationStatus::InfoRequested
                    | ApplicationStatus::Recommended
            );
            ApplicationView {
                asset_ids,
                region_name,
                organization_name,
                region_code,
                product_name: a.product_id.and_then(|p| products.get(&p).cloned()),
                assigned_to: a.assigned_to.filter(|_| viewer.inside),
                assigned_officer: staff_of(a.assigned_to),
                days_waiting: a
                    .submitted_at
                    .filter(|_| undecided)
                    .map(|at| (now - at).num_days()),
                info_request: a
                    .info_request
                    .clone()
                    .filter(|_| a.status == ApplicationStatus::InfoRequested),
                recommendation: match (
                    a.recommended_amount,
                    a.recommended_rate,
                    a.recommended_term,
                    a.recommended_method,
                ) {
                    (
                        Some(amount),
                        Some(annual_rate),
                        Some(term_months),
                        Some(repayment_method),
                    ) => Some(RecommendationView {
                        amount,
                        annual_rate,
                        term_months,
                        repayment_method,
                        opinion: inside(a.recommendation_opinion.clone()),
                        by: staff_of(a.recommended_by),
                    }),
                    _ => None,
                },
                approval: a.approved_amount.map(|amount| ApprovalView {
                    amount,
                    opinion: inside(a.approval_opinion.clone()),
                    decided_at: a.decided_at,
                    by: staff_of(a.approved_by),
                }),
                rejection: a.reject_reason.map(|reason| RejectionView {
                    reason_code: reason,
                    reason: i18n::reject_reason(reason, viewer.lang).to_owned(),
                    text: a.reject_text.clone(),
                    decided_at: a.decided_at,
                }),
                disbursement: match (
                    &a.contract_no,
                    &a.lien_registration_no,
                    a.disbursed_amount,
                    a.disbursed_on,
                ) {
                    (Some(contract_no), Some(registration), Some(amount), Some(date)) => {
                        Some(DisbursementView {
                            contract_no: contract_no.clone(),
                            lien_registration_no: registration.clone(),
                            amount,
                            date,
                            outstanding_principal: a.outstanding_principal.unwrap_or(Money::ZERO),
                        })
                    }
                    _ => None,
                },
                shortfall: a.shortfall_since.map(|since| ShortfallView {
                    since,
                    outstanding_principal: a.outstanding_principal.unwrap_or(Money::ZERO),
                    coverage: summary.max_loanable,
                }),
                collateral: summary,
                settled_at: a.settled_at,
                id: a.id,
                reference: a.reference,
                organization_id: a.organization_id,
                product_id: a.product_id,
                bank_id: a.bank_id,
                amount: a.amount,
                term_months: a.term_months,
                purpose: a.purpose,
                repayment_method: a.repayment_method,
                status: a.status,
                resolution_date: a.resolution_date,
                resolution_document_id: a.resolution_document_id,
                version: a.version,
                submitted_at: a.submitted_at,
                created_at: a.created_at,
                updated_at: a.updated_at,
            }
        })
        .collect())
}

/// The collateral of one application, in a stable order.
pub async fn asset_ids_of(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    Ok(application_asset::Entity::find()
        .select_only()
        .column(application_asset::Column::AssetId)
        .filter(application_asset::Column::ApplicationId.eq(application_id))
        .order_by_asc(application_asset::Column::AssetId)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn view(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    row: loan_application::Model,
) -> Result<ApplicationView, ApiError> {
    views(db, viewer, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Which applications a caller sees: all for the county and supervisors, its own
/// organization's for an operator, those submitted to its bank for bank staff.
pub fn visible_to(caller: &Caller) -> Condition {
    match caller.tenant() {
        Tenant::County | Tenant::Supervisor => Condition::all(),
        Tenant::Organization(org) => {
            Condition::all().add(loan_application::Column::OrganizationId.eq(org))
        }
        Tenant::Bank(bank) => Condition::all()
            .add(loan_application::Column::BankId.eq(bank))
            // Submitted at some time: a draft withdrawn unsent never reached the bank.
            .add(loan_application::Column::SubmittedAt.is_not_null()),
        Tenant::Unbound => sees_nothing(),
    }
}

pub async fn find_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<loan_application::Model, ApiError> {
    loan_application::Entity::find_by_id(id)
        .filter(visible_to(caller))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The next reference of the year, e.g. `JX-2026-000123`: a counter row raised by one atomic
/// upsert, so concurrent creations on any backend and any instance never share a number.
/// A creation that fails later leaves a gap, which is fine.
pub async fn next_reference(db: &impl ConnectionTrait) -> Result<String, ApiError> {
    let year = db::today().year();
    let counter = reference_counter::Entity::insert(reference_counter::ActiveModel {
        year: Set(year),
        last: Set(1),
    })
    .on_conflict(
        OnConflict::column(reference_counter::Column::Year)
            .value(
                reference_counter::Column::Last,
                Expr::col((reference_counter::Entity, reference_counter::Column::Last)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    Ok(format!("JX-{year}-{:06}", counter.last))
}

/// The fields a draft may carry, parsed; `None` leaves a field as it is.
#[derive(Deserialize, ToSchema, Default)]
pub struct DraftRequest {
    pub amount: Option<Money>,
    pub term_months: Option<i32>,
    pub purpose: Option<LoanPurpose>,
    pub repayment_method: Option<RepaymentMethod>,
    /// The collateral; replaces the previous list.
    pub asset_ids: Option<Vec<Uuid>>,
    /// An active product; its bank is the application's bank.
    pub product_id: Option<Uuid>,
    /// Date of the villagers' (representative) assembly resolution consenting to the pledge.
    pub resolution_date: Option<NaiveDate>,
    /// An `assembly_resolution` document uploaded on one of the organization's assets.
    pub resolution_document_id: Option<Uuid>,
}

struct Draft {
    amount: Money,
    term_months: i32,
    purpose: LoanPurpose,
    repayment_method: RepaymentMethod,
    asset_ids: Vec<Uuid>,
    product: Option<loan_product::Model>,
    resolution_date: Option<NaiveDate>,
    resolution_document_id: Option<Uuid>,
}

/// Checks a draft's fields against the database: the assets and document are the
/// organization's, the product is active and offers the repayment method.
async fn check_draft(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    r: DraftRequest,
    current: Option<&loan_application::Model>,
    current_assets: Vec<Uuid>,
) -> Result<Draft, ApiError> {
    let (amount, term_months) = validate!(
        amount = r
            .amount
            .or(current.map(|c| c.amount))
            .ok_or("required")
            .and_then(parse_amount),
        term_months = r
            .term_months
            .or(current.map(|c| c.term_months))
            .ok_or("required")
            .and_then(parse_term),
    )?;
    let mut errors = Vec::new();
    let purpose = r.purpose.or(current.map(|c| c.purpose));
    if purpose.is_none() {
        errors.push(FieldError::new("purpose", "required"));
    }
    let repayment_method = r
        .repayment_method
        .or(current.map(|c| c.repayment_method))
        .unwrap_or(RepaymentMethod::Annuity);
    let asset_ids = r.asset_ids.unwrap_or(current_assets);
    let mut seen = std::collections::HashSet::new();
    let owned: Vec<Uuid> = asset::Entity::find()
        .select_only()
        .column(asset::Column::Id)
        .filter(asset::Column::Id.is_in(asset_ids.iter().copied()))
        .filter(asset::Column::OrganizationId.eq(organization_id))
        .into_tuple()
        .all(db)
        .await?;
    for (i, id) in asset_ids.iter().enumerate() {
        if !seen.insert(*id) {
            errors.push(FieldError::new(format!("asset_ids[{i}]"), "duplicate"));
        } else if !owned.contains(id) {
            errors.push(FieldError::new(format!("asset_ids[{i}]"), "unknown_asset"));
        }
    }
    let product_id = r.product_id.or(current.and_then(|c| c.product_id));
    let product = match product_id {
        None => None,
        Some(id) => {
            let found = loan_product::Entity::find_by_id(id).one(db).await?;
            // A product chosen earlier stays valid after retirement; a new choice must be active.
            let still_chosen = current.and_then(|c| c.product_id) == Some(id);
            match found {
                Some(p) if p.status == ProductStatus::Active || still_chosen => Some(p),
                _ => {
                    errors.push(FieldError::new("product_id", "unknown_product"));
                    None
                }
            }
        }
    };
    if let Some(p) = &product
        && !p.repayment_methods.contains(&repayment_method)
    {
        errors.push(FieldError::new("repayment_method", "method_not_offered"));
    }
    let resolution_document_id = r
        .resolution_document_id
        .or(current.and_then(|c| c.resolution_document_id));
    if let Some(doc) = resolution_document_id {
        let found = asset_document::Entity::find_by_id(doc).one(db).await?;
        let owner = match &found {
            Some(d) => asset::Entity::find_by_id(d.asset_id).one(db).await?,
            None => None,
        };
        let valid = matches!((&found, &owner), (Some(d), Some(a))
            if d.kind == DocumentKind::AssemblyResolution && a.organization_id == organization_id);
        if !valid {
            errors.push(FieldError::new(
                "resolution_document_id",
                "unknown_document",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Draft {
        amount,
        term_months,
        purpose: purpose.unwrap_or(LoanPurpose::Planting),
        repayment_method,
        asset_ids,
        product,
        resolution_date: r
            .resolution_date
            .or(current.and_then(|c| c.resolution_date)),
        resolution_document_id,
    })
}

async fn replace_assets(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    asset_ids: &[Uuid],
) -> Result<(), ApiError> {
    application_asset::Entity::delete_many()
        .filter(application_asset::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    if !asset_ids.is_empty() {
        application_asset::Entity::insert_many(asset_ids.iter().map(|asset_id| {
            application_asset::ActiveModel {
                application_id: Set(application_id),
                asset_id: Set(*asset_id),
            }
        }))
        .exec_without_returning(db)
        .await
        .map_err(|err| {
            // An asset deleted since it was checked.
            if db::is_foreign_key_violation(&err) {
                ApiError::Validation(vec![FieldError::new("asset_ids", "unknown_asset")])
            } else {
                err.into()
            }
        })?;
    }
    Ok(())
}

fn own_organization(caller: &Caller) -> Result<Uuid, ApiError> {
    match caller.tenant() {
        Tenant::Organization(own) => Ok(own),
        _ => Err(ApiError::Forbidden),
    }
}

/// Start a draft application. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = DraftRequest,
    responses(
        (status = 201, body = ApplicationView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The same key's first request is still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications")]
async fn create_application(
    state: web::Data<AppState>,
    caller: Authorized<ApplyForLoans>,
    request: HttpRequest,
    body: web::Bytes,
    lang: Lang,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key_of(&request)?;
    let organization_id = own_organization(&caller)?;
    let db = &state.db;
    idempotency::run(
        db,
        caller.id(),
        key,
        "POST /applications".into(),
        &body,
        async |txn: &DatabaseTransaction| {
            let r: DraftRequest = parse_json(&body)?;
            let created = ops::create_draft(txn, &caller, organization_id, r).await?;
            let view = view(txn, Viewer::of(&caller, lang), created).await?;
            Ok(Answer::json(StatusCode::CREATED, &view)?
                .header(LOCATION, format!("/api/v1/applications/{}", view.id))
                .header(ETAG, format!("\"{}\"", view.version)))
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationFilter {
    pub status: Option<ApplicationStatus>,
    pub bank_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    /// `me`, an officer's user id, or `none` (not claimed).
    pub assigned_to: Option<String>,
    /// Only loans in shortfall (`true`) or only those not in shortfall (`false`).
    pub shortfall: Option<bool>,
    /// Submitted on or after this day (Beijing time).
    pub submitted_from: Option<NaiveDate>,
    /// Submitted on or before this day (Beijing time).
    pub submitted_to: Option<NaiveDate>,
    /// `id` (default: creation order) or `submitted_at` (the officer's queue: oldest submission
    /// first; only submitted applications).
    #[param(inline)]
    pub sort: Option<ApplicationSort>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationSort {
    #[default]
    Id,
    SubmittedAt,
}

/// Who `assigned_to=` asks for.
enum Assignee {
    Nobody,
    User(Uuid),
}

fn parse_assignee(raw: &str, caller: &Caller) -> Result<Assignee, ApiError> {
    match raw.trim() {
        "me" => Ok(Assignee::User(caller.id())),
        "none" => Ok(Assignee::Nobody),
        other => other.parse().map(Assignee::User).map_err(|_| {
            ApiError::InvalidQuery(vec![FieldError::new("assigned_to", "invalid_value")])
        }),
    }
}

/// List the applications the caller may see: in creation order, or with `sort=submitted_at`
/// as a bank officer's queue (oldest submission first). Each row carries what an officer
/// triages by: organization and village, product, collateral summary, assigned officer, days
/// waiting.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(ApplicationFilter, PageParams),
    responses(
        (status = 200, body = Page<ApplicationView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications")]
async fn list_applications(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    filter: Query<ApplicationFilter>,
    page: Query<PageParams>,
    lang: Lang,
) -> ApiResult<web::Json<Page<ApplicationView>>> {
    use loan_application::Column as C;
    let limit = page.limit()?;
    let mut query = loan_application::Entity::find().filter(visible_to(&caller));
    if let Some(status) = filter.status {
        query = query.filter(C::Status.eq(status));
    }
    if let Some(bank) = filter.bank_id {
        query = query.filter(C::BankId.eq(bank));
    }
    if let Some(org) = filter.organization_id {
        query = query.filter(C::OrganizationId.eq(org));
    }
    match filter
        .assigned_to
        .as_deref()
        .map(|a| parse_assignee(a, &caller))
        .transpose()?
    {
        Some(Assignee::User(user)) => query = query.filter(C::AssignedTo.eq(user)),
        Some(Assignee::Nobody) => query = query.filter(C::AssignedTo.is_null()),
        None => {}
    }
    match filter.shortfall {
        Some(true) => query = query.filter(C::ShortfallSince.is_not_null()),
        Some(false) => query = query.filter(C::ShortfallSince.is_null()),
        None => {}
    }
    if let Some(from) = filter.submitted_from {
        query = query.filter(C::SubmittedAt.gte(db::county_day_start(from)));
    }
    if let Some(to) = filter.submitted_to {
        query = query.filter(C::SubmittedAt.lt(db::county_day_start(to + chrono::Days::new(1))));
    }
    let viewer = Viewer::of(&caller, lang);
    let page = match filter.sort.unwrap_or_default() {
        ApplicationSort::Id => {
            if let Some(after) = page.after::<Uuid>()? {
                query = query.filter(C::Id.gt(after));
            }
            let rows = query
                .order_by_asc(C::Id)
                .limit(limit + 1)
                .all(&state.db)
                .await?;
            Page::from_rows(rows, limit, |a| a.id, |a| a)
        }
        ApplicationSort::SubmittedAt => {
            // Keyset on (submitted_at, id): many applications share a second. The redundant
            // `submitted_at >= at` lets the index seek to the page instead of filtering up to it.
            query = query.filter(C::SubmittedAt.is_not_null());
            if let Some((at, id)) = page.after::<(DateTime<Utc>, Uuid)>()? {
                query = query.filter(C::SubmittedAt.gte(at)).filter(
                    Condition::any()
                        .add(C::SubmittedAt.gt(at))
                        .add(C::Id.gt(id)),
                );
            }
            let rows = query
                .order_by_asc(C::SubmittedAt)
                .order_by_asc(C::Id)
                .limit(limit + 1)
                .all(&state.db)
                .await?;
            Page::from_rows(rows, limit, |a| (a.submitted_at, a.id), |a| a)
        }
    };
    let page = page
        .map_items(|items| views(&state.db, viewer, items))
        .await?;
    Ok(web::Json(page))
}

/// One application.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}")]
async fn get_application(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    id: web::Path<Uuid>,
    lang: Lang,
) -> ApiResult<HttpResponse> {
    let found = find_visible(&state.db, &caller, *id).await?;
    let version = found.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, Viewer::of(&caller, lang), found).await?,
    ))
}

/// Change a draft (`If-Match`). Any other state answers 409 with the current state.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = DraftRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/applications/{id}")]
async fn update_application(
    state: web::Data<AppState>,
    caller: Authorized<ApplyForLoans>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: crate::extract::Json<DraftRequest>,
    lang: Lang,
) -> ApiResult<HttpResponse> {
    let r = body.into_inner()?;
    let current = find_visible(&state.db, &caller, *id).await?;
    if_match.check(current.version)?;
    let updated = ops::edit_draft(&state.db, &caller, current, r).await?;
    let version = updated.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, Viewer::of(&caller, lang), updated).await?,
    ))
}
