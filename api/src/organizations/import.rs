//! `POST /organizations/import`: a CSV of organizations, all or nothing.
//!
//! Every row is checked (its own fields, duplicates within the file, conflicts with the
//! database) before anything is written; any problem rejects the file with a problem that lists
//! every bad row and field as `rows[LINE].field` (LINE is the line in the file; the header is
//! line 1). Then villages, organizations and incomes are written in one transaction.

use std::collections::{HashMap, HashSet};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, post, web};
use entity::{Money, OrganizationStatus, RegionLevel, organization, region};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession,
    TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::incomes::{parse_income, parse_year, upsert};
use super::{NewOrganization, conflict, parse_households};
use crate::auth::permissions::ManageOrganizations;
use crate::auth::{Authorized, Caller};
use crate::domain::{Mobile, RegionCode, Uscc, parse_name};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::state::AppState;

/// The columns of the file, in any order; the last three may be left out or empty.
const COLUMNS: [&str; 9] = [
    "name",
    "uscc",
    "village_code",
    "village_name",
    "legal_rep_name",
    "legal_rep_mobile",
    "member_households",
    "income_year",
    "income",
];
const REQUIRED: [&str; 6] = [
    "name",
    "uscc",
    "village_code",
    "legal_rep_name",
    "legal_rep_mobile",
    "member_households",
];

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ImportSummary {
    /// This import on the audit record (object type `organization_import`).
    pub import_id: Uuid,
    /// Organizations created.
    pub organizations: usize,
    /// Villages that did not exist yet and were created beneath their townships.
    pub villages_created: usize,
    /// Income rows written.
    pub incomes: usize,
}

/// Import organizations from CSV (UTF-8, with or without BOM). All or nothing.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "Columns: name, uscc, village_code, village_name, legal_rep_name, legal_rep_mobile, member_households, income_year, income"),
    responses(
        (status = 201, body = ImportSummary),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad row and field, as `rows[LINE].field`; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/import")]
pub async fn import(
    state: web::Data<AppState>,
    caller: Authorized<ManageOrganizations>,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let is_csv = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType);
    }
    let summary = import_csv(&state.db, &caller, &body).await?;
    Ok(HttpResponse::Created().json(summary))
}

struct Row {
    line: u64,
    organization: NewOrganization,
    village_name: Option<String>,
    income: Option<(i32, Money)>,
}

/// The operation: checks the whole file, then writes it and its one `organization.import`
/// event (naming every organization and village it created) in one transaction.
pub async fn import_csv(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    bytes: &[u8],
) -> Result<ImportSummary, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::Validation(vec![FieldError::new("file", "not_utf8")]))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (rows, mut errors) = parse_file(text)?;
    let (villages, conflicts) = check_against_database(db, &rows).await?;
    errors.extend(conflicts);
    if !errors.is_empty() {
        // Line by line, each line's problems in column order as found.
        errors.sort_by_key(|(line, _)| *line);
        return Err(ApiError::Validation(
            errors.into_iter().map(|(_, e)| e).collect(),
        ));
    }

    let txn = db.begin().await?;
    for (code, name) in &villages {
        crate::regions::insert(&txn, code, name).await?;
    }
    let mut incomes = Vec::new();
    let mut organizations = Vec::with_capacity(rows.len());
    for row in rows {
        let model = row.organization.into_model();
        if let Some((year, amount)) = row.income {
            incomes.push(entity::organization_income::Model {
                organization_id: model.id,
                year,
                amount,
                updated_at: model.created_at,
            });
        }
        organizations.push(model);
    }
    for chunk in organizations.chunks(500) {
        organization::Entity::insert_many(
            chunk.iter().cloned().map(organization::ActiveModel::from),
        )
        .exec_without_returning(&txn)
        .await
        .map_err(conflict)?;
    }
    for chunk in incomes.chunks(500) {
        upsert(&txn, chunk).await?;
    }
    let summary = ImportSummary {
        import_id: Uuid::now_v7(),
        organizations: organizations.len(),
        villages_created: villages.len(),
        incomes: incomes.len(),
    };
    crate::audit::record(
        &txn,
        Some(actor.id()),
        "organization.import",
        "organization_import",
        summary.import_id,
        serde_json::json!({
            "organization_ids": organizations.iter().map(|o| o.id).collect::<Vec<_>>(),
            "villages_created": villages.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>(),
            "incomes": incomes.iter().map(|i| serde_json::json!({
                "organization_id": i.organization_id, "year": i.year, "amount": i.amount,
            })).collect::<Vec<_>>(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(summary)
}

/// Problems found in a file, each with its line.
type LineErrors = Vec<(u64, FieldError)>;

/// Parses every row: the rows that are valid on their own, and the problems of the others
/// (fields and duplicates). A file whose header is wrong fails at once.
fn parse_file(text: &str) -> Result<(Vec<Row>, LineErrors), ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| ApiError::Validation(vec![FieldError::new("file", "invalid_csv")]))?
        .clone();
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_ascii_lowercase(), i))
        .collect();
    // A misspelt column would silently drop its data: name it instead.
    let header_errors: Vec<FieldError> = REQUIRED
        .iter()
        .filter(|c| !index.contains_key(**c))
        .map(|c| FieldError::new(format!("header.{c}"), "required"))
        .chain(
            headers
                .iter()
                .filter(|h| !COLUMNS.contains(&h.to_ascii_lowercase().as_str()))
                .map(|h| FieldError::new(format!("header.{h}"), "unknown_column")),
        )
        .collect();
    if !header_errors.is_empty() {
        return Err(ApiError::Validation(header_errors));
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut usccs: HashMap<String, u64> = HashMap::new();
    let mut villages: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                errors.push((
                    line,
                    FieldError::new(format!("rows[{line}]"), "invalid_csv"),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cells = Cells {
            index: &index,
            record: &record,
        };
        match parse_row(line, &cells) {
            Ok(row) => {
                let uscc = row.organization.uscc.as_str().to_owned();
                let mut duplicate = false;
                if let Some(first) = usccs.insert(uscc, line) {
                    let field = format!("rows[{line}].uscc");
                    errors.push((line, FieldError::new(field, "duplicate_in_file")));
                    usccs.insert(row.organization.uscc.as_str().to_owned(), first);
                    duplicate = true;
                }
                let village = row.organization.region_code.to_string();
                if villages.insert(village, line).is_some() {
                    let field = format!("rows[{line}].village_code");
                    errors.push((line, FieldError::new(field, "duplicate_in_file")));
                    duplicate = true;
                }
                if !duplicate {
                    rows.push(row);
                }
            }
            Err(row_errors) => errors.extend(row_errors.into_iter().map(|e| (line, e))),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "file", "no_rows",
        )]));
    }
    Ok((rows, errors))
}

