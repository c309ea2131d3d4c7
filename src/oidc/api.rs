//! `POST/GET /admin/oidc-clients`, `DELETE /admin/oidc-clients/{client_id}` (owner): the apps
//! that "Sign in with keyturn". A confidential client's secret is shown once, at creation.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::reauth::require_recent;
use crate::admin::access::roles::Permission;
use crate::admin::{AdminTag, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::oidc::clients::{self, NewClient};
use crate::oidc::model::{self, Client};
use crate::state::AppState;

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewOidcClient {
    /// Shown to admins, e.g. `Grafana` (1–100 characters).
    pub name: Str,
    /// Where the app receives the code; matched exactly (1–10 absolute URLs, no fragment).
    pub redirect_uris: Vec<Str>,
    /// Where RP-initiated logout may return to (exact match; optional).
    pub post_logout_redirect_uris: Option<Vec<Str>>,
    /// A service slug: customers without open access to it are turned away (`access_denied`).
    pub service: Option<Str>,
    /// A public client (single-page or native app) has no secret; PKCE protects its codes.
    pub public: Option<bool>,
}

/// A new client: `client_secret` (confidential clients) is shown this once.
#[derive(Object)]
pub struct CreatedOidcClient {
    pub client_id: String,
    /// `kts_…`, for `client_secret_basic` or `client_secret_post`. Not retrievable later.
    pub client_secret: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub service: Option<String>,
    pub public: bool,
}

/// A client as listed (never its secret).
#[derive(Object)]
pub struct OidcClientView {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub service: Option<String>,
    pub public: bool,
    /// RFC 3339.
    pub created_at: String,
}

fn view(c: Client) -> OidcClientView {
    OidcClientView {
        redirect_uris: c.redirect_uris(),
        post_logout_redirect_uris: c.post_logout_redirect_uris(),
        public: c.is_public(),
        client_id: c.client_id,
        name: c.name,
        service: c.service_slug,
        created_at: rfc3339(c.created_at),
    }
}

#[derive(ApiResponse)]
pub enum OidcClientCreated {
    /// Created; store the secret now.
    #[oai(status = 201)]
    Created(Json<CreatedOidcClient>),
}

#[derive(ApiResponse)]
pub enum OidcClientDeleted {
    /// Deleted, with every code and token issued to it.
    #[oai(status = 204)]
    Done,
}

crate::outcomes! {
    /// `POST /admin/oidc-clients`.
    pub CreateOidcClientOutcomes(json) {
        401: UNAUTHENTICATED,
        403: "The role does not allow this (`forbidden`), two-factor enrolment comes first (`totp_enrolment_required`), the request came from another origin (`csrf_rejected`), or the password must be confirmed first (`reauthentication_required`).",
        422: "The name, a URI or the service breaks a rule (`validation_failed`).",
    }
    /// `GET /admin/oidc-clients`.
    pub ListOidcClientsOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `DELETE /admin/oidc-clients/{client_id}`.
    pub DeleteOidcClientOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such client (`not_found`).",
    }
}

fn strings(v: &[Str]) -> Vec<String> {
    v.iter().map(|s| s.0.clone()).collect()
}

pub struct AdminOidcClientsApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminOidcClientsApi {
    /// Register an app that signs customers in with keyturn (owner, recent re-authentication).
    #[oai(path = "/admin/oidc-clients", method = "post")]
    async fn create_oidc_client(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewOidcClient>,
    ) -> Result<OidcClientCreated, Fail<CreateOidcClientOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        require_recent(&state, &p)?;
        let redirect = strings(&body.redirect_uris);
        let logout = strings(body.post_logout_redirect_uris.as_deref().unwrap_or_default());
        let new = NewClient {
            name: &body.name,
            redirect_uris: &redirect,
            post_logout_redirect_uris: &logout,
            service: body.service.as_deref(),
            public: body.public.unwrap_or(false),
        };
        let (c, secret) = clients::create_client(&state, &p, new).await?;
        let v = view(c);
        Ok(OidcClientCreated::Created(Json(CreatedOidcClient {
            client_id: v.client_id,
            client_secret: secret,
            name: v.name,
            redirect_uris: v.redirect_uris,
            post_logout_redirect_uris: v.post_logout_redirect_uris,
            service: v.service,
            public: v.public,
        })))
    }

    /// Every registered app (owner).
    #[oai(path = "/admin/oidc-clients", method = "get")]
    async fn list_oidc_clients(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<OidcClientView>>, Fail<ListOidcClientsOutcomes>> {
        authorize(&state, req, Permission::ManageSettings).await?;
        let all = state.db.read(|c| Ok(model::clients(c)?)).await?;
        Ok(Json(all.into_iter().map(view).collect()))
    }

    /// Delete an app: its tokens stop working at once (owner).
    #[oai(path = "/admin/oidc-clients/:client_id", method = "delete")]
    async fn delete_oidc_client(
        &self,
        state: Data<&AppState>,
        req: &Request,
        client_id: Path<String>,
    ) -> Result<OidcClientDeleted, Fail<DeleteOidcClientOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        clients::delete_client(&state, &p, &client_id).await?;
        Ok(OidcClientDeleted::Done)
    }
}
