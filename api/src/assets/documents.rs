//! Documents about an asset: certificate photos, appraisal reports, assembly resolutions.
//! Uploads are multipart; the type is read from the bytes (JPEG, PNG or PDF), never from the
//! name; 10 MiB at most. Bytes go to the object store; the database keeps the metadata and the
//! SHA-256, which is also the download's ETag.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entity::{DocumentKind, asset_document};
use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path as StorePath;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{find_manageable, find_visible};
use crate::auth::Authorized;
use crate::auth::permissions::{ManageAssets, ReadAssets};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Query, created_at};
use crate::pagination::{Page, PageParams};
use crate::scope::AssetScope;
use crate::state::AppState;
use crate::storage::Store;

/// Largest document accepted; larger ones get 413.
pub const DOCUMENT_LIMIT: usize = 10 * 1024 * 1024;

pub fn document_routes(cfg: &mut ServiceConfig) {
    cfg.service(content);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub kind: DocumentKind,
    pub file_name: String,
    /// Read from the bytes: `image/jpeg`, `image/png` or `application/pdf`.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where to download the bytes.
    pub content_url: String,
    pub created_at: DateTime<Utc>,
}

impl From<asset_document::Model> for DocumentView {
    fn from(d: asset_document::Model) -> Self {
        DocumentView {
            content_url: format!("/api/v1/documents/{}/content", d.id),
            id: d.id,
            asset_id: d.asset_id,
            kind: d.kind,
            file_name: d.file_name,
            content_type: d.content_type,
            size: d.size,
            sha256: d.sha256,
            created_at: d.created_at,
        }
    }
}

/// The media type of a file, from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The multipart form of an upload, for the OpenAPI document (the handler reads the stream).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// `certificate_photo`, `appraisal_report` or `assembly_resolution`.
    kind: DocumentKind,
    /// JPEG, PNG or PDF, at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

struct Upload {
    kind: Option<DocumentKind>,
    file: Option<(String, Vec<u8>)>,
}

async fn read_form(mut form: Multipart) -> Result<Upload, ApiError> {
    let malformed = |_| ApiError::Validation(vec![FieldError::new("file", "invalid_value")]);
    let mut form_data = Upload {
        kind: None,
        file: None,
    };
    while let Some(mut field) = form.try_next().await.map_err(malformed)? {
        match field.name() {
            Some("kind") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(malformed)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > 64 {
                        break;
                    }
                }
                let value = String::from_utf8_lossy(&text).trim().to_owned();
                form_data.kind = Some(
                    serde_json::from_value(serde_json::Value::String(value)).map_err(|_| {
                        ApiError::Validation(vec![FieldError::new("kind", "invalid_value")])
                    })?,
                );
            }
            Some("file") => {
                let name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(|n| n.chars().take(255).collect::<String>())
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "document".to_owned());
                if name.chars().any(char::is_control) {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "file",
                        "control_characters",
                    )]));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(malformed)?;
                    if bytes.len() + chunk.len() > DOCUMENT_LIMIT {
                        return Err(ApiError::PayloadTooLarge);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                form_data.file = Some((name, bytes));
            }
            _ => while field.try_next().await.map_err(malformed)?.is_some() {},
        }
    }
    Ok(form_data)
}

/// Upload a document (multipart form: `kind`, `file`).
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = DocumentView, headers(("ETag" = String), ("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing kind or file, or not JPEG/PNG/PDF (`unsupported_file_type`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assets/{id}/documents")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    id: web::Path<Uuid>,
    request: HttpRequest,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let asset = find_manageable(&state.db, AssetScope::of(&caller), *id).await?;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // A little room for the form's own headers and boundaries.
    if declared.is_some_and(|len| len > DOCUMENT_LIMIT + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge);
    }
    let form_data = read_form(form).await?;
    let mut errors = Vec::new();
    if form_data.kind.is_none() {
        errors.push(FieldError::new("kind", "required"));
    }
    let content_type = match &form_data.file {
        None => {
            errors.push(FieldError::new("file", "required"));
            None
        }
        Some((_, bytes)) => {
            let sniffed = sniff(bytes);
            if sniffed.is_none() {
                errors.push(FieldError::new("file", "unsupported_file_type"));
            }
            sniffed
        }
    };
    let (Some(kind), Some((file_name, bytes)), Some(_), true) = (
        form_data.kind,
        form_data.file,
        content_type,
        errors.is_empty(),
    ) else {
        return Err(ApiError::Validation(errors));
    };

    let model = super::ops::store_document(
        &state.db,
        &state.store,
        &caller,
        &asset,
        kind,
        file_name,
        bytes,
    )
    .await?;
    Ok(created_at(
        &format!("/api/v1/documents/{}/content", model.id),
        1,
        &DocumentView::from(model),
    ))
}

