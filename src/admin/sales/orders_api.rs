//! `GET /admin/orders`, `GET /admin/orders/{order_id}`.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::admin::access::auth::authorize;
use crate::admin::access::roles::Permission;
use crate::admin::paging;
use crate::admin::sales::model::{self as orders, Filter};
use crate::admin::{AdminTag, BAD_QUERY, REFUSED, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::crypto::is_key;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::orders::model::OrderStatus;
use crate::payments::gateways::GatewayId;
use crate::payments::model::PaymentStatus;
use crate::payments::ops::model::OpStatus;
use crate::payments::ops::OpKind;
use crate::state::AppState;

/// An order in the listing.
#[derive(Object)]
pub struct AdminOrder {
    pub order_id: String,
    pub status: OrderStatus,
    pub amount_minor: i64,
    pub currency: String,
    /// The service's slug.
    /// The catalog service; absent for an invoice with a free description.
    pub service: Option<String>,
    /// The invoice's description, when it has one.
    pub item: Option<String>,
    pub email: String,
    /// RFC 3339.
    pub created_at: String,
    /// The gateway of the latest payment, if any was made.
    pub gateway: Option<GatewayId>,
    /// Why the order, though paid, was given to no account: `account_revoked` (the address's
    /// account is revoked or erased) or `account_suspended`. Refund the payment (or, for a
    /// suspended account, reinstate it and extend its access). On a gateway's renewal order,
    /// `amount_mismatch`: the subscription charged another amount or currency than agreed.
    pub hold_reason: Option<String>,
}

/// One page of orders, newest first.
#[derive(Object)]
pub struct OrderPage {
    pub orders: Vec<AdminOrder>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A payment of an order.
#[derive(Object)]
pub struct AdminPayment {
    pub payment_id: String,
    pub gateway: GatewayId,
    /// The gateway's own id of the payment, to find it in the gateway's dashboard: Stripe's
    /// PaymentIntent (a subscription's invoice, or a Checkout Session when it named neither),
    /// PayPal's capture or sale, FreedomPay's payment, and so on.
    pub gateway_payment_id: String,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub currency: String,
    /// Money taken (0 while only authorised).
    pub captured_minor: i64,
    /// Money given back (or being given back) by refunds: ours are reserved before the gateway
    /// is asked and stay reserved while their outcome is unknown; refunds reported by the
    /// gateway's callbacks count too.
    pub refunded_minor: i64,
}

/// A gateway callback as recorded (mismatches and refusals included).
#[derive(Object)]
pub struct AdminPaymentEvent {
    pub event_id: String,
    pub gateway: GatewayId,
    pub kind: String,
    pub outcome: String,
    pub detail: String,
    /// RFC 3339.
    pub received_at: String,
}

/// An admin's capture, cancel or refund of a payment.
#[derive(Object)]
pub struct AdminOperation {
    pub operation_id: String,
    pub payment_id: String,
    /// capture | cancel | refund.
    pub kind: OpKind,
    pub amount_minor: i64,
    /// pending | succeeded | failed | unknown (the gateway did not answer: a refund's amount
    /// stays reserved; repeat the request with the same Idempotency-Key to settle it).
    pub status: OpStatus,
    /// The gateway's id for it, when done.
    pub gateway_reference: Option<String>,
    /// Why it failed.
    pub detail: String,
    /// The administrator.
    pub actor: String,
    /// RFC 3339.
    pub created_at: String,
}

/// An order with its payments and callback history.
#[derive(Object)]
pub struct AdminOrderDetail {
    #[oai(flatten)]
    pub order: AdminOrder,
    pub customer_name: String,
    /// The language of the customer's emails and pages for this order: `en`, `ru`, `pl`, `sr`.
    pub locale: String,
    pub account_id: Option<String>,
    pub paid_at: Option<String>,
    pub payments: Vec<AdminPayment>,
    pub events: Vec<AdminPaymentEvent>,
    pub operations: Vec<AdminOperation>,
}

fn view(o: crate::orders::model::Order, gateway: Option<GatewayId>) -> AdminOrder {
    AdminOrder {
        order_id: o.id.into(),
        status: o.status,
        amount_minor: o.amount_minor,
        currency: o.currency,
        service: o.service_slug,
        item: o.item_name,
        email: o.email,
        created_at: rfc3339(o.created_at),
        gateway,
        hold_reason: o.hold_reason,
    }
}

crate::outcomes! {
    /// `GET /admin/orders`.
    pub ListOrdersOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `GET /admin/orders/{order_id}`.
    pub GetOrderOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
        404: "No such order (`not_found`).",
    }
}

pub struct AdminOrdersApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminOrdersApi {
    /// List orders, newest first (filters: status, email, from/to as RFC 3339 or unix seconds).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/admin/orders", method = "get")]
    async fn list_admin_orders(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(max_length = 64, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] status: Query<Option<String>>,
        #[oai(validator(max_length = 254, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] email: Query<Option<String>>,
        #[oai(validator(
            pattern = r"^\s*(-?[0-9]{1,15}|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\s*$"
        ))]
        from: Query<Option<String>>,
        #[oai(validator(
            pattern = r"^\s*(-?[0-9]{1,15}|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\s*$"
        ))]
        to: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
        #[oai(validator(pattern = r"^([0-9]{1,18}\.[A-Za-z0-9_-]{1,64})?$"))] cursor: Query<Option<String>>,
    ) -> Result<Json<OrderPage>, Fail<ListOrdersOutcomes>> {
        authorize(&state, req, Permission::ReadOrders).await?;
        let f = Filter {
            status: paging::text_filter("status", status.0.as_deref(), 64)?,
            email: paging::text_filter("email", email.0.as_deref(), 254)?,
            from: paging::parse_time("from", from.0.as_deref())?,
            to: paging::parse_time("to", to.0.as_deref())?,
            before: paging::parse_cursor(cursor.0.as_deref())?,
            limit: paging::limit(limit.0)?,
        };
        let page_size = f.limit as usize;
        let rows = state.db.read(move |c| Ok(orders::list(c, &f)?)).await?;
        let next_cursor =
            (rows.len() == page_size).then(|| rows.last().map(|(o, _)| paging::cursor(o.created_at, &o.id))).flatten();
        Ok(Json(OrderPage { orders: rows.into_iter().map(|(o, g)| view(o, g)).collect(), next_cursor }))
    }

    /// One order with its payments and the gateways' callback history.
    #[oai(path = "/admin/orders/:order_id", method = "get")]
    async fn get_admin_order(
        &self,
        state: Data<&AppState>,
        req: &Request,
        order_id: Path<String>,
    ) -> Result<Json<AdminOrderDetail>, Fail<GetOrderOutcomes>> {
        authorize(&state, req, Permission::ReadOrders).await?;
        let id = order_id.0;
        if !is_key(&id) {
            return Err(ApiError::not_found("No such order.").into());
        }
        let found = state.db.read(move |c| Ok(orders::detail(c, &id)?)).await?;
        let orders::Detail { order, payments, events, operations } =
            found.ok_or_else(|| ApiError::not_found("No such order."))?;
        let gateway = payments.last().map(|p| p.gateway);
        Ok(Json(AdminOrderDetail {
            customer_name: order.customer_name.clone(),
            locale: crate::i18n::Locale::from_stored(&order.locale).code().into(),
            account_id: order.account_id.clone(),
            paid_at: order.paid_at.map(rfc3339),
            order: view(order, gateway),
            payments: payments
                .into_iter()
                .map(|p| AdminPayment {
                    payment_id: p.id.into(),
                    gateway: p.gateway,
                    gateway_payment_id: p.gateway_payment_id,
                    status: p.status,
                    amount_minor: p.amount_minor,
                    currency: p.currency,
                    captured_minor: p.captured_minor,
                    refunded_minor: p.refunded_minor,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| AdminPaymentEvent {
                    event_id: e.event_id,
                    gateway: e.gateway,
                    kind: e.kind,
                    outcome: e.outcome,
                    detail: e.detail,
                    received_at: rfc3339(e.received_at),
                })
                .collect(),
            operations: operations
                .into_iter()
                .map(|o| AdminOperation {
                    operation_id: o.id,
                    payment_id: o.payment_id,
                    kind: o.kind,
                    amount_minor: o.amount_minor,
                    status: o.status,
                    gateway_reference: o.gateway_reference,
                    detail: o.detail,
                    actor: o.actor,
                    created_at: rfc3339(o.created_at),
                })
                .collect(),
        }))
    }
}
