//! `POST/GET /admin/api-keys`, `DELETE /admin/api-keys/{key_id}` (owner): server keys for the
//! access API. A key is shown once, at creation; only its SHA-256 is kept.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::access::model::{self, ApiKey};
use crate::access::service;
use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::reauth::require_recent;
use crate::admin::access::roles::Permission;
use crate::admin::{AdminTag, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. `vpn-gateway` (1–100 characters).
    pub name: Str,
    /// `access:read` and/or `access:check`.
    pub scopes: Vec<Str>,
}

/// A new key: `key` is shown this once.
#[derive(Object)]
pub struct CreatedApiKey {
    pub key_id: String,
    /// `kt_…`: send it as `Authorization: Bearer kt_…`. Not retrievable later.
    pub key: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// A key as listed (never the key itself).
#[derive(Object)]
pub struct ApiKeyView {
    pub key_id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Username of the admin who created it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when revoked.
    pub revoked_at: Option<String>,
}

fn scopes_of(k: &ApiKey) -> Vec<String> {
    k.scopes.split(',').map(String::from).collect()
}

#[derive(ApiResponse)]
pub enum ApiKeyCreated {
    /// Created; store the key now.
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
}

#[derive(ApiResponse)]
pub enum ApiKeyRevoked {
    /// Revoked (at once, on every instance).
    #[oai(status = 204)]
    Done,
}

crate::outcomes! {
    /// `POST /admin/api-keys`.
    pub CreateApiKeyOutcomes(json) {
        401: UNAUTHENTICATED,
        403: "The role does not allow this (`forbidden`), two-factor enrolment comes first (`totp_enrolment_required`), the request came from another origin (`csrf_rejected`), or the password must be confirmed first (`reauthentication_required`).",
        422: "The name or a scope breaks a rule (`validation_failed`).",
    }
    /// `GET /admin/api-keys`.
    pub ListApiKeysOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `DELETE /admin/api-keys/{key_id}`.
    pub RevokeApiKeyOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such key (`not_found`).",
    }
}

pub struct AdminApiKeysApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminApiKeysApi {
    /// Create a server API key (owner, recent re-authentication); the key is shown once.
    #[oai(path = "/admin/api-keys", method = "post")]
    async fn create_api_key(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewApiKey>,
    ) -> Result<ApiKeyCreated, Fail<CreateApiKeyOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageApiKeys).await?;
        require_recent(&state, &p)?;
        let scopes: Vec<String> = body.scopes.iter().map(|s| s.0.clone()).collect();
        let (k, key) = service::create_key(&state, &p, &body.name, &scopes).await?;
        Ok(ApiKeyCreated::Created(Json(CreatedApiKey { scopes: scopes_of(&k), key_id: k.id, key, name: k.name })))
    }

    /// Every API key, revoked ones included (owner).
    #[oai(path = "/admin/api-keys", method = "get")]
    async fn list_api_keys(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<ApiKeyView>>, Fail<ListApiKeysOutcomes>> {
        authorize(&state, req, Permission::ManageApiKeys).await?;
        let all = state.db.read(|c| Ok(model::list(c)?)).await?;
        Ok(Json(
            all.into_iter()
                .map(|(k, by)| ApiKeyView {
                    scopes: scopes_of(&k),
                    key_id: k.id,
                    name: k.name,
                    prefix: k.key_prefix,
                    created_by: by,
                    created_at: rfc3339(k.created_at),
                    revoked_at: k.revoked_at.map(rfc3339),
                })
                .collect(),
        ))
    }

    /// Revoke an API key (owner).
    #[oai(path = "/admin/api-keys/:key_id", method = "delete")]
    async fn revoke_api_key(
        &self,
        state: Data<&AppState>,
        req: &Request,
        key_id: Path<String>,
    ) -> Result<ApiKeyRevoked, Fail<RevokeApiKeyOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageApiKeys).await?;
        service::revoke_key(&state, &p, &key_id).await?;
        Ok(ApiKeyRevoked::Done)
    }
}
