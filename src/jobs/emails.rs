//! What each outbox job sends. The credentials job is where the temporary password is born:
//! generated, hashed and stored (only while the worker still holds the job's claim), then
//! mailed; it never exists anywhere else. Every message of a job whose content never changes
//! carries the same `Message-ID` (from the job's id), so copies of a retried job fold
//! together in the mailbox. A credentials email carries fresh secrets on every attempt, so
//! each attempt has its own `Message-ID` (a mailbox may drop a message whose id it already
//! holds), with `References`/`In-Reply-To` naming the job's root id to thread them. Each
//! hand-over to the transport is recorded first.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use crate::accounts::model as accounts;
use crate::accounts::service::{issue_credentials, reset_credentials};
use crate::i18n::format::{amount, date_time};
use crate::i18n::Locale;
use crate::jobs::renewal_emails;
use crate::mail::outbox::{self, Job, MailKind};
use crate::mail::transport::SendError;
use crate::orders::model as orders;
use crate::state::AppState;

pub(crate) fn transient(e: impl std::fmt::Display) -> SendError {
    SendError::Transient(e.to_string())
}

/// What a sent job leaves to record with it: the account whose paid orders are now
/// provisioned (a credentials email), written with the job's `sent` mark.
pub type Sent = Option<String>;

fn mail_domain(state: &AppState) -> String {
    let from = state.settings.mail_from.parse::<Mailbox>().ok();
    from.map(|m| m.email.domain().to_string()).unwrap_or_else(|| "keyturn.invalid".into())
}

/// The job's root id, `<job-id@domain>`: the `Message-ID` of every attempt of a job whose
/// content does not change.
pub fn root_message_id(job_id: &str, domain: &str) -> String {
    format!("<{job_id}@{domain}>")
}

/// Kinds whose content changes on every attempt (a new password or link).
fn fresh_each_attempt(kind: &str) -> bool {
    matches!(
        kind.parse(),
        Ok(outbox::CREDENTIALS | outbox::CREDENTIALS_RESET | outbox::PASSWORD_RESET | outbox::RENEWAL_REMINDER)
    )
}

/// `(Message-ID, References)`: the root id for a stable kind; for a credentials kind an id of
/// this attempt (`<job-id.claim@domain>`, never repeated) referring to the root.
fn message_ids(state: &AppState, job: &Job) -> (String, Option<String>) {
    let domain = mail_domain(state);
    let root = root_message_id(&job.id, &domain);
    if fresh_each_attempt(&job.kind) {
        (format!("<{}.{}@{}>", job.id, job.claim_token, domain), Some(root))
    } else {
        (root, None)
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies, no vacation notices back.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `Feedback-ID: <email>:keyturn`: the kind of email, in the form Gmail's Postmaster Tools
/// report complaint rates by, so a merchant sees which email (if any) annoys recipients. It
/// names a template, never a customer.
#[derive(Clone)]
struct FeedbackId(String);

impl Header for FeedbackId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Feedback-ID")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(FeedbackId(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("{}:keyturn", self.0))
    }
}

/// `Content-Language` (RFC 3282): the language the email is written in.
#[derive(Clone)]
struct ContentLanguage(Locale);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(Locale::from_stored(s)))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.code().into())
    }
}

/// Builds a multipart message of `job` from a template, in `locale`.
pub(crate) fn compose(
    state: &AppState,
    job: &Job,
    to_name: &str,
    to_email: &str,
    template: &str,
    locale: Locale,
    mut ctx: serde_json::Value,
) -> Result<Message, SendError> {
    ctx["product"] = state.settings.product_name.clone().into();
    let rendered =
        state.templates.current().render(template, locale, &ctx).map_err(|e| SendError::Permanent(e.to_string()))?;
    let from: Mailbox =
        state.settings.mail_from.parse().map_err(|e| SendError::Permanent(format!("mail_from: {e}")))?;
    let address = to_email.parse().map_err(|e| SendError::Permanent(format!("recipient: {e}")))?;
    let (id, root) = message_ids(state, job);
    let mut builder = Message::builder()
        .message_id(Some(id))
        .header(AutoSubmitted)
        .header(FeedbackId(template.to_string()))
        .header(ContentLanguage(locale));
    if let Some(root) = root {
        builder = builder.in_reply_to(root.clone()).references(root);
    }
    builder
        .from(from)
        .to(Mailbox::new(Some(to_name.to_string()), address))
        .subject(rendered.subject)
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| SendError::Permanent(e.to_string()))
}

