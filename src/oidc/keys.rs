//! The RS256 signing keys: generated on first need (and by `keyturn serve` at start), kept in
//! the database so every instance signs and publishes the same keys, rotated by
//! `keyturn oidc rotate-keys`. A retired key stays in the JWKS until every token it signed has
//! expired. JOSE itself (headers, signatures, verification) is `jsonwebtoken`'s; RSA key
//! generation and the PEM/DER/JWK encodings are the `rsa` crate's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::crypto::random_id;
use crate::db::{Db, DbError};
use crate::oidc::model::{self, SigningKey};
use crate::oidc::TOKEN_TTL_SECS;

/// RSA modulus size.
const BITS: usize = 2048;

/// How long after its retirement a key stays published: the longest-lived token it signed
/// (an ID token) plus a margin for clock skew and cached JWKS.
pub const PUBLISHED_AFTER_RETIREMENT_SECS: i64 = TOKEN_TTL_SECS + 300;

fn generate(now: i64) -> anyhow::Result<SigningKey> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, BITS)?;
    let pem = key.to_pkcs8_pem(LineEnding::LF)?;
    Ok(SigningKey {
        kid: random_id("k"),
        private_pem: pem.to_string(),
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        created_at: now,
        retired_at: None,
    })
}

async fn generate_blocking(now: i64) -> Result<SigningKey, DbError> {
    tokio::task::spawn_blocking(move || generate(now))
        .await
        .map_err(|e| DbError::Panicked(e.to_string()))?
        .map_err(|e| DbError::Panicked(format!("RSA key generation failed: {e}")))
}

/// The key that signs now: the newest unretired one, generated when there is none yet.
pub async fn signing_key(db: &Db, now: i64) -> Result<SigningKey, DbError> {
    let current = db.read(|c| Ok(model::keys(c)?.into_iter().find(|k| k.retired_at.is_none()))).await?;
    if let Some(k) = current {
        return Ok(k);
    }
    let fresh = generate_blocking(now).await?;
    // Another request (or instance) may have generated one meanwhile: keep the first.
    let key = db
        .write(move |c| {
            if let Some(k) = model::keys(c)?.into_iter().find(|k| k.retired_at.is_none()) {
                return Ok(k);
            }
            model::insert_key(c, &fresh)?;
            Ok(fresh)
        })
        .await?;
    tracing::info!(event = "oidc_key_created", kid = %key.kid, "OpenID Connect signing key generated");
    Ok(key)
}

/// Rotation: a new key signs from now on, the previous ones are retired (still published until
/// their tokens expire) and keys retired long enough ago are deleted. Returns the new `kid`.
pub async fn rotate(db: &Db, now: i64) -> Result<String, DbError> {
    let fresh = generate_blocking(now).await?;
    let kid = fresh.kid.clone();
    let deleted = db
        .write(move |c| {
            model::retire_keys(c, now)?;
            model::insert_key(c, &fresh)?;
            Ok(model::delete_keys_retired_before(c, now - PUBLISHED_AFTER_RETIREMENT_SECS)?)
        })
        .await?;
    tracing::info!(event = "oidc_keys_rotated", kid = %kid, deleted, "OpenID Connect signing key rotated");
    Ok(kid)
}

fn published(k: &SigningKey, now: i64) -> bool {
    k.retired_at.is_none_or(|r| r + PUBLISHED_AFTER_RETIREMENT_SECS > now)
}

/// The JWKS document: every published public key.
pub async fn jwks(db: &Db, now: i64) -> Result<Value, DbError> {
    signing_key(db, now).await?;
    let keys = db.read(|c| Ok(model::keys(c)?)).await?;
    let keys: Vec<Value> = keys
        .iter()
        .filter(|k| published(k, now))
        .map(|k| json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e}))
        .collect();
    Ok(json!({ "keys": keys }))
}

/// Signs `claims` as a compact JWS (RS256, with the key's `kid`).
pub async fn sign<T: Serialize>(db: &Db, now: i64, claims: &T) -> Result<String, DbError> {
    sign_with(signing_key(db, now).await?, claims)
}

/// Signs `claims` with `key` (loaded beforehand with [`signing_key`]).
pub fn sign_with<T: Serialize>(key: SigningKey, claims: &T) -> Result<String, DbError> {
    let fail = |e: String| DbError::Panicked(format!("signing failed: {e}"));
    let private = RsaPrivateKey::from_pkcs8_pem(&key.private_pem).map_err(|e| fail(e.to_string()))?;
    let der = private.to_pkcs1_der().map_err(|e| fail(e.to_string()))?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).map_err(|e| fail(e.to_string()))
}

/// Verifies a token we issued: RS256 only (never `none`, never an HMAC keyed with a public key),
/// signed by a published key named by its `kid`, issued by us for `audience` when given. The
/// expiry is not checked (`id_token_hint` may be expired, OpenID Connect RP-Initiated Logout §2).
pub async fn verify<T: DeserializeOwned>(
    db: &Db,
    now: i64,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Result<Option<T>, DbError> {
    let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
    if header.alg != Algorithm::RS256 {
        return Ok(None);
    }
    let Some(kid) = header.kid else { return Ok(None) };
    let keys = db.read(|c| Ok(model::keys(c)?)).await?;
    let Some(key) = keys.iter().find(|k| k.kid == kid && published(k, now)) else { return Ok(None) };
    let Ok(decoding) = DecodingKey::from_rsa_components(&key.n, &key.e) else { return Ok(None) };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    Ok(jsonwebtoken::decode::<T>(token, &decoding, &validation).ok().map(|d| d.claims))
}
