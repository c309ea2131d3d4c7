//! `GET /admin/services`, `POST /admin/services`, `PATCH /admin/services/{slug}` (catalog).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::catalog::service::{self as catalog, Changes};
use crate::admin::{AdminTag, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::catalog::model::{self as model, Service};
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;

/// A service as admins see it.
#[derive(Object)]
pub struct AdminService {
    pub slug: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub period_days: i32,
    /// False: off sale (existing access is untouched).
    pub active: bool,
    /// Days an access keeps working after `active_until`.
    pub grace_days: i32,
    /// Days before `active_until` at which the renewal reminder goes out, largest first
    /// (empty: no reminders).
    pub reminder_days: Vec<i32>,
    /// Where customers use the service (shown in the cabinet).
    pub access_url: Option<String>,
}

impl From<Service> for AdminService {
    fn from(s: Service) -> Self {
        AdminService {
            reminder_days: s.reminder_day_list(),
            slug: s.slug,
            name: s.name,
            price_minor: s.price_minor,
            currency: s.currency,
            period_days: s.period_days,
            active: s.active,
            grace_days: s.grace_days,
            access_url: s.access_url,
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewService {
    /// `[a-z0-9-]{1,64}`.
    pub slug: Str,
    pub name: Str,
    /// Minor units, ≥ 0 (or give `price`).
    pub price_minor: Option<i64>,
    /// The price as typed, read by `currency`: `12 990,00`, `12,990.00`, `12990`, `12 990.5`
    /// (ambiguous forms like `1,500` are refused); instead of `price_minor`. Sent together,
    /// they must agree, else 422 `price_conflict`.
    pub price: Option<Str>,
    /// ISO 4217, three letters.
    pub currency: Str,
    /// ≥ 1.
    pub period_days: i32,
    /// Default true.
    pub active: Option<bool>,
    /// 0–365, default 3: days the access keeps working after its period ends.
    pub grace_days: Option<i32>,
    /// Days before the period ends at which a renewal reminder goes out: whole days from 1 to
    /// less than `period_days` (and at most 365), at most 5 different ones, any order (repeats
    /// removed, stored largest first); `[]` sends none. Default `[7, 1]` (the days of it less
    /// than `period_days`). Otherwise 422 `invalid_reminder_days`.
    pub reminder_days: Option<Vec<i32>>,
    /// `http(s)://…` where customers use the service (shown in the cabinet).
    pub access_url: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ServicePatch {
    pub name: Option<Str>,
    pub price_minor: Option<i64>,
    /// The price as typed (see `NewService.price`); sent with `price_minor`, both must agree,
    /// else 422 `price_conflict`.
    pub price: Option<Str>,
    pub currency: Option<Str>,
    pub period_days: Option<i32>,
    pub active: Option<bool>,
    /// 0–365.
    pub grace_days: Option<i32>,
    /// Whole days from 1 to less than the service's `period_days` (at most 365), at most 5
    /// different ones (repeats removed; `[]`: no reminders); otherwise 422
    /// `invalid_reminder_days`, also when a new `period_days` is not longer than a stored day.
    pub reminder_days: Option<Vec<i32>>,
    /// An empty string removes it.
    pub access_url: Option<Str>,
}

#[derive(ApiResponse)]
pub enum ServiceCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<AdminService>),
}

crate::outcomes! {
    /// `GET /admin/services`.
    pub ListServicesOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `POST /admin/services`.
    pub CreateServiceOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        409: "A service with this slug exists (`service_exists`).",
        422: "A field breaks a rule (`validation_failed`), e.g. `grace_days` outside 0–365; or `reminder_days` has a day below 1, not less than `period_days` or above 365, or more than 5 different days (`invalid_reminder_days`); or `price` and `price_minor` both sent and not the same amount (`price_conflict`).",
    }
    /// `POST /admin/services/{slug}/rename`.
    pub RenameServiceOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such service (`not_found`).",
        409: "Another service has this slug, or had it before a rename (`slug_taken`).",
        422: "The new slug breaks a rule or is the current one (`validation_failed`).",
    }
    /// `PATCH /admin/services/{slug}`.
    pub UpdateServiceOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such service (`not_found`).",
        422: "A field breaks a rule (`validation_failed`), e.g. `grace_days` outside 0–365; or `reminder_days` has a day below 1, not less than `period_days` or above 365, or more than 5 different days (`invalid_reminder_days`); or `price` and `price_minor` both sent and not the same amount (`price_conflict`).",
    }
}

/// A service's new slug.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ServiceRename {
    /// `[a-z0-9-]{1,64}`, not used by another service (nor kept by one as an old slug).
    pub new_slug: Str,
}

pub struct AdminServicesApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminServicesApi {
    /// Every service, inactive ones included.
    #[oai(path = "/admin/services", method = "get")]
    async fn list_admin_services(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<AdminService>>, Fail<ListServicesOutcomes>> {
        authorize(&state, req, Permission::ReadServices).await?;
        let all = state.db.read(|c| Ok(model::list_all(c)?)).await?;
        Ok(Json(all.into_iter().map(AdminService::from).collect()))
    }

    /// Create a service.
    #[oai(path = "/admin/services", method = "post")]
    async fn create_service(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewService>,
    ) -> Result<ServiceCreated, Fail<CreateServiceOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageServices).await?;
        let b = body.0;
        if b.price_minor.is_none() && b.price.is_none() {
            let missing = ApiError::unprocessable(
                "validation_failed",
                "price (as typed, e.g. 12 990,00) or price_minor is required",
            );
            return Err(missing.into());
        }
        let changes = Changes {
            name: Some(b.name.0),
            price_minor: b.price_minor,
            price: b.price.map(|s| s.0),
            currency: Some(b.currency.0),
            period_days: Some(b.period_days),
            active: Some(b.active.unwrap_or(true)),
            grace_days: Some(b.grace_days.unwrap_or(model::DEFAULT_GRACE_DAYS)),
            reminder_days: b.reminder_days,
            access_url: b.access_url.map(|s| s.0),
        };
        let s = catalog::create(&state, &p, &b.slug, changes).await?;
        Ok(ServiceCreated::Created(Json(s.into())))
    }

    /// Change a service (`active: false` takes it off sale).
    #[oai(path = "/admin/services/:slug", method = "patch")]
    async fn update_service(
        &self,
        state: Data<&AppState>,
        req: &Request,
        slug: Path<String>,
        body: Json<ServicePatch>,
    ) -> Result<Json<AdminService>, Fail<UpdateServiceOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageServices).await?;
        let b = body.0;
        let changes = Changes {
            name: b.name.map(|s| s.0),
            price_minor: b.price_minor,
            price: b.price.map(|s| s.0),
            currency: b.currency.map(|s| s.0),
            period_days: b.period_days,
            active: b.active,
            grace_days: b.grace_days,
            reminder_days: b.reminder_days,
            access_url: b.access_url.map(|s| s.0),
        };
        let s = catalog::update(&state, &p, &slug, changes).await?;
        Ok(Json(s.into()))
    }

    /// Rename a service's slug: orders, accesses and links move with it in one transaction, and
    /// the old slug stays as an alias (`/buy/{old}` and `service=old` still reach the service).
    #[oai(path = "/admin/services/:slug/rename", method = "post")]
    async fn rename_service(
        &self,
        state: Data<&AppState>,
        req: &Request,
        slug: Path<String>,
        body: Json<ServiceRename>,
    ) -> Result<Json<AdminService>, Fail<RenameServiceOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageServices).await?;
        let s = catalog::rename(&state, &p, &slug, &body.0.new_slug.0).await?;
        Ok(Json(s.into()))
    }
}
