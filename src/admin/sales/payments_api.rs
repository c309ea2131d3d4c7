//! `POST /admin/payments/{payment_id}/capture | cancel | refund` (operator). Each takes an
//! optional `Idempotency-Key` header (the first answer is replayed); refunds also need a
//! recent re-authentication (`POST /admin/session/reauth`).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::{Deserialize, Serialize};

use crate::admin::access::auth::authorize_write;
use crate::admin::access::roles::Permission;
use crate::admin::{access::reauth, AdminTag, UNAUTHENTICATED};
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::idempotency;
use crate::payments::ops::service::{self, Actor, Requested};
use crate::payments::ops::OpKind;
use crate::state::AppState;

/// How much to capture or refund.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OperationInput {
    /// Minor units. Capture: the whole authorised amount (the default). Refund: defaults to
    /// everything not refunded yet; never more than was captured.
    pub amount_minor: Option<i64>,
    /// Refund: the amount as the admin typed it (`12.50`, `1 234,50`), read on the server for
    /// the payment's currency (`money::parse_price`); instead of `amount_minor` (422
    /// `invalid_amount` when it is not an amount, or when both are given).
    #[oai(validator(max_length = 64))]
    pub amount: Option<String>,
    /// The amount the admin was shown for this operation (minor units): capture and cancel —
    /// the authorised amount; refund — `amount_minor`, or what is left to refund. When given
    /// and the operation would now move another amount, nothing happens: 409 `amount_changed`.
    pub expected_amount_minor: Option<i64>,
}

/// A done operation and the payment afterwards.
#[derive(Object, Serialize, Deserialize)]
pub struct OperationResult {
    pub operation_id: String,
    pub payment_id: String,
    /// capture | cancel | refund.
    pub kind: OpKind,
    pub amount_minor: i64,
    pub currency: String,
    /// The payment's status afterwards: succeeded, cancelled, partially_refunded, refunded.
    pub payment_status: crate::payments::model::PaymentStatus,
    pub captured_minor: i64,
    pub refunded_minor: i64,
}

crate::outcomes! {
    /// `POST /admin/payments/{payment_id}/capture`, `/cancel`, `/refund`.
    pub PaymentOpOutcomes(json) {
        400: "Malformed body (`invalid_body`) or a bad `Idempotency-Key` (`invalid_idempotency_key`).",
        401: UNAUTHENTICATED,
        403: "As for every admin write (`forbidden`, `totp_enrolment_required`, `csrf_rejected`); a refund also needs a recent password confirmation (`reauthentication_required`).",
        404: "No such payment (`not_found`).",
        409: "The payment is not in a state that allows this (`payment_not_authorized`, `payment_not_refundable`, `operation_in_progress`, `order_not_payable`, `three_ds_refused`), the gateway declined (`gateway_declined`), the amount is not the one the admin was shown (`amount_changed`), or the same `Idempotency-Key` is still being processed.",
        422: "The amount breaks a rule, the gateway cannot do this operation (`operation_unsupported`), or the `Idempotency-Key` was used for another request.",
        502: "The gateway could not be reached or answered nonsense; nothing is known to have happened there: retry with the same `Idempotency-Key`.",
    }
}

pub struct AdminPaymentsApi;

impl AdminPaymentsApi {
    async fn operate(
        state: &AppState,
        req: &Request,
        payment_id: String,
        kind: OpKind,
        body: Option<OperationInput>,
    ) -> Result<Json<OperationResult>, ApiError> {
        let p = authorize_write(state, req, Permission::OperatePayments).await?;
        if kind == OpKind::Refund {
            reauth::require_recent(state, &p)?;
        }
        let (amount, expected) = match body {
            None => (Requested::Default, None),
            Some(b) => (Requested::of(b.amount_minor, b.amount)?, b.expected_amount_minor),
        };
        let actor = Actor { username: p.admin.username.clone(), ip: p.ip.clone() };
        let fingerprint = format!("{} {payment_id} {amount:?} {expected:?}", kind.as_str());
        let key = idempotency::header_key(req)?;
        // Detached from the request: a client that goes away mid-way cannot cut an operation
        // off between the gateway's answer and its bookkeeping.
        let (state, admin_id) = (state.clone(), p.admin.id.clone());
        let task = tokio::spawn(async move {
            let state = &state;
            idempotency::once_with_key(state, key, &admin_id, fingerprint, 200, |gateway_key| async move {
                let done = service::perform(state, &actor, &payment_id, kind, amount, expected, gateway_key).await?;
                Ok(OperationResult {
                    operation_id: done.operation_id,
                    payment_id: done.payment.id.into(),
                    kind,
                    amount_minor: done.amount_minor,
                    currency: done.payment.currency,
                    payment_status: done.payment.status,
                    captured_minor: done.payment.captured_minor,
                    refunded_minor: done.payment.refunded_minor,
                })
            })
            .await
        });
        let result = task.await.map_err(|e| anyhow::anyhow!("payment operation task: {e}"))??;
        Ok(Json(result))
    }
}

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminPaymentsApi {
    /// Capture an authorised payment (the whole amount). The order is provisioned now unless
    /// it was on authorisation.
    #[oai(path = "/admin/payments/:payment_id/capture", method = "post")]
    async fn capture_payment(
        &self,
        state: Data<&AppState>,
        req: &Request,
        payment_id: Path<String>,
        body: Json<Option<OperationInput>>,
    ) -> Result<Json<OperationResult>, Fail<PaymentOpOutcomes>> {
        Ok(Self::operate(&state, req, payment_id.0, OpKind::Capture, body.0).await?)
    }

    /// Cancel (void) an authorised payment: no money is taken; the order is cancelled.
    #[oai(path = "/admin/payments/:payment_id/cancel", method = "post")]
    async fn cancel_payment(
        &self,
        state: Data<&AppState>,
        req: &Request,
        payment_id: Path<String>,
        body: Json<Option<OperationInput>>,
    ) -> Result<Json<OperationResult>, Fail<PaymentOpOutcomes>> {
        Ok(Self::operate(&state, req, payment_id.0, OpKind::Cancel, body.0).await?)
    }

    /// Refund captured money, fully or partly (never more than was captured). Needs a
    /// re-authentication from the last `admin_reauth_minutes`. A full refund ends the access
    /// the order bought (setting `refund_ends_access`).
    #[oai(path = "/admin/payments/:payment_id/refund", method = "post")]
    async fn refund_payment(
        &self,
        state: Data<&AppState>,
        req: &Request,
        payment_id: Path<String>,
        body: Json<Option<OperationInput>>,
    ) -> Result<Json<OperationResult>, Fail<PaymentOpOutcomes>> {
        Ok(Self::operate(&state, req, payment_id.0, OpKind::Refund, body.0).await?)
    }
}
