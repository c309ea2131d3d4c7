// The admin portal's customer side (after admin.js, whose helpers it uses): accounts — search,
// suspend, reinstate, revoke, resend credentials, extend access, export and erase a customer's
// data — and the email outbox. Every value goes in as text.
"use strict";

// ---- customer accounts -------------------------------------------------------------------

tabs.accounts = () => searchAccounts();
tabs.emails = () => loadEmails();
resets.push(() => {
  for (const id of ["confirm", "extend-form", "export-result"]) $(id).hidden = true;
  dropExport();
});

const accountPath = (login, action) => "/admin/accounts/" + encodeURIComponent(login) + "/" + action;

async function searchAccounts() {
  const q = $("a-q").value.trim();
  const r = await api("GET", "/admin/accounts" + (q ? "?q=" + encodeURIComponent(q) : ""));
  if (r.status !== 200) { fail(r); return; }
  const services = (a) => a.services.map((s) => s.name + " until " + when(s.active_until)).join("; ");
  const cells = (a) => [a.login, a.email, a.locale, a.status, services(a), accountActions(a)];
  fill("account-table", r.data, cells, "No accounts match.");
}
$("account-search").addEventListener("submit", (e) => { e.preventDefault(); say(""); searchAccounts(); });

function accountActions(a) {
  const span = node("span");
  if (!can("ManageAccounts")) return span;
  const attrs = (action) => ({ "data-action": action, "data-login": a.login });
  const act = (label, action, done) => button(label, () => changeAccount(a.login, action, undefined, done), attrs(action));
  if (a.status !== "revoked") {
    if (a.status === "suspended") span.append(act("Reinstate", "reinstate", "Account reinstated."));
    else span.append(act("Suspend", "suspend", "Account suspended: its sessions ended."));
    span.append(act("Resend credentials", "resend-credentials", "A new temporary password is on its way."));
    span.append(button("Extend access", () => openExtend(a), attrs("extend")));
    span.append(button("Revoke", () => confirmStep(
      "Revoke " + a.login + " (" + a.email + ") for good? Its sessions end and its password is forgotten; " +
      "nothing can undo it.", "Revoke " + a.login,
      () => changeAccount(a.login, "revoke", undefined, "Account " + a.login + " revoked."),
    ), attrs("revoke")));
  }
  span.append(button("Export data", () => exportAccount(a.login), attrs("export")));
  span.append(button("Erase data", () => confirmStep(
    "Erase the personal data of " + a.login + " (" + a.email + ")? Name, address and phone go for good, " +
    "sessions and access end and the account is revoked; orders and payments stay as accounting records.",
    "Erase " + a.login + "'s data", () => eraseAccount(a.login),
  ), attrs("erase")));
  return span;
}

// POSTs an account action (through the password prompt if the server asks for it); on success
// runs `after` (if any) and searches again.
async function changeAccount(login, action, body, done, after) {
  say("Working…", true);
  await withReauth(() => api("POST", accountPath(login, action), body), async (r) => {
    if (r.status >= 300) { fail(r); return; }
    if (after) after();
    await searchAccounts();
    say(done, true);
  });
}

// A second step before anything that cannot be undone: names what is about to happen.
function confirmStep(text, label, run) {
  $("extend-form").hidden = true;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = label;
  state.onConfirm = run;
  $("confirm").hidden = false;
  $("confirm-yes").focus();
}
$("confirm-yes").addEventListener("click", () => {
  const run = state.onConfirm;
  state.onConfirm = null;
  $("confirm").hidden = true;
  if (run) run();
});
$("confirm-no").addEventListener("click", () => {
  state.onConfirm = null;
  $("confirm").hidden = true;
  say("Cancelled: nothing was done.");
});

// After the erasure the address is gone: the list shows the account by its login, and a copy
// of its data exported earlier is no longer offered.
async function eraseAccount(login) {
  await changeAccount(login, "erase", undefined, "The personal data of " + login + " is erased; the account is revoked.",
    () => {
      $("a-q").value = login;
      if (state.exportLogin === login) { dropExport(); $("export-result").hidden = true; }
    });
}

function openExtend(a) {
  $("confirm").hidden = true;
  state.extendLogin = a.login;
  $("extend-title").textContent = "Extend (or grant) access for " + a.login + " (" + a.email + ")";
  const slugs = a.services.map((s) => s.slug);
  $("extend-slugs").replaceChildren(...slugs.map((slug) => { const o = node("option"); o.value = slug; return o; }));
  $("extend-service").value = slugs[0] || "";
  $("extend-form").hidden = false;
  $("extend-days").focus();
}
$("extend-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const login = state.extendLogin;
  const body = { service: $("extend-service").value.trim(), days: Number($("extend-days").value) };
  if (!body.service || !Number.isInteger(body.days) || body.days < 1) {
    say("Enter the service's slug and a number of days.");
    return;
  }
  $("extend-form").hidden = true;
  changeAccount(login, "extend", body, "Access to " + body.service + " extended by " + body.days + " days for " + login + ".");
});
$("extend-cancel").addEventListener("click", () => { $("extend-form").hidden = true; say(""); });

// The export is offered as a file made in the page (a blob: URL: no second request, nothing
// inline, allowed by the page's CSP); the link stays to save it again.
function dropExport() {
  const link = $("export-link");
  if (link.href) URL.revokeObjectURL(link.href);
  link.removeAttribute("href");
}

async function exportAccount(login) {
  const r = await api("GET", accountPath(login, "export"));
  if (r.status !== 200) { fail(r); return; }
  dropExport();
  state.exportLogin = login;
  const blob = new Blob([JSON.stringify(r.data, null, 2)], { type: "application/json" });
  const link = $("export-link");
  link.href = URL.createObjectURL(blob);
  link.download = "keyturn-" + login.replace(/[^A-Za-z0-9._-]/g, "_") + ".json";
  link.textContent = "Save " + link.download + " again";
  $("export-result").hidden = false;
  link.click();
  say("The data of " + login + " is downloaded as " + link.download + ".", true);
}

// ---- email outbox ------------------------------------------------------------------------

async function loadEmails() {
  const status = $("e-status").value;
  const r = await api("GET", "/admin/emails?status=" + encodeURIComponent(status));
  if (r.status !== 200) { fail(r); return; }
  const customer = (m) => [m.login, m.to].filter(Boolean).join(" ") || "(merchant)";
  fill("email-table", r.data, (m) => [when(m.created_at), m.kind, customer(m), node("span", m.order_id, "id"),
    m.status, m.attempts, m.last_error, emailActions(m)], status === "dead" ? "No given-up emails." : "No emails.");
}
$("email-filter").addEventListener("submit", (e) => { e.preventDefault(); say(""); loadEmails(); });

function emailActions(m) {
  const span = node("span");
  if (!can("ManageAccounts") || m.status !== "dead") return span;
  span.append(button("Send again", async () => {
    const r = await api("POST", "/admin/emails/" + encodeURIComponent(m.email_id) + "/retry");
    if (r.status !== 202) { fail(r); return; }
    await loadEmails();
    const what = m.kind === "credentials" ? " (with a fresh temporary password)" : "";
    say("The " + m.kind + " email to " + (m.to || "the merchant") + " is queued again" + what + ".", true);
  }, { "data-email": m.email_id }));
  return span;
}
