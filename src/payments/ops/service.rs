//! The rules of admin payment operations. One transaction checks the payment's state, records
//! the operation and — for a refund — reserves its amount against what was captured (so two
//! parallel refunds can never give back more than was taken); then the gateway is asked; then
//! the answer is recorded and, when the gateway did it, applied through the same
//! `apply_event` path as a callback (event id `op:<operation id>`, so the gateway's own
//! callback about it later changes nothing twice).

use serde_json::json;

use super::model::{self as ops, Operation};
use super::{gateway_api, OpAnswer, OpKind, OpRequest};
use crate::audit::Event;
use crate::config::NotPerformedPolicy;
use crate::crypto::{is_key, random_id};
use crate::http::api_error::ApiError;
use crate::payments::gateways::{EventKind, ThreeDs, VerifiedEvent};
use crate::payments::model::{self as payments, Payment, PaymentStatus};
use crate::payments::service::apply_event;
use crate::state::AppState;

/// Who asks, for the operation record and the audit log.
pub struct Actor {
    pub username: String,
    pub ip: String,
}

/// The amount an admin asked to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Capture/cancel: the authorised amount; refund: everything not refunded yet.
    Default,
    /// Minor units (API clients).
    Minor(i64),
    /// As typed in the portal, read for the payment's currency on the server.
    Text(String),
}

impl Requested {
    /// From a body's `amount_minor` and `amount`: one of them at most.
    pub fn of(minor: Option<i64>, text: Option<String>) -> Result<Requested, ApiError> {
        match (minor, text) {
            (None, None) => Ok(Requested::Default),
            (Some(m), None) => Ok(Requested::Minor(m)),
            (None, Some(t)) => Ok(Requested::Text(t)),
            (Some(_), Some(_)) => Err(ApiError::unprocessable(
                "invalid_amount",
                "Give the amount either as typed (amount) or in minor units (amount_minor), not both.",
            )),
        }
    }

    /// In minor units of `currency`; a typed amount that is not one is refused with the
    /// parser's explanation.
    fn minor(&self, currency: &str) -> Result<Option<i64>, ApiError> {
        match self {
            Requested::Default => Ok(None),
            Requested::Minor(m) => Ok(Some(*m)),
            Requested::Text(t) => crate::money::parse_price(t, currency)
                .map(Some)
                .map_err(|why| ApiError::unprocessable("invalid_amount", why)),
        }
    }
}

/// A performed operation.
pub struct Performed {
    pub operation_id: String,
    pub amount_minor: i64,
    /// The payment after the operation was applied.
    pub payment: Payment,
}

fn action(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Capture => "payment.capture",
        OpKind::Cancel => "payment.cancel",
        OpKind::Refund => "payment.refund",
    }
}

fn money(p: &Payment) -> serde_json::Value {
    json!({"status": p.status, "amount_minor": p.amount_minor, "captured_minor": p.captured_minor,
           "refunded_minor": p.refunded_minor, "currency": p.currency})
}

/// Checks the payment can take the operation; the amount it is for.
fn check(p: &Payment, kind: OpKind, amount: Option<i64>) -> Result<i64, ApiError> {
    if amount.is_some_and(|a| a <= 0) {
        return Err(ApiError::unprocessable(
            "invalid_amount",
            "amount_minor must be a positive number of minor units.",
        ));
    }
    match kind {
        OpKind::Capture | OpKind::Cancel => {
            if p.status != PaymentStatus::Authorized {
                return Err(ApiError::conflict(
                    "payment_not_authorized",
                    format!("Only an authorised payment can be captured or cancelled; this one is {}.", p.status),
                ));
            }
            if amount.is_some_and(|a| a != p.amount_minor) {
                return Err(ApiError::unprocessable(
                    "partial_capture_unsupported",
                    format!("Capture takes the whole authorised amount ({}).", p.amount_minor),
                ));
            }
            Ok(p.amount_minor)
        }
        OpKind::Refund => {
            let left = p.captured_minor - p.refunded_minor;
            if !matches!(p.status, PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded) || p.captured_minor == 0
            {
                return Err(ApiError::conflict(
                    "payment_not_refundable",
                    format!("Only captured money can be refunded; this payment is {}.", p.status),
                ));
            }
            let amount = amount.unwrap_or(left);
            if amount > left || amount == 0 {
                return Err(refund_exceeds(left));
            }
            Ok(amount)
        }
    }
}