/// Hands `message` to the transport once the hand-over is recorded under the job's claim; a
/// worker that lost its claim sends nothing.
pub(crate) async fn deliver(state: &AppState, job: &Job, message: Message) -> Result<(), SendError> {
    let (now, lease, held) = (state.clock.now(), state.settings.outbox_lease_secs, job.clone());
    let ours = state.db.write(move |c| Ok(outbox::record_handover(c, &held, now, lease)?)).await.map_err(transient)?;
    if !ours {
        return Err(SendError::ClaimLost);
    }
    state.mailer.send(message).await
}

/// Sends the email a job stands for. A job whose subject vanished is done (nothing to send).
pub async fn send_job(state: &AppState, job: &Job) -> Result<Sent, SendError> {
    let none = |r: Result<(), SendError>| r.map(|()| None);
    let kind = match job.kind.parse::<MailKind>() {
        Ok(kind) => kind,
        #[cfg(test)]
        Err(_) if job.kind == "test_panic" => panic!("a bug in an email job"),
        #[cfg(test)]
        Err(_) if job.kind == "test_hang" => {
            // Hands over, then never answers (a stuck SMTP session).
            let (now, lease, held) = (state.clock.now(), state.settings.outbox_lease_secs, job.clone());
            state.db.write(move |c| Ok(outbox::record_handover(c, &held, now, lease)?)).await.map_err(transient)?;
            return std::future::pending().await;
        }
        Err(_) => return Err(SendError::Permanent(format!("unknown job kind {}", job.kind))),
    };
    match kind {
        MailKind::Credentials => send_credentials(state, job).await,
        MailKind::CredentialsReset => send_credentials_reset(state, job).await,
        MailKind::PaymentConfirmation | MailKind::AccessExtended => none(send_order_email(state, job).await),
        MailKind::Activation => none(send_activation(state, job).await),
        MailKind::MerchantCopy => none(send_merchant_copy(state, job).await),
        MailKind::InvoiceLink => none(send_invoice_link(state, job).await),
        MailKind::PasswordReset => none(send_password_reset(state, job).await),
        MailKind::PasswordChanged => none(send_password_changed(state, job).await),
        MailKind::RenewalReminder => none(renewal_emails::send_renewal_reminder(state, job).await),
        MailKind::AccessExpired => none(renewal_emails::send_access_expired(state, job).await),
        MailKind::Refund | MailKind::Cancellation => none(super::order_notices::send(state, job, kind).await),
    }
}

/// A failure of the credentials' storing: a lost claim stays a lost claim.
fn credentials_error(e: anyhow::Error) -> SendError {
    if e.is::<outbox::ClaimLost>() {
        SendError::ClaimLost
    } else {
        transient(e)
    }
}

async fn send_credentials(state: &AppState, job: &Job) -> Result<Sent, SendError> {
    let account_id = job.account_id.clone().ok_or_else(|| SendError::Permanent("no account".into()))?;
    let Some(creds) = issue_credentials(state, &account_id, job).await.map_err(credentials_error)? else {
        return Ok(None);
    };
    let l = Locale::from_stored(&creds.account.locale);
    let ctx = serde_json::json!({
        "name": creds.account.name,
        "login": creds.account.login,
        "password": creds.password,
        "verify_url": state.link(&format!("/verify-email?token={}", creds.token)),
        "password_expires": date_time(l, creds.password_expires_at),
        "link_expires": date_time(l, creds.link_expires_at),
    });
    let message = compose(state, job, &creds.account.name, &creds.account.email, "credentials", l, ctx)?;
    deliver(state, job, message).await?;
    Ok(Some(account_id))
}