/// An asset's documents, oldest first.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = Page<DocumentView>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assets/{id}/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<DocumentView>>> {
    let asset = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let limit = page.limit()?;
    let mut query = asset_document::Entity::find()
        .filter(asset_document::Column::AssetId.eq(asset.id))
        .order_by_asc(asset_document::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(asset_document::Column::Id.gt(after));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |d| d.id,
        DocumentView::from,
    )))
}

/// Download a document's bytes, with its type and its SHA-256 as ETag.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, description = "The bytes, with the type read from them at upload", content(
            ("application/pdf"),
            ("image/jpeg"),
            ("image/png"),
        ), headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/documents/{id}/content")]
pub async fn content(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let document = asset_document::Entity::find_by_id(*id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    // The document is visible exactly when its asset is.
    find_visible(&state.db, AssetScope::of(&caller), document.asset_id).await?;
    let etag = format!("\"{}\"", document.sha256);
    let unchanged = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return Ok(HttpResponse::build(StatusCode::NOT_MODIFIED)
            .insert_header((ETAG, etag))
            .finish());
    }
    let stored = state
        .store
        .get(&StorePath::from(document.storage_key.as_str()))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let stream = stored
        .into_stream()
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, document.content_type.clone()))
        .insert_header((ETAG, etag))
        .insert_header((
            CONTENT_DISPOSITION,
            format!(
                "inline; filename*=UTF-8''{}",
                percent_encode(&document.file_name)
            ),
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .no_chunking(document.size as u64)
        .streaming(stream))
}

fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn storage_keys(
    db: &impl ConnectionTrait,
    asset_id: Uuid,
) -> Result<Vec<String>, ApiError> {
    Ok(asset_document::Entity::find()
        .select_only()
        .column(asset_document::Column::StorageKey)
        .filter(asset_document::Column::AssetId.eq(asset_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Deletes stored bytes whose rows are gone; a failure only leaves an orphan, so it is logged.
pub async fn remove_blobs(store: &Store, keys: Vec<String>) {
    for key in keys {
        if let Err(err) = store.delete(&StorePath::from(key.as_str())).await {
            tracing::warn!(%key, error = %err, "could not delete a document's bytes");
        }
    }
}

/// Deletes document bytes that no row refers to and that are older than `grace`: what an upload
/// cut short between storing its bytes and committing its row (a crash, a kill) leaves behind,
/// and what a crash left of a write the store had not finished. The grace period spares uploads
/// still under way. Safe on every instance at once: deleting twice is harmless. Returns how many
/// objects (finished or not) it removed.
pub async fn remove_orphan_objects(
    db: &impl ConnectionTrait,
    store: &Store,
    grace: chrono::Duration,
) -> Result<u64, ApiError> {
    let cutoff = crate::db::now() - grace;
    let mut removed = store
        .remove_partial_writes(cutoff.into())
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut candidates = Vec::new();
    let mut listing = store.list(Some(&StorePath::from("assets")));
    while let Some(object) = listing
        .try_next()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
    {
        if object.last_modified <= cutoff {
            candidates.push(object.location.to_string());
        }
    }
    for chunk in candidates.chunks(500) {
        let known: std::collections::HashSet<String> = asset_document::Entity::find()
            .select_only()
            .column(asset_document::Column::StorageKey)
            .filter(asset_document::Column::StorageKey.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let orphans: Vec<String> = chunk
            .iter()
            .filter(|key| !known.contains(*key))
            .cloned()
            .collect();
        removed += orphans.len() as u64;
        remove_blobs(store, orphans).await;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(percent_encode("证书 1.jpg"), "%E8%AF%81%E4%B9%A6%201.jpg");
    }
}
