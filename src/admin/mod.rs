//! The merchant's side: administrators and their roles, admin sessions with TOTP, the audit
//! log, and the admin API over orders, invoices, customer accounts and the catalog.
//!
//! `api_*.rs` parse input, authorize and map outcomes; `auth`, `service`, `customers`,
//! `catalog` own the rules; `model`, `audit`, `orders` the queries.

pub mod api_accounts;
pub mod api_admins;
pub mod api_audit;
pub mod api_auth;
pub mod api_emails;
pub mod api_invoices;
pub mod api_orders;
pub mod api_payments;
pub mod api_services;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod customers;
pub mod emails;
pub mod idempotency;
pub mod model;
pub mod orders;
pub mod pages;
pub mod paging;
pub mod privacy;
pub mod reauth;
pub mod roles;
pub mod service;
pub mod totp;

use poem_openapi::Tags;

/// The OpenAPI tag of every admin operation.
#[derive(Tags)]
pub enum AdminTag {
    /// The merchant's administration API (admin session cookie; role-based permissions).
    Admin,
}

/// Every admin API, for the route table's OpenAPI service.
pub type AdminApi = (
    api_auth::AdminAuthApi,
    api_admins::AdminAdminsApi,
    api_orders::AdminOrdersApi,
    api_accounts::AdminAccountsApi,
    api_services::AdminServicesApi,
    api_audit::AdminAuditApi,
    api_invoices::AdminInvoicesApi,
    api_payments::AdminPaymentsApi,
    api_emails::AdminEmailsApi,
);

/// The admin APIs, mounted under `/api/v1/admin/…`.
pub fn api() -> AdminApi {
    (
        api_auth::AdminAuthApi,
        api_admins::AdminAdminsApi,
        api_orders::AdminOrdersApi,
        api_accounts::AdminAccountsApi,
        api_services::AdminServicesApi,
        api_audit::AdminAuditApi,
        api_invoices::AdminInvoicesApi,
        api_payments::AdminPaymentsApi,
        api_emails::AdminEmailsApi,
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
