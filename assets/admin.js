// The merchant's admin portal: a thin client of keyturn's admin JSON API (no framework, no
// inline code). Names, emails and every other value from the server are attacker-controlled:
// they are inserted with textContent only. This script holds what every part shares (log-in,
// re-authentication, the tabs) and the orders and invoices; admin-accounts.js and
// admin-manage.js add their tabs to `tabs`; admin-sales.js confirms payment operations.
"use strict";
const $ = (id) => document.getElementById(id);
// Currencies whose minor unit is not a hundredth, as in src/money.rs (a test keeps them equal).
const EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND";

const state = { me: null, orderId: null, order: null, onReauth: null, onConfirm: null };
// Idempotency keys of intended actions: kept while the same action is retried after an error
// (through a page reload or a new login too), so a retry never moves money (or creates an
// invoice) twice; dropped after success and at logout.
const intents = new Map(JSON.parse(sessionStorage.getItem("keyturn-admin-intents") || "[]"));
const saveIntents = () => sessionStorage.setItem("keyturn-admin-intents", JSON.stringify([...intents]));

// What the server lists for this admin (GET /admin/me). It only hides what the server would
// refuse; the server decides.
function can(permission) {
  return !!state.me && (state.me.permissions || []).includes(permission);
}

function say(text, ok) {
  $("message").textContent = text || "";
  $("message").className = ok ? "ok" : "error";
}

function node(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(text, onClick, attrs) {
  const b = node("button", text, "small");
  b.type = "button";
  for (const [k, v] of Object.entries(attrs || {})) b.setAttribute(k, v);
  b.addEventListener("click", onClick);
  return b;
}

// A table row; strings become text nodes, never markup.
function row(tbody, cells) {
  const tr = tbody.insertRow();
  for (const c of cells) tr.insertCell().append(c instanceof Node ? c : String(c ?? ""));
}

// Fills a table's body with a row per item (`cells` gives its cells), or one saying `empty`.
function fill(table, items, cells, empty, append) {
  const tbody = $(table).tBodies[0];
  if (!append) tbody.replaceChildren();
  for (const item of items) row(tbody, cells(item));
  if (!append && items.length === 0) row(tbody, [empty]);
}

function exponent(currency) {
  const c = String(currency || "").toUpperCase();
  return EXPONENT_0.split(" ").includes(c) ? 0 : EXPONENT_3.split(" ").includes(c) ? 3 : 2;
}

// 1990, "EUR" → "19.90"
function decimal(minor, currency) {
  const e = exponent(currency);
  const sign = minor < 0 ? "-" : "";
  const a = Math.abs(minor);
  if (e === 0) return sign + a;
  const d = 10 ** e;
  return sign + Math.floor(a / d) + "." + String(a % d).padStart(e, "0");
}

const money = (minor, currency) => decimal(minor, currency) + " " + currency;

// "19.9", "EUR" → 1990; null for anything that is not a plain amount of this currency. Only
// to show a typed refund amount in the confirmation: the server reads the amount itself.
function parseMinor(text, currency) {
  const e = exponent(currency);
  const m = /^(\d+)(?:[.,](\d+))?$/.exec(String(text).trim());
  if (!m) return null;
  const frac = (m[2] || "").replace(/0+$/, "");
  if (frac.length > e) return null;
  const n = Number(m[1] + frac.padEnd(e, "0"));
  return Number.isSafeInteger(n) ? n : null;
}

const when = (rfc3339) => (rfc3339 ? new Date(rfc3339).toLocaleString() : "");

async function api(method, path, body, key) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (key) headers["Idempotency-Key"] = key;
  let res;
  try {
    const json = body === undefined ? undefined : JSON.stringify(body);
    res = await fetch("/api/v1" + path, { method, credentials: "same-origin", headers, body: json });
  } catch (_) {
    return { status: 0, data: { error: "network", message: "The server could not be reached; try again." } };
  }
  let data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok && !(data && data.message)) {
    data = { error: "http_" + res.status, message: "The server answered " + res.status + "; try again." };
  }
  return { status: res.status, data };
}

