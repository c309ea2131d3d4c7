//! Settings of the doors to the paid service: the session cookie's domain (so forward auth
//! sees it on the service's host) and the hosts a return URL (`rd`) may lead to.

use super::declare::settings_group;
use super::{invalid, ConfigError};

settings_group! {
    /// Forward-auth and return-URL settings.
    pub struct AccessSettings, docs ACCESS_SETTINGS, apply apply;
    cookie_domain: Option<String> = None,
        "(none: host-only cookie)",
        "Domain attribute of the customer session cookie, e.g. .shop.example, so forward auth on the service's host (files.shop.example) sees it; the cookie is then __Secure- prefixed instead of __Host- (https). The public URL's host must lie within it.";
    return_hosts: Vec<String> = Vec::new(),
        "(none)",
        "Comma-separated hosts (host or host:port, exact match) that a return URL (rd) of /auth/verify and the cabinet login may lead to; any other rd goes to /cabinet.";
}

impl AccessSettings {
    /// Normalises the values (lower case, no leading dot kept apart) and checks them against
    /// the public URL's host.
    pub fn validate(&self, public_host: Option<&str>) -> Result<(), ConfigError> {
        if let Some(d) = &self.cookie_domain {
            let bare = d.trim_start_matches('.');
            let ok = !bare.is_empty()
                && bare.split('.').count() >= 2
                && bare.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(invalid("cookie_domain", "expected a domain such as .shop.example"));
            }
            if let Some(host) = public_host {
                if host != bare && !host.ends_with(&format!(".{bare}")) {
                    return Err(invalid(
                        "cookie_domain",
                        format!("the public URL's host {host} is not within {d}: browsers would refuse the cookie"),
                    ));
                }
            }
        }
        for h in &self.return_hosts {
            let ok = !h.is_empty()
                && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'));
            if !ok {
                return Err(invalid("return_hosts", format!("`{h}` is not a host or host:port")));
            }
            self.session_reaches(h, public_host)?;
        }
        Ok(())
    }

    /// A return host must see the session cookie, or forward auth there sends a logged-in
    /// customer to the login page, which sends them back, forever: it lies within
    /// `cookie_domain`, or without one it is the public URL's own host (cookies ignore ports).
    fn session_reaches(&self, entry: &str, public_host: Option<&str>) -> Result<(), ConfigError> {
        let host = host_of(entry);
        match (self.domain(), public_host) {
            (Some(d), _) if host == d || host.ends_with(&format!(".{d}")) => Ok(()),
            (Some(d), _) => Err(invalid(
                "return_hosts",
                format!("{entry} is not within cookie_domain {d}: the session cookie never reaches it, so its logins would loop"),
            )),
            (None, Some(p)) if host == p.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase() => Ok(()),
            (None, Some(p)) => Err(invalid(
                "return_hosts",
                format!("{entry} is not the public URL's host {p} and no cookie_domain shares the session with it: its logins would loop"),
            )),
            (None, None) => Ok(()),
        }
    }

    /// The cookie domain without its leading dot, lower case.
    pub fn domain(&self) -> Option<String> {
        self.cookie_domain.as_deref().map(|d| d.trim_start_matches('.').to_ascii_lowercase())
    }
}

/// The host of a `host`, `host:port`, `[v6]` or `[v6]:port` entry, lower case.
fn host_of(entry: &str) -> String {
    let e = entry.to_ascii_lowercase();
    if let Some(rest) = e.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_string();
    }
    e.split(':').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;

    #[test]
    fn the_cookie_domain_must_hold_the_public_host() {
        let ok =
            Settings::from_pairs([("public_url", "https://account.shop.example"), ("cookie_domain", ".shop.example")]);
        assert_eq!(ok.unwrap().access.domain().as_deref(), Some("shop.example"));
        for bad in [".other.example", "example", ".", "shop.example;evil=1", ".hop.example"] {
            let r = Settings::from_pairs([("public_url", "https://account.shop.example"), ("cookie_domain", bad)]);
            assert!(r.is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_return_host_must_see_the_session_cookie() {
        let with = |pairs: &[(&'static str, &'static str)]| Settings::from_pairs(pairs.iter().copied());
        let shared = [("public_url", "https://account.shop.example"), ("cookie_domain", ".shop.example")];
        assert!(with(&[shared[0], shared[1], ("return_hosts", "files.shop.example, shop.example:8443")]).is_ok());
        let e = with(&[shared[0], shared[1], ("return_hosts", "files.other.example")]).unwrap_err().to_string();
        assert!(e.contains("return_hosts") && e.contains("loop"), "{e}");
        assert!(with(&[shared[0], shared[1], ("return_hosts", "evilshop.example")]).is_err());
        // Without a cookie domain the cookie is host-only: only the public URL's host sees it.
        let alone = ("public_url", "http://127.0.0.1:8080");
        assert!(with(&[alone, ("return_hosts", "127.0.0.1:9000")]).is_ok(), "another port is the same host");
        let e = with(&[alone, ("return_hosts", "files.shop.example")]).unwrap_err().to_string();
        assert!(e.contains("return_hosts") && e.contains("loop"), "{e}");
        assert!(with(&[("public_url", "http://[::1]:8080"), ("return_hosts", "[::1]:9000")]).is_ok());
    }

    #[test]
    fn return_hosts_are_hosts() {
        let s = Settings::from_pairs([("return_hosts", "files.shop.example, app.shop.example:8443")]).unwrap();
        assert_eq!(s.access.return_hosts, vec!["files.shop.example", "app.shop.example:8443"]);
        assert!(Settings::from_pairs([("return_hosts", "https://files.shop.example/")]).is_err());
    }
}
