//! A killed process loses nothing it acknowledged: the next one finishes the work.

use std::time::{Duration, Instant};

use crate::harness::process::{free_port, Keyturn};
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_callback_loses_no_email() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let shared = smtp::shared();

    // First life: the mail server is unreachable, so the emails stay queued; then SIGKILL.
    let mut first = Keyturn::serve(&data_dir, free_port()).await;
    let gateway = first.driver(shared.store.clone());
    let email = unique_email();
    let order_id = gateway.order(&email).await;
    gateway.pay_by_callback(&order_id, "authenticated").await;
    assert_eq!(gateway.order_status(&order_id).await, "paid");
    first.kill();
    assert_eq!(gateway.mail.count(&email, Kind::Any), 0);

    // Second life on the same data, mail server reachable.
    let data = data_dir.to_string_lossy().into_owned();
    let app = TestApp::builder().sqlite().set("data_dir", &data).start().await;
    assert_eq!(app.order_status(&order_id).await, "paid");
    // Leases and retry backoff run on the clock: move it on until the queue drains.
    let deadline = Instant::now() + MAIL_TIMEOUT;
    while app.mail.count(&email, Kind::Credentials) == 0 || app.mail.count(&email, Kind::Confirmation) == 0 {
        assert!(Instant::now() < deadline, "the queued emails were lost with the killed process");
        app.clock.advance(60);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.wait_for_status(&order_id, "provisioned").await;
    app.mail.assert_count_after(&email, Kind::Credentials, 1, QUIET).await;
    assert_eq!(app.mail.count(&email, Kind::Confirmation), 1);
    let creds = app.mail.credentials(&email, 1).await;
    json_status(app.verify(&creds.token).await, 200).await;
    json_status(app.customer().login(&creds.login, &creds.password).await, 200).await;
    app.assert_provisioned_once(&email, &order_id).await;
    app.stop().await;
}