// Shows an error answer; a session that ended sends the admin back to the login form.
function fail(r) {
  say(r.data.message);
  if (r.status === 401 && r.data.error === "unauthenticated") showLogin();
}

// crypto.randomUUID needs a secure context (https or localhost); getRandomValues does not.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Whether an answer leaves the action open for a retry with the same key: no answer, a 5xx
// (the outcome is unknown), still running, or not taken up (log in, confirm the password, wait).
// Any other answer is final; the server would replay it for the same key.
function retryable(r) {
  return r.status === 0 || r.status >= 500 || [401, 403, 408, 429].includes(r.status) ||
    (r.data && r.data.error) === "idempotency_in_progress";
}

// Runs an action with the key of its intent (`what` names the action and its input; `memo` is
// kept with the intent, e.g. to show an unfinished action again).
async function once(slot, what, run, memo) {
  let intent = intents.get(slot);
  if (!intent || intent.what !== what) {
    intent = { what, key: newKey(), ...memo };
    intents.set(slot, intent);
    saveIntents();
  }
  const r = await run(intent.key);
  if (!retryable(r)) { intents.delete(slot); saveIntents(); }
  return r;
}

// ---- views -------------------------------------------------------------------------------

function show(view) {
  for (const v of ["login", "enrol", "app"]) $(v).hidden = v !== view;
}

// Each tab's loader, by the id of its section (and of its button's data-tab).
const tabs = {
  orders: () => { showOrderList(); loadOrders(false); },
  invoices: () => { loadServices(); loadInvoices(false); },
};
// What to forget at logout, besides every table: each script adds its own.
const resets = [];

function showLogin() {
  state.me = null;
  for (const t of document.querySelectorAll("#app tbody")) t.replaceChildren();
  for (const reset of resets) reset();
  $("d-facts").replaceChildren();
  $("inv-result").hidden = true;
  $("totp-row").hidden = true;
  show("login");
}

async function load() {
  const r = await api("GET", "/admin/me");
  if (r.status === 401) { say(""); showLogin(); return; }
  if (r.status !== 200) { say(r.data.message); showLogin(); return; }
  state.me = r.data;
  say("");
  if (r.data.totp_enrolment_required) { showEnrol(true); return; }
  $("who").textContent = r.data.username;
  $("role").textContent = r.data.role;
  $("enrol-open").hidden = r.data.totp_enabled;
  for (const e of document.querySelectorAll("[data-needs]")) e.hidden = !can(e.dataset.needs);
  show("app");
  const first = [...$("tabs").querySelectorAll("button")].find((b) => !b.hidden);
  if (!first) say("Your role has nothing to show here.");
  openTab(first ? first.dataset.tab : null);
}

function openTab(tab) {
  for (const t of Object.keys(tabs)) $(t).hidden = t !== tab;
  for (const b of $("tabs").querySelectorAll("button")) b.classList.toggle("current", b.dataset.tab === tab);
  if (tabs[tab]) tabs[tab]();
}

// ---- log in, log out, TOTP enrolment -----------------------------------------------------

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { username: $("u").value, password: $("pw").value };
  if (!$("totp-row").hidden) body.totp = $("totp").value;
  const r = await api("POST", "/admin/session", body);
  if (r.status === 200) {
    $("pw").value = $("totp").value = "";
    $("totp-row").hidden = true;
    await load();
  } else if (r.status === 401 && r.data.error === "totp_required") {
    $("totp-row").hidden = false;
    $("totp").focus();
    say(r.data.message);
  } else {
    say(r.data.message);
  }
});

async function logout() {
  await api("DELETE", "/admin/session");
  $("u").value = "";
  intents.clear();
  saveIntents();
  showLogin();
  say("Logged out.", true);
}
$("logout").addEventListener("click", logout);
$("enrol-logout").addEventListener("click", logout);

function showEnrol(required) {
  $("enrol-secret").hidden = true;
  $("enrol-start").hidden = false;
  $("enrol-back").hidden = required;
  if (required) say("Two-factor authentication is required before you can continue.");
  show("enrol");
}
$("enrol-open").addEventListener("click", () => { say(""); showEnrol(false); });
$("enrol-back").addEventListener("click", () => load());

