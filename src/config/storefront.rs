//! The storefront's settings: which fields the hosted order page (`/buy/{slug}`) asks for, how
//! the embed snippet opens it, and the Tilda webhook mode.

use super::declare::{one_of, settings_group, SettingValue};
use super::{invalid, ConfigError};

settings_group! {
    /// Storefront settings (all with defaults).
    pub struct StorefrontSettings, docs STOREFRONT_SETTINGS, apply apply;
    buy_name: FieldRule = FieldRule::Required,
        "required",
        "required | optional | hidden: the name field of the hosted order page /buy/{slug}. Without a name the order carries the part of the address before the @.";
    buy_phone: FieldRule = FieldRule::Optional,
        "optional",
        "required | optional | hidden: the phone field of the hosted order page /buy/{slug}; required also makes the Tilda webhook refuse a submission without a usable phone (otherwise an unusable one is dropped and the order kept).";
    embed_target: EmbedTarget = EmbedTarget::NewTab,
        "new_tab",
        "new_tab | same_window: how the /embed.js snippet opens /buy/{slug} (a data-keyturn-target attribute on the button overrides it).";
    @secret tilda_key: Option<String> = None,
        "(none: Tilda mode off)",
        "The API key set in Tilda's webhook settings (sent as the api_key or apikey form field, or an Api-Key or X-Api-Key header); POST /forms/tilda answers 404 until it is set.";
    tilda_service: Option<String> = None,
        "(none)",
        "Service slug a Tilda form orders when neither the webhook URL (?service=) nor a form field `service` names one.";
    tilda_fields: Vec<String> = Vec::new(),
        "(Name, Email, Phone)",
        "Extra Tilda form field names, as role=FieldName pairs (roles: name, email, phone, service), e.g. name=Your_name,email=Mail; the standard names are always understood.";
}

/// Whether an order page field is shown and required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    Required,
    Optional,
    Hidden,
}

impl SettingValue for FieldRule {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        one_of(
            key,
            v,
            &[("required", FieldRule::Required), ("optional", FieldRule::Optional), ("hidden", FieldRule::Hidden)],
        )
    }
}

/// How the embed snippet opens the order page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedTarget {
    NewTab,
    SameWindow,
}

impl EmbedTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            EmbedTarget::NewTab => "new_tab",
            EmbedTarget::SameWindow => "same_window",
        }
    }
}

impl SettingValue for EmbedTarget {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        one_of(key, v, &[("new_tab", EmbedTarget::NewTab), ("same_window", EmbedTarget::SameWindow)])
    }
}

/// What a Tilda form field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TildaRole {
    Name,
    Email,
    Phone,
    Service,
}

impl StorefrontSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(k) = &self.tilda_key {
            if k.len() < 16 {
                return Err(invalid("tilda_key", "use at least 16 random characters"));
            }
        }
        if let Some(s) = &self.tilda_service {
            if !crate::crypto::is_key(s) {
                return Err(invalid("tilda_service", "not a service slug"));
            }
        }
        for pair in &self.tilda_fields {
            if pair
                .split_once('=')
                .and_then(|(role, field)| role_of(role).filter(|_| !field.trim().is_empty()))
                .is_none()
            {
                return Err(invalid(
                    "tilda_fields",
                    format!("`{pair}` is not role=FieldName (roles: name, email, phone, service)"),
                ));
            }
        }
        Ok(())
    }

    /// The role of a Tilda form field named `field`: the merchant's names first, then the
    /// standard ones (case-insensitive).
    pub fn tilda_role(&self, field: &str) -> Option<TildaRole> {
        let configured = self
            .tilda_fields
            .iter()
            .filter_map(|p| p.split_once('='))
            .find_map(|(role, name)| name.trim().eq_ignore_ascii_case(field).then(|| role_of(role)).flatten());
        // The standard names are the roles' own: Name, Email, Phone, service.
        configured.or_else(|| role_of(field))
    }
}

fn role_of(role: &str) -> Option<TildaRole> {
    match role.trim().to_ascii_lowercase().as_str() {
        "name" => Some(TildaRole::Name),
        "email" => Some(TildaRole::Email),
        "phone" => Some(TildaRole::Phone),
        "service" => Some(TildaRole::Service),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn tilda_field_names_are_configurable() {
        let s = Settings::from_pairs([("tilda_fields", "name=Your_name, email=Mail")]).unwrap();
        assert_eq!(s.storefront.tilda_role("your_name"), Some(TildaRole::Name));
        assert_eq!(s.storefront.tilda_role("Mail"), Some(TildaRole::Email));
        assert_eq!(s.storefront.tilda_role("Email"), Some(TildaRole::Email));
        assert_eq!(s.storefront.tilda_role("Phone"), Some(TildaRole::Phone));
        assert_eq!(s.storefront.tilda_role("tranid"), None);
        assert!(Settings::from_pairs([("tilda_fields", "age=Age")]).is_err());
        assert!(Settings::from_pairs([("tilda_key", "short")]).is_err());
        assert!(Settings::from_pairs([("buy_phone", "sometimes")]).is_err());
        let hidden = Settings::from_pairs([("buy_phone", "hidden"), ("embed_target", "same_window")]).unwrap();
        assert_eq!(hidden.storefront.buy_phone, FieldRule::Hidden);
        assert_eq!(hidden.storefront.embed_target, EmbedTarget::SameWindow);
    }
}
