// The customer cabinet: a thin client of keyturn's JSON API (no framework, no inline code).
"use strict";
const $ = (id) => document.getElementById(id);
const show = (id) => ["login", "change", "me"].forEach((s) => { $(s).hidden = s !== id; });
// The page's words in its language (a JSON data block the server writes), and its locale.
const W = JSON.parse(($("words") || {}).textContent || "{}");
const w = (key, fallback, vars) => {
  let text = W[key] || fallback;
  for (const [k, v] of Object.entries(vars || {})) text = text.split("{" + k + "}").join(v);
  return text;
};
// An API refusal as this page's language says it (English pages show the API's own message).
const refusal = (r, key, fallback) => {
  if (!r.data) return w(key, fallback);
  const local = W.locale !== "en" && W["err-" + r.data.error];
  return local || r.data.message || w(key, fallback);
};
const when = (iso) => new Date(iso).toLocaleString(W.locale || undefined);
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
    [w("service", "Service"), w("where", "Where to use it"), w("access", "Access"), ""].forEach((t) => { head.appendChild(document.createElement("th")).textContent = t; });
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
      const until = when(s.active_until);
      const access = row.insertCell();
      access.textContent =
        s.state === "active" ? w("active-until", "active until {until}", { until })
        : s.state === "grace" ? w("grace", "period ended {until}; access ends {ends} — renew to keep it", { until, ends: when(s.open_until) })
        : w("ended", "ended {until}", { until });
      if (s.state === "grace") access.className = "error";
      const action = row.insertCell();
      if (s.renewable) {
        const b = action.appendChild(document.createElement("button"));
        b.type = "button";
        b.textContent = w("renew", "Renew");
        b.dataset.renew = s.slug;
        b.addEventListener("click", () => renew(s.slug));
      } else if (s.state !== "active") {
        action.textContent = w("off-sale", "no longer on sale");
      }
    }
    $("reminders").checked = !!r.data.renewal_reminders;
    show("me");
    if (goBack()) return;
    followLanguage(r.data);
  } else if (r.status === 403 && r.data && r.data.error === "password_change_required") {
    show("change");
  } else if (r.status === 403 && r.data && r.data.error === "account_suspended") {
    show("login");
    say(w("suspended", "This account is suspended; contact support."));
  } else {
    show("login");
  }
}

// The cabinet speaks the account's language unless the visitor chose one on this page with the
// switcher; a language chosen there becomes the account's (its emails follow).
function followLanguage(me) {
  $("language-offer").hidden = true;
  if (!W.locale || !me.locale || me.locale === W.locale) return;
  const query = new URLSearchParams(window.location.search);
  // Not asked for on this page (a cookie, the browser): show the account's language.
  if (!query.has("lang")) {
    query.set("lang", me.locale);
    window.location.replace("/cabinet?" + query.toString());
    return;
  }
  // Asked for here (the switcher, a link): the emails change only when the customer says so.
  $("language-offer").hidden = false;
  $("use-language").onclick = async () => {
    const r = await api("PUT", "/me/preferences", { renewal_reminders: !!me.renewal_reminders, locale: W.locale });
    if (r.status === 200) { $("language-offer").hidden = true; say(w("language-saved", "Your emails will be in this language from now on."), true); }
    else say(refusal(r, "save-failed", "Could not save."));
  };
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/session", { login: $("l").value, password: $("p").value });
  if (r.status === 200) {
    if (r.data.must_change_password) $("c").value = $("p").value;
    say("", true);
    await load();
  } else if (r.data && r.data.error === "temporary_password_expired") {
    say(w("err-temporary_password_expired", "Your temporary password has expired. Use \u201cForgot password?\u201d below to get a link and choose a new one."));
    $("forgot").focus();
  } else {
    say(refusal(r, "login-failed", "Login failed."));
  }
});

$("change-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/me/password", { current_password: $("c").value, new_password: $("n").value });
  if (r.status === 204) { say(w("password-saved", "Password saved. Welcome!"), true); await load(); }
  else say(refusal(r, "password-failed", "Could not change the password."));
});

// Renew: the server makes (or reuses) the renewal order for this account; pay it on /pay.
async function renew(slug) {
  const r = await api("POST", "/me/renewals", { service: slug });
  if (r.status === 201) window.location.assign(r.data.payment_url);
  else say(refusal(r, "renew-failed", "Could not start the renewal."));
}

$("reminders").addEventListener("change", async () => {
  const on = $("reminders").checked;
  const r = await api("PUT", "/me/preferences", { renewal_reminders: on });
  if (r.status === 200) say(on ? w("reminders-on", "Renewal reminders are on.") : w("reminders-off", "Renewal reminders are off."), true);
  else { $("reminders").checked = !on; say(refusal(r, "save-failed", "Could not save.")); }
});

$("logout").addEventListener("click", async () => {
  await api("DELETE", "/session");
  say(w("logged-out", "Logged out."), true);
  show("login");
});

load();
