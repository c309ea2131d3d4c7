//! Taking the money of a payable order, shared by a customer's payment and a gateway's renewal
//! charge (`payments::recurring`): the hold for an account that cannot use it, else the order
//! paid, the account found or created, the access extended, webhooks and emails queued.

use crate::accounts::service::provision_in_tx;
use crate::db::DbConn;
use crate::mail::outbox;
use crate::orders::model::{self as orders, Order};
use crate::payments::gateways::{GatewayId, VerifiedEvent};
use crate::payments::model;

use super::{Outcome, Policy, TxError};

/// Which emails a paid order sends besides the credentials of a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emails {
    /// An order the customer placed: the payment confirmation (and the merchant's copy of an
    /// invoice), plus `access_extended` for an account that already existed.
    Order,
    /// A renewal the gateway charged on its own schedule: only `access_extended` (the gateway
    /// sends its own receipt).
    Renewal,
}

/// Takes the money of a payable order (`pending_payment`/`expired`): held when the address's
/// account is revoked or suspended, else paid, the account found or created, its access
/// extended and the emails and webhooks queued.
pub(crate) fn pay_order(
    c: &mut DbConn,
    gateway: GatewayId,
    order: &Order,
    ev: &VerifiedEvent,
    policy: Policy,
    now: i64,
    emails: Emails,
) -> Result<(Outcome, String), TxError> {
    // The conditional update takes the order's row lock first: of two concurrent events
    // for one order, exactly one moves it; the other sees it paid.
    if let Some(reason) = crate::accounts::service::hold_reason(c, order)? {
        if policy.can_refuse {
            // The gateway is told `rejected` and gives the money back: nothing was taken.
            model::mark_refused(c, gateway, &ev.payment_id, now)?;
            orders::note_refusal(c, &order.id, reason, now)?;
            tracing::warn!(event = "payment_refused_account", order_id = %order.id, gateway = gateway.as_str(), reason, "paid for an account that cannot use it: the gateway is told to reverse the payment");
            return Ok((Outcome::RefusedAccount, format!("{reason}: refused; the gateway reverses the payment")));
        }
        if !orders::mark_held(c, &order.id, reason, now)? {
            return Ok((Outcome::AlreadyPaid, "order was paid concurrently".into()));
        }
        tracing::warn!(event = "payment_held_account", order_id = %order.id, gateway = gateway.as_str(), reason, "paid for an account that cannot use it: held for an admin");
        return Ok((Outcome::HeldAccount, format!("{reason}: nothing provisioned; refund the payment")));
    }
    if !orders::mark_paid(c, &order.id, now)? {
        return Ok((Outcome::AlreadyPaid, "order was paid concurrently".into()));
    }
    let provisioned = provision_in_tx(c, order, now)?;
    orders::set_account(c, &order.id, &provisioned.account_id)?;
    crate::webhooks::events::order_paid(c, order, &provisioned, now)?;
    if emails == Emails::Order {
        outbox::enqueue(c, outbox::PAYMENT_CONFIRMATION, Some(&provisioned.account_id), Some(&order.id), now)?;
        crate::invoices::model::enqueue_merchant_copy(c, order, now)?;
    }
    if provisioned.new_account {
        outbox::enqueue(c, outbox::CREDENTIALS, Some(&provisioned.account_id), Some(&order.id), now)?;
    } else {
        orders::mark_provisioned(c, &order.id, now)?;
        // A free invoice item extends nothing: the payment confirmation says it all.
        if order.service_slug.is_some() {
            outbox::enqueue(c, outbox::ACCESS_EXTENDED, Some(&provisioned.account_id), Some(&order.id), now)?;
        }
    }
    Ok((Outcome::Provisioned, String::new()))
}
