//! `Idempotency-Key` for admin writes that move money or create things: the first answer to a
//! key is stored and replayed for every repeat of the same request; the same key with another
//! request is refused; a repeat while the first still runs gets 409. Keys are per admin and
//! stored hashed; answers of 5xx (nothing known to have happened) are not kept, so a retry
//! runs again — and the gateway sees the same idempotency key derived from it.

use std::future::Future;

use diesel::prelude::*;
use poem::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::crypto::token_hash;
use crate::db::schema::idempotency_keys;
use crate::error::ErrorBody;
use crate::http::api_error::ApiError;
use crate::state::AppState;

/// How long a key is remembered.
pub const KEEP_SECS: i64 = 24 * 3600;
/// A first request silent for this long is taken to have died; a repeat may take over.
const ABANDONED_SECS: i64 = 300;

enum Claim {
    /// Ours to run.
    Fresh,
    /// Answered before: `(status, body)`.
    Answered(i32, String),
    /// Another request with the same key is running.
    Running,
    /// The key was used for a different request.
    Reused,
}

/// The request's `Idempotency-Key`, checked (400 `invalid_idempotency_key`).
pub fn header_key(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else { return Ok(None) };
    let k = v.to_str().unwrap_or_default();
    if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        ));
    }
    Ok(Some(k.to_string()))
}

fn claim(conn: &mut crate::db::DbConn, key: &str, fingerprint: &str, now: i64) -> QueryResult<Claim> {
    use diesel::sql_types::{BigInt, Text};
    let sql = |p: [&str; 3]| {
        format!(
            "INSERT INTO idempotency_keys (key, fingerprint, created_at) VALUES ({}, {}, {}) ON CONFLICT (key) DO NOTHING",
            p[0], p[1], p[2]
        )
    };

    let inserted = match conn {
        crate::db::DbConn::Sqlite(c) => diesel::sql_query(sql(["?1", "?2", "?3"]))
            .bind::<Text, _>(key)
            .bind::<Text, _>(fingerprint)
            .bind::<BigInt, _>(now)
            .execute(c)?,
        crate::db::DbConn::Pg(c) => diesel::sql_query(sql(["$1", "$2", "$3"]))
            .bind::<Text, _>(key)
            .bind::<Text, _>(fingerprint)
            .bind::<BigInt, _>(now)
            .execute(c)?,
        #[cfg(feature = "mysql")]
        crate::db::DbConn::Mysql(c) => crate::db::unless_duplicate(
            diesel::sql_query("INSERT INTO idempotency_keys (`key`, fingerprint, created_at) VALUES (?, ?, ?)")
                .bind::<Text, _>(key)
                .bind::<Text, _>(fingerprint)
                .bind::<BigInt, _>(now)
                .execute(c),
        )?,
    };
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (fp, status, body, created): (String, Option<i32>, Option<String>, i64) = idempotency_keys::table
        .find(key)
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
            idempotency_keys::created_at,
        ))
        .first(conn)?;
    if fp != fingerprint {
        return Ok(Claim::Reused);
    }
    if let (Some(s), Some(b)) = (status, body) {
        return Ok(Claim::Answered(s, b));
    }
    let taken = diesel::update(
        idempotency_keys::table
            .find(key)
            .filter(idempotency_keys::status_code.is_null())
            .filter(idempotency_keys::created_at.eq(created))
            .filter(idempotency_keys::created_at.lt(now - ABANDONED_SECS)),
    )
    .set(idempotency_keys::created_at.eq(now))
    .execute(conn)?;
    Ok(if taken == 1 { Claim::Fresh } else { Claim::Running })
}

/// Runs `f` once per (admin, Idempotency-Key); without the header it just runs `f`.
/// `fingerprint` names the request (operation, target, body); `f` gets the key to hand to a
/// gateway (stable across retries), or `None` without a header. `status` is what success answers.
pub async fn once<T, F, Fut>(
    state: &AppState,
    req: &Request,
    admin_id: &str,
    fingerprint: String,
    status: u16,
    f: F,
) -> Result<T, ApiError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    once_with_key(state, header_key(req)?, admin_id, fingerprint, status, f).await
}

/// [`once`] with the key already taken from the request (to run detached from it).
pub async fn once_with_key<T, F, Fut>(
    state: &AppState,
    header: Option<String>,
    admin_id: &str,
    fingerprint: String,
    status: u16,
    f: F,
) -> Result<T, ApiError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(header) = header else { return f(None).await };
    let key = token_hash(&format!("{admin_id}\n{header}"));
    let fp = token_hash(&fingerprint);
    let now = state.clock.now();
    let (k, p) = (key.clone(), fp.clone());
    match state.db.write(move |c| Ok(claim(c, &k, &p, now)?)).await? {
        Claim::Fresh => {}
        Claim::Answered(s, body) => return replay(s, &body),
        Claim::Running => {
            return Err(ApiError::conflict(
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still running; repeat it in a moment.",
            ))
        }
        Claim::Reused => {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
            ))
        }
    }
    let result = f(Some(format!("keyturn-{}", &key[..40]))).await;
    let stored = match &result {
        Ok(v) => Some((i32::from(status), serde_json::to_string(v).unwrap_or_default())),
        // Not kept: outages and rate limits, and `amount_changed` (the amount shown no longer
        // holds; after a reload the same key may try again, e.g. to finish a lost operation).
        Err(e)
            if e.parts().0.as_u16() < 500 && e.parts().0.as_u16() != 429 && e.parts().1.error != "amount_changed" =>
        {
            Some((i32::from(e.parts().0.as_u16()), serde_json::to_string(e.parts().1).unwrap_or_default()))
        }
        Err(_) => None,
    };
    let k = key.clone();
    let saved = state
        .db
        .write(move |c| {
            let q = idempotency_keys::table.find(&k);
            match stored {
                Some((s, body)) => diesel::update(q)
                    .set((idempotency_keys::status_code.eq(s), idempotency_keys::response_body.eq(body)))
                    .execute(c)?,
                None => diesel::delete(q).execute(c)?,
            };
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        tracing::warn!(event = "idempotency_save_failed", error = %e, "answer not stored for replay");
    }
    result
}

fn replay<T: DeserializeOwned>(status: i32, body: &str) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| anyhow::anyhow!("stored answer unreadable: {e}").into());
    }
    let body: ErrorBody = serde_json::from_str(body).map_err(|e| anyhow::anyhow!("stored error unreadable: {e}"))?;
    Err(ApiError::from_parts(status as u16, body))
}

/// Forgets keys older than [`KEEP_SECS`].
pub fn delete_old(conn: &mut crate::db::DbConn, now: i64) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - KEEP_SECS))).execute(conn)
}