/// One record's cells by column name; a missing column reads as empty.
struct Cells<'a> {
    index: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Cells<'_> {
    fn get(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .unwrap_or("")
    }
}

fn parse_row(line: u64, cells: &Cells<'_>) -> Result<Row, Vec<FieldError>> {
    let get = |column: &str| cells.get(column);
    let field =
        |name: &str, code: &'static str| FieldError::new(format!("rows[{line}].{name}"), code);
    let mut controlled: Vec<(&usize, &String)> = cells
        .index
        .iter()
        .map(|(name, i)| (i, name))
        .filter(|(i, _)| {
            cells
                .record
                .get(**i)
                .is_some_and(|cell| cell.chars().any(char::is_control))
        })
        .collect();
    if !controlled.is_empty() {
        controlled.sort();
        return Err(controlled
            .into_iter()
            .map(|(_, name)| field(name, "control_characters"))
            .collect());
    }
    let households = get("member_households")
        .parse::<i64>()
        .map_err(|_| "invalid_value")
        .and_then(parse_households);
    let parsed = crate::validate!(
        name = parse_name(get("name"), 128),
        uscc = Uscc::parse(get("uscc")),
        village_code = RegionCode::parse(get("village_code")).and_then(|c| {
            if c.level() == RegionLevel::Village {
                Ok(c)
            } else {
                Err("wrong_region_level")
            }
        }),
        legal_rep_name = parse_name(get("legal_rep_name"), 64),
        legal_rep_mobile = Mobile::parse(get("legal_rep_mobile")),
        member_households = households,
    );
    let mut errors: Vec<FieldError> = match &parsed {
        Err(ApiError::Validation(fields)) => fields
            .iter()
            .map(|f| FieldError::new(format!("rows[{line}].{}", f.field), f.code))
            .collect(),
        _ => Vec::new(),
    };
    let village_name = match get("village_name") {
        "" => None,
        name => match parse_name(name, 64) {
            Ok(n) => Some(n),
            Err(code) => {
                errors.push(field("village_name", code));
                None
            }
        },
    };
    let income = match (get("income_year"), get("income")) {
        ("", "") => None,
        (year, amount) => {
            let year = year
                .parse::<i32>()
                .map_err(|_| "invalid_value")
                .and_then(parse_year);
            let amount = amount
                .parse::<Money>()
                .map_err(|_| "invalid_amount")
                .and_then(parse_income);
            if let Err(code) = year {
                errors.push(field("income_year", code));
            }
            if let Err(code) = amount {
                errors.push(field("income", code));
            }
            year.ok().zip(amount.ok())
        }
    };
    match parsed {
        Ok((name, uscc, region_code, legal_rep_name, legal_rep_mobile, member_households))
            if errors.is_empty() =>
        {
            Ok(Row {
                line,
                organization: NewOrganization {
                    name,
                    uscc,
                    region_code,
                    legal_rep_name,
                    legal_rep_mobile,
                    member_households,
                    status: OrganizationStatus::Active,
                    shares_village: false,
                },
                village_name,
                income,
            })
        }
        _ => Err(errors),
    }
}