/// A capture must not take money keyturn would refuse: an order another payment already paid
/// (or that is closed), or a payment whose 3-D Secure outcome the policy refuses.
fn check_capture(
    c: &mut crate::db::DbConn,
    p: &Payment,
    reject_unauthenticated: bool,
) -> Result<Result<(), ApiError>, crate::db::DbError> {
    let three_ds = p.three_ds.as_deref().and_then(ThreeDs::parse);
    if three_ds == Some(ThreeDs::Failed) || (three_ds == Some(ThreeDs::NotPerformed) && reject_unauthenticated) {
        return Ok(Err(ApiError::conflict(
            "three_ds_refused",
            "This payment's 3-D Secure outcome is refused by the shop's policy: cancel it instead.",
        )));
    }
    use crate::orders::model::OrderStatus;
    let status = crate::orders::model::find_by_id(c, &p.order_id)?.map(|o| o.status);
    let payable = matches!(status, Some(OrderStatus::PendingPayment | OrderStatus::Expired));
    let status = status.map(|s| s.as_str()).unwrap_or_default();
    if !payable && !payments::provisioned_by(c, p)? {
        return Ok(Err(ApiError::conflict(
            "order_not_payable",
            format!("The order is {status} by other means: cancel this authorisation instead of capturing it."),
        )));
    }
    Ok(Ok(()))
}

fn amount_changed(amount: i64, currency: &str) -> ApiError {
    ApiError::conflict(
        "amount_changed",
        format!(
            "This operation would now move {} {currency}, not the amount you were shown: reload the order and check again.",
            crate::money::format_minor(amount, currency)
        ),
    )
}

fn refund_exceeds(left: i64) -> ApiError {
    ApiError::unprocessable(
        "refund_exceeds_captured",
        format!("At most {left} (minor units) of this payment can still be refunded."),
    )
}

/// Records a refused request in the audit log (the answer is the error itself).
async fn audit_refusal(state: &AppState, actor: &Actor, kind: OpKind, payment_id: &str, e: &ApiError) {
    let code = e.parts().1.error.clone();
    if e.parts().0.as_u16() >= 500 {
        return;
    }
    let event = Event::new(&actor.username, &actor.ip, action(kind), payment_id).outcome(&code);
    let now = state.clock.now();
    if let Err(err) = state.db.write(move |c| Ok(event.append(c, now)?)).await {
        tracing::warn!(event = "audit_write_failed", error = %err, "could not audit a refused payment operation");
    }
}

/// Performs `kind` on our payment `payment_id`. `expected`, when given, is the amount the admin
/// was shown for it (409 `amount_changed` when the operation would now move another amount: a
/// stale page never refunds what it did not show). `gateway_key` (derived from the client's
/// Idempotency-Key) is what the gateway sees as its idempotency key, so a retry after a
/// timeout cannot move money twice there either.
pub async fn perform(
    state: &AppState,
    actor: &Actor,
    payment_id: &str,
    kind: OpKind,
    amount: Requested,
    expected: Option<i64>,
    gateway_key: Option<String>,
) -> Result<Performed, ApiError> {
    match run(state, actor, payment_id, kind, (amount, expected), gateway_key).await {
        Ok(done) => Ok(done),
        Err(Failure::Refused(e)) => {
            audit_refusal(state, actor, kind, payment_id, &e).await;
            Err(e)
        }
        Err(Failure::Recorded(e)) => Err(e),
    }
}

/// Why an operation did not happen.
enum Failure {
    /// Refused before anything was recorded (not found, wrong state, over-refund).
    Refused(ApiError),
    /// The operation was recorded as failed, with its audit entry.
    Recorded(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Refused(e)
    }
}

