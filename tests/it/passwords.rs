//! Password rules a customer meets: the forced change refuses the temporary password, and a
//! stored hash made with other argon2 parameters is replaced on the next successful login.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_change_refuses_the_temporary_password_as_the_new_one() {
    let app = TestApp::builder().start().await;
    let (_, creds) = app.verified().await;
    let customer = app.customer();
    let login = json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    assert_eq!(login["must_change_password"], true);

    let v = assert_error(customer.change_password(&creds.password, &creds.password).await, 422, "weak_password").await;
    assert!(v["message"].as_str().unwrap_or_default().contains("different"), "{v}");
    // Nothing changed: the change is still due, and the temporary password still opens it.
    assert_error(customer.me().await, 403, "password_change_required").await;
    let again = json_status(app.customer().login(&creds.login, &creds.password).await, 200).await;
    assert_eq!(again["must_change_password"], true);
    // A different password is taken.
    assert_eq!(customer.change_password(&creds.password, &strong_password()).await.status(), 204);
    app.stop().await;
}

/// A PHC string for `password` made with argon2id m=`m_kib`, t=`t`, p=1.
fn hash_with(password: &str, m_kib: u32, t: u32) -> String {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m_kib, t, 1, None).unwrap());
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon.hash_password(password.as_bytes(), &salt).unwrap().to_string()
}

/// (m, t) of a stored argon2 hash.
fn cost(phc: &str) -> (u32, u32) {
    let params = Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap();
    (params.m_cost(), params.t_cost())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_with_older_parameters_is_replaced_on_login() {
    let app = TestApp::builder().start().await;
    let active = app.active().await;
    let today = cost(&app.password_hash(&active.login).await);

    // As an older release stored it: weaker parameters, same password.
    let old = hash_with(&active.password, 4096, 1);
    app.plant_password_hash(&active.login, &old).await;
    assert_eq!(cost(&app.password_hash(&active.login).await), (4096, 1));

    // A wrong password changes nothing.
    assert_error(app.customer().login(&active.login, "Not-the-password-42").await, 401, "invalid_credentials").await;
    assert_eq!(app.password_hash(&active.login).await, old);

    // The right one logs in, and the stored hash now has today's parameters.
    let login = json_status(app.customer().login(&active.login, &active.password).await, 200).await;
    assert_eq!(login["must_change_password"], false);
    let new = app.password_hash(&active.login).await;
    assert_ne!(new, old);
    assert_eq!(cost(&new), today, "{new}");
    // The same password keeps working with the new hash; other passwords still do not.
    let customer = app.customer();
    json_status(customer.login(&active.login, &active.password).await, 200).await;
    json_status(customer.me().await, 200).await;
    assert_error(app.customer().login(&active.login, "Not-the-password-42").await, 401, "invalid_credentials").await;
    app.stop().await;
}
