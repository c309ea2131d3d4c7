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
        }
        Ok(())
    }

    /// The cookie domain without its leading dot, lower case.
    pub fn domain(&self) -> Option<String> {
        self.cookie_domain.as_deref().map(|d| d.trim_start_matches('.').to_ascii_lowercase())
    }
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
    fn return_hosts_are_hosts() {
        let s = Settings::from_pairs([("return_hosts", "files.shop.example, app.shop.example:8443")]).unwrap();
        assert_eq!(s.access.return_hosts, vec!["files.shop.example", "app.shop.example:8443"]);
        assert!(Settings::from_pairs([("return_hosts", "https://files.shop.example/")]).is_err());
    }
}
