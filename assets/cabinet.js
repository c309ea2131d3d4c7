// The customer cabinet: a thin client of keyturn's JSON API (no framework, no inline code).
"use strict";
const $ = (id) => document.getElementById(id);
const show = (id) => ["login", "change", "me"].forEach((s) => { $(s).hidden = s !== id; });
const say = (text, ok) => { $("message").textContent = text || ""; $("message").className = ok ? "ok" : "error"; };

async function api(method, path, body) {
  const res = await fetch("/api/v1" + path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch (_) { data = null; } }
  return { status: res.status, data };
}

// After login, back to the protected page forward auth sent the customer from (the server
// only puts a return URL here when its host is allowed).
function goBack() {
  const back = $("return");
  if (back && back.dataset.url) { window.location.assign(back.dataset.url); return true; }
  return false;
}

async function load() {
  const r = await api("GET", "/me");
  if (r.status === 200) {
    $("me-login").textContent = r.data.login;
    const table = $("services");
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    ["Service", "Where to use it", "Access", ""].forEach((t) => { head.appendChild(document.createElement("th")).textContent = t; });
    for (const s of r.data.services) {
      const row = table.insertRow();
      row.className = "service-" + s.state;
      row.insertCell().textContent = s.name;
      const where = row.insertCell();
      if (s.access_url && /^https?:\/\//i.test(s.access_url)) {
        const a = where.appendChild(document.createElement("a"));
        a.href = s.access_url;
        a.rel = "noopener";
        a.textContent = s.access_url;
      } else {
        where.textContent = "—";
      }
      const until = new Date(s.active_until).toLocaleString();
      const access = row.insertCell();
      access.textContent =
        s.state === "active" ? "active until " + until
        : s.state === "grace" ? "period ended " + until + "; access ends " + new Date(s.open_until).toLocaleString() + " — renew to keep it"
        : "ended " + until;
      if (s.state === "grace") access.className = "error";
      const action = row.insertCell();
      if (s.renewable) {
        const b = action.appendChild(document.createElement("button"));
        b.type = "button";
        b.textContent = "Renew";
        b.dataset.renew = s.slug;
        b.addEventListener("click", () => renew(s.slug));
      } else if (s.state !== "active") {
        action.textContent = "no longer on sale";
      }
    }
    $("reminders").checked = !!r.data.renewal_reminders;
    show("me");
    if (goBack()) return;
  } else if (r.status === 403 && r.data && r.data.error === "password_change_required") {
    show("change");
  } else if (r.status === 403 && r.data && r.data.error === "account_suspended") {
    show("login");
    say("This account is suspended; contact support.");
  } else {
    show("login");
  }
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/session", { login: $("l").value, password: $("p").value });
  if (r.status === 200) {
    if (r.data.must_change_password) $("c").value = $("p").value;
    say("", true);
    await load();
  } else if (r.data && r.data.error === "temporary_password_expired") {
    say("Your temporary password has expired. Use \u201cForgot password?\u201d below to get a link and choose a new one.");
    $("forgot").focus();
  } else {
    say(r.data ? r.data.message : "Login failed.");
  }
});

$("change-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/me/password", { current_password: $("c").value, new_password: $("n").value });
  if (r.status === 204) { say("Password saved. Welcome!", true); await load(); }
  else say(r.data ? r.data.message : "Could not change the password.");
});

// Renew: the server makes (or reuses) the renewal order for this account; pay it on /pay.
async function renew(slug) {
  const r = await api("POST", "/me/renewals", { service: slug });
  if (r.status === 201) window.location.assign(r.data.payment_url);
  else say(r.data ? r.data.message : "Could not start the renewal.");
}

$("reminders").addEventListener("change", async () => {
  const on = $("reminders").checked;
  const r = await api("PUT", "/me/preferences", { renewal_reminders: on });
  if (r.status === 200) say(on ? "Renewal reminders are on." : "Renewal reminders are off.", true);
  else { $("reminders").checked = !on; say(r.data ? r.data.message : "Could not save."); }
});

$("logout").addEventListener("click", async () => {
  await api("DELETE", "/session");
  say("Logged out.", true);
  show("login");
});

load();
