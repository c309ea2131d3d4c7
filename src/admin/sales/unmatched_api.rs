//! `GET /admin/payment-events/unmatched`: verified gateway events that matched no order of ours —
//! a payment for an unknown order, a renewal charge of a subscription keyturn does not know —
//! so the money they report is not lost from sight: an admin finds its customer or refunds it
//! at the gateway.

use diesel::prelude::*;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::admin::access::auth::authorize;
use crate::admin::access::roles::Permission;
use crate::admin::{paging, AdminTag, BAD_QUERY, REFUSED, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::db::schema::payment_events;
use crate::db::DbConn;
use crate::http::outcomes::Fail;
use crate::payments::gateways::GatewayId;
use crate::payments::model::PaymentEvent;
use crate::state::AppState;

/// A recorded gateway event that names no order of ours.
#[derive(Object)]
pub struct UnmatchedPaymentEvent {
    pub event_id: String,
    pub gateway: GatewayId,
    /// The gateway's payment (or invoice, sale) id: what to look up, or refund, at the gateway.
    pub gateway_payment_id: Option<String>,
    pub kind: String,
    /// `unknown_order`, `unknown_subscription`, or `recorded` (informational).
    pub outcome: String,
    pub detail: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// RFC 3339.
    pub received_at: String,
}

/// Unmatched events, newest first.
#[derive(Object)]
pub struct UnmatchedPage {
    pub events: Vec<UnmatchedPaymentEvent>,
}

crate::outcomes! {
    /// `GET /admin/payment-events/unmatched`.
    pub ListUnmatchedOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
}

fn unmatched(conn: &mut DbConn, outcome: Option<String>, limit: i64) -> QueryResult<Vec<PaymentEvent>> {
    // An event may name an order in its metadata that it was not applied to (a PayPal sale's
    // `custom` of a subscription we did not create): its outcome says it matched nothing.
    let matched_nothing = payment_events::outcome.eq_any(["unknown_order", "unknown_subscription"]);
    let mut q = payment_events::table.filter(payment_events::order_id.is_null().or(matched_nothing)).into_boxed();
    if let Some(o) = outcome {
        q = q.filter(payment_events::outcome.eq(o));
    }
    q.order((payment_events::received_at.desc(), payment_events::id.desc())).limit(limit).load(conn)
}

pub struct AdminUnmatchedApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminUnmatchedApi {
    /// Gateway events that name no order of ours (filter: outcome), newest first.
    #[oai(path = "/admin/payment-events/unmatched", method = "get")]
    async fn list_unmatched_payment_events(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(max_length = 64, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] outcome: Query<
            Option<String>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
    ) -> Result<Json<UnmatchedPage>, Fail<ListUnmatchedOutcomes>> {
        authorize(&state, req, Permission::ReadOrders).await?;
        let outcome = paging::text_filter("outcome", outcome.0.as_deref(), 64)?;
        let limit = paging::limit(limit.0)?;
        let rows = state.db.read(move |c| Ok(unmatched(c, outcome, limit)?)).await?;
        let events = rows
            .into_iter()
            .map(|e| UnmatchedPaymentEvent {
                event_id: e.event_id,
                gateway: e.gateway,
                gateway_payment_id: e.gateway_payment_id,
                kind: e.kind,
                outcome: e.outcome,
                detail: e.detail,
                amount_minor: e.amount_minor,
                currency: e.currency,
                received_at: rfc3339(e.received_at),
            })
            .collect();
        Ok(Json(UnmatchedPage { events }))
    }
}
