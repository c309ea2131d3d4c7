// The admin portal's list of customers' accesses by state (after admin.js, whose helpers it
// uses): active, in grace, expired, and those whose period ends within N days. Values go in as text.
"use strict";

const accessList = { path: "/admin/accesses", key: "accesses", table: "access-table", more: "access-more",
  empty: "No accesses match." };

function loadAccesses(more) {
  const q = { state: $("ac-state").value, expiring_within_days: $("ac-days").value.trim() };
  const query = more ? null : Object.fromEntries(Object.entries(q).filter(([, v]) => v));
  const label = { active: "active", grace: "in grace", expired: "expired" };
  return loadPage(accessList, query, (a) => [a.login, a.email, a.service_name + " (" + a.service + ")",
    when(a.active_until), label[a.state] || a.state, when(a.ends_at)]);
}

tabs.accesses = () => loadAccesses(false);
$("access-filter").addEventListener("submit", (e) => { e.preventDefault(); say(""); loadAccesses(false); });
$("access-more").addEventListener("click", () => loadAccesses(true));
