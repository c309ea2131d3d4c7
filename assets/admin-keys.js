// The admin portal's API keys tab (after admin.js, whose helpers it uses): servers' keys for the
// access API. A new key is shown once, in a read-only field; lists never hold a key.
"use strict";

tabs["api-keys"] = () => loadKeys();
resets.push(() => { $("key-result").hidden = true; $("key-value").value = ""; });

async function loadKeys() {
  const r = await api("GET", "/admin/api-keys");
  if (r.status !== 200) { fail(r); return; }
  fill("key-table", r.data, (k) => [k.name, node("code", k.prefix + "…"), k.scopes.join(", "), k.created_by,
    when(k.created_at), k.revoked_at ? "revoked " + when(k.revoked_at) : "active", keyActions(k)], "No API keys yet.");
}

function keyActions(k) {
  const span = node("span");
  if (k.revoked_at) return span;
  span.append(button("Revoke", async () => {
    const r = await api("DELETE", "/admin/api-keys/" + encodeURIComponent(k.key_id));
    if (r.status !== 204) { fail(r); return; }
    await loadKeys();
    say("Key " + k.name + " revoked: servers using it are refused from now on.", true);
  }, { "data-key": k.key_id, "data-action": "revoke" }));
  return span;
}

$("key-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const scopes = [...document.querySelectorAll("#key-form input[name=scope]:checked")].map((c) => c.value);
  const body = { name: $("key-name").value.trim(), scopes };
  await withReauth(() => api("POST", "/admin/api-keys", body), async (r) => {
    if (r.status !== 201) { fail(r); return; }
    $("key-form").reset();
    $("key-value").value = r.data.key;
    $("key-result").hidden = false;
    await loadKeys();
    say("Key " + r.data.name + " created. Copy it now: it is not shown again.", true);
  }, "Confirm your password to create an API key.");
});

$("key-copy").addEventListener("click", () => navigator.clipboard.writeText($("key-value").value));
