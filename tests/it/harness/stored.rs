//! Stored rows no customer can reach over HTTP, read and planted directly: a password hash as an
//! older release (or other argon2 parameters) would have stored it.

use super::TestApp;

impl TestApp {
    /// The stored password hash (PHC string) of the account `login`.
    pub async fn password_hash(&self, login: &str) -> String {
        let login = login.to_string();
        let account = self
            .app
            .as_ref()
            .expect("app running")
            .state
            .db
            .read(move |c| Ok(keyturn::accounts::model::find_by_login(c, &login)?))
            .await
            .unwrap()
            .expect("no such account");
        account.password_hash.expect("no password hash")
    }

    /// Replaces the stored password hash of the account `login` with `phc`.
    pub async fn plant_password_hash(&self, login: &str, phc: &str) {
        let hash = phc.to_string();
        let login = login.to_string();
        let changed = self
            .app
            .as_ref()
            .expect("app running")
            .state
            .db
            .write(move |c| {
                let account = keyturn::accounts::model::find_by_login(c, &login)?.expect("no such account");
                let old = account.password_hash.clone().unwrap_or_default();
                Ok(keyturn::accounts::model::replace_hash(c, &account.id, &old, &hash)?)
            })
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }
}

impl TestApp {
    /// Turns the renewal reminders of the account `login` on or off, as the cabinet's setting does.
    pub async fn set_renewal_reminders(&self, login: &str, on: bool) {
        use diesel::prelude::*;
        use keyturn::db::schema::accounts;
        let login = login.to_string();
        let changed = self
            .app_state()
            .db
            .write(move |c| {
                Ok(diesel::update(accounts::table.filter(accounts::login.eq(&login)))
                    .set(accounts::renewal_reminders.eq(on))
                    .execute(c)?)
            })
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }
}
