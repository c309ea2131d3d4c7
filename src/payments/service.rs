//! Applying a verified gateway event: ONE transaction records the event (unique per gateway
//! event id: a duplicate stops here), cross-checks order, amount and currency, moves the
//! payment and the order forward only, and — for the one caller that moves the order to
//! `paid` — creates the account, grants access and queues the emails.

use crate::config::NotPerformedPolicy;
use crate::crypto::random_id;
use crate::db::{DbConn, DbError};
use crate::orders::model::{self as orders, Order};
use crate::payments::gateways::{EventKind, GatewayId, ThreeDs, VerifiedEvent};
use crate::payments::model::{self, Payment, PaymentEvent, PaymentStatus};
use crate::payments::{recurring, refunds};

mod aliases;
mod paying;
use crate::state::AppState;
pub use aliases::sweep as apply_linked_events;
pub(crate) use paying::{pay_order, Emails};

/// What became of an event (also stored as `payment_events.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order was paid by this event; account and emails are queued.
    Provisioned,
    /// Seen before (same gateway event id): no effect.
    Duplicate,
    /// Names no order of ours.
    UnknownOrder,
    /// Amount or currency differ from the order: refused, visible to admins.
    Mismatch,
    /// 3-D Secure failed: never provisioned.
    Rejected3ds,
    /// Succeeded without 3-D Secure while the policy requires it: held for an admin.
    Held3ds,
    /// A success for an order that is already paid (a second payment: needs a refund).
    AlreadyPaid,
    /// A success for a payment that was already refunded or cancelled.
    Stale,
    /// Paid for an address whose account is revoked (or erased) or suspended: the order is
    /// `paid` with a hold reason, nothing is provisioned; an admin refunds it.
    HeldAccount,
    /// As [`Outcome::HeldAccount`], but the gateway reverses the payment on our word: the
    /// payment is `failed`, the order stays unpaid with the hold reason on record.
    RefusedAccount,
    /// Recorded (failure, pending, refund, unknown type): no provisioning.
    Recorded,
    /// A renewal charge of a subscription keyturn does not know: nothing renewed, kept for an
    /// admin (who finds its customer or refunds it at the gateway).
    UnknownSubscription,
}

impl Outcome {
    /// True when we refuse the money (the gateway may reverse it if it can).
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Outcome::Mismatch
                | Outcome::Rejected3ds
                | Outcome::AlreadyPaid
                | Outcome::Held3ds
                | Outcome::HeldAccount
                | Outcome::RefusedAccount
        )
    }

    /// Every outcome, to read a stored one back.
    const ALL: [Outcome; 12] = [
        Outcome::Provisioned,
        Outcome::Duplicate,
        Outcome::UnknownOrder,
        Outcome::Mismatch,
        Outcome::Rejected3ds,
        Outcome::Held3ds,
        Outcome::AlreadyPaid,
        Outcome::Stale,
        Outcome::HeldAccount,
        Outcome::RefusedAccount,
        Outcome::Recorded,
        Outcome::UnknownSubscription,
    ];

    /// The outcome stored as `s` in `payment_events.outcome`.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Provisioned => "provisioned",
            Outcome::Duplicate => "duplicate",
            Outcome::UnknownOrder => "unknown_order",
            Outcome::Mismatch => "mismatch",
            Outcome::Rejected3ds => "rejected_3ds",
            Outcome::Held3ds => "held_3ds",
            Outcome::AlreadyPaid => "already_paid",
            Outcome::Stale => "stale",
            Outcome::HeldAccount => "held_account",
            Outcome::RefusedAccount => "refused_account",
            Outcome::Recorded => "recorded",
            Outcome::UnknownSubscription => "unknown_subscription",
        }
    }
}

/// The merchant's settings that decide what an event does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    three_ds_not_performed: NotPerformedPolicy,
    refund_ends_access: bool,
    provision_on_authorization: bool,
    /// The gateway reverses the payment when we refuse it (FreedomPay's `pg_can_reject=1`).
    can_refuse: bool,
    /// Each of the gateway's refund notices reports one refund (2Checkout): their amounts add up.
    refund_notices_add_up: bool,
}

pub(crate) enum TxError {
    Duplicate,
    Db(DbError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(DbError::Query(e))
    }
}

impl From<DbError> for TxError {
    fn from(e: DbError) -> Self {
        TxError::Db(e)
    }
}