$("enrol-start").addEventListener("click", async () => {
  const r = await api("POST", "/admin/me/totp", {});
  if (r.status !== 200) { fail(r); return; }
  $("enrol-key").textContent = r.data.secret;
  $("enrol-uri").textContent = r.data.otpauth_uri;
  $("enrol-secret").hidden = false;
  $("enrol-start").hidden = true;
  say("");
});

$("enrol-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const confirm = () => api("POST", "/admin/me/totp/confirm", { code: $("enrol-code").value.trim() });
  let r = await confirm();
  if (r.status === 403 && r.data.error === "reauthentication_required") {
    if (state.me && state.me.totp_enrolment_required) {
      say("Your login is too old to finish the set-up: log out, log in again and confirm right away.");
      return;
    }
    askPassword(async () => { r = await confirm(); enrolled(r); });
    return;
  }
  enrolled(r);
});

async function enrolled(r) {
  if (r.status !== 204) { fail(r); return; }
  $("enrol-code").value = "";
  await load();
  say("Two-factor authentication is on: logins now need a code.", true);
}

// ---- re-authentication -------------------------------------------------------------------

// Asks for the password (and code); runs `then` once the server has confirmed it.
function askPassword(then) {
  state.onReauth = then;
  $("reauth-password").value = "";
  $("reauth-totp").value = "";
  $("reauth-totp-row").hidden = !(state.me && state.me.totp_enabled);
  $("reauth-message").textContent = "";
  $("reauth").showModal();
  $("reauth-password").focus();
}

$("reauth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { password: $("reauth-password").value };
  if (!$("reauth-totp-row").hidden) body.totp = $("reauth-totp").value.trim();
  const r = await api("POST", "/admin/session/reauth", body);
  if (r.status !== 204) {
    $("reauth-message").textContent = r.data.message;
    if (r.status === 401) { $("reauth").close(); fail(r); }
    return;
  }
  $("reauth").close();
  $("reauth-password").value = "";
  const then = state.onReauth;
  state.onReauth = null;
  if (then) await then();
});

// Sends `send()`; if the server wants the password confirmed first, asks for it and sends again.
// `done` gets the final answer.
async function withReauth(send, done, why) {
  const r = await send();
  if (r.status === 403 && r.data.error === "reauthentication_required") {
    say(why || r.data.message);
    askPassword(async () => { say("Working…", true); await done(await send()); });
    return;
  }
  await done(r);
}

$("reauth-cancel").addEventListener("click", () => {
  state.onReauth = null;
  $("reauth").close();
  say("Cancelled: nothing was done.");
});

$("tabs").addEventListener("click", (e) => {
  const tab = e.target.closest("button");
  if (tab) { say(""); openTab(tab.dataset.tab); }
});

// ---- orders ------------------------------------------------------------------------------

function showOrderList() {
  state.orderId = null;
  $("order-detail").hidden = true;
  $("order-list").hidden = false;
}

const orderList = { path: "/admin/orders", key: "orders", table: "order-table", more: "order-more",
  empty: "No orders match." };
const invoiceList = { path: "/admin/invoices", key: "invoices", table: "invoice-table", more: "invoice-more",
  empty: "No invoices yet." };

// Loads the first page of a listing with `query`, or (`query` null) appends its next page.
async function loadPage(list, query, cells) {
  if (query !== null) Object.assign(list, { query, cursor: null });
  const q = new URLSearchParams(list.query);
  if (list.cursor) q.set("cursor", list.cursor);
  const r = await api("GET", list.path + "?" + q);
  if (r.status !== 200) { fail(r); return; }
  fill(list.table, r.data[list.key], cells, list.empty, !!list.cursor);
  list.cursor = r.data.next_cursor || null;
  $(list.more).hidden = !list.cursor;
}

