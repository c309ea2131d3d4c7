// The admin portal's management side (after admin.js, whose helpers it uses): the audit log,
// the catalog of services and the administrators. Every value goes in as text.
"use strict";

tabs.audit = () => loadAudit(false);
tabs.services = () => loadCatalog();
tabs.admins = () => loadAdmins();
resets.push(() => editService(null));

// ---- audit log ---------------------------------------------------------------------------

const auditList = { path: "/admin/audit", key: "entries", table: "audit-table", more: "audit-more",
  empty: "No entries match." };

// A date input's day as unix seconds (local time): its start, or (`end`) the next day's start.
function day(value, end) {
  if (!value) return "";
  const d = new Date(value + "T00:00");
  if (end) d.setDate(d.getDate() + 1);
  return String(Math.floor(d.getTime() / 1000));
}

// What changed: a line per field that differs, "field: before → after" (values as JSON text).
function change(e) {
  const object = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : v == null ? {} : { value: v });
  const before = object(e.before);
  const after = object(e.after);
  const text = (v) => (v === undefined ? "" : JSON.stringify(v));
  const lines = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => text(before[k]) !== text(after[k]))
    .map((k) => node("div", k + ": " + [text(before[k]), text(after[k])].filter(Boolean).join(" → ")));
  const div = node("div", null, "change");
  div.append(...lines);
  return div;
}

function loadAudit(more) {
  const q = { actor: $("au-actor").value.trim(), action: $("au-action").value.trim(),
    from: day($("au-from").value, false), to: day($("au-to").value, true) };
  const query = more ? null : Object.fromEntries(Object.entries(q).filter(([, v]) => v));
  return loadPage(auditList, query, (e) => [when(e.at), e.actor, e.action, node("span", e.target, "id"),
    e.outcome, e.ip, change(e)]);
}
$("audit-filter").addEventListener("submit", (e) => { e.preventDefault(); say(""); loadAudit(false); });
$("audit-more").addEventListener("click", () => loadAudit(true));

// ---- services ----------------------------------------------------------------------------

async function loadCatalog() {
  const r = await api("GET", "/admin/services");
  if (r.status !== 200) { fail(r); return; }
  fill("service-table", r.data, (s) => [node("code", s.slug), s.name, money(s.price_minor, s.currency),
    s.period_days + " days", s.grace_days + " days", reminderText(s.reminder_days), s.active ? "on sale" : "off sale",
    serviceActions(s)], "No services yet.");
}

// `[7, 1]` → "7, 1 days before"; none → "none".
function reminderText(days) {
  return days && days.length ? days.join(", ") + " days before" : "none";
}

// "7, 1" → [7, 1]; null when a part is not a whole number (the server checks the rest).
function parseReminders(text) {
  const parts = text.split(/[\s,;]+/).filter((p) => p);
  if (!parts.every((p) => /^[0-9]+$/.test(p))) return null;
  return parts.map(Number);
}

function serviceActions(s) {
  const span = node("span");
  span.append(button("Buy link", () => shareService(s), { "data-service": s.slug, "data-action": "share" }));
  if (!can("ManageServices")) return span;
  span.append(button("Edit", () => editService(s), { "data-service": s.slug, "data-action": "edit" }));
  const toggle = s.active ? "Take off sale" : "Put on sale";
  span.append(button(toggle, () => saveService(s.slug, { active: !s.active }), { "data-service": s.slug,
    "data-action": s.active ? "deactivate" : "activate" }));
  return span;
}

// The order page of `s` and the snippet that opens it from the merchant's own site.
function shareService(s) {
  const base = window.location.origin;
  $("share-title").textContent = s.name + (s.active ? "" : " (off sale: the page answers 404 until it is on sale)");
  $("share-url").value = base + "/buy/" + s.slug;
  $("share-snippet").value = '<script src="' + base + '/embed.js" data-service="' + s.slug + '" async></script>';
  $("service-share").hidden = false;
}
for (const id of ["share-url", "share-snippet"]) {
  $(id + "-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($(id).value);
      say("Copied.", true);
    } catch (_) {
      $(id).focus();
      $(id).select();
      say("Press Ctrl+C (⌘C) to copy the selected text.", true);
    }
  });
}

// Fills the form with `s` to change it, or (null) empties it for a new service.
function editService(s) {
  state.serviceSlug = s ? s.slug : null;
  $("service-form").reset();
  $("s-slug").readOnly = !!s;
  $("s-title").textContent = s ? "Change " + s.slug : "New service";
  $("s-submit").textContent = s ? "Save" : "Create service";
  $("s-cancel").hidden = !s;
  if (!s) return;
  $("s-slug").value = s.slug;
  $("s-name").value = s.name;
  $("s-price").value = decimal(s.price_minor, s.currency);
  $("s-currency").value = s.currency;
  $("s-days").value = s.period_days;
  $("s-grace").value = s.grace_days;
  $("s-reminders").value = (s.reminder_days || []).join(", ");
  $("s-active").value = String(s.active);
  $("s-name").focus();
}
$("s-cancel").addEventListener("click", () => { editService(null); say(""); });

async function saveService(slug, body) {
  const r = slug ? await api("PATCH", "/admin/services/" + encodeURIComponent(slug), body)
    : await api("POST", "/admin/services", body);
  if (r.status !== 200 && r.status !== 201) { fail(r); return false; }
  await loadCatalog();
  say("Service " + r.data.slug + (slug ? " saved." : " created."), true);
  return true;
}

$("service-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const currency = $("s-currency").value.trim().toUpperCase();
  const reminders = parseReminders($("s-reminders").value);
  if (reminders === null) { say("Reminders: whole numbers of days before the end, e.g. 7, 1 (empty: none)."); return; }
  // Sent as typed ("12 990,00"): the server reads it by the currency and explains a refusal.
  const body = { name: $("s-name").value, price: $("s-price").value, currency, period_days: Number($("s-days").value),
    grace_days: Number($("s-grace").value), reminder_days: reminders, active: $("s-active").value === "true" };
  const slug = state.serviceSlug;
  if (!slug) body.slug = $("s-slug").value.trim();
  if (await saveService(slug, body)) editService(null);
});

// ---- administrators ----------------------------------------------------------------------

async function loadAdmins() {
  const r = await api("GET", "/admin/admins");
  if (r.status !== 200) { fail(r); return; }
  fill("admin-table", r.data, (a) => [a.username, a.role, a.status, when(a.created_at), adminActions(a)],
    "No administrators.");
}

function adminActions(a) {
  const span = node("span");
  // Nobody disables themselves: an owner always remains.
  if (!state.me || a.username === state.me.username) return span;
  const action = a.status === "disabled" ? "enable" : "disable";
  span.append(button(action === "enable" ? "Enable" : "Disable", async () => {
    await withReauth(() => api("POST", "/admin/admins/" + encodeURIComponent(a.username) + "/" + action),
      async (r) => {
        if (r.status >= 300) { fail(r); return; }
        await loadAdmins();
        say(a.username + (action === "enable" ? " may log in again." : " is disabled: their sessions ended."), true);
      });
  }, { "data-admin": a.username, "data-action": action }));
  return span;
}

$("admin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { username: $("ad-username").value.trim(), role: $("ad-role").value, password: $("ad-password").value };
  const r = await api("POST", "/admin/admins", body);
  $("ad-password").value = "";
  if (r.status !== 201) { fail(r); return; }
  $("admin-form").reset();
  await loadAdmins();
  say("Administrator " + r.data.username + " (" + r.data.role + ") created: give them the password.", true);
});
