//! `POST /api/v1/orders`, `GET /api/v1/orders/{order_id}`.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::http::api_error::ApiError;
use crate::http::client_ip::client_ip;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::orders::model;
use crate::orders::service::{create_order, OrderInput};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Placing and following orders.
    Orders,
}

/// A new order.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CreateOrder {
    /// Slug of the service from the catalog.
    pub service: Str,
    pub name: Str,
    pub email: Str,
    pub phone: Option<Str>,
    pub locale: Option<Str>,
    /// hCaptcha response token (required when captcha is configured).
    pub captcha_token: Option<Str>,
}

/// The created order and where to pay it.
#[derive(Object)]
pub struct OrderCreated {
    pub order_id: String,
    pub status: model::OrderStatus,
    /// Send the customer here to pay.
    pub payment_url: String,
}

/// An order's status.
#[derive(Object)]
pub struct OrderStatus {
    pub order_id: String,
    /// pending_payment, paid, provisioned, failed, expired, cancelled or refunded.
    pub status: model::OrderStatus,
}

#[derive(ApiResponse)]
pub enum CreateOrderResponse {
    /// Order created; redirect the customer to `payment_url`.
    #[oai(status = 201)]
    Created(Json<OrderCreated>),
}

crate::outcomes! {
    /// `POST /orders`.
    pub CreateOrderOutcomes(json) {
        400: "Malformed body (`invalid_body`), or a captcha is configured and `captcha_token` is missing (`captcha_required`).",
        403: "The captcha was not solved (`captcha_failed`).",
        422: "A field breaks a rule (`validation_failed`) or the service is not sold (`unknown_service`).",
        429: "Too many orders from this address (`rate_limited`); retry after `Retry-After` seconds.",
        503: "The captcha service or the database does not answer (`captcha_unavailable`, `unavailable`).",
    }
    /// `GET /orders/{order_id}`.
    pub GetOrderOutcomes() {
        404: "No such order (`not_found`).",
    }
}

pub struct OrdersApi;

#[OpenApi]
impl OrdersApi {
    /// Place an order for a service.
    #[oai(path = "/orders", method = "post", tag = "Tag::Orders")]
    async fn create_order(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<CreateOrder>,
    ) -> Result<CreateOrderResponse, Fail<CreateOrderOutcomes>> {
        let ip = client_ip(req, &state.settings.trusted_proxies);
        let b = body.0;
        let input = OrderInput {
            service: b.service.0,
            name: b.name.0,
            email: b.email.0,
            phone: b.phone.map(|p| p.0),
            locale: b.locale.map(|l| l.0),
            accept_language: req.header("accept-language").map(str::to_string),
            captcha_token: b.captcha_token.map(|t| t.0),
        };
        let order = create_order(&state, ip, input).await?;
        Ok(CreateOrderResponse::Created(Json(OrderCreated {
            payment_url: state.link(&format!("/pay/{}", order.id)),
            order_id: order.id.into(),
            status: order.status,
        })))
    }

    /// An order's status (the id is unguessable; nothing personal is returned).
    #[oai(path = "/orders/:order_id", method = "get", tag = "Tag::Orders")]
    async fn get_order(
        &self,
        state: Data<&AppState>,
        order_id: Path<String>,
    ) -> Result<Json<OrderStatus>, Fail<GetOrderOutcomes>> {
        let id = order_id.0;
        if !crate::crypto::is_key(&id) {
            return Err(ApiError::not_found("No such order.").into());
        }
        let order = state.db.read(move |c| Ok(model::find_by_id(c, &id)?)).await?;
        let order = order.ok_or_else(|| ApiError::not_found("No such order."))?;
        Ok(Json(OrderStatus { order_id: order.id.into(), status: order.status }))
    }
}
