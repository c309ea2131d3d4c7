//! The sandbox's hosted pages: card entry and the 3-D Secure challenge.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{handler, Response};
use serde::Deserialize;

use crate::config::merchant::CaptureMode;
use crate::crypto::random_id;
use crate::http::pages::{error_page, esc, page};
use crate::money::format_minor;
use crate::orders::model::{self as orders, Order};
use crate::payments::model::PaymentStatus;
use crate::sandbox::cards::{self, Card};
use crate::sandbox::deliver::spawn_delivery;
use crate::sandbox::model::{self, SandboxPayment};
use crate::state::AppState;

/// What a successful card does: with `capture=manual` the sandbox only authorises it.
fn success(state: &AppState) -> (PaymentStatus, &'static str) {
    match state.settings.merchant.capture {
        CaptureMode::Automatic => (PaymentStatus::Succeeded, "payment.succeeded"),
        CaptureMode::Manual => (PaymentStatus::Authorized, "payment.authorized"),
    }
}

fn see_other(location: &str) -> Response {
    Response::builder().status(StatusCode::SEE_OTHER).header("Location", location).finish()
}

fn declined(state: &AppState, order_id: &str, why: &str) -> Response {
    page(
        StatusCode::PAYMENT_REQUIRED,
        "Sandbox payment page",
        "Payment declined",
        &format!(
            "<p class=\"error\">{}</p><p><a class=\"button\" href=\"{}\">Back to the shop</a></p>",
            esc(why),
            esc(&state.link(&format!("/pay/{order_id}")))
        ),
    )
}

async fn payable_order(state: &AppState, id: String) -> Result<Order, Response> {
    let found = if !crate::crypto::is_key(&id) {
        Ok(None)
    } else {
        state.db.read(move |c| Ok(orders::find_by_id(c, &id)?)).await
    };
    match found {
        Ok(Some(o)) if o.status == orders::PENDING_PAYMENT && crate::payments::pages::held(state, &o.id).await => {
            Err(page(
                StatusCode::CONFLICT,
                "Sandbox payment page",
                "Already authorised",
                "<p>This order's payment is authorised and waits for capture.</p>",
            ))
        }
        Ok(Some(o)) if o.status == orders::PENDING_PAYMENT => Ok(o),
        Ok(Some(o)) => Err(page(
            StatusCode::CONFLICT,
            "Sandbox payment page",
            "Nothing to pay",
            &format!("<p>This order is {}.</p>", esc(&o.status.as_str().replace('_', " "))),
        )),
        Ok(None) => Err(error_page(StatusCode::NOT_FOUND, "Sandbox payment page", "Unknown order.")),
        Err(_) => Err(error_page(StatusCode::SERVICE_UNAVAILABLE, "Sandbox payment page", "Please try again.")),
    }
}

/// The card form.
#[handler]
pub async fn get_checkout(Path(order_id): Path<String>, state: Data<&AppState>) -> Response {
    let order = match payable_order(&state, order_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        "Sandbox payment page",
        "Card payment",
        &format!(
            "<p>Amount: <strong>{} {}</strong></p>\
             <form method=\"post\" action=\"/sandbox/checkout/{id}\">\
             <label for=\"card\">Card number</label><input id=\"card\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"off\" placeholder=\"4242 4242 4242 4242\">\
             <label for=\"exp\">Expiry</label><input id=\"exp\" name=\"exp\" placeholder=\"12/30\">\
             <label for=\"cvc\">CVC</label><input id=\"cvc\" name=\"cvc\" placeholder=\"123\">\
             <button type=\"submit\">Pay</button></form>\
             <p class=\"muted\">Sandbox: 4242 4242 4242 4242 succeeds; 4000 0000 0000 3220 asks for 3-D Secure (code 1234); \
             4000 0084 0000 1629 passes 3-D Secure then is declined; 4000 0000 0000 0002 is declined.</p>",
            format_minor(order.amount_minor, &order.currency),
            esc(&order.currency),
            id = esc(&order.id)
        ),
    )
}

#[derive(Deserialize)]
pub struct CardForm {
    #[serde(default)]
    card_number: String,
}