/// An administrator's resend: a new temporary password for an active account; an account
/// still waiting for verification gets the usual credentials email instead.
async fn send_credentials_reset(state: &AppState, job: &Job) -> Result<Sent, SendError> {
    let account_id = job.account_id.clone().ok_or_else(|| SendError::Permanent("no account".into()))?;
    let Some(reset) = reset_credentials(state, &account_id, job).await.map_err(credentials_error)? else {
        return send_credentials(state, job).await;
    };
    let l = Locale::from_stored(&reset.account.locale);
    let ctx = serde_json::json!({
        "name": reset.account.name,
        "login": reset.account.login,
        "password": reset.password,
        "password_expires": date_time(l, reset.password_expires_at),
        "login_url": state.link("/cabinet"),
    });
    let message = compose(state, job, &reset.account.name, &reset.account.email, "credentials_reset", l, ctx)?;
    deliver(state, job, message).await.map(|()| None)
}

async fn send_order_email(state: &AppState, job: &Job) -> Result<(), SendError> {
    let order_id = job.order_id.clone().ok_or_else(|| SendError::Permanent("no order".into()))?;
    let account_id = job.account_id.clone();
    let found = state
        .db
        .read(move |c| {
            let Some(order) = orders::find_by_id(c, &order_id)? else { return Ok(None) };
            let item = orders::item_label(c, &order)?;
            let period = orders::period_of(c, &order)?;
            let account = match &account_id {
                Some(id) => accounts::find_by_id(c, id)?,
                None => None,
            };
            let access = match &account {
                Some(a) => accounts::access_of(c, &a.id)?,
                None => Vec::new(),
            };
            Ok(Some((order, item, period, account, access)))
        })
        .await
        .map_err(transient)?;
    let Some((order, service_name, period, account, access)) = found else { return Ok(()) };
    let l = Locale::from_stored(&order.locale);
    let until = access.iter().find(|(slug, _, _)| Some(slug) == order.service_slug.as_ref()).map(|(_, _, u)| *u);
    let new_account = account.as_ref().is_some_and(|a| a.status == accounts::PENDING_VERIFICATION);
    let ctx = serde_json::json!({
        "name": order.customer_name,
        "order_id": order.id,
        "service_name": service_name,
        "period_days": period,
        "amount": amount(l, order.amount_minor, &order.currency),
        "currency": order.currency,
        "paid_at": order.paid_at.map(|t| date_time(l, t)).unwrap_or_default(),
        "new_account": new_account,
        "login": account.as_ref().map(|a| a.login.clone()).unwrap_or_default(),
        "active_until": until.map(|u| date_time(l, u)).unwrap_or_default(),
        // Subjects name the day only: "UTC" would be a Russian subject's only Latin letters,
        // which SpamAssassin reads as a subject in capitals.
        "active_until_date": until.map(|u| crate::i18n::format::date(l, u)).unwrap_or_default(),
    });
    let message = compose(state, job, &order.customer_name, &order.email, &job.kind, l, ctx)?;
    deliver(state, job, message).await
}

async fn send_activation(state: &AppState, job: &Job) -> Result<(), SendError> {
    let account_id = job.account_id.clone().ok_or_else(|| SendError::Permanent("no account".into()))?;
    let found = state.db.read(move |c| Ok(accounts::find_by_id(c, &account_id)?)).await.map_err(transient)?;
    let Some(account) = found else { return Ok(()) };
    let ctx = serde_json::json!({
        "name": account.name,
        "login": account.login,
        "login_url": state.link("/cabinet"),
    });
    let l = Locale::from_stored(&account.locale);
    let message = compose(state, job, &account.name, &account.email, "activation", l, ctx)?;
    deliver(state, job, message).await
}

/// The merchant's copy of a paid invoice's confirmation: who paid what, through which gateway
/// (never the customer's login details). Done without sending when no `merchant_email` is set.
async fn send_merchant_copy(state: &AppState, job: &Job) -> Result<(), SendError> {
    let Some(to) = state.settings.merchant.merchant_email.clone() else { return Ok(()) };
    let order_id = job.order_id.clone().ok_or_else(|| SendError::Permanent("no order".into()))?;
    let found =
        state.db.read(move |c| Ok(crate::invoices::model::copy_details(c, &order_id)?)).await.map_err(transient)?;
    let Some(copy) = found else { return Ok(()) };
    let (invoice, order) = (&copy.listed.invoice, &copy.listed.order);
    // The shop's own language: the merchant's staff read it, not the customer.
    let l = state.settings.default_locale;
    let ctx = serde_json::json!({
        "merchant": state.settings.merchant_name(),
        "invoice_id": invoice.id,
        "created_by": invoice.created_by,
        "order_id": order.id,
        "item": copy.listed.item,
        "amount": amount(l, order.amount_minor, &order.currency),
        "currency": order.currency,
        "customer_locale": order.locale,
        "customer_name": order.customer_name,
        "customer_email": order.email,
        "customer_phone": order.phone.clone().unwrap_or_default(),
        "gateway": copy.gateway.clone().unwrap_or_default(),
        "paid_at": order.paid_at.map(|t| date_time(l, t)).unwrap_or_default(),
    });
    let message = compose(state, job, state.settings.merchant_name(), &to, outbox::MERCHANT_COPY.as_str(), l, ctx)?;
    deliver(state, job, message).await
}

