//! `GET /api/v1/services`.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::catalog::model;
use crate::http::outcomes::Fail;
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// What can be bought.
    Catalog,
}

/// A service as customers see it.
#[derive(Object)]
pub struct ServiceView {
    pub slug: String,
    pub name: String,
    /// Price in minor units of `currency` (cents).
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// How many days of access one purchase gives.
    pub period_days: i32,
    /// Days the access keeps working after its period ends (the cabinet warns meanwhile).
    pub grace_days: i32,
    /// Days before the period ends at which a renewal reminder email goes out, largest first.
    pub reminder_days: Vec<i32>,
    /// Where the service is used once bought (a course site, a VPN's page), if set.
    pub access_url: Option<String>,
}

crate::outcomes! {
    /// `GET /services`: only the shared answers.
    pub ListServicesOutcomes() {}
}

pub struct CatalogApi;

#[OpenApi]
impl CatalogApi {
    /// The catalog of active services.
    #[oai(path = "/services", method = "get", tag = "Tag::Catalog")]
    async fn list_services(
        &self,
        state: Data<&AppState>,
    ) -> Result<Json<Vec<ServiceView>>, Fail<ListServicesOutcomes>> {
        let services = state.db.read(|c| Ok(model::list_active(c)?)).await?;
        Ok(Json(
            services
                .into_iter()
                .map(|s| ServiceView {
                    reminder_days: s.reminder_day_list(),
                    slug: s.slug,
                    name: s.name,
                    price_minor: s.price_minor,
                    currency: s.currency,
                    period_days: s.period_days,
                    grace_days: s.grace_days,
                    access_url: s.access_url,
                })
                .collect(),
        ))
    }
}
