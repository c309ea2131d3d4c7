//! The built-in sandbox performs operations in-process, then sends the callbacks a real
//! gateway would (capture → `payment.succeeded`, void → `payment.cancelled`, refund →
//! `refund.succeeded` for the refunded amount).

use crate::crypto::random_id;
use crate::payments::ops::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::sandbox::deliver::spawn_delivery;
use crate::sandbox::model;
use crate::state::AppState;

pub async fn perform(state: &AppState, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let (id, kind, amount) = (req.gateway_payment_id.clone(), req.kind, req.amount_minor);
    let done = state
        .db
        .write(move |c| Ok(model::operate(c, &id, kind, amount)?))
        .await
        .map_err(|e| Unreachable(format!("sandbox storage: {e}")))?;
    let p = match done {
        Ok(p) => p,
        Err(reason) => return Ok(OpAnswer::Declined(reason)),
    };
    match kind {
        OpKind::Capture => spawn_delivery(state, "payment.succeeded", &p, p.three_ds.as_deref()),
        OpKind::Cancel => spawn_delivery(state, "payment.cancelled", &p, None),
        OpKind::Refund => {
            let refund = model::SandboxPayment { amount_minor: amount, ..p.clone() };
            spawn_delivery(state, "refund.succeeded", &refund, None)
        }
    }
    Ok(OpAnswer::Done { reference: random_id("sbo") })
}
