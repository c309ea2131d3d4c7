//! The admin portal gives each service its order page URL and the snippet to paste, ready to copy.

use serde_json::json;

use super::{log_in, WAIT};
use crate::harness::browser::browser_or_skip;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_copies_a_services_buy_link_and_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let viewer = app.new_admin("viewer").await;
    log_in(&browser, Some(&app.public_url), &viewer).await;
    browser.wait_for_visible("button[data-tab=services]", WAIT).await;
    browser.click("button[data-tab=services]").await;
    browser.wait_for_visible("button[data-service=demo][data-action=share]", WAIT).await;
    browser.click("button[data-service=demo][data-action=share]").await;
    browser.wait_for_visible("#service-share", WAIT).await;
    let values = browser
        .script(
            "return [document.getElementById('share-url').value, document.getElementById('share-snippet').value];",
            json!([]),
        )
        .await;
    assert_eq!(values[0], json!(format!("{}/buy/demo", app.public_url)));
    assert_eq!(
        values[1],
        json!(format!("<script src=\"{}/embed.js\" data-service=\"demo\" async></script>", app.public_url))
    );
    // The URL it shows is the order page.
    let page = app.get("/buy/demo").await;
    assert_eq!(page.status(), 200);
    app.stop().await;
}
