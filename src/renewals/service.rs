//! Renewal rules (DESIGN §7): what the renewal link and the cabinet's Renew button may renew,
//! what it costs and until when it extends, and the one order per account and service it
//! makes. The order carries its account from the start, so paying it extends that account's
//! access (`accounts::service::provision_in_tx`): no second account, no new password.

use crate::accounts::access::{grants_of, AccessState};
use crate::accounts::model::{self as accounts, Account};
use crate::catalog::model::{self as catalog, Service};
use crate::db::{DbConn, DbError, DbResult};
use crate::http::api_error::ApiError;
use crate::orders::model::{self as orders, Order};
use crate::renewals::model::{self as links, Lookup};
use crate::state::AppState;

const DAY: i64 = 86_400;

/// Why a renewal cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such service, or (cabinet) the account never had it.
    UnknownService,
    /// The service is no longer on sale.
    NotOnSale,
    /// The account is suspended: support decides first.
    Suspended,
    /// The account is revoked (or erased): it can never be renewed.
    Revoked,
    /// (A renewal link) the period the link was issued for has been renewed since: the access
    /// now runs until `until`. Nothing more to pay.
    AlreadyRenewed { until: i64 },
}

impl Refused {
    /// The answer of the cabinet API.
    pub fn api_error(self) -> ApiError {
        match self {
            Refused::UnknownService => {
                ApiError::unprocessable("unknown_service", "You have no access to this service to renew.")
            }
            Refused::NotOnSale => ApiError::conflict(
                "service_not_on_sale",
                "This service is no longer on sale, so it cannot be renewed; contact the shop.",
            ),
            Refused::Suspended => ApiError::forbidden("account_suspended", "This account is suspended."),
            Refused::Revoked => ApiError::forbidden("account_revoked", "This account is closed."),
            Refused::AlreadyRenewed { .. } => {
                ApiError::conflict("already_renewed", "This period has been renewed already.")
            }
        }
    }
}

/// What a renewal would buy, as the renewal page shows it.
#[derive(Debug, Clone)]
pub struct Offer {
    pub account: Account,
    pub service: Service,
    /// The access as it stands: its `active_until` and state, if the account has one.
    pub current: Option<(i64, AccessState)>,
    /// The new `active_until` if paid now: `max(now, active_until) + period`.
    pub new_until: i64,
}

/// What renewing `slug` for the account would buy at `now` (reads only). `link_period`: the
/// period end a renewal link was issued for; once the access runs past it (renewed since) the
/// link renews nothing more.
pub fn offer(
    c: &mut DbConn,
    account_id: &str,
    slug: &str,
    link_period: Option<i64>,
    now: i64,
) -> DbResult<Result<Offer, Refused>> {
    let Some(account) = accounts::find_by_id(c, account_id)? else { return Ok(Err(Refused::Revoked)) };
    if account.status == accounts::REVOKED {
        return Ok(Err(Refused::Revoked));
    }
    if account.status == accounts::SUSPENDED {
        return Ok(Err(Refused::Suspended));
    }
    let grant = grants_of(c, account_id)?.into_iter().find(|g| g.slug == slug);
    if let (Some(g), Some(period_end)) = (&grant, link_period) {
        if g.active_until > period_end {
            return Ok(Err(Refused::AlreadyRenewed { until: g.active_until }));
        }
    }
    let Some(service) = catalog::find_by_slug(c, slug)? else { return Ok(Err(Refused::UnknownService)) };
    if !service.active {
        return Ok(Err(Refused::NotOnSale));
    }
    let current = grant.map(|g| (g.active_until, g.state(now)));
    let from = current.map_or(now, |(until, _)| until.max(now));
    let new_until = from + i64::from(service.period_days) * DAY;
    Ok(Ok(Offer { account, service, current, new_until }))
}

