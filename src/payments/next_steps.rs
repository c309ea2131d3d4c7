//! What the return page promises for a paid order, read from what the payment transaction
//! actually did: a new account gets its credentials email; an existing account gets its access
//! extended and no new password; an item without a service (a pay-by-link invoice for
//! something else) gets the payment confirmation only.

use diesel::prelude::*;

use crate::db::schema::outbox;
use crate::db::DbConn;
use crate::http::pages::esc;
use crate::i18n::Lang;
use crate::mail::outbox::CREDENTIALS;
use crate::orders::model::Order;
use crate::state::AppState;

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

/// The return page's text for `step` in `lang`; `email` is already masked, `service` the item's name.
pub fn paid_text(state: &AppState, lang: &Lang, step: &NextStep, email: &str, service: &str) -> String {
    let l = lang.locale;
    let (email, service) = (esc(email), esc(service));
    let args = [("email", email.into()), ("service", service.into())];
    let tr = |id: &str| state.catalog.tr(l, id, &args);
    let cabinet = format!("<p><a class=\"button\" href=\"/cabinet\">{}</a></p>", tr("go-to-cabinet"));
    match step {
        NextStep::NewAccount => {
            format!("<p class=\"ok\">{}</p><p>{}</p>{cabinet}", tr("paid-thanks"), tr("paid-new-account"))
        }
        // Whoever paid may have typed someone else's address: the page neither confirms that
        // an account exists for it nor shows that account's dates. Renewals get the same
        // wording: by the time the page shows, an order attached to an existing account looks
        // like one created from a renewal link, and the cabinet shows the date to its owner.
        NextStep::Extended { .. } => {
            format!("<p class=\"ok\">{}</p><p>{}</p>{cabinet}", tr("paid-thanks"), tr("paid-extended"))
        }
        NextStep::PaymentOnly => {
            format!("<p class=\"ok\">{}</p><p>{}</p>", tr("paid-only-thanks"), tr("paid-only-text"))
        }
    }
}
