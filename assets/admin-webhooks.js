// The admin portal's webhooks tab (after admin.js, whose helpers it uses): the owner's
// endpoints, their signing secret (shown once, at creation and at rotation), the delivery log
// and "Send again". Every value from the server goes in as text.
"use strict";

tabs.webhooks = () => loadWebhooks();
resets.push(() => {
  $("wh-secret").hidden = true;
  $("wh-secret-value").textContent = "";
  $("wh-deliveries").hidden = true;
});

const hookPath = (w) => "/admin/webhooks/" + encodeURIComponent(w.endpoint_id);

async function loadWebhooks() {
  const r = await api("GET", "/admin/webhooks");
  if (r.status !== 200) { fail(r); return; }
  const status = (w) => w.status + (w.disabled_reason ? " (" + w.disabled_reason + ")" : "");
  fill("webhook-table", r.data, (w) => [node("span", w.url, "id"), (w.events || ["every type"]).join(", "),
    status(w), when(w.created_at), webhookActions(w)], "No endpoints yet.");
}

function showSecret(text, secret) {
  $("wh-secret-text").textContent = text;
  $("wh-secret-value").textContent = secret;
  $("wh-secret").hidden = false;
}

$("webhook-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { url: $("wh-url").value.trim() };
  const events = $("wh-events").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (events.length) body.events = events;
  await withReauth(() => api("POST", "/admin/webhooks", body), async (r) => {
    if (r.status !== 201) { fail(r); return; }
    $("wh-url").value = $("wh-events").value = "";
    showSecret("The new endpoint's signing secret. It is shown only now:", r.data.secret);
    await loadWebhooks();
    say("Endpoint added.", true);
  }, "Confirm your password to see a signing secret.");
});

function webhookActions(w) {
  const span = node("span");
  span.append(button("Deliveries", () => loadDeliveries(w), { "data-webhook": w.endpoint_id }));
  if (w.status === "disabled") {
    span.append(button("Enable", async () => {
      const r = await api("POST", hookPath(w) + "/enable");
      if (r.status !== 204) { fail(r); return; }
      await loadWebhooks();
      say("The endpoint gets new events again; send the missed ones again from its deliveries.", true);
    }));
  }
  span.append(button("Rotate secret", () => withReauth(() => api("POST", hookPath(w) + "/rotate-secret"), async (r) => {
    if (r.status !== 200) { fail(r); return; }
    showSecret("The new signing secret, shown only now. The old one also signs until "
      + when(r.data.previous_signs_until) + ":", r.data.secret);
    await loadWebhooks();
  }, "Confirm your password to see a signing secret.")));
  span.append(button("Delete", async () => {
    if (!window.confirm("Delete the endpoint " + w.url + "? It gets nothing more.")) return;
    const r = await api("DELETE", hookPath(w));
    if (r.status !== 204) { fail(r); return; }
    $("wh-deliveries").hidden = true;
    await loadWebhooks();
    say("Endpoint deleted.", true);
  }));
  return span;
}

async function loadDeliveries(w) {
  const r = await api("GET", hookPath(w) + "/deliveries");
  if (r.status !== 200) { fail(r); return; }
  $("wh-deliveries").hidden = false;
  $("wh-deliveries-title").textContent = "Deliveries to " + w.url;
  fill("delivery-table", r.data.deliveries, (d) => [when(d.created_at), d.type, node("span", d.event_id, "id"), d.status,
    d.attempts, d.last_status_code ?? "", d.last_error, when(d.next_attempt_at), deliveryActions(w, d)],
  "No deliveries yet.");
}

function deliveryActions(w, d) {
  const span = node("span");
  if (d.status === "pending") return span;
  span.append(button("Send again", async () => {
    const r = await api("POST", hookPath(w) + "/deliveries/" + encodeURIComponent(d.delivery_id) + "/retry");
    if (r.status !== 202) { fail(r); return; }
    await loadDeliveries(w);
    say("The " + d.type + " message is queued again (same webhook-id).", true);
  }, { "data-delivery": d.delivery_id }));
  return span;
}