fn kind_str(kind: &EventKind) -> String {
    match kind {
        EventKind::Succeeded => "succeeded".into(),
        EventKind::Authorized => "authorized".into(),
        EventKind::Failed => "failed".into(),
        EventKind::RequiresAction => "requires_action".into(),
        EventKind::Refunded => "refunded".into(),
        EventKind::PartiallyRefunded => "partially_refunded".into(),
        EventKind::Cancelled => "cancelled".into(),
        EventKind::AlsoKnownAs(_) => "also_known_as".into(),
        EventKind::Other(s) => format!("other:{s}"),
    }
}

fn payment_status(kind: &EventKind) -> Option<PaymentStatus> {
    Some(match kind {
        EventKind::Succeeded => PaymentStatus::Succeeded,
        EventKind::Authorized => PaymentStatus::Authorized,
        EventKind::Failed => PaymentStatus::Failed,
        EventKind::RequiresAction => PaymentStatus::RequiresAction,
        EventKind::Refunded => PaymentStatus::Refunded,
        EventKind::PartiallyRefunded => PaymentStatus::PartiallyRefunded,
        EventKind::Cancelled => PaymentStatus::Cancelled,
        EventKind::Other(_) | EventKind::AlsoKnownAs(_) => return None,
    })
}

impl Policy {
    pub(crate) fn of(state: &AppState, gateway: GatewayId, can_refuse: bool) -> Policy {
        Policy {
            three_ds_not_performed: state.settings.three_ds_not_performed,
            refund_ends_access: state.settings.refund_ends_access,
            provision_on_authorization: state.settings.merchant.provision_on_authorization,
            can_refuse,
            refund_notices_add_up: state.gateways.by_id(gateway).is_some_and(|g| g.refund_notices_add_up()),
        }
    }
}

/// Applies one verified event. `Err` only for storage failures (answer 503: the gateway retries).
pub async fn apply_event(state: &AppState, gateway: GatewayId, ev: VerifiedEvent) -> Result<Outcome, DbError> {
    apply_callback(state, gateway, ev, false).await
}

/// [`apply_event`] for a callback whose reply can refuse the money (`can_refuse`: the gateway
/// then reverses the payment), so a refusal is recorded as money not taken.
pub async fn apply_callback(
    state: &AppState,
    gateway: GatewayId,
    ev: VerifiedEvent,
    can_refuse: bool,
) -> Result<Outcome, DbError> {
    let now = state.clock.now();
    let policy = Policy::of(state, gateway, can_refuse);
    let ev_log = ev.clone();
    let run = |ev: VerifiedEvent| {
        state.db.write_with(move |c| -> Result<Outcome, TxError> { apply_in_tx(c, gateway, &ev, policy, now) })
    };
    let mut result = run(ev.clone()).await;
    // Two events about one new payment (pending + succeeded) may race to insert its row, and
    // the server may end one of two transactions locking the same rows as a deadlock's victim;
    // either way the loser's whole transaction rolled back, so running it again is safe.
    let (mut raced, mut deadlocks) = (false, 0);
    loop {
        match &result {
            Err(TxError::Db(e)) if e.is_unique_violation() && !raced => raced = true,
            Err(TxError::Db(e)) if e.is_deadlock() && deadlocks < crate::db::DEADLOCK_RETRIES => {
                deadlocks += 1;
                tracing::info!(
                    event = "db_deadlock_retried",
                    attempt = deadlocks,
                    "a deadlock ended the payment transaction; running it again"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(deadlocks))).await;
            }
            _ => break,
        }
        result = run(ev.clone()).await;
    }
    let outcome = match result {
        Ok(o) => o,
        // A gateway that may reverse the payment on our word gets the same word again: it
        // retries when our first `rejected` did not reach it, and an `ok` now would keep money
        // we recorded as refused.
        Err(TxError::Duplicate) if can_refuse => {
            let (gw, id) = (gateway, ev_log.event_id.clone());
            let first = state.db.read(move |c| Ok(model::find_event_outcome(c, gw, &id)?)).await?;
            first.as_deref().and_then(Outcome::parse).filter(|o| o.is_refusal()).unwrap_or(Outcome::Duplicate)
        }
        Err(TxError::Duplicate) => Outcome::Duplicate,
        Err(TxError::Db(e)) => return Err(e),
    };
    tracing::info!(
        event = "payment_callback",
        gateway = gateway.as_str(),
        event_id = %ev_log.event_id,
        order_id = ev_log.order_id.as_deref().unwrap_or("-"),
        kind = %kind_str(&ev_log.kind),
        outcome = outcome.as_str(),
        "gateway event applied"
    );
    if outcome == Outcome::Provisioned {
        state.worker_wake.notify_one();
    }
    Ok(outcome)
}

