//! The storefront: the hosted order page per service (`/buy/{slug}`) and the home page that
//! lists what is on sale, the embeddable snippet (`/embed.js`) that opens it from any site,
//! and the Tilda webhook mode (`/forms/tilda`), whose customer comes back through Tilda's
//! success redirect (`/forms/tilda/continue`).

pub mod buy;
pub mod embed;
pub mod model;
pub mod tilda;

/// The order's locale: `?lang=` (or a `lang` form field) first, then the first supported
/// language of `Accept-Language`; `None` leaves the default to the order intake.
pub fn locale_of(lang: Option<&str>, accept_language: Option<&str>) -> Option<String> {
    use crate::i18n::Locale;
    lang.and_then(Locale::from_tag)
        .or_else(|| accept_language.and_then(Locale::from_accept_language))
        .map(|l| l.code().to_string())
}

/// The customer's name, or without one the address's local part (`ann` for `ann@…`), so an
/// order from a form without a name field still reads well in emails.
pub fn name_or_local(name: &str, email: &str) -> String {
    let name = name.trim();
    if !name.is_empty() {
        return name.to_string();
    }
    let local = email.trim().split('@').next().unwrap_or("").trim();
    if local.is_empty() {
        "Customer".into()
    } else {
        local.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::locale_of;

    #[test]
    fn the_locale_comes_from_lang_then_accept_language() {
        assert_eq!(locale_of(Some("ru"), Some("pl")).as_deref(), Some("ru"));
        assert_eq!(locale_of(Some("xx"), Some("de-DE,pl;q=0.8")).as_deref(), Some("pl"));
        assert_eq!(locale_of(None, Some("sr-Latn-RS")).as_deref(), Some("sr"));
        assert_eq!(locale_of(None, Some("de, fr")), None);
        assert_eq!(locale_of(None, None), None);
    }
}
