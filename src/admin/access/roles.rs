//! Admin roles and what each may do: one explicit table, deny by default.

/// An administrator's role, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including admins and admin settings.
    Owner,
    /// Orders, payments and invoices (and reading the catalog they are made of).
    Operator,
    /// Customer accounts.
    Support,
    /// The catalog of services.
    Catalog,
    /// Read-only: orders, accounts, audit, services.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Operator, Role::Support, Role::Catalog, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Operator => "operator",
            Role::Support => "support",
            Role::Catalog => "catalog",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Something an admin endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create administrators.
    ManageAdmins,
    /// Admin-wide settings (require TOTP for everyone).
    ManageSettings,
    ReadOrders,
    /// Capture, cancel, refund (later parts of issue 4).
    OperatePayments,
    /// Pay-by-link invoices (later parts of issue 4).
    ManageInvoices,
    ReadAccounts,
    /// Suspend, reinstate, revoke, resend credentials, extend access.
    ManageAccounts,
    ReadServices,
    ManageServices,
    ReadAudit,
    /// Server API keys for the access API.
    ManageApiKeys,
}

impl Permission {
    /// The name clients see (`GET /admin/me`), e.g. `OperatePayments`.
    pub fn name(self) -> &'static str {
        match self {
            Permission::ManageAdmins => "ManageAdmins",
            Permission::ManageSettings => "ManageSettings",
            Permission::ReadOrders => "ReadOrders",
            Permission::OperatePayments => "OperatePayments",
            Permission::ManageInvoices => "ManageInvoices",
            Permission::ReadAccounts => "ReadAccounts",
            Permission::ManageAccounts => "ManageAccounts",
            Permission::ReadServices => "ReadServices",
            Permission::ManageServices => "ManageServices",
            Permission::ReadAudit => "ReadAudit",
            Permission::ManageApiKeys => "ManageApiKeys",
        }
    }

    pub const ALL: [Permission; 11] = [
        Permission::ManageAdmins,
        Permission::ManageSettings,
        Permission::ReadOrders,
        Permission::OperatePayments,
        Permission::ManageInvoices,
        Permission::ReadAccounts,
        Permission::ManageAccounts,
        Permission::ReadServices,
        Permission::ManageServices,
        Permission::ReadAudit,
        Permission::ManageApiKeys,
    ];
}

/// True when `role` may do `permission`. Anything not listed is refused.
// A table of arms reads better than one `matches!` with a long pattern.
#[allow(clippy::match_like_matches_macro)]
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match (role, permission) {
        (Role::Owner, _) => true,
        // Invoices are for catalog services: operators read the catalog (all of it, inactive too).
        (Role::Operator, ReadOrders | OperatePayments | ManageInvoices | ReadServices) => true,
        (Role::Support, ReadAccounts | ManageAccounts) => true,
        (Role::Catalog, ReadServices | ManageServices) => true,
        (Role::Viewer, ReadOrders | ReadAccounts | ReadAudit | ReadServices) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_roles_are_refused() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Owner"), None);
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn the_permission_table() {
        use Permission::*;
        let granted = |role: Role| Permission::ALL.into_iter().filter(|p| allows(role, *p)).collect::<Vec<_>>();
        assert_eq!(granted(Role::Owner), Permission::ALL.to_vec());
        assert_eq!(granted(Role::Operator), vec![ReadOrders, OperatePayments, ManageInvoices, ReadServices]);
        assert_eq!(granted(Role::Support), vec![ReadAccounts, ManageAccounts]);
        assert_eq!(granted(Role::Catalog), vec![ReadServices, ManageServices]);
        assert_eq!(granted(Role::Viewer), vec![ReadOrders, ReadAccounts, ReadServices, ReadAudit]);
        // Only the owner manages admins, settings and API keys.
        for r in Role::ALL {
            assert_eq!(allows(r, ManageApiKeys), r == Role::Owner);
            assert_eq!(allows(r, ManageAdmins), r == Role::Owner);
            assert_eq!(allows(r, ManageSettings), r == Role::Owner);
        }
    }

    #[test]
    fn permission_names_are_distinct() {
        let names: std::collections::BTreeSet<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Permission::ALL.len());
        assert!(Permission::ALL.iter().all(|p| format!("{p:?}") == p.name()));
    }
}
