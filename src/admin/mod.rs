//! The merchant's side, by what admins do: `access` (admins, roles, sessions, TOTP,
//! re-authentication, the audit log), `support` (customer accounts, privacy requests),
//! `sales` (orders, payments, invoices), `catalog` (services) and `outbox` (emails); the
//! portal page and the listing parameters they share. Each area has its api/service/model.

pub mod access;
pub mod catalog;
pub mod outbox;
pub mod pages;
pub mod paging;
pub mod sales;
pub mod support;

use poem_openapi::Tags;

/// The OpenAPI tag of every admin operation.
#[derive(Tags)]
pub enum AdminTag {
    /// The merchant's administration API (admin session cookie; role-based permissions).
    Admin,
}

/// Every admin API, for the route table's OpenAPI service.
pub type AdminApi = (
    access::session_api::AdminAuthApi,
    access::admins_api::AdminAdminsApi,
    sales::orders_api::AdminOrdersApi,
    support::api::AdminAccountsApi,
    catalog::api::AdminServicesApi,
    access::audit_api::AdminAuditApi,
    sales::invoices_api::AdminInvoicesApi,
    sales::payments_api::AdminPaymentsApi,
    outbox::api::AdminEmailsApi,
    crate::webhooks::api::AdminWebhooksApi,
    access::api_keys_api::AdminApiKeysApi,
    crate::oidc::api::AdminOidcClientsApi,
    support::accesses::AdminAccessesApi,
    sales::unmatched_api::AdminUnmatchedApi,
);

/// The admin APIs, mounted under `/api/v1/admin/…`.
pub fn api() -> AdminApi {
    (
        access::session_api::AdminAuthApi,
        access::admins_api::AdminAdminsApi,
        sales::orders_api::AdminOrdersApi,
        support::api::AdminAccountsApi,
        catalog::api::AdminServicesApi,
        access::audit_api::AdminAuditApi,
        sales::invoices_api::AdminInvoicesApi,
        sales::payments_api::AdminPaymentsApi,
        outbox::api::AdminEmailsApi,
        crate::webhooks::api::AdminWebhooksApi,
        access::api_keys_api::AdminApiKeysApi,
        crate::oidc::api::AdminOidcClientsApi,
        support::accesses::AdminAccessesApi,
        sales::unmatched_api::AdminUnmatchedApi,
    )
}

/// What `401` means on every admin operation.
pub const UNAUTHENTICATED: &str = "No valid admin session (`unauthenticated`).";
/// What `403` means on an admin read.
pub const REFUSED: &str =
    "The role does not allow this (`forbidden`), or two-factor enrolment comes first (`totp_enrolment_required`).";
/// What `403` means on an admin write.
pub const REFUSED_WRITE: &str = "The role does not allow this (`forbidden`), two-factor enrolment comes first (`totp_enrolment_required`), or the request came from another origin (`csrf_rejected`).";
/// What `400` means on the admin listings.
pub const BAD_QUERY: &str = "A query parameter is not valid (`invalid_query`).";
