//! Access tokens: HS256 JWTs naming a user id and the token version they were issued at.
//! Nothing else about the user is put in them or trusted from them.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: u64 = 5;

/// The signing secret; its `Debug` shows nothing, so it cannot end up in a log by accident.
#[derive(Clone)]
pub struct JwtSecret(Arc<[u8]>);

impl JwtSecret {
    pub const MIN_LEN: usize = 32;

    /// # Errors
    /// A message when the secret is shorter than 32 bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, String> {
        let secret = secret.into();
        if secret.len() < Self::MIN_LEN {
            return Err(format!(
                "JWT_SECRET must be at least {} bytes long",
                Self::MIN_LEN
            ));
        }
        Ok(Self(secret.into()))
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(..)")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    /// The user's token version when this token was issued.
    ver: i64,
    /// Written on every token issued; not needed to accept one.
    #[serde(default)]
    iat: Option<i64>,
    exp: i64,
}

/// What a verified token says: whose it is and which token version it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: i64,
    pub token_version: i64,
}

/// A freshly issued token and how long it lives.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

/// Issues and verifies tokens with one secret and lifetime.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl Tokens {
    /// # Errors
    /// A message when the key cannot be built from the secret.
    pub fn new(secret: &JwtSecret, ttl_secs: u64) -> Result<Self, String> {
        let encoding = EncodingKey::from_secret(&secret.0).map_err(|e| e.to_string())?;
        let decoding = DecodingKey::from_secret(&secret.0).map_err(|e| e.to_string())?;

        // Pinning HS256 refuses `none` and every algorithm-confusion trick.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from(["exp".to_owned(), "sub".to_owned()]);

        Ok(Self {
            encoding,
            decoding,
            validation,
            ttl_secs,
        })
    }

    /// # Errors
    /// Internal, if signing fails.
    pub fn issue(&self, user_id: i64, token_version: i64) -> Result<IssuedToken> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl_secs).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: user_id.to_string(),
            ver: token_version,
            iat: Some(now),
            exp: now.saturating_add(ttl),
        };

        let access_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
                .map_err(Error::internal)?;
        Ok(IssuedToken {
            access_token,
            expires_in: self.ttl_secs,
        })
    }

    /// Checks the signature, algorithm and expiry, and reads the subject.
    ///
    /// # Errors
    /// [`Error::InvalidToken`] for any token that fails a check; the reason is not told.
    pub fn verify(&self, token: &str) -> Result<TokenSubject> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| Error::InvalidToken)?;
        let user_id = data.claims.sub.parse().map_err(|_| Error::InvalidToken)?;

        Ok(TokenSubject {
            user_id,
            token_version: data.claims.ver,
        })
    }
}