function loadOrders(more) {
  const q = { status: $("f-status").value, email: $("f-email").value.trim() };
  const query = more ? null : Object.fromEntries(Object.entries(q).filter(([, v]) => v));
  return loadPage(orderList, query, (o) => {
    const open = button(o.order_id, () => openOrder(o.order_id), { "data-order": o.order_id });
    open.className = "link";
    const amount = money(o.amount_minor, o.currency);
    const status = o.hold_reason ? o.status + " (held: " + o.hold_reason + ")" : o.status;
    return [when(o.created_at), open, o.email, o.item || o.service, amount, status, o.gateway];
  });
}

$("order-filter").addEventListener("submit", (e) => { e.preventDefault(); say(""); loadOrders(false); });
$("order-more").addEventListener("click", () => loadOrders(true));
$("order-back").addEventListener("click", () => { say(""); showOrderList(); loadOrders(false); });

async function openOrder(id) {
  const r = await api("GET", "/admin/orders/" + encodeURIComponent(id));
  if (r.status !== 200) { fail(r); return; }
  const o = r.data;
  state.orderId = o.order_id;
  state.order = o;
  $("d-title").textContent = "Order " + o.order_id;
  const facts = [["Status", o.status], ["Held", o.hold_reason], ["Customer", o.customer_name], ["Email", o.email], ["Language", o.locale], ["Item", o.item || o.service],
    ["Amount", money(o.amount_minor, o.currency)], ["Created", when(o.created_at)], ["Paid", when(o.paid_at)],
    ["Account", o.account_id]];
  $("d-facts").replaceChildren(...facts.filter(([, v]) => v).flatMap(([k, v]) => [node("dt", k), node("dd", v)]));
  fill("d-payments", o.payments, (p) => [node("code", p.payment_id), p.gateway, p.status,
    money(p.amount_minor, p.currency), money(p.captured_minor, p.currency), money(p.refunded_minor, p.currency),
    actions(p)], "No payments yet.");
  fill("d-operations", o.operations || [], (op) => [when(op.created_at), op.kind, node("code", op.payment_id),
    money(op.amount_minor, o.currency), op.status, op.actor, op.detail], "No operations yet.");
  fill("d-events", o.events, (ev) => [when(ev.received_at), ev.gateway, ev.kind, ev.outcome, ev.detail,
    node("code", ev.event_id)], "No callbacks yet.");
  $("order-list").hidden = true;
  $("order-detail").hidden = false;
}

// The buttons that apply to this payment, for roles that may operate payments. An action
// left unfinished by an error is offered again as it was, so that a retry reuses its key.
function actions(p) {
  const span = node("span");
  if (!can("OperatePayments")) return span;
  const open = intents.get(p.payment_id);
  if (p.status === "authorized") {
    span.append(button("Capture", () => operate(p, "capture"), { "data-action": "capture" }));
    span.append(button("Cancel", () => operate(p, "cancel"), { "data-action": "cancel" }));
  }
  if (p.status === "succeeded" || p.status === "partially_refunded") {
    const amount = node("input", null, "refund-amount");
    const left = decimal(Math.max(p.captured_minor - p.refunded_minor, 0), p.currency);
    amount.value = open && open.kind === "refund" && open.amount ? open.amount : left;
    amount.setAttribute("aria-label", "Amount to refund (" + p.currency + ")");
    amount.inputMode = "decimal";
    span.append(amount, button("Refund", () => operate(p, "refund", amount.value), { "data-action": "refund" }));
  }
  const again = open && span.querySelector(`[data-action="${open.kind}"]`);
  const hint = again && "Not finished: press " + again.textContent + " again to retry it safely.";
  if (hint) span.append(node("div", hint, "muted"));
  return span;
}

async function operate(p, kind, amountText) {
  const body = {};
  if (kind === "refund") {
    const typed = String(amountText || "").trim();
    if (!typed) {
      say("Enter the amount to refund in " + p.currency + ", e.g. " + decimal(100, p.currency) + ".");
      return;
    }
    // The server reads what was typed (for the payment's currency). The dialog shows this
    // page's reading of it; the server refuses (409 amount_changed) when it reads another.
    body.amount = typed;
    const minor = parseMinor(typed, p.currency);
    if (minor !== null) body.expected_amount_minor = minor;
  } else {
    body.expected_amount_minor = p.amount_minor;
  }
  const shown = body.expected_amount_minor === undefined ? body.amount + " " + p.currency : null;
  // admin-sales.js asks first; only its "Yes" sends.
  confirmOperation(p, kind, body.expected_amount_minor, state.order, () => sendOperation(p, kind, body), shown);
}