impl From<crate::db::DbError> for Failure {
    fn from(e: crate::db::DbError) -> Self {
        Failure::Refused(e.into())
    }
}

async fn run(
    state: &AppState,
    actor: &Actor,
    payment_id: &str,
    kind: OpKind,
    (requested, expected): (Requested, Option<i64>),
    gateway_key: Option<String>,
) -> Result<Performed, Failure> {
    if !is_key(payment_id) {
        return Err(ApiError::not_found("No such payment.").into());
    }
    let now = state.clock.now();
    let reject_unauthenticated = state.settings.three_ds_not_performed == NotPerformedPolicy::Reject;
    let (id, who, key) = (payment_id.to_string(), actor.username.clone(), gateway_key.clone());
    let started = state
        .db
        .write(move |c| {
            payments::lock(c, &id)?;
            let Some(p) = payments::find(c, &id)? else { return Ok(Err(ApiError::not_found("No such payment."))) };
            let amount = match requested.minor(&p.currency) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            // A repeat of a request whose outcome was unknown resumes it (and its reservation).
            if let Some(op) = key.as_deref().map(|k| ops::resumable(c, &id, k, now)).transpose()?.flatten() {
                if op.kind == kind && amount.is_none_or(|a| a == op.amount_minor) {
                    // What the admin was shown is checked here too: a resumed operation moves
                    // the amount it was started with, which the page must have shown.
                    if expected.is_some_and(|e| e != op.amount_minor) {
                        return Ok(Err(amount_changed(op.amount_minor, &p.currency)));
                    }
                    ops::restart(c, &op.id, now)?;
                    let capture_reference = ops::capture_reference(c, &id)?;
                    return Ok(Ok((p, op.id, op.amount_minor, capture_reference)));
                }
            }
            let amount = match check(&p, kind, amount) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            if expected.is_some_and(|e| e != amount) {
                return Ok(Err(amount_changed(amount, &p.currency)));
            }
            if kind == OpKind::Capture {
                if let Err(e) = check_capture(c, &p, reject_unauthenticated)? {
                    return Ok(Err(e));
                }
            }
            if kind != OpKind::Refund && ops::capture_or_void_pending(c, &id, now)? {
                let e = ApiError::conflict(
                    "operation_in_progress",
                    "A capture or cancellation of this payment is running.",
                );
                return Ok(Err(e));
            }
            if kind == OpKind::Refund && !payments::reserve_refund(c, &id, amount)? {
                return Ok(Err(refund_exceeds(p.captured_minor - p.refunded_minor)));
            }
            let capture_reference = ops::capture_reference(c, &id)?;
            let op_id = random_id("op");
            ops::insert(
                c,
                &Operation {
                    id: op_id.clone(),
                    payment_id: id.clone(),
                    kind,
                    amount_minor: amount,
                    status: ops::PENDING,
                    gateway_reference: None,
                    detail: String::new(),
                    actor: who,
                    request_key: key,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            Ok(Ok((p, op_id, amount, capture_reference)))
        })
        .await??;
    let (before, op_id, amount, capture_reference) = started;
    let attempt = Attempt { op_id: &op_id, kind, before: &before, amount, actor };
    let Some(gw) = state.gateways.by_id(before.gateway).cloned() else {
        let e = ApiError::unprocessable(
            "gateway_not_configured",
            format!("The {} gateway is not configured on this server.", before.gateway),
        );
        finish(state, &attempt, ops::FAILED, Err(&e)).await?;
        return Err(Failure::Recorded(e));
    };
    let req = OpRequest {
        kind,
        gateway_payment_id: before.gateway_payment_id.clone(),
        capture_reference,
        amount_minor: amount,
        currency: before.currency.clone(),
        order_id: before.order_id.to_string(),
        operation_id: gateway_key.unwrap_or_else(|| op_id.clone()),
    };
    let gateway = gw.name();
    let answer = gateway_api::perform(state, gw.as_ref(), &req).await;
    let reference = match answer {
        Ok(OpAnswer::Done { reference }) => reference,
        Ok(OpAnswer::Declined(why)) => {
            let e = ApiError::conflict("gateway_declined", format!("{gateway} declined: {why}"));
            finish(state, &attempt, ops::FAILED, Err(&e)).await?;
            return Err(Failure::Recorded(e));
        }
        Ok(OpAnswer::Unsupported(why)) => {
            let e = ApiError::unprocessable("operation_unsupported", why);
            finish(state, &attempt, ops::FAILED, Err(&e)).await?;
            return Err(Failure::Recorded(e));
        }
        Err(unreachable) => {
            tracing::warn!(event = "payment_operation_failed", gateway, operation_id = %op_id, error = %unreachable, "gateway unreachable");
            let e = ApiError::BadGateway(crate::error::err(
                "gateway_unavailable",
                format!(
                    "{gateway} could not be reached or did not answer; the {} may or may not have happened. \
                     Repeat it with the same Idempotency-Key (the gateway gets the same key), or check the gateway's dashboard.",
                    kind.as_str()
                ),
            ));
            // A refund keeps its reservation until a repeat settles it: never more than captured.
            finish(state, &attempt, ops::UNKNOWN, Err(&e)).await?;
            return Err(Failure::Recorded(e));
        }
    };
    finish(state, &attempt, ops::SUCCEEDED, Ok(&reference)).await?;
    let ev = VerifiedEvent {
        event_id: format!("op:{op_id}"),
        kind: match kind {
            OpKind::Capture => EventKind::Succeeded,
            OpKind::Cancel => EventKind::Cancelled,
            OpKind::Refund => EventKind::Refunded,
        },
        order_id: Some(before.order_id.to_string()),
        payment_id: before.gateway_payment_id.clone(),
        amount_minor: Some(amount),
        currency: Some(before.currency.clone()),
        three_ds: before.three_ds.as_deref().and_then(ThreeDs::parse),
        subscription: None,
    };
    // The money moved at the gateway; if applying it here fails, its callback applies it later.
    if let Err(e) = apply_event(state, gw.id(), ev).await {
        tracing::warn!(event = "payment_operation_failed", operation_id = %op_id, error = %e, "done at the gateway; applying it waits for the callback");
    }
    let id = before.id.clone();
    let payment = state.db.read(move |c| Ok(payments::find(c, &id)?)).await?.unwrap_or(before);
    tracing::info!(event = "payment_operation", gateway, operation_id = %op_id, kind = kind.as_str(), amount, "payment operation done");
    Ok(Performed { operation_id: op_id, amount_minor: amount, payment })
}

/// Records the gateway's answer: the operation's outcome, the released reservation of a refund
/// that did not happen, and the audit entry.
/// One running operation, for [`finish`].
struct Attempt<'a> {
    op_id: &'a str,
    kind: OpKind,
    before: &'a Payment,
    amount: i64,
    actor: &'a Actor,
}

async fn finish(
    state: &AppState,
    a: &Attempt<'_>,
    status: ops::OpStatus,
    outcome: Result<&str, &ApiError>,
) -> Result<(), ApiError> {
    let Attempt { op_id, kind, before, amount, actor } = *a;
    let now = state.clock.now();
    let (reference, detail, code) = match outcome {
        Ok(r) => (Some(r.to_string()), String::new(), crate::audit::SUCCESS.to_string()),
        Err(e) => (None, e.parts().1.message.clone(), e.parts().1.error.clone()),
    };
    let mut after = money(before);
    after["operation_id"] = json!(op_id);
    after["amount_minor"] = json!(amount);
    let event = Event::new(&actor.username, &actor.ip, action(kind), &before.id)
        .before(money(before))
        .after(after)
        .outcome(&code);
    let (op, pid) = (op_id.to_string(), before.id.clone());
    state
        .db
        .write(move |c| {
            ops::finish(c, &op, status, reference.as_deref(), &detail, now)?;
            if status == ops::FAILED && kind == OpKind::Refund {
                payments::release_refund(c, &pid, amount)?;
            }
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    Ok(())
}
