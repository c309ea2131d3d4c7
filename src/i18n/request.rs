//! A customer page's locale (DESIGN §8): the visitor's own choice (`?lang=`, remembered in a
//! cookie), else what we know of the customer (the order's or account's locale, given by the
//! handler with [`Lang::prefer`]), else the browser's `Accept-Language`, else
//! `KEYTURN_DEFAULT_LOCALE`.

use poem::{FromRequest, Request, RequestBody};

use super::Locale;
use crate::http::pages::esc;
use crate::state::AppState;

/// The cookie remembering a visitor's `?lang=` choice.
pub const LANG_COOKIE: &str = "keyturn_lang";

/// The locale a page speaks, and where its language switcher leads.
#[derive(Debug, Clone)]
pub struct Lang {
    pub locale: Locale,
    /// Chosen by the visitor (`?lang=` or the cookie): what we know of the customer does not override it.
    explicit: bool,
    /// This page's address without `lang`, for the switcher (GET pages only: a form's answer
    /// cannot be fetched again by a link).
    here: Option<String>,
}

/// The locale asked for in the query string (`?lang=ru`), if it is one we speak.
pub fn asked_in_query(req: &Request) -> Option<Locale> {
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Locale::from_tag(&v))
}

impl Lang {
    /// The locale of `req` before anything is known of the customer.
    pub fn of(req: &Request) -> Lang {
        let default = req.data::<AppState>().map(|s| s.settings.default_locale).unwrap_or(Locale::En);
        let chosen = asked_in_query(req)
            .or_else(|| crate::http::cookies::cookie_value(req, LANG_COOKIE).and_then(|v| Locale::from_tag(&v)));
        let accepted = req.header("accept-language").and_then(Locale::from_accept_language);
        let here = (req.method() == poem::http::Method::GET).then(|| {
            let kept: Vec<(String, String)> = req
                .uri()
                .query()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .filter(|(k, _)| k != "lang")
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(kept);
            let query = query.finish();
            let sep = if query.is_empty() { "" } else { "&" };
            format!("{}?{query}{sep}", req.uri().path())
        });
        Lang { locale: chosen.or(accepted).unwrap_or(default), explicit: chosen.is_some(), here }
    }

    /// A form's answer speaks the language its page spoke (`carried` in a hidden `lang` field),
    /// else the request's.
    pub fn carried(self, carried: &str) -> Lang {
        match Locale::from_tag(carried) {
            Some(l) => Lang::fixed(l),
            None => self,
        }
    }

    /// This locale without a switcher: for pages whose address carries another site's
    /// parameters (Sign in with keyturn), which a switcher would repeat in its links.
    pub fn without_switcher(mut self) -> Lang {
        self.here = None;
        self
    }

    /// A fixed locale with no switcher (emails' links, tests).
    pub fn fixed(locale: Locale) -> Lang {
        Lang { locale, explicit: true, here: None }
    }

    /// This page is about a customer whose locale is `known` (an order's or account's stored
    /// code): it wins over the browser's languages, not over the visitor's own choice.
    pub fn prefer(mut self, known: Option<&str>) -> Lang {
        if !self.explicit {
            if let Some(l) = known.and_then(Locale::from_tag) {
                self.locale = l;
            }
        }
        self
    }

    /// The language switcher: links to this page in every other locale (empty on a form's answer).
    pub fn switcher(&self) -> String {
        let Some(here) = &self.here else { return String::new() };
        let links: Vec<String> = Locale::ALL
            .iter()
            .map(|l| {
                if *l == self.locale {
                    format!("<strong lang=\"{c}\">{n}</strong>", c = l.code(), n = l.native_name())
                } else {
                    format!(
                        "<a href=\"{h}lang={c}\" hreflang=\"{c}\" lang=\"{c}\">{n}</a>",
                        h = esc(here),
                        c = l.code(),
                        n = l.native_name()
                    )
                }
            })
            .collect();
        format!("<nav class=\"lang muted\">{}</nav>", links.join(" · "))
    }
}

impl<'a> FromRequest<'a> for Lang {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Lang::of(req))
    }
}
