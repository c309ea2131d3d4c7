//! The merchant's admin portal (`/admin`): one server-rendered page, driven by
//! `assets/admin*.js` through the admin JSON API. The page holds no data of its own: every value
//! comes from the API and is inserted as text by the script.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Response};

use crate::http::pages::page_with_head;
use crate::state::AppState;

/// Wider than the customer pages: the portal shows tables; on a phone each table scrolls
/// sideways inside itself, never the page. `[hidden]` must beat the layout's
/// `button{display:inline-block}`, or hidden buttons would show.
const HEAD: &str = "<style>main{max-width:1040px}[hidden]{display:none!important}\
    table{border-collapse:collapse;width:100%;margin:12px 0;font-size:14px}\
    th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d0d7de;vertical-align:top}\
    nav button,.small,td button{margin:4px 4px 4px 0;padding:6px 12px;font-size:14px}\
    nav button.current{background:#0a3069}\
    button.link{background:none;color:#1f6feb;padding:0;margin:0;text-decoration:underline}\
    button.link{text-align:left;word-break:break-all}\
    .row{display:flex;gap:8px;align-items:end;flex-wrap:wrap}.row>*{flex:1 1 140px}.row button{flex:0 0 auto}\
    select{width:100%;padding:10px;font-size:16px;border:1px solid #d0d7de;border-radius:6px}\
    td input{width:110px;padding:6px;font-size:14px}dialog{border:1px solid #d0d7de;border-radius:8px;max-width:360px}\
    dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{color:#6a737d}dd{margin:0}\
    code{word-break:break-all}.panel{border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;margin:12px 0}\
    button.danger{background:#cf222e}.id,.change{overflow-wrap:anywhere}.change{font-size:12px;min-width:200px}\
    dd,h2,h3{min-width:0;overflow-wrap:anywhere}\
    @media (max-width:640px){body{padding:8px}main{padding:12px}table{display:block;overflow-x:auto}}</style>";

const BODY: &str = r#"<p id="message" role="status">Loading…</p>
<noscript><p class="error">The admin portal needs JavaScript.</p></noscript>
<div id="login" hidden><form id="login-form">
 <label for="u">Username</label><input id="u" autocomplete="username">
 <label for="pw">Password</label><input id="pw" type="password" autocomplete="current-password">
 <div id="totp-row" hidden><label for="totp">Code from your authenticator app</label>
 <input id="totp" inputmode="numeric" autocomplete="one-time-code"></div>
 <button type="submit">Log in</button></form></div>
<div id="enrol" hidden>
 <p>Set up two-factor authentication: add the secret to your authenticator app, then enter the code it shows.</p>
 <button id="enrol-start" type="button">Show my secret</button>
 <div id="enrol-secret" hidden><p>Secret: <code id="enrol-key"></code></p>
 <p class="muted">otpauth URI (for a QR code): <code id="enrol-uri"></code></p>
 <form id="enrol-form"><label for="enrol-code">Code</label>
 <input id="enrol-code" inputmode="numeric" autocomplete="one-time-code">
 <button type="submit">Confirm</button></form></div>
 <p><button id="enrol-back" class="small" type="button" hidden>Back</button>
 <button id="enrol-logout" class="small" type="button">Log out</button></p></div>
