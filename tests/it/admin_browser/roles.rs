//! Every role sees exactly the controls the server accepts from it: each control is checked
//! against a request to the API, not against a copy of the role table.

use keyturn::admin::access::roles::Role;
use reqwest::Method;
use serde_json::Value;

use super::{dead_emails, log_in, shown, WAIT};
use crate::harness::browser::browser_or_skip;
use crate::harness::*;

/// A control of the portal and the request it stands for: shown to a role exactly when the
/// server accepts that request from it. The probes name nothing that exists, so an allowed
/// probe changes nothing (404, 422) and a refused one is 403.
struct Gate {
    tab: &'static str,
    /// Clicked in turn (each waited for) once the tab is open, e.g. an order's link.
    open: &'static [&'static str],
    /// What shows when the tab's data is in; the control is checked then.
    ready: &'static str,
    /// `None`: the tab's button itself.
    control: Option<&'static str>,
    /// Method, path under /api/v1/admin, JSON body ("" for none).
    probe: (Method, &'static str, &'static str),
}

const GATES: &[Gate] = &[
    Gate { tab: "orders", open: &[], ready: "", control: None, probe: (Method::GET, "/orders", "") },
    Gate {
        tab: "orders",
        open: &["button[data-order]"],
        ready: "#d-payments tbody code",
        control: Some("button[data-action=capture]"),
        probe: (Method::POST, "/payments/pay_nosuch/capture", "{}"),
    },
    Gate { tab: "invoices", open: &[], ready: "", control: None, probe: (Method::GET, "/invoices", "") },
    Gate {
        tab: "invoices",
        open: &[],
        ready: "#invoice-table tbody tr",
        control: Some("#invoice-form"),
        probe: (Method::POST, "/invoices", r#"{"service": "nosuch", "name": "P", "email": "p@example.com"}"#),
    },
    Gate { tab: "accounts", open: &[], ready: "", control: None, probe: (Method::GET, "/accounts", "") },
    Gate {
        tab: "accounts",
        open: &[],
        ready: "#account-table tbody td:nth-child(6)",
        control: Some("button[data-action=suspend]"),
        probe: (Method::POST, "/accounts/kt-nosuch/suspend", ""),
    },
    Gate {
        tab: "accounts",
        open: &[],
        ready: "#account-table tbody td:nth-child(6)",
        control: Some("button[data-action=export]"),
        probe: (Method::GET, "/accounts/kt-nosuch/export", ""),
    },
    Gate { tab: "accesses", open: &[], ready: "", control: None, probe: (Method::GET, "/accesses", "") },
    Gate { tab: "emails", open: &[], ready: "", control: None, probe: (Method::GET, "/emails", "") },
    Gate {
        tab: "emails",
        open: &[],
        ready: "#email-table tbody td:nth-child(8)",
        control: Some("button[data-email]"),
        probe: (Method::POST, "/emails/job_nosuch/retry", ""),
    },
    Gate { tab: "audit", open: &[], ready: "", control: None, probe: (Method::GET, "/audit", "") },
    Gate { tab: "services", open: &[], ready: "", control: None, probe: (Method::GET, "/services", "") },
    Gate {
        tab: "services",
        open: &[],
        ready: "#service-table tbody td:nth-child(8)",
        control: Some("#service-form"),
        probe: (Method::PATCH, "/services/nosuch", "{}"),
    },
    Gate { tab: "admins", open: &[], ready: "", control: None, probe: (Method::GET, "/admins", "") },
    Gate { tab: "webhooks", open: &[], ready: "", control: None, probe: (Method::GET, "/webhooks", "") },
    Gate { tab: "api-keys", open: &[], ready: "", control: None, probe: (Method::GET, "/api-keys", "") },
    Gate { tab: "oidc-clients", open: &[], ready: "", control: None, probe: (Method::GET, "/oidc-clients", "") },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_sees_exactly_the_controls_the_server_accepts_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    // Something behind every control: an authorised payment, its account, given-up emails.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::builder()
        .smtp_at(port, smtp::Store::default())
        .set("outbox_max_attempts", "1")
        .set("capture", "manual")
        .set("provision_on_authorization", "true")
        .start()
        .await;
    let owner = app.admin("owner").await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    owner.payment_reaching(&order_id, "authorized").await;
    dead_emails(&owner, &email, 2).await;

    browser.goto(&format!("{}/admin", app.public_url)).await;
    for role in Role::ALL {
        let admin = app.admin(role.as_str()).await;
        log_in(&browser, None, &admin).await;
        browser.wait_for_visible("#logout", WAIT).await;
        let mut seen = Vec::new();
        for gate in GATES {
            let (method, path, body) = &gate.probe;
            let body: Option<Value> = (!body.is_empty()).then(|| serde_json::from_str(body).unwrap());
            let status = admin.request(method.clone(), path, body.as_ref()).await.status().as_u16();
            assert_ne!(status, 401, "{role:?} {method} {path}");
            let allowed = status != 403;
            let tab = format!("button[data-tab={}]", gate.tab);
            let what = gate.control.unwrap_or(&tab);
            let shown = match gate.control {
                None => shown(&browser, &tab).await,
                Some(_) if !shown(&browser, &tab).await => false,
                Some(control) => {
                    browser.click(&tab).await;
                    for css in gate.open {
                        browser.wait_for_visible(css, WAIT).await;
                        browser.click(css).await;
                    }
                    browser.wait_for_visible(gate.ready, WAIT).await;
                    shown(&browser, control).await
                }
            };
            assert_eq!(shown, allowed, "{role:?}: {what} shown {shown}, but {method} {path} answers {status}");
            if shown {
                seen.push(what.to_string());
            }
        }
        let text = browser.text().await;
        assert!(!text.contains("Your role has nothing"), "{role:?}: {text}");
        browser.screenshot(&format!("admin-role-{}", role.as_str())).await;
        eprintln!("{role:?} sees {seen:?}");
        browser.click("#logout").await;
        browser.wait_for_text("Logged out.", WAIT).await;
    }
    app.stop().await;
}
