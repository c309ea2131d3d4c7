//! The page catalogue: Fluent messages per locale, embedded from `locales/<locale>/<file>.ftl`.
//! Every file exists in every locale; a message missing from one locale falls back to English
//! (and the unit tests, and `check-config`, say which are missing).
//!
//! Messages are plain text: a page escapes what it takes from here like any other text.

use std::collections::BTreeSet;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use super::Locale;

/// Embeds `locales/{en,ru,pl,sr}/<name>.ftl` for each name.
macro_rules! ftl {
    ($($name:literal),* $(,)?) => {
        &[ $( ($name, [
            include_str!(concat!("../../locales/en/", $name, ".ftl")),
            include_str!(concat!("../../locales/ru/", $name, ".ftl")),
            include_str!(concat!("../../locales/pl/", $name, ".ftl")),
            include_str!(concat!("../../locales/sr/", $name, ".ftl")),
        ]) ),* ]
    };
}

/// The catalogue files, one per feature; the sources in [`Locale::ALL`] order.
const FILES: &[(&str, [&str; 4])] =
    ftl!["common", "payments", "accounts", "password", "renewals", "invoices", "storefront", "oidc"];

/// The loaded catalogue.
pub struct Catalog {
    bundles: Vec<(Locale, FluentBundle<FluentResource>, BTreeSet<String>)>,
}

impl Catalog {
    /// Parses the embedded catalogue; a syntax error or a message defined twice is an error.
    pub fn load() -> anyhow::Result<Catalog> {
        let mut bundles = Vec::new();
        for (i, locale) in Locale::ALL.iter().enumerate() {
            let lang: unic_langid::LanguageIdentifier = locale.code().parse()?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            // No Unicode isolation marks around arguments: they end up in HTML and plain text.
            bundle.set_use_isolating(false);
            let mut ids = BTreeSet::new();
            for (name, sources) in FILES {
                let resource = FluentResource::try_new(sources[i].to_string())
                    .map_err(|(_, errors)| anyhow::anyhow!("locales/{}/{name}.ftl: {errors:?}", locale.code()))?;
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(m) = entry {
                        ids.insert(m.id.name.to_string());
                    }
                }
                bundle
                    .add_resource(resource)
                    .map_err(|errors| anyhow::anyhow!("locales/{}/{name}.ftl: {errors:?}", locale.code()))?;
            }
            bundles.push((*locale, bundle, ids));
        }
        Ok(Catalog { bundles })
    }

    /// What a page says for the API's error `code`: in English the API's own message
    /// (`fallback`), in another language the catalogue's `err-<code>` where it has one.
    pub fn error(&self, locale: Locale, code: &str, fallback: &str) -> String {
        let id = format!("err-{code}");
        // The API's English messages say more than a code (which field, which limit).
        if locale != Locale::En && self.has(Locale::En, &id) {
            self.t(locale, &id)
        } else {
            fallback.to_string()
        }
    }

    /// Message `id` (or `id.attribute`) in `locale`, without arguments.
    pub fn t(&self, locale: Locale, id: &str) -> String {
        self.tr(locale, id, &[])
    }

    /// Message `id` (or `id.attribute`) in `locale` with arguments; English when the locale
    /// lacks it, the id itself when no locale has it (a programming error the tests catch).
    pub fn tr(&self, locale: Locale, id: &str, args: &[(&str, FluentValue)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (k, v) in args {
            fluent_args.set(*k, v.clone());
        }
        self.lookup(locale, id, &fluent_args)
            .or_else(|| self.lookup(Locale::En, id, &fluent_args))
            .unwrap_or_else(|| id.to_string())
    }

    /// Whether `id` (without attribute) is defined in `locale` itself.
    pub fn has(&self, locale: Locale, id: &str) -> bool {
        let id = id.split('.').next().unwrap_or(id);
        self.bundles.iter().any(|(l, _, ids)| *l == locale && ids.contains(id))
    }

    fn lookup(&self, locale: Locale, id: &str, args: &FluentArgs) -> Option<String> {
        let (_, bundle, _) = self.bundles.iter().find(|(l, _, _)| *l == locale)?;
        let (msg_id, attr) = match id.split_once('.') {
            Some((m, a)) => (m, Some(a)),
            None => (id, None),
        };
        let msg = bundle.get_message(msg_id)?;
        let pattern = match attr {
            Some(a) => msg.get_attribute(a)?.value(),
            None => msg.value()?,
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(event = "i18n_format_error", locale = locale.code(), id, errors = ?errors, "message formatted with errors");
        }
        Some(text.into_owned())
    }

    /// Messages English has that another locale lacks, and messages a locale has that English
    /// does not (a stale translation), as `(locale, id)`.
    pub fn missing(&self) -> Vec<(Locale, String)> {
        let en = &self.bundles[0].2;
        let mut out = Vec::new();
        for (locale, _, ids) in &self.bundles[1..] {
            out.extend(en.difference(ids).map(|id| (*locale, id.clone())));
            out.extend(ids.difference(en).map(|id| (Locale::En, id.clone())));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Catalog, Locale};

    #[test]
    fn every_locale_has_every_message() {
        let catalog = Catalog::load().expect("the catalogue parses");
        assert_eq!(catalog.missing(), Vec::new());
    }

    #[test]
    fn plurals_and_fallback() {
        let catalog = Catalog::load().unwrap();
        let days = |l, n: i64| catalog.tr(l, "days", &[("count", n.into())]);
        assert_eq!(days(Locale::En, 1), "1 day");
        assert_eq!(days(Locale::En, 5), "5 days");
        assert_eq!(days(Locale::Ru, 1), "1 день");
        assert_eq!(days(Locale::Ru, 3), "3 дня");
        assert_eq!(days(Locale::Ru, 11), "11 дней");
        assert_eq!(days(Locale::Pl, 22), "22 dni");
        assert_eq!(days(Locale::Pl, 1), "1 dzień");
        assert_eq!(days(Locale::Sr, 21), "21 dan");
        assert_eq!(days(Locale::Sr, 3), "3 dana");
        assert_eq!(catalog.t(Locale::Ru, "no-such-message"), "no-such-message");
    }
}