/// Takes the (test) card, then delivers the outcome to keyturn as a signed callback.
#[handler]
pub async fn post_checkout(Path(order_id): Path<String>, Form(f): Form<CardForm>, state: Data<&AppState>) -> Response {
    let order = match payable_order(&state, order_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(card) = cards::recognise(&f.card_number) else {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Sandbox payment page",
            "Not a test card",
            &format!(
                "<p class=\"error\">The sandbox only accepts its test cards.</p><p><a href=\"/sandbox/checkout/{}\">Try again</a></p>",
                esc(&order.id)
            ),
        );
    };
    let (status, three_ds) = match card {
        Card::Frictionless => (success(&state).0, Some("authenticated")),
        Card::Challenge | Card::ChallengeThenDecline => (PaymentStatus::RequiresAction, None),
        Card::Decline => (PaymentStatus::Failed, Some("not_performed")),
    };
    let p = SandboxPayment {
        id: random_id("sbp"),
        order_id: order.id.to_string(),
        amount_minor: order.amount_minor,
        currency: order.currency.clone(),
        card_last4: card.code().into(),
        status,
        three_ds: three_ds.map(String::from),
        created_at: state.clock.now(),
        refunded_minor: 0,
    };
    let stored = p.clone();
    if state.db.write(move |c| Ok(model::insert(c, &stored)?)).await.is_err() {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, "Sandbox payment page", "Please try again.");
    }
    match card {
        Card::Frictionless => {
            spawn_delivery(&state, success(&state).1, &p, three_ds);
            see_other(&state.link(&format!("/orders/{}/return", order.id)))
        }
        Card::Challenge | Card::ChallengeThenDecline => {
            spawn_delivery(&state, "payment.requires_action", &p, None);
            see_other(&format!("/sandbox/3ds/{}", p.id))
        }
        Card::Decline => {
            spawn_delivery(&state, "payment.failed", &p, three_ds);
            declined(&state, &order.id, "Your card was declined.")
        }
    }
}

async fn pending_challenge(state: &AppState, id: String) -> Result<SandboxPayment, Response> {
    let found =
        if !crate::crypto::is_key(&id) { Ok(None) } else { state.db.read(move |c| Ok(model::find(c, &id)?)).await };
    match found {
        Ok(Some(p)) if p.status == PaymentStatus::RequiresAction => Ok(p),
        Ok(_) => Err(error_page(StatusCode::NOT_FOUND, "3-D Secure", "No authentication is waiting here.")),
        Err(_) => Err(error_page(StatusCode::SERVICE_UNAVAILABLE, "3-D Secure", "Please try again.")),
    }
}

/// The bank's challenge page.
#[handler]
pub async fn get_challenge(Path(payment_id): Path<String>, state: Data<&AppState>) -> Response {
    let p = match pending_challenge(&state, payment_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        "3-D Secure (sandbox bank)",
        "Confirm your payment",
        &format!(
            "<p>Enter the code your bank sent you to approve {} {}.</p>\
             <form method=\"post\" action=\"/sandbox/3ds/{}\"><label for=\"code\">Code</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\
             <button type=\"submit\">Confirm</button></form><p class=\"muted\">Sandbox: the code is 1234.</p>",
            format_minor(p.amount_minor, &p.currency),
            esc(&p.currency),
            esc(&p.id)
        ),
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Checks the challenge code and delivers the final outcome.
#[handler]
pub async fn post_challenge(
    Path(payment_id): Path<String>,
    Form(f): Form<CodeForm>,
    state: Data<&AppState>,
) -> Response {
    let p = match pending_challenge(&state, payment_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let passed = f.code.trim() == cards::CHALLENGE_CODE;
    let card = Card::from_code(&p.card_last4).unwrap_or(Card::Challenge);
    let (status, three_ds, kind) = match (passed, card) {
        (false, _) => (PaymentStatus::Failed, "failed", "payment.failed"),
        (true, Card::ChallengeThenDecline) => (PaymentStatus::Failed, "authenticated", "payment.failed"),
        (true, _) => (success(&state).0, "authenticated", success(&state).1),
    };
    let id = p.id.clone();
    match state.db.write(move |c| Ok(model::finish_challenge(c, &id, status, three_ds)?)).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(StatusCode::CONFLICT, "3-D Secure", "This authentication was already completed.")
        }
        Err(_) => return error_page(StatusCode::SERVICE_UNAVAILABLE, "3-D Secure", "Please try again."),
    }
    spawn_delivery(&state, kind, &p, Some(three_ds));
    match (passed, status) {
        (false, _) => declined(&state, &p.order_id, "The authentication failed, so the payment was not made."),
        (true, PaymentStatus::Failed) => declined(&state, &p.order_id, "Your bank declined the payment."),
        _ => see_other(&state.link(&format!("/orders/{}/return", p.order_id))),
    }
}