/// The open renewal order of the account for `slug`, or a new one at the service's current
/// price. Runs in one transaction holding the account's row lock (PostgreSQL), so two clicks
/// at once still make one order. `require_grant`: the cabinet renews only what the account has;
/// `link_period`: see [`offer`].
fn order_in_tx(
    c: &mut DbConn,
    account_id: &str,
    slug: &str,
    (require_grant, link_period): (bool, Option<i64>),
    now: i64,
    ttl: i64,
) -> DbResult<Result<(Order, bool), Refused>> {
    if accounts::find_by_id_locked(c, account_id)?.is_none() {
        return Ok(Err(Refused::Revoked));
    }
    let offer = match offer(c, account_id, slug, link_period, now)? {
        Ok(o) => o,
        Err(r) => return Ok(Err(r)),
    };
    if require_grant && offer.current.is_none() {
        return Ok(Err(Refused::UnknownService));
    }
    let service = offer.service;
    if let Some(open) = orders::find_open_renewal(c, account_id, slug)? {
        let same_price = open.amount_minor == service.price_minor
            && open.currency == service.currency
            && open.period_days == Some(service.period_days);
        if open.expires_at > now && same_price {
            return Ok(Ok((open, true)));
        }
        orders::expire_one(c, &open.id, now)?;
    }
    let buyer = orders::Buyer {
        name: offer.account.name.clone(),
        email: offer.account.email.clone(),
        phone: None,
        locale: offer.account.locale.clone(),
        account_id: Some(account_id.to_string()),
    };
    let order = Order::for_service(service, buyer, now, ttl);
    orders::insert(c, &order)?;
    Ok(Ok((order, false)))
}

/// [`order_in_tx`] in its own transaction, logged.
async fn make_order(
    state: &AppState,
    account_id: String,
    slug: String,
    rules: (bool, Option<i64>),
) -> DbResult<Result<Order, Refused>> {
    let now = state.clock.now();
    let ttl = state.settings.order_ttl_hours * 3600;
    let made = state.db.write(move |c| order_in_tx(c, &account_id, &slug, rules, now, ttl)).await?;
    Ok(made.map(|(order, reused)| {
        tracing::info!(
            event = "renewal_order",
            order_id = %order.id,
            account_id = order.account_id.as_deref().unwrap_or("-"),
            service = order.service_slug.as_deref().unwrap_or("-"),
            reused,
            "renewal order ready"
        );
        order
    }))
}

/// Why a renewal link does not lead to a renewal.
#[derive(Debug)]
pub enum LinkRefusal {
    /// Not a link we issued.
    Unknown,
    /// A link we issued that has expired.
    Expired,
    /// The link is fine; the renewal is not possible.
    Refused(Refused),
    /// Storage trouble.
    Db(DbError),
}

impl From<DbError> for LinkRefusal {
    fn from(e: DbError) -> Self {
        LinkRefusal::Db(e)
    }
}

/// The renewal link's page: what it would renew (changes nothing).
pub async fn offer_by_link(state: &AppState, token: &str) -> Result<Offer, LinkRefusal> {
    let (token, now) = (token.to_string(), state.clock.now());
    let found = state
        .db
        .read(move |c| {
            Ok(match links::lookup(c, &token, now)? {
                Lookup::Valid(t) => {
                    Ok(offer(c, &t.account_id, &t.service_slug, Some(t.period_end), now)?.map_err(LinkRefusal::Refused))
                }
                Lookup::Expired => Err(LinkRefusal::Expired),
                Lookup::Unknown => Err(LinkRefusal::Unknown),
            })
        })
        .await?;
    found?
}

/// The renewal link's button: the order for the link's own account and service (the open one
/// if there is one). The link decides both; nothing the browser sends can change them. A link
/// whose period was renewed since makes no order (`AlreadyRenewed`).
pub async fn renew_by_link(state: &AppState, token: &str) -> Result<Order, LinkRefusal> {
    let (token, now) = (token.to_string(), state.clock.now());
    let link = state.db.read(move |c| Ok(links::lookup(c, &token, now)?)).await?;
    let t = match link {
        Lookup::Valid(t) => t,
        Lookup::Expired => return Err(LinkRefusal::Expired),
        Lookup::Unknown => return Err(LinkRefusal::Unknown),
    };
    let rules = (false, Some(t.period_end));
    make_order(state, t.account_id, t.service_slug, rules).await?.map_err(LinkRefusal::Refused)
}

/// The cabinet's Renew button for a logged-in customer: the order for one of the account's
/// own services.
pub async fn renew_in_cabinet(state: &AppState, account_id: &str, slug: &str) -> Result<Order, ApiError> {
    if !crate::crypto::is_key(slug) {
        return Err(Refused::UnknownService.api_error());
    }
    let made = make_order(state, account_id.to_string(), slug.to_string(), (true, None)).await?;
    made.map_err(Refused::api_error)
}