/// Finds every conflict with what the database holds, and the villages to create.
async fn check_against_database(
    db: &impl ConnectionTrait,
    rows: &[Row],
) -> Result<(Vec<(RegionCode, String)>, LineErrors), ApiError> {
    let usccs: Vec<&str> = rows.iter().map(|r| r.organization.uscc.as_str()).collect();
    let taken_usccs: HashSet<String> = select_strings(
        db,
        organization::Entity::find()
            .select_only()
            .column(organization::Column::Uscc)
            .filter(organization::Column::Uscc.is_in(usccs)),
    )
    .await?;
    let village_codes: Vec<String> = rows
        .iter()
        .map(|r| r.organization.region_code.to_string())
        .collect();
    let taken_villages: HashSet<String> = select_strings(
        db,
        organization::Entity::find()
            .select_only()
            .column(organization::Column::RegionCode)
            .filter(organization::Column::RegionCode.is_in(village_codes.clone())),
    )
    .await?;
    let mut wanted_regions = village_codes;
    wanted_regions.extend(
        rows.iter()
            .filter_map(|r| r.organization.region_code.parent().map(|p| p.to_string())),
    );
    let known_regions: HashSet<String> = select_strings(
        db,
        region::Entity::find()
            .select_only()
            .column(region::Column::Code)
            .filter(region::Column::Code.is_in(wanted_regions)),
    )
    .await?;

    let mut errors = Vec::new();
    let mut villages = Vec::new();
    for row in rows {
        let line = row.line;
        if taken_usccs.contains(row.organization.uscc.as_str()) {
            errors.push((
                line,
                FieldError::new(format!("rows[{line}].uscc"), "uscc_taken"),
            ));
        }
        let code = &row.organization.region_code;
        if taken_villages.contains(code.as_str()) {
            let field = format!("rows[{line}].village_code");
            errors.push((line, FieldError::new(field, "village_taken")));
        }
        if !known_regions.contains(code.as_str()) {
            let parent_known = code
                .parent()
                .is_some_and(|p| known_regions.contains(p.as_str()));
            match (&row.village_name, parent_known) {
                (_, false) => errors.push((
                    line,
                    FieldError::new(format!("rows[{line}].village_code"), "unknown_parent"),
                )),
                (None, true) => errors.push((
                    line,
                    FieldError::new(
                        format!("rows[{line}].village_name"),
                        "required_for_new_village",
                    ),
                )),
                (Some(name), true) => villages.push((code.clone(), name.clone())),
            }
        }
    }
    Ok((villages, errors))
}

async fn select_strings<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
) -> Result<HashSet<String>, ApiError> {
    Ok(query
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "name,uscc,village_code,village_name,legal_rep_name,legal_rep_mobile,member_households,income_year,income\n";

    #[test]
    fn every_bad_row_and_field_is_reported() {
        let file = format!(
            "{HEADER}\
             甲村股份经济合作社,91350100M000100Y43,140826100001,甲村,张三,13800000001,120,2021,150000.00\n\
             乙村股份经济合作社,91350100M000100Y44,140826100002,乙村,李四,12345,-1,2021,abc\n\
             丙村股份经济合作社,91350100M000100Y43,140826100001,丙村,王五,13800000003,80,,\n"
        );
        let (rows, errors) = parse_file(&file).unwrap();
        assert_eq!(rows.len(), 1, "only the first row stands on its own");
        let got: Vec<(String, &str)> = errors.into_iter().map(|(_, f)| (f.field, f.code)).collect();
        assert_eq!(
            got,
            vec![
                ("rows[3].uscc".to_owned(), "uscc_check_failed"),
                ("rows[3].legal_rep_mobile".to_owned(), "invalid_mobile"),
                ("rows[3].member_households".to_owned(), "negative"),
                ("rows[3].income".to_owned(), "invalid_amount"),
                ("rows[4].uscc".to_owned(), "duplicate_in_file"),
                ("rows[4].village_code".to_owned(), "duplicate_in_file"),
            ]
        );
    }

    #[test]
    fn missing_columns_are_named() {
        let err = parse_file("name,uscc,villagecode\nx,y,z\n").err().unwrap();
        let ApiError::Validation(fields) = err else {
            panic!()
        };
        let got: Vec<(String, &str)> = fields.into_iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], ("header.village_code".to_owned(), "required"));
        assert_eq!(got[4], ("header.villagecode".to_owned(), "unknown_column"));
    }
}
