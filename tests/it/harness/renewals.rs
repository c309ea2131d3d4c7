//! Renewal links as the reminder emails carry them (another part of issue 11 sends those):
//! issued here straight through `keyturn::renewals::model::issue`, for the account `login`.

use super::TestApp;

impl TestApp {
    /// A renewal link's path (`/renew/<token>`) for `login`'s access to `slug`, live for
    /// `valid_secs` from now (a negative value gives a link that has already expired).
    pub async fn renewal_link(&self, login: &str, slug: &str, valid_secs: i64) -> String {
        self.renewal_link_of_job(login, slug, valid_secs, None).await
    }

    /// [`TestApp::renewal_link`] as the attempt of the outbox job `job` issues it (what a
    /// `renewal_reminder` send does, once per attempt).
    pub async fn renewal_link_of_job(&self, login: &str, slug: &str, valid_secs: i64, job: Option<&str>) -> String {
        let (login, slug, job) = (login.to_string(), slug.to_string(), job.map(str::to_string));
        let now = self.clock.now();
        let state = &self.app.as_ref().expect("app running").state;
        let token = state
            .db
            .write(move |c| {
                let account = keyturn::accounts::model::find_by_login(c, &login)?.expect("no such account");
                let period_end = keyturn::accounts::model::access_until(c, &account.id, &slug)?.unwrap_or(now);
                let expires = now + valid_secs;
                Ok(keyturn::renewals::model::issue(c, &account.id, &slug, period_end, expires, job.as_deref(), now)?)
            })
            .await
            .unwrap();
        format!("/renew/{token}")
    }
}
