//! Languages (DESIGN §8): the four locales customers read, how a request's locale is chosen,
//! the message catalogue of the customer pages, and locale formatting of amounts and dates.
//!
//! Pages take their words from a Fluent catalogue (`locales/<locale>/*.ftl`, one file per
//! feature, embedded in the binary): short messages with plural forms and arguments, which is
//! what Fluent is for. Emails are whole documents and are written per locale as templates
//! (`email-templates/<locale>/…`) so translators write natural text rather than stitched phrases,
//! and a merchant overrides them per locale and per part.

pub mod catalog;
pub mod format;
pub mod request;

pub use catalog::Catalog;
pub use request::Lang;

use std::fmt;

/// A locale customers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Locale {
    En,
    Ru,
    Pl,
    /// Serbian in Latin script.
    Sr,
}

impl Locale {
    /// Every locale, English (the fallback) first.
    pub const ALL: [Locale; 4] = [Locale::En, Locale::Ru, Locale::Pl, Locale::Sr];

    /// The stored and shown code: `en`, `ru`, `pl`, `sr`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::Pl => "pl",
            Locale::Sr => "sr",
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Ru => "Русский",
            Locale::Pl => "Polski",
            Locale::Sr => "Srpski",
        }
    }

    /// The locale of a language tag (`ru`, `ru-RU`, `sr-Latn-RS`, `pl_PL`); `None` for
    /// a language we do not speak. Serbian in Cyrillic (`sr-Cyrl`) is answered in Latin.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_', ';']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "ru" => Some(Locale::Ru),
            "pl" => Some(Locale::Pl),
            "sr" => Some(Locale::Sr),
            _ => None,
        }
    }

    /// The stored code read back; anything unknown is English.
    pub fn from_stored(code: &str) -> Locale {
        Locale::from_tag(code).unwrap_or(Locale::En)
    }

    /// The first language of an `Accept-Language` header that we speak, by weight (a `q=0`
    /// entry is "not this one").
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut ranked: Vec<(f32, usize, Locale)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let locale = Locale::from_tag(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>().unwrap_or(0.0)))
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, i, locale))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }

    /// The CLDR plural category of a whole number in this language: `one`, `few`, `many` or
    /// `other` (integers only; amounts are never pluralised).
    pub fn plural(self, n: u64) -> &'static str {
        let (m10, m100) = (n % 10, n % 100);
        let few = (2..=4).contains(&m10) && !(12..=14).contains(&m100);
        match self {
            Locale::En => {
                if n == 1 {
                    "one"
                } else {
                    "other"
                }
            }
            Locale::Ru => {
                if m10 == 1 && m100 != 11 {
                    "one"
                } else if few {
                    "few"
                } else {
                    "many"
                }
            }
            Locale::Pl => {
                if n == 1 {
                    "one"
                } else if few {
                    "few"
                } else {
                    "many"
                }
            }
            Locale::Sr => {
                if m10 == 1 && m100 != 11 {
                    "one"
                } else if few {
                    "few"
                } else {
                    "other"
                }
            }
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl crate::config::declare::SettingValue for Locale {
    fn read(key: &str, v: &str) -> Result<Self, crate::config::ConfigError> {
        crate::config::declare::one_of(
            key,
            v,
            &[("en", Locale::En), ("ru", Locale::Ru), ("pl", Locale::Pl), ("sr", Locale::Sr)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Locale;

    #[test]
    fn tags_and_accept_language() {
        assert_eq!(Locale::from_tag("sr-Latn-RS"), Some(Locale::Sr));
        assert_eq!(Locale::from_tag("pl_PL"), Some(Locale::Pl));
        assert_eq!(Locale::from_tag("de"), None);
        assert_eq!(Locale::from_accept_language("de-DE,pl;q=0.8,ru;q=0.9"), Some(Locale::Ru));
        assert_eq!(Locale::from_accept_language("ru;q=0, pl"), Some(Locale::Pl));
        assert_eq!(Locale::from_accept_language("de, fr"), None);
        assert_eq!(Locale::from_stored("xx"), Locale::En);
    }

    #[test]
    fn plural_categories() {
        let ru: Vec<&str> = [1, 2, 5, 11, 12, 21, 22, 25, 101, 111].iter().map(|&n| Locale::Ru.plural(n)).collect();
        assert_eq!(ru, ["one", "few", "many", "many", "many", "one", "few", "many", "one", "many"]);
        let pl: Vec<&str> = [1, 2, 5, 12, 21, 22, 25].iter().map(|&n| Locale::Pl.plural(n)).collect();
        assert_eq!(pl, ["one", "few", "many", "many", "many", "few", "many"]);
        let sr: Vec<&str> = [1, 3, 5, 11, 21].iter().map(|&n| Locale::Sr.plural(n)).collect();
        assert_eq!(sr, ["one", "few", "other", "other", "one"]);
        assert_eq!(Locale::En.plural(0), "other");
    }
}
