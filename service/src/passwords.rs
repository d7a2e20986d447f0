//! Password hashing with Argon2id, run on tokio's blocking pool so a hash never stalls the
//! threads serving other requests.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::{Error, Result};

/// How expensive each hash is. Production keeps the defaults; tests lower them through the
/// same settings an operator would use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashingCost {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, two passes, one lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and checks passwords at one configured cost.
#[derive(Clone)]
pub struct Passwords {
    hasher: Arc<Argon2<'static>>,
    /// A hash of no one's password, verified when a login names an unknown email, so that
    /// answer takes as long as a wrong password and does not reveal which emails exist.
    dummy_hash: Arc<str>,
    /// One slot per core: each hash takes its configured memory, so a burst of logins must
    /// queue for the cores rather than start hundreds of hashes at once.
    slots: Arc<Semaphore>,
}

impl Passwords {
    /// # Errors
    /// A message when the cost is outside what Argon2 accepts.
    pub fn new(cost: HashingCost) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("invalid password hashing cost: {e}"))?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hasher
            .hash_password(b"not anyone's password")
            .map_err(|e| format!("cannot hash with this cost: {e}"))?
            .to_string();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            hasher: Arc::new(hasher),
            dummy_hash: dummy_hash.into(),
            slots: Arc::new(Semaphore::new(cores)),
        })
    }

    /// Hashes a new password into a PHC string (algorithm, cost and salt included).
    ///
    /// # Errors
    /// Internal, if hashing fails or the blocking pool is gone.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let hasher = Arc::clone(&self.hasher);
        let password = password.to_owned();

        self.run_blocking(move || {
            hasher
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
        })
        .await?
        .map_err(|e| Error::internal(HashError(e.to_string())))
    }

    /// Whether `password` matches `stored`; `None` checks against the dummy hash and is
    /// always false.
    ///
    /// # Errors
    /// Internal, if the blocking pool is gone.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let hasher = Arc::clone(&self.hasher);
        let password = password.to_owned();

        let matches = self
            .run_blocking(move || {
                PasswordHash::new(&stored)
                    .is_ok_and(|hash| hasher.verify_password(password.as_bytes(), &hash).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    /// Runs a hash on the blocking pool once a slot is free.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _slot = self.slots.acquire().await.map_err(Error::internal)?;
        let span = tracing::info_span!("password_hash");
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .in_current_span()
            .await
            .map_err(Error::internal)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
struct HashError(String);
