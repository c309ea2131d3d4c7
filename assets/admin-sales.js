// The admin portal's confirmations before money moves, and "send by email" for invoices.
// Loaded after admin.js (it uses its helpers). A capture, cancel (void) or refund shows what it
// moves and for whom in a dialog; nothing is sent until "Yes" is pressed there, and the server
// gets the amount shown (`expected_amount_minor`) so a stale page cannot move another. A refund
// sends the amount as typed (`amount`): the server reads it for the payment's currency.
"use strict";

// "ada.lovelace@example.com" → "a***@example.com"
function maskEmail(email) {
  const at = String(email || "").lastIndexOf("@");
  if (at < 1) return "***";
  return email[0] + "***" + email.slice(at);
}

const opVerbs = { capture: "Capture", cancel: "Cancel (void)", refund: "Refund" };
const opEffects = {
  capture: "The customer's card is charged this amount.",
  cancel: "The hold on the customer's card is released; no money is taken and the order is cancelled.",
  refund: "This amount goes back to the customer, who is told by email.",
};

// Asks before `kind` moves `minor` of payment `p` (of order `order`); runs `go` on "Yes".
// `typed`: the amount as typed, shown when this page could not read it (the server reads it).
function confirmOperation(p, kind, minor, order, go, typed) {
  const amount = typed || money(minor, p.currency);
  $("op-confirm-title").textContent = opVerbs[kind] + " " + amount + "?";
  const customer = order ? (order.customer_name + " <" + maskEmail(order.email) + ">") : "";
  const facts = [["Amount", amount], ["Customer", customer], ["Order", order && order.order_id],
    ["Payment", p.payment_id]];
  $("op-confirm-facts").replaceChildren(...facts.filter(([, v]) => v).flatMap(([k, v]) => [node("dt", k), node("dd", v)]));
  $("op-confirm-effect").textContent = opEffects[kind];
  $("op-confirm-yes").textContent = opVerbs[kind] + " " + amount;
  $("op-confirm-yes").className = kind === "capture" ? "small" : "small danger";
  state.onConfirm = go;
  $("op-confirm").showModal();
  $("op-confirm-no").focus();
}

function confirmClosed(confirmed) {
  const go = state.onConfirm;
  state.onConfirm = null;
  if ($("op-confirm").open) $("op-confirm").close();
  if (confirmed && go) go();
  else say("Cancelled: nothing was done.");
}
$("op-confirm-yes").addEventListener("click", () => confirmClosed(true));
$("op-confirm-no").addEventListener("click", () => confirmClosed(false));
// Escape closes the dialog: the same as "No".
$("op-confirm").addEventListener("cancel", (e) => { e.preventDefault(); confirmClosed(false); });

// ---- invoices: send by email ---------------------------------------------------------------

// The invoice row's buttons: copy the link; for those who may invoice, email it (unpaid only).
function invoiceActions(i) {
  const span = node("span");
  span.append(button("Copy link", () => { showLink(i.link); copyLink(); }, { "data-invoice": i.invoice_id }));
  if (can("ManageInvoices") && i.status === "pending_payment") {
    span.append(button("Send by email", () => sendInvoice(i), { "data-send-invoice": i.invoice_id }));
  }
  return span;
}

async function sendInvoice(i) {
  say("Working…", true);
  const r = await api("POST", "/admin/invoices/" + encodeURIComponent(i.invoice_id) + "/send", {});
  if (r.status !== 202) { fail(r); return; }
  say("The link is on its way to " + r.data.to + ".", true);
}
