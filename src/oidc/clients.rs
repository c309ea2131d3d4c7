//! Relying parties, managed by owners: create (the secret is shown once and kept as SHA-256),
//! list, delete (with every code and token issued to the client). Every change is audited.

use serde_json::json;

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::crypto::{random_id, random_token, token_hash};
use crate::http::api_error::ApiError;
use crate::oidc::model::{self, Client};
use crate::state::AppState;

/// Prefix of every client secret.
pub const SECRET_PREFIX: &str = "kts_";
/// Most redirect URIs per client.
const MAX_URIS: usize = 10;

/// What an owner asks for.
pub struct NewClient<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub service: Option<&'a str>,
    pub public: bool,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::unprocessable("validation_failed", msg)
}

/// A redirect URI we accept for registration: an absolute `https://` URL (or `http://` to a
/// loopback host, or to any host while keyturn itself runs on plain http), no fragment, no
/// userinfo, nothing to normalise away; matched later byte for byte.
fn check_uri(uri: &str, https_only: bool) -> Result<(), ApiError> {
    let bad = || invalid(format!("not a usable redirect URI: {}", uri.chars().take(100).collect::<String>()));
    if uri.is_empty() || uri.len() > 2048 || uri.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return Err(bad());
    }
    let url = url::Url::parse(uri).map_err(|_| bad())?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && (loopback || !https_only));
    if !scheme_ok || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad());
    }
    if url.host_str().is_none() || url.as_str() != uri && url.as_str() != format!("{uri}/") {
        return Err(bad());
    }
    Ok(())
}

fn check_uris(uris: &[String], https_only: bool, what: &str, required: bool) -> Result<Vec<String>, ApiError> {
    if (required && uris.is_empty()) || uris.len() > MAX_URIS {
        return Err(invalid(format!("{what} must hold 1 to {MAX_URIS} URIs")));
    }
    let mut out: Vec<String> = Vec::new();
    for u in uris {
        check_uri(u, https_only)?;
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    Ok(out)
}

/// Creates a client; returns it with its secret (confidential clients), never stored or shown again.
pub async fn create_client(
    state: &AppState,
    p: &AdminPrincipal,
    new: NewClient<'_>,
) -> Result<(Client, Option<String>), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name must be 1 to 100 characters"));
    }
    let https_only = state.settings.is_https();
    let redirect = check_uris(new.redirect_uris, https_only, "redirect_uris", true)?;
    let logout = check_uris(new.post_logout_redirect_uris, https_only, "post_logout_redirect_uris", false)?;
    let service = new.service.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    if let Some(slug) = service.clone() {
        let known = crate::crypto::is_key(&slug)
            && state.db.read(move |c| Ok(crate::catalog::model::find_by_slug(c, &slug)?)).await?.is_some();
        if !known {
            return Err(invalid("service: no such service in the catalog"));
        }
    }
    let secret = (!new.public).then(|| format!("{SECRET_PREFIX}{}", random_token()));
    let client = Client {
        client_id: random_id("ktc"),
        name: name.to_string(),
        secret_hash: secret.as_deref().map(token_hash),
        redirect_uris: serde_json::to_string(&redirect).unwrap_or_default(),
        post_logout_redirect_uris: serde_json::to_string(&logout).unwrap_or_default(),
        service_slug: service,
        created_by: p.admin.id.to_string(),
        created_at: state.clock.now(),
    };
    let event = Event::new(&p.admin.username, &p.ip, "oidc_client.create", &client.client_id).after(json!({
        "name": client.name, "redirect_uris": redirect, "post_logout_redirect_uris": logout,
        "service": client.service_slug, "public": new.public,
    }));
    let stored = client.clone();
    let now = client.created_at;
    state
        .db
        .write(move |c| {
            model::insert_client(c, &stored)?;
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(event = "oidc_client_created", client_id = %client.client_id, admin_id = %p.admin.id, "OIDC client created");
    Ok((client, secret))
}

/// Deletes a client and what was issued to it (404 when unknown).
pub async fn delete_client(state: &AppState, p: &AdminPrincipal, client_id: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let event = Event::new(&p.admin.username, &p.ip, "oidc_client.delete", client_id);
    let id = client_id.to_string();
    let found = state
        .db
        .write(move |c| {
            let Some(before) = model::find_client(c, &id)? else { return Ok(false) };
            model::delete_client(c, &id)?;
            event.before(json!({"name": before.name, "redirect_uris": before.redirect_uris()})).append(c, now)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::not_found("No such client."));
    }
    tracing::info!(event = "oidc_client_deleted", client_id, admin_id = %p.admin.id, "OIDC client deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_uri;

    #[test]
    fn redirect_uris_are_absolute_and_have_nothing_to_normalise() {
        for ok in ["https://app.example/cb", "https://app.example:8443/cb?x=1", "http://localhost:3000/cb"] {
            assert!(check_uri(ok, true).is_ok(), "{ok}");
        }
        assert!(check_uri("http://app.example/cb", false).is_ok(), "plain http while keyturn is plain http");
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#f",
            "https://user@app.example/cb",
            "https://app.example/a/../cb",
            "https://APP.example/cb",
            "javascript:alert(1)",
            "/cb",
            "https://app.example/c b",
            "https://app.example\\@evil.example/",
            "",
        ] {
            assert!(check_uri(bad, true).is_err(), "{bad}");
        }
    }
}
