//! Where document bytes live: a directory under the data dir by default, or any store the
//! `object_store` crate can open from a URL (`APP_STORAGE_URL=s3://bucket/prefix`, with
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for S3-compatible
//! stores such as MinIO).

use std::sync::Arc;

use anyhow::Context;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

use crate::config::Settings;

pub type Store = Arc<dyn ObjectStore>;

pub fn open(settings: &Settings) -> anyhow::Result<Store> {
    match settings.storage_url.as_deref().map(str::trim) {
        Some(raw) if !raw.is_empty() => {
            let url = url::Url::parse(raw).context("APP_STORAGE_URL is not a URL")?;
            // The store's own settings come from the environment (aws_* for S3).
            let options = std::env::vars()
                .filter(|(key, _)| key.starts_with("AWS_"))
                .map(|(key, value)| (key.to_ascii_lowercase(), value));
            let (store, prefix) = object_store::parse_url_opts(&url, options)
                .context("cannot open the document store")?;
            Ok(Arc::new(PrefixStore::new(store, prefix)))
        }
        _ => {
            let dir = settings.data_dir.join("documents");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(Arc::new(LocalFileSystem::new_with_prefix(&dir)?))
        }
    }
}
