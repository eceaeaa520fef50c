//! Where document bytes live: a directory under the data dir by default, or any store the
//! `object_store` crate can open from a URL (`APP_STORAGE_URL=s3://bucket/prefix`, with
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for S3-compatible
//! stores such as MinIO).

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

use crate::config::Settings;

/// The document store: `object_store`'s interface (through `Deref`), plus what only this
/// deployment knows about it — where a local store stages its writes.
#[derive(Clone)]
pub struct Store {
    objects: Arc<dyn ObjectStore>,
    /// The local store's directory; `None` for a remote store.
    local_dir: Option<PathBuf>,
}

impl Deref for Store {
    type Target = dyn ObjectStore;

    fn deref(&self) -> &Self::Target {
        self.objects.as_ref()
    }
}

impl Store {
    /// Deletes writes a crash cut short before the store published them, older than `cutoff`.
    /// The local store writes `key#n` and renames it to `key` when complete; listing skips such
    /// files, so the orphan clean-up cannot see them. A remote store needs nothing here: a
    /// document is one `PUT`, which S3 applies whole or not at all. Returns how many it removed.
    pub async fn remove_partial_writes(&self, cutoff: SystemTime) -> std::io::Result<u64> {
        let Some(dir) = self.local_dir.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || remove_staged_files(&dir, cutoff))
            .await
            .map_err(std::io::Error::other)?
    }
}

fn remove_staged_files(dir: &Path, cutoff: SystemTime) -> std::io::Result<u64> {
    let mut removed = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let entries = match std::fs::read_dir(next) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                // Published (renamed) or removed since the directory was read.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            if metadata.is_dir() {
                pending.push(entry.path());
            } else if entry.file_name().to_string_lossy().contains('#')
                && metadata.modified()? <= cutoff
            {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // Another instance's clean-up got there first.
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
        }
    }
    Ok(removed)
}

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
            Ok(Store {
                objects: Arc::new(PrefixStore::new(store, prefix)),
                local_dir: None,
            })
        }
        _ => {
            let dir = settings.data_dir.join("documents");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(Store {
                objects: Arc::new(LocalFileSystem::new_with_prefix(&dir)?),
                local_dir: Some(dir),
            })
        }
    }
}