/// The invoice's link, to the customer it is for. Nothing is sent once it is paid or expired.
async fn send_invoice_link(state: &AppState, job: &Job) -> Result<(), SendError> {
    let order_id = job.order_id.clone().ok_or_else(|| SendError::Permanent("no order".into()))?;
    let found =
        state.db.read(move |c| Ok(crate::invoices::model::copy_details(c, &order_id)?)).await.map_err(transient)?;
    let Some(copy) = found else { return Ok(()) };
    let (invoice, order) = (&copy.listed.invoice, &copy.listed.order);
    if order.status != crate::orders::model::PENDING_PAYMENT || invoice.expires_at <= state.clock.now() {
        return Ok(());
    }
    let l = Locale::from_stored(&order.locale);
    let ctx = serde_json::json!({
        "name": order.customer_name,
        "merchant": state.settings.merchant_name(),
        "item": copy.listed.item,
        "amount": amount(l, order.amount_minor, &order.currency),
        "currency": order.currency,
        "link": state.link(&format!("/invoice/{}", invoice.id)),
        "expires": date_time(l, invoice.expires_at),
    });
    let message = compose(state, job, &order.customer_name, &order.email, outbox::INVOICE_LINK.as_str(), l, ctx)?;
    deliver(state, job, message).await
}

/// A forgot-password link, made here (only its hash is stored) and mailed; nothing is sent
/// when the account may no longer reset (suspended, revoked or erased meanwhile).
async fn send_password_reset(state: &AppState, job: &Job) -> Result<(), SendError> {
    let account_id = job.account_id.clone().ok_or_else(|| SendError::Permanent("no account".into()))?;
    let issued = crate::password_reset::service::issue_link(state, &account_id, job).await;
    let Some(link) = issued.map_err(credentials_error)? else { return Ok(()) };
    let l = Locale::from_stored(&link.account.locale);
    let ctx = serde_json::json!({
        "name": link.account.name,
        "login": link.account.login,
        "reset_url": state.link(&format!("/reset-password?token={}", link.token)),
        "link_expires": date_time(l, link.expires_at),
    });
    let kind = outbox::PASSWORD_RESET.as_str();
    let message = compose(state, job, &link.account.name, &link.account.email, kind, l, ctx)?;
    deliver(state, job, message).await
}

/// "Your password was changed" (a reset, or a change in the cabinet), with what to do if it
/// was not the customer.
async fn send_password_changed(state: &AppState, job: &Job) -> Result<(), SendError> {
    let account_id = job.account_id.clone().ok_or_else(|| SendError::Permanent("no account".into()))?;
    let job_id = job.id.clone();
    let found = state
        .db
        .read(move |c| Ok((accounts::find_by_id(c, &account_id)?, outbox::queued_at(c, &job_id)?)))
        .await
        .map_err(transient)?;
    let (Some(account), queued_at) = found else { return Ok(()) };
    // The job was queued with the change; the account's `updated_at` moves with any later edit.
    let changed_at = queued_at.unwrap_or(account.updated_at);
    let l = Locale::from_stored(&account.locale);
    let ctx = serde_json::json!({
        "name": account.name,
        "login": account.login,
        "changed_at": date_time(l, changed_at),
        "login_url": state.link("/cabinet"),
        "forgot_url": state.link("/forgot-password"),
    });
    let kind = outbox::PASSWORD_CHANGED.as_str();
    let message = compose(state, job, &account.name, &account.email, kind, l, ctx)?;
    deliver(state, job, message).await
}