<div id="app" hidden>
 <p>Logged in as <code id="who"></code>, role <code id="role"></code>
 <button id="enrol-open" class="small" type="button" hidden>Set up two-factor authentication</button>
 <button id="logout" class="small" type="button">Log out</button></p>
 <nav id="tabs"><button type="button" data-tab="orders" data-needs="ReadOrders">Orders</button>
 <button type="button" data-tab="invoices" data-needs="ReadOrders">Invoices</button>
 <button type="button" data-tab="accounts" data-needs="ReadAccounts">Accounts</button>
 <button type="button" data-tab="accesses" data-needs="ReadAccounts">Accesses</button>
 <button type="button" data-tab="emails" data-needs="ReadAccounts">Emails</button>
 <button type="button" data-tab="audit" data-needs="ReadAudit">Audit log</button>
 <button type="button" data-tab="services" data-needs="ReadServices">Services</button>
 <button type="button" data-tab="admins" data-needs="ManageAdmins">Admins</button>
 <button type="button" data-tab="webhooks" data-needs="ManageSettings">Webhooks</button>
 <button type="button" data-tab="api-keys" data-needs="ManageApiKeys">API keys</button>
 <button type="button" data-tab="oidc-clients" data-needs="ManageSettings">Sign in with keyturn</button></nav>
 <section id="orders" hidden>
  <div id="order-list">
  <form id="order-filter" class="row"><div><label for="f-status">Status</label>
  <select id="f-status"><option value="">any</option>
  <option>pending_payment</option><option>paid</option><option>provisioned</option><option>refunded</option>
  <option>cancelled</option><option>expired</option><option>failed</option></select></div>
  <div><label for="f-email">Customer email</label><input id="f-email" type="search"></div>
  <button type="submit">Show</button></form>
  <table id="order-table"><thead><tr><th>Created</th><th>Order</th><th>Customer</th><th>Item</th>
  <th>Amount</th><th>Status</th><th>Gateway</th></tr></thead><tbody></tbody></table>
  <button id="order-more" class="small" type="button" hidden>More</button></div>
  <div id="order-detail" hidden><button id="order-back" class="small" type="button">All orders</button>
  <h2 id="d-title"></h2><dl id="d-facts"></dl>
  <h3>Payments</h3><table id="d-payments"><thead><tr><th>Payment</th><th>Gateway</th><th>Status</th><th>Amount</th>
  <th>Captured</th><th>Refunded</th><th>Actions</th></tr></thead><tbody></tbody></table>
  <h3>Operations</h3><table id="d-operations"><thead><tr><th>When</th><th>Kind</th><th>Payment</th><th>Amount</th>
  <th>Status</th><th>By</th><th>Detail</th></tr></thead><tbody></tbody></table>
  <h3>Callback history</h3>
  <table id="d-events"><thead><tr><th>Received</th><th>Gateway</th><th>Kind</th><th>Outcome</th>
  <th>Detail</th><th>Event</th></tr></thead><tbody></tbody></table></div>
 </section>
 <section id="invoices" hidden>
  <form id="invoice-form" data-needs="ManageInvoices" hidden><h2>New invoice</h2>
  <div class="row"><div><label for="inv-name">Customer name</label><input id="inv-name" autocomplete="off"></div>
  <div><label for="inv-email">Email</label><input id="inv-email" type="email" autocomplete="off"></div>
  <div><label for="inv-phone">Phone (optional)</label><input id="inv-phone" type="tel" autocomplete="off"></div></div>
  <label for="inv-service">Item</label><select id="inv-service"></select>
  <div id="inv-free" hidden><label for="inv-description">Description</label><input id="inv-description"></div>
  <div class="row"><div><label for="inv-amount" id="inv-amount-label">Amount</label>
  <input id="inv-amount" inputmode="decimal"></div>
  <div><label for="inv-currency">Currency</label><input id="inv-currency" maxlength="3" value="EUR"></div>
  <div><label for="inv-days">Expires in days (optional)</label>
  <input id="inv-days" type="number" min="1" max="90"></div></div>
  <button type="submit">Create invoice</button></form>
  <div id="inv-result" hidden><label for="inv-link">Link for the customer</label><input id="inv-link" readonly>
  <button id="inv-copy" class="small" type="button">Copy</button></div>
  <h2>Invoices</h2><table id="invoice-table"><thead><tr><th>Created</th><th>Customer</th><th>Item</th><th>Amount</th>
  <th>Status</th><th>Expires</th><th>Link</th></tr></thead><tbody></tbody></table>
  <button id="invoice-more" class="small" type="button" hidden>More</button>
 </section>
 <section id="accounts" hidden>
  <form id="account-search" class="row"><div><label for="a-q">Email or login</label><input id="a-q" type="search"></div>
  <button type="submit">Search</button></form>
  <div id="confirm" class="panel" hidden><p id="confirm-text"></p>
  <button id="confirm-yes" class="small danger" type="button"></button>
  <button id="confirm-no" class="small" type="button">Cancel</button></div>
  <form id="extend-form" class="panel" hidden><p id="extend-title"></p>
  <div class="row"><div><label for="extend-service">Service (slug)</label><input id="extend-service" list="extend-slugs"
  autocomplete="off"><datalist id="extend-slugs"></datalist></div>
  <div><label for="extend-days">Days</label><input id="extend-days" type="number" min="1" max="3650" value="30"></div>
  <button type="submit">Extend</button><button id="extend-cancel" type="button">Cancel</button></div></form>
  <p id="export-result" hidden><a id="export-link" download></a></p>
  <table id="account-table"><thead><tr><th>Login</th><th>Email</th><th>Language</th><th>Status</th><th>Services</th><th>Actions</th>
  </tr></thead>
  <tbody></tbody></table>
 </section>
 <section id="accesses" hidden>
  <form id="access-filter" class="row"><div><label for="ac-state">State</label>
  <select id="ac-state"><option value="">any</option><option value="active">active</option>
  <option value="grace">in grace</option><option value="expired">expired</option></select></div>
  <div><label for="ac-days">Period ends within (days)</label><input id="ac-days" type="number" min="0" max="3650"></div>
  <button type="submit">Show</button></form>
  <table id="access-table"><thead><tr><th>Login</th><th>Email</th><th>Service</th><th>Active until</th><th>State</th>
  <th>Access ends</th></tr></thead><tbody></tbody></table>
  <button id="access-more" class="small" type="button" hidden>More</button>
 </section>
 <section id="emails" hidden>
  <form id="email-filter" class="row"><div><label for="e-status">Status</label>
  <select id="e-status"><option value="dead">dead (given up)</option><option value="pending">pending</option><option value="sent">sent</option>
  <option value="all">all</option></select></div><button type="submit">Show</button></form>
  <table id="email-table"><thead><tr><th>Created</th><th>Kind</th><th>Customer</th><th>Order</th><th>Status</th>
  <th>Attempts</th><th>Last error</th><th>Actions</th></tr></thead><tbody></tbody></table>
 </section>
 <section id="audit" hidden>
  <form id="audit-filter" class="row"><div><label for="au-actor">Actor</label><input id="au-actor" type="search"></div>
  <div><label for="au-action">Action</label><input id="au-action" type="search" placeholder="e.g. account.erase"></div>
  <div><label for="au-from">From</label><input id="au-from" type="date"></div>
  <div><label for="au-to">To</label><input id="au-to" type="date"></div><button type="submit">Show</button></form>
  <table id="audit-table"><thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th>
  <th>IP</th><th>Change</th></tr></thead><tbody></tbody></table>
  <button id="audit-more" class="small" type="button" hidden>More</button>
 </section>
 <section id="services" hidden>
  <table id="service-table"><thead><tr><th>Slug</th><th>Name</th><th>Price</th><th>Period</th><th>Grace</th>
  <th>Reminders</th><th>Active</th><th>Actions</th></tr></thead><tbody></tbody></table>
  <div id="service-share" class="panel" hidden><p id="share-title"></p>
  <label for="share-url">Order page (link a site builder's button here)</label><input id="share-url" readonly>
  <button id="share-url-copy" class="small" type="button">Copy</button>
  <label for="share-snippet">Snippet for any page (a Buy button; or data-keyturn-buy="slug" on your own)</label>
  <input id="share-snippet" readonly><button id="share-snippet-copy" class="small" type="button">Copy</button></div>
  <form id="service-form" data-needs="ManageServices" hidden><h2 id="s-title">New service</h2>
  <div class="row"><div><label for="s-slug">Slug</label><input id="s-slug" autocomplete="off"></div>
  <div><label for="s-name">Name</label><input id="s-name" autocomplete="off"></div></div>
  <div class="row"><div><label for="s-price">Price</label><input id="s-price" inputmode="decimal"></div>
  <div><label for="s-currency">Currency</label><input id="s-currency" maxlength="3" value="EUR"></div>
  <div><label for="s-days">Period (days)</label><input id="s-days" type="number" min="1" value="30"></div>
  <div><label for="s-grace">Grace (days)</label><input id="s-grace" type="number" min="0" max="365" value="3"></div>
  <div><label for="s-reminders">Reminders (days before the end)</label><input id="s-reminders" autocomplete="off"
  value="7, 1" placeholder="e.g. 7, 1 (empty: none)"></div>
  <div><label for="s-active">On sale</label><select id="s-active"><option value="true">yes</option>
  <option value="false">no</option></select></div></div>
  <button type="submit" id="s-submit">Create service</button>
  <button id="s-cancel" type="button" hidden>Cancel</button></form>
 </section>
 <section id="admins" hidden>
  <table id="admin-table"><thead><tr><th>Username</th><th>Role</th><th>Status</th><th>Created</th><th>Actions</th>
  </tr></thead><tbody></tbody></table>
  <form id="admin-form"><h2>New administrator</h2>
  <div class="row"><div><label for="ad-username">Username</label><input id="ad-username" autocomplete="off"></div>
  <div><label for="ad-role">Role</label><select id="ad-role"><option>viewer</option><option>support</option>
  <option>operator</option><option>catalog</option><option>owner</option></select></div>
  <div><label for="ad-password">Password</label><input id="ad-password" type="password" autocomplete="new-password">
  </div></div><button type="submit">Create administrator</button></form>
 </section>
 <section id="webhooks" hidden>
  <table id="webhook-table"><thead><tr><th>URL</th><th>Events</th><th>Status</th><th>Created</th><th>Actions</th>
  </tr></thead><tbody></tbody></table>
  <div id="wh-secret" class="panel" hidden><p id="wh-secret-text"></p><p><code id="wh-secret-value"></code></p></div>
  <form id="webhook-form"><h2>New endpoint</h2>
  <div class="row"><div><label for="wh-url">URL</label><input id="wh-url" type="url" autocomplete="off"
  placeholder="https://app.shop.example/keyturn-hook"></div>
  <div><label for="wh-events">Event types (comma-separated; empty for all)</label><input id="wh-events"
  autocomplete="off" placeholder="access.granted, access.expired"></div></div>
  <button type="submit">Add endpoint</button></form>
  <div id="wh-deliveries" hidden><h3 id="wh-deliveries-title"></h3>
  <table id="delivery-table"><thead><tr><th>Created</th><th>Type</th><th>webhook-id</th><th>Status</th><th>Attempts</th>
  <th>Last code</th><th>Last error</th><th>Next attempt</th><th>Actions</th></tr></thead><tbody></tbody></table></div>
 </section>
 <section id="api-keys" hidden>
  <table id="key-table"><thead><tr><th>Name</th><th>Key</th><th>Scopes</th><th>Created by</th><th>Created</th>
  <th>Status</th><th>Actions</th></tr></thead><tbody></tbody></table>
  <form id="key-form"><h2>New API key</h2>
  <label for="key-name">Name (what the server is)</label><input id="key-name" autocomplete="off">
  <p><label><input type="checkbox" name="scope" value="access:read" checked> access:read — look up a customer's access</label>
  <label><input type="checkbox" name="scope" value="access:check"> access:check — check a login and password</label></p>
  <button type="submit">Create key</button></form>
  <div id="key-result" class="panel" hidden><label for="key-value">The key (shown once)</label>
  <input id="key-value" readonly><button id="key-copy" class="small" type="button">Copy</button></div>
 </section>
 <section id="oidc-clients" hidden>
  <table id="oidc-table"><thead><tr><th>Name</th><th>Client ID</th><th>Redirect URIs</th><th>Service</th><th>Type</th>
  <th>Created</th><th>Actions</th></tr></thead><tbody></tbody></table>
  <form id="oidc-form"><h2>New app</h2>
  <label for="oidc-name">Name</label><input id="oidc-name" autocomplete="off" placeholder="Grafana">
  <label for="oidc-redirects">Redirect URIs (one per line, matched exactly)</label>
  <textarea id="oidc-redirects" rows="2" placeholder="https://grafana.shop.example/login/generic_oauth"></textarea>
  <label for="oidc-logouts">Post-logout redirect URIs (optional)</label><textarea id="oidc-logouts" rows="1"></textarea>
  <label for="oidc-service">Only for customers of the service (slug, optional)</label><input id="oidc-service" autocomplete="off">
  <p><label><input id="oidc-public" type="checkbox"> Public client (no secret: single-page or native app)</label></p>
  <button type="submit">Register app</button></form>
  <div id="oidc-result" class="panel" hidden><label for="oidc-id">Client ID</label><input id="oidc-id" readonly>
  <label for="oidc-secret">Client secret (shown once)</label><input id="oidc-secret" readonly></div>
 </section>
</div>
<dialog id="reauth"><form id="reauth-form"><p>Confirm your password to continue.</p>
 <label for="reauth-password">Password</label>
 <input id="reauth-password" type="password" autocomplete="current-password">
 <div id="reauth-totp-row" hidden><label for="reauth-totp">Code</label>
 <input id="reauth-totp" inputmode="numeric" autocomplete="one-time-code"></div>
 <p id="reauth-message" class="error" role="status"></p>
 <button type="submit">Confirm</button> <button id="reauth-cancel" type="button">Cancel</button></form></dialog>
<dialog id="op-confirm" aria-labelledby="op-confirm-title"><p><strong id="op-confirm-title"></strong></p>
 <dl id="op-confirm-facts"></dl><p id="op-confirm-effect" class="muted"></p>
 <button id="op-confirm-yes" class="small danger" type="button"></button>
 <button id="op-confirm-no" class="small" type="button">No, keep it</button></dialog>
<script src="/assets/admin.js"></script>
<script src="/assets/admin-accounts.js"></script>
<script src="/assets/admin-manage.js"></script>
<script src="/assets/admin-webhooks.js"></script>
<script src="/assets/admin-keys.js"></script>
<script src="/assets/admin-oidc.js"></script>
<script src="/assets/admin-accesses.js"></script>
<script src="/assets/admin-sales.js"></script>"#;

/// The admin portal page; `assets/admin.js` drives it.
#[handler]
pub fn get_admin_page(state: Data<&AppState>) -> Response {
    crate::http::pages::scripted(page_with_head(
        StatusCode::OK,
        &state.settings.product_name,
        "Administration",
        HEAD,
        BODY,
    ))
}

/// The portal's scripts, served from the binary: the shared part (log-in, re-authentication,
/// orders, invoices)…
#[handler]
pub fn get_admin_script() -> Response {
    script(include_str!("../../assets/admin.js"))
}

/// … customer accounts and the email outbox…
#[handler]
pub fn get_admin_accounts_script() -> Response {
    script(include_str!("../../assets/admin-accounts.js"))
}

/// … the audit log, services and administrators…
#[handler]
pub fn get_admin_manage_script() -> Response {
    script(include_str!("../../assets/admin-manage.js"))
}

/// … and the webhook endpoints with their delivery log.
#[handler]
pub fn get_admin_webhooks_script() -> Response {
    script(include_str!("../../assets/admin-webhooks.js"))
}

/// … the API keys…
#[handler]
pub fn get_admin_keys_script() -> Response {
    script(include_str!("../../assets/admin-keys.js"))
}

/// … and the apps that sign in with keyturn.
#[handler]
pub fn get_admin_oidc_script() -> Response {
    script(include_str!("../../assets/admin-oidc.js"))
}

/// … and the customers' accesses by state.
#[handler]
pub fn get_admin_accesses_script() -> Response {
    script(include_str!("../../assets/admin-accesses.js"))
}

/// … and the confirmations before money moves, with "send by email" for invoices.
#[handler]
pub fn get_admin_sales_script() -> Response {
    script(include_str!("../../assets/admin-sales.js"))
}

fn script(body: &'static str) -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=300")
        .body(body)
}
