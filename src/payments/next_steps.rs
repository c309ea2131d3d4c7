//! What the return page promises for a paid order, read from what the payment transaction
//! actually did: a new account gets its credentials email; an existing account gets its access
//! extended and no new password; an item without a service (a pay-by-link invoice for
//! something else) gets the payment confirmation only.

use diesel::prelude::*;

use crate::db::schema::outbox;
use crate::db::DbConn;
use crate::http::pages::esc;
use crate::mail::outbox::CREDENTIALS;
use crate::orders::model::Order;

/// What happens after this order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// The account was created by this order: login, temporary password and link by email.
    NewAccount,
    /// An existing account: the service now runs until `until` (Unix seconds; for the
    /// account's owner, never shown on the return page).
    Extended { until: Option<i64> },
    /// Nothing to sign in to: the payment confirmation says it all.
    PaymentOnly,
}

/// Reads the next step of a paid or provisioned order.
pub fn next_step(conn: &mut DbConn, order: &Order) -> QueryResult<NextStep> {
    let credentials: i64 = outbox::table
        .filter(outbox::order_id.eq(&order.id))
        .filter(outbox::kind.eq(CREDENTIALS.as_str()))
        .count()
        .get_result(conn)?;
    if credentials > 0 {
        return Ok(NextStep::NewAccount);
    }
    match (order.account_id.as_deref(), order.service_slug.as_deref()) {
        (Some(account), Some(slug)) => {
            let until = crate::accounts::model::access_until(conn, account, slug)?;
            Ok(NextStep::Extended { until })
        }
        _ => Ok(NextStep::PaymentOnly),
    }
}

/// The return page's text for `step`; `email` is already masked, `service` the item's name.
pub fn paid_text(step: &NextStep, email: &str, service: &str) -> String {
    let (email, service) = (esc(email), esc(service));
    let cabinet = "<p><a class=\"button\" href=\"/cabinet\">Go to your cabinet</a></p>";
    match step {
        NextStep::NewAccount => format!(
            "<p class=\"ok\">Thank you! Your payment is confirmed.</p>\
             <p>We are sending your login, a temporary password and a confirmation link to <strong>{email}</strong>. \
             Confirm the address, log in and choose your own password, and you are in.</p>{cabinet}"
        ),
        // Whoever paid may have typed someone else's address: the page neither confirms that
        // an account exists for it nor shows that account's dates. Renewals get the same
        // wording: by the time the page shows, an order attached to an existing account looks
        // like one created from a renewal link, and the cabinet shows the date to its owner.
        NextStep::Extended { .. } => format!(
            "<p class=\"ok\">Thank you! Your payment is confirmed.</p>\
             <p>Your login for <strong>{service}</strong> is on its way to <strong>{email}</strong>, or, if that \
             address already has an account, the access has been added to it: log in with the login and password \
             you already have.</p>{cabinet}"
        ),
        NextStep::PaymentOnly => format!(
            "<p class=\"ok\">Thank you! Your payment for <strong>{service}</strong> is confirmed.</p>\
             <p>A confirmation is on its way to <strong>{email}</strong>.</p>"
        ),
    }
}
