//! What a token says about a customer, by scope (DESIGN §6): `sub` (stable, opaque), `email`,
//! `email_verified`, `name`, `preferred_username` (the login), `entitlements` (the slugs whose
//! doors are open) and `active_until` ({slug: RFC 3339}).

use serde_json::{json, Map, Value};

use crate::accounts::access::{open_slugs, Grant};
use crate::accounts::model::Account;
use crate::clock::rfc3339;
use crate::crypto::token_hash;

/// The subject: derived from the account id (stable for the account's life, reveals nothing).
pub fn subject(account_id: &str) -> String {
    token_hash(&format!("keyturn-oidc-sub:{account_id}")).chars().take(32).collect()
}

/// True when the space-separated `scope` holds `name`.
pub fn has_scope(scope: &str, name: &str) -> bool {
    scope.split(' ').any(|s| s == name)
}

/// The customer's claims for `scope` (always `sub`).
pub fn user_claims(account: &Account, grants: &[Grant], scope: &str, now: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(subject(&account.id)));
    if has_scope(scope, "email") {
        m.insert("email".into(), json!(account.email));
        m.insert("email_verified".into(), json!(account.email_verified_at.is_some()));
    }
    if has_scope(scope, "profile") {
        m.insert("name".into(), json!(account.name));
        m.insert("preferred_username".into(), json!(account.login));
    }
    if has_scope(scope, "entitlements") {
        m.insert("entitlements".into(), json!(open_slugs(grants, now)));
        let until: Map<String, Value> =
            grants.iter().map(|g| (g.slug.clone(), json!(rfc3339(g.active_until)))).collect();
        m.insert("active_until".into(), Value::Object(until));
    }
    m
}
