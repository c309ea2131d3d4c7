//! `POST /admin/invoices` (operators: create a pay-by-link invoice), `GET /admin/invoices`
//! (whoever may read orders).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::paging;
use crate::admin::{AdminTag, BAD_QUERY, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::idempotency;
use crate::invoices::model::{self, Listed};
use crate::invoices::service::{self, Created, InvoiceInput};
use crate::state::AppState;

/// An invoice to create: `service`, or `description` + `amount_minor` + `currency`.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewInvoice {
    /// The customer's name, 1–200 characters.
    pub name: Str,
    /// The customer's email address: the account and the emails go there.
    pub email: Str,
    pub phone: Option<Str>,
    /// A catalog service's slug (active). With `amount_minor` and `currency`: a custom price.
    pub service: Option<Str>,
    /// A free description (1–200 characters): the customer gets an account, no service access.
    pub description: Option<Str>,
    /// Minor units, 1–10000000000.
    pub amount_minor: Option<i64>,
    /// The amount as typed, read by `currency`: `12 990,00`, `12,990.00`, `12990` (ambiguous forms
    /// like `1,500` are refused); instead of `amount_minor`.
    pub amount: Option<Str>,
    /// ISO 4217, three letters.
    pub currency: Option<Str>,
    /// 1–90; default the `invoice_days` setting.
    pub expires_in_days: Option<i64>,
    /// Also email the link to the customer (default false: copy it into SMS, email or chat).
    pub send_email: Option<bool>,
    /// The language of the customer's emails and pages: `en`, `ru`, `pl` or `sr`. Default: the
    /// customer's account's, else the `default_locale` setting.
    #[oai(validator(pattern = r"^(en|ru|pl|sr)$"))]
    pub locale: Option<String>,
}

impl From<NewInvoice> for InvoiceInput {
    fn from(b: NewInvoice) -> Self {
        InvoiceInput {
            name: b.name.0,
            email: b.email.0,
            phone: b.phone.map(|s| s.0),
            service: b.service.map(|s| s.0),
            description: b.description.map(|s| s.0),
            amount_minor: b.amount_minor,
            currency: b.currency.map(|s| s.0),
            expires_in_days: b.expires_in_days,
            send_email: b.send_email.unwrap_or(false),
            locale: b.locale,
        }
    }
}

/// `amount` as typed, in minor units of `currency` ([`crate::money::parse_price`]).
fn typed_amount(typed: &str, minor: Option<i64>, currency: Option<&str>) -> Result<i64, ApiError> {
    let invalid = |m: &str| ApiError::unprocessable("validation_failed", m);
    if minor.is_some() {
        return Err(invalid("give amount or amount_minor, not both"));
    }
    let currency = currency.ok_or_else(|| invalid("amount and currency go together"))?;
    crate::money::parse_price(typed, currency.trim()).map_err(|m| invalid(&m))
}

/// The link to send to the customer.
#[derive(Object, serde::Serialize, serde::Deserialize)]
pub struct InvoiceLink {
    pub invoice_id: String,
    pub order_id: String,
    /// The public pay-by-link URL.
    pub link: String,
}

impl From<Created> for InvoiceLink {
    fn from(c: Created) -> Self {
        InvoiceLink { invoice_id: c.invoice_id, order_id: c.order_id, link: c.link }
    }
}

#[derive(ApiResponse)]
pub enum InvoiceCreated {
    /// Created; send `link` to the customer.
    #[oai(status = 201)]
    Created(Json<InvoiceLink>),
}

/// Where the invoice's link was sent.
#[derive(Object)]
pub struct InvoiceSent {
    /// The customer's address, masked (`a***@example.com`).
    pub to: String,
}

#[derive(ApiResponse)]
pub enum InvoiceSendQueued {
    /// The `invoice_link` email is queued; the worker sends it now.
    #[oai(status = 202)]
    Accepted(Json<InvoiceSent>),
}

/// An invoice in the listing.
#[derive(Object)]
pub struct AdminInvoice {
    pub invoice_id: String,
    pub order_id: String,
    pub link: String,
    /// The order's status (`pending_payment`, `paid`, `provisioned`, `refunded`, …), or
    /// `expired` once an unpaid invoice is past its expiry.
    pub status: String,
    /// The description, or the service's name.
    pub item: String,
    /// The catalog service; absent for a free description.
    pub service: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub name: String,
    pub email: String,
    /// The administrator who created it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// RFC 3339; when the customer accepted the terms.
    pub terms_accepted_at: Option<String>,
    /// RFC 3339.
    pub paid_at: Option<String>,
}

