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
use crate::crypto::mask_email;
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::pages::{esc, page_in};
use crate::i18n::format::{amount, date_time};
use crate::i18n::Lang;
use crate::renewals::service::{self, LinkRefusal, Offer, Refused};
use crate::state::AppState;

/// The stable reason a renewal link's `POST` answers with when its period was renewed already.
pub const ALREADY_RENEWED: &str = "already_renewed";

/// The page for a link that leads to no renewal. `post`: the answer to the button (an already
/// renewed period is then a conflict; to `GET` it is just the news).
fn refusal_page(state: &AppState, lang: &Lang, why: LinkRefusal, post: bool) -> Response {
    let product = &state.settings.product_name;
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let cabinet = format!("<p><a class=\"button\" href=\"/cabinet\">{}</a></p>", t("rn-go-to-cabinet"));
    let error = |id: &str| format!("<p class=\"error\">{}</p>", t(id));
    let reason = matches!(why, LinkRefusal::Refused(Refused::AlreadyRenewed { .. })).then_some(ALREADY_RENEWED);
    let (status, title, body) = match why {
        LinkRefusal::Unknown => (StatusCode::NOT_FOUND, t("rn-not-valid-title"), error("rn-not-valid")),
        LinkRefusal::Expired => {
            (StatusCode::GONE, t("rn-expired-title"), format!("<p>{}</p>{cabinet}", t("rn-expired")))
        }
        LinkRefusal::Refused(Refused::Suspended) => {
            (StatusCode::FORBIDDEN, t("rn-impossible-title"), error("rn-suspended"))
        }
        LinkRefusal::Refused(Refused::Revoked) => {
            (StatusCode::FORBIDDEN, t("rn-impossible-title"), error("rn-revoked"))
        }
        LinkRefusal::Refused(Refused::NotOnSale | Refused::UnknownService) => {
            (StatusCode::CONFLICT, t("rn-off-sale-title"), format!("<p>{}</p>{cabinet}", t("rn-off-sale")))
        }
        LinkRefusal::Refused(Refused::AlreadyRenewed { until }) => {
            let until = esc(&date_time(l, until));
            let text = state.catalog.tr(l, "rn-renewed", &[("until", until.into())]);
            (
                if post { StatusCode::CONFLICT } else { StatusCode::OK },
                t("rn-renewed-title"),
                format!("<p>{text}</p>{cabinet}"),
            )
        }
        LinkRefusal::Db(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "renewal page could not load");
            (StatusCode::SERVICE_UNAVAILABLE, t("error-title"), format!("<p>{}</p>", t("rn-busy")))
        }
    };
    let mut resp = page_in(status, lang, product, &title, &body);
    if let Some(reason) = reason {
        resp.headers_mut().insert("X-Keyturn-Reason", poem::http::HeaderValue::from_static(reason));
    }
    resp
}

/// The offer with its button, in the account's language unless the visitor chose another.
fn offer_page(state: &AppState, lang: &Lang, token: &str, o: &Offer) -> Response {
    let s = &o.service;
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let tr = |id: &str, args: &[(&str, fluent_bundle::FluentValue)]| state.catalog.tr(l, id, args);
    let now_line = match o.current {
        Some((until, AccessState::Active)) => tr("rn-active-until", &[("until", date_time(l, until).into())]),
        Some((until, AccessState::Grace)) => tr("rn-grace", &[("until", date_time(l, until).into())]),
        Some((until, AccessState::Expired)) => tr("rn-ended", &[("until", date_time(l, until).into())]),
        None => t("rn-not-active"),
    };
    let methods: Vec<&str> = state.gateways.all().map(|g| g.pay_button("").0).collect();
    let methods = if methods.is_empty() {
        format!("<p class=\"error\">{}</p>", t("rn-no-methods"))
    } else {
        format!("<p class=\"muted\">{}</p>", esc(&tr("rn-pay-with", &[("methods", methods.join(", ").into())])))
    };
    let period = tr("days", &[("count", s.period_days.into())]);
    let body = format!(
        "<p>{account}</p><p><strong>{name}</strong><br>{now_line}</p><p>{renew_for}<br>{new_end}</p>{methods}\
         <form method=\"post\" action=\"/renew/{token}?lang={code}\"><button type=\"submit\">{button}</button></form><p class=\"muted\">{note}</p>",
        account = tr(
            "rn-account",
            &[("login", esc(&o.account.login).into()), ("email", esc(&mask_email(&o.account.email)).into())]
        ),
        name = esc(&s.name),
        now_line = esc(&now_line),
        renew_for = tr(
            "rn-renew-for",
            &[("period", esc(&period).into()), ("amount", esc(&amount(l, s.price_minor, &s.currency)).into())]
        ),
        new_end = tr("rn-new-end", &[("until", esc(&date_time(l, o.new_until)).into())]),
        token = esc(token),
        code = l.code(),
        button = t("rn-button"),
        note = t("rn-note"),
    );
    page_in(StatusCode::OK, lang, &state.settings.product_name, &t("rn-title"), &body)
}

/// `GET /renew/{token}`: the offer; nothing changes.
#[handler]
pub async fn get_renew_page(Path(token): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    match service::offer_by_link(&state, &token).await {
        Ok(offer) => {
            let lang = lang.prefer(Some(&offer.account.locale));
            offer_page(&state, &lang, &token, &offer)
        }
        Err(why) => {
            // An old reminder's link speaks the language of the email it came in.
            let t = token.clone();
            let known = state.db.read(move |c| Ok(crate::renewals::model::locale_of_link(c, &t)?)).await.ok().flatten();
            refusal_page(&state, &lang.prefer(known.as_deref()), why, false)
        }
    }
}

/// `POST /renew/{token}`: the renewal order (one per account and service while unpaid), then
/// 303 to its payment page. Like the other form posts of customer pages (`/verify-email`,
/// `/invoice/…`) it needs no session and checks no `Origin` (our pages send no referrer, so a
/// browser posts them with `Origin: null`): the unguessable token in the path is what allows
/// it, and all it can do is make the order that the link's owner would pay.
#[handler]
pub async fn post_renew_page(req: &Request, Path(token): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let ip = client_ip(req, &state.settings.trusted_proxies);
    if state.limiters.check(Bucket::Orders, ip).is_err() {
        let msg = format!("<p class=\"error\">{}</p>", state.catalog.t(lang.locale, "err-rate_limited"));
        return page_in(
            StatusCode::TOO_MANY_REQUESTS,
            &lang,
            product,
            &state.catalog.t(lang.locale, "rn-wait-title"),
            &msg,
        );
    }
    match service::renew_by_link(&state, &token).await {
        Ok(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        Err(why) => refusal_page(&state, &lang, why, true),
    }
}
