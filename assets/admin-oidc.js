// The admin portal's "Sign in with keyturn" tab (after admin.js, whose helpers it uses): the apps
// that sign customers in through keyturn. A new client's secret is shown once; lists never hold it.
"use strict";

tabs["oidc-clients"] = () => loadClients();
resets.push(() => { $("oidc-result").hidden = true; $("oidc-secret").value = ""; $("oidc-id").value = ""; });

const lines = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s);

async function loadClients() {
  const r = await api("GET", "/admin/oidc-clients");
  if (r.status !== 200) { fail(r); return; }
  fill("oidc-table", r.data, (c) => [c.name, node("code", c.client_id), c.redirect_uris.join("\n"),
    c.service || "—", c.public ? "public" : "confidential", when(c.created_at), clientActions(c)], "No apps yet.");
}

function clientActions(c) {
  const span = node("span");
  span.append(button("Delete", async () => {
    const r = await api("DELETE", "/admin/oidc-clients/" + encodeURIComponent(c.client_id));
    if (r.status !== 204) { fail(r); return; }
    await loadClients();
    say("App " + c.name + " deleted: its tokens stop working now.", true);
  }, { "data-client": c.client_id, "data-action": "delete" }));
  return span;
}

$("oidc-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    name: $("oidc-name").value.trim(),
    redirect_uris: lines($("oidc-redirects").value),
    post_logout_redirect_uris: lines($("oidc-logouts").value),
    public: $("oidc-public").checked,
  };
  const service = $("oidc-service").value.trim();
  if (service) body.service = service;
  await withReauth(() => api("POST", "/admin/oidc-clients", body), async (r) => {
    if (r.status !== 201) { fail(r); return; }
    $("oidc-form").reset();
    $("oidc-id").value = r.data.client_id;
    $("oidc-secret").value = r.data.client_secret || "(public client: no secret)";
    $("oidc-result").hidden = false;
    await loadClients();
    say("App " + r.data.name + " registered. Copy the secret now: it is not shown again.", true);
  }, "Confirm your password to register an app.");
});