/// One page of invoices, newest first.
#[derive(Object)]
pub struct InvoicePage {
    pub invoices: Vec<AdminInvoice>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn view(state: &AppState, l: Listed, now: i64) -> AdminInvoice {
    let status = l.status(now).to_string();
    let Listed { invoice, order, item } = l;
    AdminInvoice {
        link: state.link(&format!("/invoice/{}", invoice.id)),
        invoice_id: invoice.id,
        order_id: order.id.into(),
        status,
        item,
        service: order.service_slug,
        amount_minor: order.amount_minor,
        currency: order.currency,
        name: order.customer_name,
        email: order.email,
        created_by: invoice.created_by,
        created_at: rfc3339(invoice.created_at),
        expires_at: rfc3339(invoice.expires_at),
        terms_accepted_at: invoice.terms_accepted_at.map(rfc3339),
        paid_at: order.paid_at.map(rfc3339),
    }
}

crate::outcomes! {
    /// `POST /admin/invoices`.
    pub CreateInvoiceOutcomes(json) {
        400: "Malformed body (`invalid_body`) or a bad `Idempotency-Key` (`invalid_idempotency_key`).",
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        409: "The same `Idempotency-Key` is still being processed (`idempotency_in_progress`).",
        422: "A field breaks a rule (`validation_failed`), the service does not exist (`unknown_service`), or the `Idempotency-Key` was used for another request (`idempotency_key_reused`).",
    }
    /// `POST /admin/invoices/{invoice_id}/send`.
    pub SendInvoiceOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such invoice (`not_found`).",
        409: "The invoice is paid, expired or cancelled: nothing to pay (`invoice_not_payable`).",
        429: "This invoice's link was emailed too often in the last hour (`rate_limited`); retry after `Retry-After` seconds.",
    }
    /// `GET /admin/invoices`.
    pub ListInvoicesOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
}

pub struct AdminInvoicesApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminInvoicesApi {
    /// Create a pay-by-link invoice (422 `item_required`, `item_ambiguous`, `unknown_service`,
    /// `validation_failed`).
    #[oai(path = "/admin/invoices", method = "post")]
    async fn create_invoice(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewInvoice>,
    ) -> Result<InvoiceCreated, Fail<CreateInvoiceOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageInvoices).await?;
        let mut b = body.0;
        if let Some(typed) = b.amount.take() {
            b.amount_minor = Some(typed_amount(&typed.0, b.amount_minor, b.currency.as_ref().map(|c| c.0.as_str()))?);
        }
        let input: InvoiceInput = b.into();
        // A repeated click (same Idempotency-Key) gets the first invoice, not a second one.
        let fingerprint = format!("invoice {input:?}");
        let state = &*state;
        let link = idempotency::once(state, req, &p.admin.id, fingerprint, 201, |_| async {
            Ok(InvoiceLink::from(service::create(state, &p, input).await?))
        })
        .await?;
        Ok(InvoiceCreated::Created(Json(link)))
    }

    /// Email the invoice's link to its customer (again), e.g. from the portal's "Send by email".
    /// At most three times an hour per invoice; audited as `invoice.send`.
    #[oai(path = "/admin/invoices/:invoice_id/send", method = "post")]
    async fn send_invoice(
        &self,
        state: Data<&AppState>,
        req: &Request,
        invoice_id: Path<String>,
    ) -> Result<InvoiceSendQueued, Fail<SendInvoiceOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageInvoices).await?;
        let to = crate::invoices::send::send_link(&state, &p, &invoice_id.0).await?;
        Ok(InvoiceSendQueued::Accepted(Json(InvoiceSent { to })))
    }

    /// List invoices, newest first.
    #[oai(path = "/admin/invoices", method = "get")]
    async fn list_admin_invoices(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
        #[oai(validator(pattern = r"^([0-9]{1,18}\.[A-Za-z0-9_-]{1,64})?$"))] cursor: Query<Option<String>>,
    ) -> Result<Json<InvoicePage>, Fail<ListInvoicesOutcomes>> {
        authorize(&state, req, Permission::ReadOrders).await?;
        let before = paging::parse_cursor(cursor.0.as_deref())?;
        let limit = paging::limit(limit.0)?;
        let rows = state.db.read(move |c| Ok(model::list(c, before.as_ref(), limit)?)).await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|l| paging::cursor(l.invoice.created_at, &l.invoice.id)))
            .flatten();
        let now = state.clock.now();
        Ok(Json(InvoicePage { invoices: rows.into_iter().map(|l| view(&state, l, now)).collect(), next_cursor }))
    }
}