fn apply_in_tx(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    policy: Policy,
    now: i64,
) -> Result<Outcome, TxError> {
    let record_id = random_id("pev");
    let record = PaymentEvent {
        id: record_id.clone(),
        gateway,
        event_id: ev.event_id.clone(),
        // Only a well-formed id is stored; anything else cannot name one of our orders.
        order_id: ev.order_id.clone().filter(|id| crate::crypto::is_key(id)),
        gateway_payment_id: Some(ev.payment_id.clone()),
        kind: kind_str(&ev.kind),
        outcome: "processing".into(),
        detail: String::new(),
        amount_minor: ev.amount_minor,
        currency: ev.currency.clone(),
        received_at: now,
    };
    match model::insert_event(c, &record) {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(TxError::Duplicate)
        }
        other => other?,
    };
    let (outcome, detail) = match &ev.subscription {
        Some(sub) => {
            let (outcome, detail, order_id) = recurring::service::decide(c, gateway, ev, sub, policy, now)?;
            // A renewal's event belongs to the renewal order it created (admins find it there).
            if let Some(order_id) = order_id.filter(|o| record.order_id.as_deref() != Some(o.as_str())) {
                model::set_event_order(c, &record_id, &order_id)?;
            }
            (outcome, detail)
        }
        None => {
            // A follow-up may name the payment by another of its names; a notice of such a
            // name only records it.
            let ev = aliases::resolved(c, gateway, ev)?;
            let decided = match &ev.kind {
                EventKind::AlsoKnownAs(alias) => aliases::remember(c, gateway, alias, &ev.payment_id, policy, now)?,
                _ => decide(c, gateway, &ev, policy, now)?,
            };
            // Said on the record when the event was applied under another of the payment's names.
            let decided = match &ev {
                std::borrow::Cow::Owned(to) => (
                    decided.0,
                    format!(
                        "{} is {}: {}",
                        record.gateway_payment_id.as_deref().unwrap_or("-"),
                        to.payment_id,
                        decided.1
                    ),
                ),
                std::borrow::Cow::Borrowed(_) => decided,
            };
            // An event that named only the gateway's payment is filed under its order.
            if record.order_id.is_none() {
                aliases::file_under_order(c, gateway, &record_id, &ev.payment_id)?;
            }
            decided
        }
    };
    model::set_event_outcome(c, &record_id, outcome.as_str(), &detail)?;
    Ok(outcome)
}

