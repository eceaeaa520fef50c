//! argon2id hashing, always on the blocking pool so a hash (~20 ms) never stalls the executor,
//! and never more than [`hashing_slots`] at once: a burst of sign-ins waits its turn here
//! instead of taking every core from the requests beside it.

use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Hashes at once: half the cores (at least one), so that the other half keeps serving.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

async fn on_hashing_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .context("password hashing pool closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password hashing task failed")
}

pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    on_hashing_pool(move || hash_blocking(password.expose_secret())).await?
}

/// True when `password` matches the PHC string `phc`.
pub async fn verify(password: SecretString, phc: String) -> anyhow::Result<bool> {
    on_hashing_pool(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow!("stored hash unreadable: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// A hash of a random password, verified against when the mobile is unknown, so that an unknown
/// mobile costs the same time as a wrong password.
pub fn dummy_hash() -> anyhow::Result<String> {
    hash_blocking(&generate())
}

/// A random password for a new admin or a reset: 16 characters from an unambiguous alphabet,
/// always with letters and digits.
pub fn generate() -> String {
    const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut pick = |set: &[u8]| set[(rng.next_u32() as usize) % set.len()] as char;
    let mut password: String = (0..14)
        .map(|i| {
            if i % 3 == 2 {
                pick(DIGITS)
            } else {
                pick(LETTERS)
            }
        })
        .collect();
    password.push(pick(DIGITS));
    password.push(pick(LETTERS));
    password
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow!("password hashing failed: {e}"))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let phc = hash(SecretString::from("correct horse 1")).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify(SecretString::from("correct horse 1"), phc.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify(SecretString::from("wrong horse 1"), phc)
                .await
                .unwrap()
        );
    }

    #[test]
    fn generated_passwords_are_strong() {
        for _ in 0..50 {
            let p = generate();
            assert!(crate::domain::NewPassword::parse(&SecretString::from(p)).is_ok());
        }
    }
}
