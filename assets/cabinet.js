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

async function load() {
  const r = await api("GET", "/me");
  if (r.status === 200) {
    $("me-login").textContent = r.data.login;
    const table = $("services");
    table.replaceChildren();
    for (const s of r.data.services) {
      const row = table.insertRow();
      row.insertCell().textContent = s.name;
      row.insertCell().textContent = "active until " + new Date(s.active_until).toLocaleString();
    }
    show("me");
  } else if (r.status === 403 && r.data && r.data.error === "password_change_required") {
    show("change");
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

$("logout").addEventListener("click", async () => {
  await api("DELETE", "/session");
  say("Logged out.", true);
  show("login");
});

load();