pub(crate) fn decide(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    policy: Policy,
    now: i64,
) -> Result<(Outcome, String), TxError> {
    // On PostgreSQL, events about one order are applied one at a time: the row lock makes
    // the second see what the first committed (READ COMMITTED), so it becomes a duplicate
    // instead of a false "second payment". An event naming only the gateway's payment locks
    // that payment's order too (found by an unlocked read: a payment never changes order),
    // and every event then locks the payment row — always order first, then payment, so two
    // events cannot deadlock — so its status is judged and moved on what was last committed.
    let lock_order = match ev.order_id.as_deref() {
        Some(id) => Some(id.to_string()).filter(|id| crate::crypto::is_key(id)),
        None => model::find_by_gateway_id(c, gateway, &ev.payment_id)?.map(|p| p.order_id.into()),
    };
    if let Some(id) = &lock_order {
        orders::lock(c, id)?;
    }
    let previous = model::find_by_gateway_id_locked(c, gateway, &ev.payment_id)?;
    let order = match ev.order_id.as_deref() {
        Some(id) if crate::crypto::is_key(id) => orders::find_by_id(c, id)?,
        _ => None,
    };
    // Refunds and follow-ups often name only the gateway's payment: find its order through it.
    let order = match (order, &previous, ev.order_id.is_some()) {
        (Some(o), _, _) => Some(o),
        (None, Some(p), false) => orders::find_by_id(c, &p.order_id)?,
        _ => None,
    };
    let Some(order) = order else {
        return Ok((Outcome::UnknownOrder, "no such order".into()));
    };
    let carries_money = matches!(ev.kind, EventKind::Succeeded | EventKind::Authorized);
    if carries_money {
        if let Some(detail) = mismatch(&order, ev) {
            tracing::warn!(event = "payment_mismatch", order_id = %order.id, detail = %detail, "callback refused");
            return Ok((Outcome::Mismatch, detail));
        }
    }
    if let Some(p) = &previous {
        if p.order_id != order.id {
            return Ok((Outcome::Mismatch, format!("payment belongs to order {}", p.order_id)));
        }
    }
    let Some(status) = payment_status(&ev.kind) else {
        return Ok((Outcome::Recorded, "event type ignored".into()));
    };
    if ev.kind == EventKind::Succeeded && previous.as_ref().is_some_and(|p| p.status == PaymentStatus::Succeeded) {
        return Ok((Outcome::Duplicate, "repeated success for the same payment".into()));
    }
    if ev.kind == EventKind::Authorized
        && previous
            .as_ref()
            .is_some_and(|p| model::status_rank(p.status) >= model::status_rank(PaymentStatus::Authorized))
    {
        return Ok((Outcome::Duplicate, "repeated authorisation for the same payment".into()));
    }
    // A success after a refund or cancellation of the same payment is stale.
    let stale =
        previous.as_ref().is_some_and(|p| matches!(p.status, PaymentStatus::Refunded | PaymentStatus::Cancelled));
    let refund = matches!(ev.kind, EventKind::Refunded | EventKind::PartiallyRefunded);
    let add_up = policy.refund_notices_add_up;
    let judged = refund.then(|| refunds::judge(c, previous.as_ref(), &order, ev, add_up)).transpose()?;
    let partial = judged.is_some_and(|j| j.partial);
    let status = match (refund, partial) {
        (true, true) => PaymentStatus::PartiallyRefunded,
        // Partial refunds that together gave back everything.
        (true, false) => PaymentStatus::Refunded,
        _ => status,
    };
    // The capture of the authorisation that provisioned the order (provision_on_authorization).
    let captured_after_provisioning = match &previous {
        Some(p) if ev.kind == EventKind::Succeeded && p.status == PaymentStatus::Authorized => {
            matches!(order.status, orders::PAID | orders::PROVISIONED) && model::provisioned_by(c, p)?
        }
        _ => false,
    };
    let refunded_before = previous.as_ref().map_or(0, |p| p.refunded_minor);
    save_payment(c, gateway, &order, ev, previous, (status, judged.map_or(0, |j| j.refunded_minor)), now)?;
    if refund {
        refunds::notify_customer(c, gateway, &order, ev, refunded_before, now)?;
    }
    if refund && !partial {
        return Ok((Outcome::Recorded, refund_order(c, &order, policy, now)?));
    }
    if ev.kind == EventKind::Cancelled {
        return Ok((Outcome::Recorded, cancel_order(c, &order, policy, now)?));
    }
    let provisions = match ev.kind {
        EventKind::Succeeded => true,
        EventKind::Authorized => policy.provision_on_authorization,
        _ => false,
    };
    if !provisions {
        let detail = if ev.kind == EventKind::Authorized { "authorised; waiting for capture" } else { "" };
        return Ok((Outcome::Recorded, detail.into()));
    }
    if captured_after_provisioning {
        return Ok((Outcome::Recorded, "captured; the order was provisioned on authorisation".into()));
    }
    if stale {
        return Ok((Outcome::Stale, "payment already refunded or cancelled".into()));
    }
    match ev.three_ds {
        Some(ThreeDs::Failed) => return Ok((Outcome::Rejected3ds, "3-D Secure failed".into())),
        Some(ThreeDs::NotPerformed) if policy.three_ds_not_performed == NotPerformedPolicy::Reject => {
            tracing::warn!(event = "payment_held_3ds", order_id = %order.id, gateway = gateway.as_str(), "succeeded without 3-D Secure: refused");
            return Ok((Outcome::Held3ds, "succeeded without 3-D Secure; refused (policy)".into()));
        }
        _ => {}
    }
    if !matches!(order.status, orders::PENDING_PAYMENT | orders::EXPIRED) {
        return Ok((Outcome::AlreadyPaid, format!("order already {}; a second payment needs a refund", order.status)));
    }
    pay_order(c, gateway, &order, ev, policy, now, Emails::Order)
}