async function sendOperation(p, kind, body) {
  const orderId = state.orderId;
  const path = "/admin/payments/" + encodeURIComponent(p.payment_id) + "/" + kind;
  const memo = { kind, amount: body.amount };
  const send = () => once(p.payment_id, kind + " " + JSON.stringify(body), (key) => api("POST", path, body, key), memo);
  say("Working…", true);
  await withReauth(send, (r) => operated(r, orderId), "Refunds need your password again.");
}

async function operated(r, orderId) {
  if (r.status === 401) { fail(r); return; }
  if (orderId) await openOrder(orderId);
  if (r.status !== 200) { say(r.data.message); return; }
  const done = { capture: "Captured", cancel: "Cancelled", refund: "Refunded" }[r.data.kind] || "Done";
  const amount = money(r.data.amount_minor, r.data.currency);
  say(done + " " + amount + ": the payment is now " + r.data.payment_status + ".", true);
}

// ---- invoices ----------------------------------------------------------------------------

async function loadServices() {
  if (!can("ManageInvoices") || $("inv-service").options.length) return;
  // Invoices sell active catalog services (viewers, who may not invoice, never get here).
  const r = await api("GET", "/admin/services");
  const select = $("inv-service");
  for (const s of r.status === 200 ? r.data : []) {
    if (s.active === false) continue;
    const o = node("option", s.name + " — " + money(s.price_minor, s.currency));
    o.value = s.slug;
    select.append(o);
  }
  const free = node("option", "Something else (a description and an amount)");
  free.value = "";
  select.append(free);
  if (r.status !== 200) say(r.data.message);
  itemChanged();
}

function itemChanged() {
  const free = $("inv-service").value === "";
  $("inv-free").hidden = !free;
  $("inv-amount-label").textContent = free ? "Amount" : "Custom price (optional)";
}
$("inv-service").addEventListener("change", itemChanged);

$("invoice-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { name: $("inv-name").value, email: $("inv-email").value };
  if ($("inv-phone").value.trim()) body.phone = $("inv-phone").value.trim();
  const currency = $("inv-currency").value.trim().toUpperCase();
  const amount = $("inv-amount").value.trim();
  if ($("inv-service").value) body.service = $("inv-service").value;
  else body.description = $("inv-description").value;
  if (amount || !body.service) {
    // Sent as typed ("12 990,00"): the server reads it by the currency and explains a refusal.
    body.amount = amount;
    body.currency = currency;
  }
  if ($("inv-days").value) body.expires_in_days = Number($("inv-days").value);
  const r = await once("invoice", JSON.stringify(body), (key) => api("POST", "/admin/invoices", body, key));
  if (r.status !== 201) { fail(r); return; }
  showLink(r.data.link);
  $("invoice-form").reset();
  itemChanged();
  say("Invoice created: send the link to the customer.", true);
  loadInvoices(false);
});

const showLink = (link) => { $("inv-link").value = link; $("inv-result").hidden = false; };

async function copyLink() {
  try {
    await navigator.clipboard.writeText($("inv-link").value);
    say("Link copied.", true);
  } catch (_) {
    $("inv-link").focus();
    $("inv-link").select();
    say("Press Ctrl+C (⌘C) to copy the selected link.", true);
  }
}
$("inv-copy").addEventListener("click", copyLink);

function loadInvoices(more) {
  return loadPage(invoiceList, more ? null : {}, (i) => [when(i.created_at), i.name + " <" + i.email + ">", i.item,
    money(i.amount_minor, i.currency), i.status, when(i.expires_at), invoiceActions(i)]);
}
$("invoice-more").addEventListener("click", () => loadInvoices(true));

// The other scripts have added their tabs by now.
document.addEventListener("DOMContentLoaded", load);
