//! `GET /api/v1/admin/accesses?state=…&expiring_within_days=N`: customers' accesses by state.

use super::*;

fn logins(page: &Value) -> Vec<String> {
    page["accesses"].as_array().unwrap().iter().map(|r| r["login"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_list_accesses_by_state_and_by_how_soon_they_end() {
    let app = TestApp::builder().start().await;
    // C bought first and is long over; B is one day into its grace; A has 27 days left.
    let (c_email, _, c) = app.provisioned().await;
    app.clock.advance(40 * DAY);
    let (b_email, _, b) = app.provisioned().await;
    app.clock.advance(28 * DAY);
    let (a_email, _, a) = app.provisioned().await;
    app.clock.advance(3 * DAY);
    let support = app.admin("support").await;

    let list = |query: &'static str| {
        let support = &support;
        async move { json_status(support.get(&format!("/accesses?{query}")).await, 200).await }
    };
    let all = list("").await;
    assert_eq!(logins(&all), vec![c.login.clone(), b.login.clone(), a.login.clone()], "soonest end first");
    let rows = all["accesses"].as_array().unwrap();
    assert_eq!(rows[0]["email"], c_email.as_str());
    assert_eq!(rows[0]["service"], "demo");
    assert_eq!(rows[0]["service_name"], "Demo service");
    assert_eq!(
        rows.iter().map(|r| r["state"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["expired", "grace", "active"]
    );
    assert_eq!(unix(&rows[1]["ends_at"]), unix(&rows[1]["active_until"]) + 3 * DAY);

    assert_eq!(logins(&list("state=active").await), vec![a.login.clone()]);
    assert_eq!(logins(&list("state=grace").await), vec![b.login.clone()]);
    assert_eq!(logins(&list("state=expired").await), vec![c.login.clone()]);
    // Running out: the period ends within N days and the access is not over yet.
    assert_eq!(logins(&list("expiring_within_days=1").await), vec![b.login.clone()]);
    assert_eq!(logins(&list("expiring_within_days=28").await), vec![b.login.clone(), a.login.clone()]);
    assert_eq!(logins(&list("state=active&expiring_within_days=28").await), vec![a.login.clone()]);
    assert!(logins(&list("state=active&expiring_within_days=26").await).is_empty());

    // Paged like the other admin lists.
    let first = list("limit=2").await;
    assert_eq!(logins(&first), vec![c.login.clone(), b.login.clone()]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let next = json_status(support.get(&format!("/accesses?limit=2&cursor={cursor}")).await, 200).await;
    assert_eq!(logins(&next), vec![a.login.clone()]);
    assert!(next["next_cursor"].is_null());

    assert_error(support.get("/accesses?state=later").await, 400, "invalid_query").await;
    assert_error(support.get("/accesses?cursor=nope").await, 400, "invalid_query").await;
    let catalog = app.admin("catalog").await;
    assert_error(catalog.get("/accesses").await, 403, "forbidden").await;
    let _ = (a_email, b_email);
    app.stop().await;
}