/// A full refund or chargeback: once no payment of the order holds money any more (refunding a
/// duplicate second payment leaves the first), the order is `refunded` and, by default, the
/// period it bought is taken back.
fn refund_order(c: &mut DbConn, order: &Order, policy: Policy, now: i64) -> Result<String, TxError> {
    if model::paid_count(c, &order.id)? > 0 {
        return Ok("refund of one of several payments; the order stays paid".into());
    }
    if !orders::mark_refunded(c, &order.id, now)? {
        return Ok(format!("order was {}; nothing to take back", order.status));
    }
    let detail = match (order.account_id.as_deref(), order.service_slug.as_deref(), policy.refund_ends_access) {
        (Some(account_id), Some(slug), true) => {
            let period = orders::period_of(c, order)?;
            crate::accounts::model::shorten_access(c, account_id, slug, period, now)?;
            tracing::info!(event = "order_refunded", order_id = %order.id, "order refunded; its access period taken back");
            "order refunded; access period taken back"
        }
        _ => "order refunded",
    };
    crate::webhooks::events::order_refunded(c, order, false, now)?;
    Ok(detail.into())
}

/// A voided authorisation: when no other payment of the order holds money, the order is
/// `cancelled` and, if the authorisation had provisioned it, the period is taken back.
fn cancel_order(c: &mut DbConn, order: &Order, policy: Policy, now: i64) -> Result<String, TxError> {
    if model::holding_count(c, &order.id)? > 0 {
        return Ok("void of one of several payments; the order stays".into());
    }
    let was_provisioned = matches!(order.status, orders::PAID | orders::PROVISIONED);
    if !orders::mark_cancelled(c, &order.id, now)? {
        return Ok(format!("order was {}; nothing to cancel", order.status));
    }
    tracing::info!(event = "order_cancelled", order_id = %order.id, "authorisation voided; order cancelled");
    crate::mail::outbox::enqueue(
        c,
        crate::mail::outbox::CANCELLATION,
        order.account_id.as_deref(),
        Some(&order.id),
        now,
    )?;
    if !was_provisioned {
        return Ok("order cancelled".into());
    }
    let detail = match (order.account_id.as_deref(), order.service_slug.as_deref(), policy.refund_ends_access) {
        (Some(account_id), Some(slug), true) => {
            let period = orders::period_of(c, order)?;
            crate::accounts::model::shorten_access(c, account_id, slug, period, now)?;
            "order cancelled; access period taken back"
        }
        _ => "order cancelled",
    };
    // Receivers were told `order.paid` (and the access): they learn it was undone.
    crate::webhooks::events::order_refunded(c, order, true, now)?;
    Ok(detail.into())
}

/// `Some(explanation)` when the event's money does not match the order.
pub(crate) fn mismatch(order: &Order, ev: &VerifiedEvent) -> Option<String> {
    let amount_ok = ev.amount_minor == Some(order.amount_minor);
    let currency_ok = ev.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&order.currency));
    (!amount_ok || !currency_ok).then(|| {
        format!(
            "expected {} {}, got {} {}",
            order.amount_minor,
            order.currency,
            ev.amount_minor.map(|a| a.to_string()).unwrap_or_else(|| "?".into()),
            ev.currency.as_deref().unwrap_or("?")
        )
    })
}

pub(crate) fn save_payment(
    c: &mut DbConn,
    gateway: GatewayId,
    order: &Order,
    ev: &VerifiedEvent,
    previous: Option<Payment>,
    (status, refunded_minor): (PaymentStatus, i64),
    now: i64,
) -> Result<(), TxError> {
    let three_ds = ev.three_ds.map(|t| t.as_str());
    match previous {
        Some(p) => {
            if model::status_rank(status) > model::status_rank(p.status) {
                model::update_status(c, &p.id, status, three_ds.or(p.three_ds.as_deref()), now)?;
            }
            if status == PaymentStatus::Succeeded {
                model::set_captured(c, &p.id, p.amount_minor)?;
            }
        }
        None => {
            model::insert(
                c,
                &Payment {
                    id: random_id("pay").into(),
                    order_id: order.id.clone(),
                    gateway,
                    gateway_payment_id: ev.payment_id.clone(),
                    status,
                    amount_minor: ev.amount_minor.unwrap_or(order.amount_minor),
                    currency: ev.currency.clone().unwrap_or_else(|| order.currency.clone()).to_uppercase(),
                    three_ds: three_ds.map(String::from),
                    created_at: now,
                    updated_at: now,
                    // A first sighting after the money moved (a refund we had not seen paid).
                    captured_minor: match status {
                        PaymentStatus::Succeeded => ev.amount_minor.unwrap_or(order.amount_minor),
                        // A refund's amount is the refund's, not the payment's.
                        PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => order.amount_minor,
                        _ => 0,
                    },
                    // A refund we had not seen paid gave back this much already.
                    refunded_minor,
                },
            )?;
        }
    }
    Ok(())
}
