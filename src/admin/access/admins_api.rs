//! `GET/POST /admin/admins`, `POST /admin/admins/{username}/disable | enable` (owner).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::access::service::{self, Actor};
use crate::admin::{AdminTag, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewAdmin {
    /// 3–64 of a-z, 0-9, `.`, `_`, `-`.
    pub username: Str,
    /// owner | operator | support | catalog | viewer.
    pub role: Str,
    /// The same policy as customers' passwords.
    pub password: Str,
}

/// An administrator.
#[derive(Object)]
pub struct AdminView {
    pub username: String,
    pub role: String,
    pub status: crate::admin::access::model::AdminStatus,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(ApiResponse)]
pub enum AdminCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<AdminView>),
}

#[derive(ApiResponse)]
pub enum AdminChanged {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn view(a: crate::admin::access::model::Admin) -> AdminView {
    AdminView { username: a.username, role: a.role, status: a.status, created_at: rfc3339(a.created_at) }
}

crate::outcomes! {
    /// `POST /admin/admins`.
    pub CreateAdminOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        409: "The username is taken (`username_taken`).",
        422: "The username, role or password breaks a rule (`validation_failed`, `weak_password`, `password_too_long`).",
        503: "Password hashing is saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
    /// `GET /admin/admins`.
    pub ListAdminsOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `POST /admin/admins/{username}/disable` and `/enable`.
    pub AdminEnabledOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such administrator (`not_found`).",
        409: "You cannot disable yourself or the last owner (`cannot_disable_self`, `last_owner`).",
    }
}

pub struct AdminAdminsApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminAdminsApi {
    /// Create an administrator (owner).
    #[oai(path = "/admin/admins", method = "post")]
    async fn create_admin(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewAdmin>,
    ) -> Result<AdminCreated, Fail<CreateAdminOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAdmins).await?;
        let actor = Actor { name: &p.admin.username, ip: &p.ip };
        let now = state.clock.now();
        let a = service::create_admin(&state.db, &state.hasher, now, actor, &body.username, &body.role, &body.password)
            .await?;
        Ok(AdminCreated::Created(Json(view(a))))
    }

    /// Every administrator (owner).
    #[oai(path = "/admin/admins", method = "get")]
    async fn list_admins(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<AdminView>>, Fail<ListAdminsOutcomes>> {
        authorize(&state, req, Permission::ManageAdmins).await?;
        let all = state.db.read(|c| Ok(crate::admin::access::model::list(c)?)).await?;
        Ok(Json(all.into_iter().map(view).collect()))
    }

    /// Disable an administrator: their sessions end at once and they cannot log in (owner;
    /// not yourself).
    #[oai(path = "/admin/admins/:username/disable", method = "post")]
    async fn disable_admin(
        &self,
        state: Data<&AppState>,
        req: &Request,
        username: Path<String>,
    ) -> Result<AdminChanged, Fail<AdminEnabledOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAdmins).await?;
        service::set_admin_enabled(&state, &p, &username, false).await?;
        Ok(AdminChanged::Done)
    }

    /// Enable a disabled administrator again (owner).
    #[oai(path = "/admin/admins/:username/enable", method = "post")]
    async fn enable_admin(
        &self,
        state: Data<&AppState>,
        req: &Request,
        username: Path<String>,
    ) -> Result<AdminChanged, Fail<AdminEnabledOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAdmins).await?;
        service::set_admin_enabled(&state, &p, &username, true).await?;
        Ok(AdminChanged::Done)
    }
}
