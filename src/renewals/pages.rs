//! The renewal link's page, `<public_url>/renew/<token>` (DESIGN §7): `GET` shows what renewing
//! buys (service, period, amount, the new end date, how one can pay) and changes nothing (mail
//! scanners prefetch links); `POST` (its button) makes the renewal order for the link's account
//! and service and answers 303 to `/pay/{order_id}`, where the customer picks the gateway.
//! A link whose period was renewed since (`active_until` moved past the period it was issued
//! for) says "already renewed until <date>": `GET` 200, `POST` 409 with
//! `X-Keyturn-Reason: already_renewed`; neither makes an order.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};

use crate::accounts::access::AccessState;
use crate::clock::human;
use crate::crypto::mask_email;
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::pages::{esc, page};
use crate::money::format_minor;
use crate::renewals::service::{self, LinkRefusal, Offer, Refused};
use crate::state::AppState;

const CABINET: &str = "<p><a class=\"button\" href=\"/cabinet\">Go to your cabinet</a></p>";

/// The stable reason a renewal link's `POST` answers with when its period was renewed already.
pub const ALREADY_RENEWED: &str = "already_renewed";

/// The page for a link that leads to no renewal. `post`: the answer to the button (an already
/// renewed period is then a conflict; to `GET` it is just the news).
fn refusal_page(state: &AppState, why: LinkRefusal, post: bool) -> Response {
    let product = &state.settings.product_name;
    let reason = matches!(why, LinkRefusal::Refused(Refused::AlreadyRenewed { .. })).then_some(ALREADY_RENEWED);
    let (status, title, body) = match why {
        LinkRefusal::Unknown => (
            StatusCode::NOT_FOUND,
            "Link not valid",
            "<p class=\"error\">This renewal link is not valid. Please open the link from your email again.</p>"
                .to_string(),
        ),
        LinkRefusal::Expired => (
            StatusCode::GONE,
            "This renewal link has expired",
            format!(
                "<p>This renewal link has expired. You can still renew: log in to your cabinet and press \
                 Renew next to the service.</p>{CABINET}"
            ),
        ),
        LinkRefusal::Refused(Refused::Suspended) => (
            StatusCode::FORBIDDEN,
            "Renewal not possible",
            "<p class=\"error\">This account is suspended, so it cannot be renewed now; please contact support.</p>"
                .to_string(),
        ),
        LinkRefusal::Refused(Refused::Revoked) => (
            StatusCode::FORBIDDEN,
            "Renewal not possible",
            "<p class=\"error\">This account is closed and cannot be renewed; please contact support.</p>".to_string(),
        ),
        LinkRefusal::Refused(Refused::NotOnSale | Refused::UnknownService) => (
            StatusCode::CONFLICT,
            "No longer on sale",
            format!(
                "<p>This service is no longer on sale, so it cannot be renewed. Your access runs until the \
                 date shown in your cabinet; contact the shop if you have questions.</p>{CABINET}"
            ),
        ),
        LinkRefusal::Refused(Refused::AlreadyRenewed { until }) => (
            if post { StatusCode::CONFLICT } else { StatusCode::OK },
            "Already renewed",
            format!(
                "<p>This subscription has already been renewed: it runs until <strong>{}</strong>. There is \
                 nothing more to pay.</p>{CABINET}",
                esc(&human(until))
            ),
        ),
        LinkRefusal::Db(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "renewal page could not load");
            (StatusCode::SERVICE_UNAVAILABLE, "Something is not right", "<p>Please try again in a moment.</p>".into())
        }
    };
    let mut resp = page(status, product, title, &body);
    if let Some(reason) = reason {
        resp.headers_mut().insert("X-Keyturn-Reason", poem::http::HeaderValue::from_static(reason));
    }
    resp
}

/// The offer with its button.
fn offer_page(state: &AppState, token: &str, o: &Offer) -> Response {
    let s = &o.service;
    let now_line = match o.current {
        Some((until, AccessState::Active)) => format!("Active until {}", human(until)),
        Some((until, AccessState::Grace)) => format!("The period ended on {}; renew now to keep it", human(until)),
        Some((until, AccessState::Expired)) => format!("Ended on {}", human(until)),
        None => "Not active".to_string(),
    };
    let methods: Vec<&str> = state.gateways.all().map(|g| g.pay_button("").0).collect();
    let methods = if methods.is_empty() {
        "<p class=\"error\">No payment method is enabled; please contact the shop.</p>".to_string()
    } else {
        format!("<p class=\"muted\">Pay with: {}</p>", esc(&methods.join(", ")))
    };
    let body = format!(
        "<p>Account <code>{login}</code> ({email})</p>\
         <p><strong>{name}</strong><br>{now_line}</p>\
         <p>Renew for {days} days: <strong>{amount} {currency}</strong><br>\
         New end date: <strong>{new_until}</strong></p>{methods}\
         <form method=\"post\" action=\"/renew/{token}\"><button type=\"submit\">Renew and pay</button></form>\
         <p class=\"muted\">You will choose how to pay on the next page and enter your card on the payment \
         provider's page; we never see card numbers. Your login and password stay the same.</p>",
        login = esc(&o.account.login),
        email = esc(&mask_email(&o.account.email)),
        name = esc(&s.name),
        now_line = esc(&now_line),
        days = s.period_days,
        amount = format_minor(s.price_minor, &s.currency),
        currency = esc(&s.currency),
        new_until = esc(&human(o.new_until)),
        token = esc(token),
    );
    page(StatusCode::OK, &state.settings.product_name, "Renew your subscription", &body)
}

/// `GET /renew/{token}`: the offer; nothing changes.
#[handler]
pub async fn get_renew_page(Path(token): Path<String>, state: Data<&AppState>) -> Response {
    match service::offer_by_link(&state, &token).await {
        Ok(offer) => offer_page(&state, &token, &offer),
        Err(why) => refusal_page(&state, why, false),
    }
}

/// `POST /renew/{token}`: the renewal order (one per account and service while unpaid), then
/// 303 to its payment page. Like the other form posts of customer pages (`/verify-email`,
/// `/invoice/…`) it needs no session and checks no `Origin` (our pages send no referrer, so a
/// browser posts them with `Origin: null`): the unguessable token in the path is what allows
/// it, and all it can do is make the order that the link's owner would pay.
#[handler]
pub async fn post_renew_page(req: &Request, Path(token): Path<String>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let ip = client_ip(req, &state.settings.trusted_proxies);
    if state.limiters.check(Bucket::Orders, ip).is_err() {
        let msg = "<p class=\"error\">Too many attempts; please wait a minute and try again.</p>";
        return page(StatusCode::TOO_MANY_REQUESTS, product, "Please wait", msg);
    }
    match service::renew_by_link(&state, &token).await {
        Ok(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        Err(why) => refusal_page(&state, why, true),
    }
}
