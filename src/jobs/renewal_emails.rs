//! The expiry sweep's emails (DESIGN §7): `renewal_reminder` and `access_expired`. A job holds
//! ids only; the access and period it is about are on its claim in `access_notices`. The
//! reminder's renewal link is issued here, when the email is sent, under the job's claim (like
//! the credentials email's password): its token exists only in the message, and a retried send
//! issues a new one that replaces (expires) the one an earlier attempt of the same job issued,
//! so a job leaves one live link. A job whose subject changed since it was queued (the access
//! was renewed or taken back by a refund, the account suspended or revoked, reminders turned
//! off, the service taken off sale) is done without sending; a service off sale gets an
//! `access_expired` that offers no renewal.

use crate::accounts::access::ends_at;
use crate::accounts::model::{self as accounts, Account};
use crate::catalog::model::{self as catalog, Service};
use crate::db::schema::access_grants;
use crate::i18n::format::{amount, date_time};
use crate::i18n::Locale;
use crate::jobs::access_expiry::{notice_of_job, reminder_day, NoticeOfJob};
use crate::jobs::emails::{compose, deliver, transient};
use crate::mail::outbox::{self, Job};
use crate::mail::transport::SendError;
use crate::renewals::model as renewals;
use crate::state::AppState;

use diesel::prelude::*;

/// What a notice's email is about, as it stands now.
struct Subject {
    notice: NoticeOfJob,
    account: Account,
    service: Service,
    /// The access's `active_until` and `taken_back_at` now (`None`: the access is gone).
    grant: Option<(i64, Option<i64>)>,
}

impl Subject {
    /// The notice's period is still the access's current one (no renewal since).
    fn same_period(&self) -> bool {
        self.grant.is_some_and(|(until, _)| until == self.notice.period_end)
    }

    /// When the period's access is over: its end plus the service's grace.
    fn ends(&self) -> i64 {
        let taken_back = self.grant.is_some_and(|(_, back)| back.is_some());
        ends_at(self.notice.period_end, self.service.grace_days, taken_back)
    }

    /// A refund took the period back: the customer was told then, not again at its end.
    fn taken_back(&self) -> bool {
        self.grant.is_some_and(|(_, back)| back.is_some())
    }

    fn live(&self) -> bool {
        self.account.status == accounts::ACTIVE || self.account.status == accounts::PENDING_VERIFICATION
    }
}

async fn subject_of(state: &AppState, job: &Job) -> Result<Option<Subject>, SendError> {
    let job_id = job.id.clone();
    state
        .db
        .read(move |c| {
            let Some(notice) = notice_of_job(c, &job_id)? else { return Ok(None) };
            let Some(account) = accounts::find_by_id(c, &notice.account_id)? else { return Ok(None) };
            let Some(service) = catalog::find_by_slug(c, &notice.service_slug)? else { return Ok(None) };
            let grant = access_grants::table
                .find((&notice.account_id, &notice.service_slug))
                .select((access_grants::active_until, access_grants::taken_back_at))
                .first(c)
                .optional()?;
            Ok(Some(Subject { notice, account, service, grant }))
        })
        .await
        .map_err(transient)
}

/// The context both emails share.
fn context(s: &Subject, l: Locale) -> serde_json::Value {
    serde_json::json!({
        "name": s.account.name,
        "login": s.account.login,
        "service_name": s.service.name,
        "active_until": date_time(l, s.notice.period_end),
        "active_until_date": crate::i18n::format::date(l, s.notice.period_end),
        "ends": date_time(l, s.ends()),
        "grace_days": s.service.grace_days,
        "amount": amount(l, s.service.price_minor, &s.service.currency),
        "currency": s.service.currency,
        "period_days": s.service.period_days,
        "renewable": s.service.active,
    })
}

/// The reminder, with a renewal link valid until the period's grace ends.
pub async fn send_renewal_reminder(state: &AppState, job: &Job) -> Result<(), SendError> {
    let Some(s) = subject_of(state, job).await? else { return Ok(()) };
    let now = state.clock.now();
    let off_sale = !s.service.active;
    if !s.live() || !s.account.renewal_reminders || !s.same_period() || off_sale || now >= s.ends() {
        return Ok(());
    }
    let (held, notice, expires_at) = (job.clone(), s.notice.clone(), s.ends());
    let token = state
        .db
        .write(move |c| {
            // Only under the job's claim: a worker that lost it leaves no link behind.
            if !outbox::still_held(c, &held)? {
                return Ok(None);
            }
            let (account, slug, end) = (&notice.account_id, &notice.service_slug, notice.period_end);
            Ok(Some(renewals::issue(c, account, slug, end, expires_at, Some(held.id.as_str()), now)?))
        })
        .await
        .map_err(transient)?;
    let Some(token) = token else { return Err(SendError::ClaimLost) };
    let l = Locale::from_stored(&s.account.locale);
    let mut ctx = context(&s, l);
    ctx["renew_url"] = renewals::url(&state.public_url, &token).into();
    ctx["days_before"] = reminder_day(&s.notice.kind).unwrap_or_default().into();
    ctx["cabinet_url"] = state.link("/cabinet").into();
    let message = compose(state, job, &s.account.name, &s.account.email, outbox::RENEWAL_REMINDER.as_str(), l, ctx)?;
    deliver(state, job, message).await
}

/// The access ended: where to renew (the cabinet; the link in the reminder has expired too).
pub async fn send_access_expired(state: &AppState, job: &Job) -> Result<(), SendError> {
    let Some(s) = subject_of(state, job).await? else { return Ok(()) };
    if !s.live() || !s.same_period() || s.taken_back() {
        return Ok(());
    }
    let l = Locale::from_stored(&s.account.locale);
    let mut ctx = context(&s, l);
    ctx["cabinet_url"] = state.link("/cabinet").into();
    let message = compose(state, job, &s.account.name, &s.account.email, outbox::ACCESS_EXPIRED.as_str(), l, ctx)?;
    deliver(state, job, message).await
}
