//! Return URLs (`rd`): where forward auth and the cabinet login send a customer back to. Only
//! absolute http(s) URLs whose host is listed in `KEYTURN_RETURN_HOSTS` are followed (A5 3.7.2);
//! anything else sends the customer to `/cabinet`.

/// Longest return URL followed.
const MAX_LEN: usize = 2048;

/// `rd` when it may be followed: an `http://` or `https://` URL, without userinfo, control
/// characters, spaces or backslashes, whose host (`host`, or `host:port` when the entry names a
/// port) is exactly one of `allowed`. Returns the URL as parsed (normalised).
pub fn safe_return(rd: &str, allowed: &[String]) -> Option<String> {
    if rd.is_empty() || rd.len() > MAX_LEN || allowed.is_empty() {
        return None;
    }
    if rd.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return None;
    }
    // The scheme must be written out with its two slashes: `https:evil.example` and
    // `https:/evil.example` are parsed leniently by URL parsers, and `//evil` is scheme-relative.
    let lower = rd.get(..8).unwrap_or(rd).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &rd[8..]
    } else if lower.starts_with("http://") {
        &rd[7..]
    } else {
        return None;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if rest.starts_with('/') || authority.contains('@') {
        return None;
    }
    let url = url::Url::parse(rd).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let with_port = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let listed = allowed.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        let names_port = if a.starts_with('[') { a.contains("]:") } else { a.contains(':') };
        if names_port {
            a == with_port
        } else {
            a == host
        }
    });
    listed.then(|| url.to_string())
}

/// `rd` when keyturn follows it: [`safe_return`] against `return_hosts`, and only an `https://`
/// URL when keyturn itself is served over https (a session never leads to plain http).
pub fn follow(rd: &str, settings: &crate::config::Settings) -> Option<String> {
    safe_return(rd, &settings.access.return_hosts).filter(|u| !settings.is_https() || u.starts_with("https://"))
}

/// Where to send a customer after login: `rd` when allowed, else `/cabinet`.
pub fn return_target(rd: Option<&str>, allowed: &[String]) -> String {
    rd.and_then(|r| safe_return(r, allowed)).unwrap_or_else(|| "/cabinet".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["files.shop.example".into(), "app.shop.example:8443".into()]
    }

    #[test]
    fn listed_hosts_are_followed() {
        let h = hosts();
        assert_eq!(
            safe_return("https://files.shop.example/course/1?x=y#top", &h).as_deref(),
            Some("https://files.shop.example/course/1?x=y#top")
        );
        assert!(safe_return("http://FILES.shop.example/", &h).is_some(), "host case does not matter");
        assert!(safe_return("HTTPS://files.shop.example/", &h).is_some());
        assert!(safe_return("https://files.shop.example:444/", &h).is_some(), "an entry without a port allows any");
        assert!(safe_return("https://app.shop.example:8443/x", &h).is_some());
    }

    #[test]
    fn an_https_keyturn_follows_only_https() {
        let pairs = |public: &'static str| {
            crate::config::Settings::from_pairs([
                ("public_url", public),
                ("cookie_domain", ".shop.example"),
                ("return_hosts", "files.shop.example"),
            ])
            .unwrap()
        };
        let https = pairs("https://account.shop.example");
        assert_eq!(follow("https://files.shop.example/a", &https).as_deref(), Some("https://files.shop.example/a"));
        assert_eq!(follow("http://files.shop.example/a", &https), None);
        assert_eq!(follow("HTTP://files.shop.example/a", &https), None);
        let http = pairs("http://account.shop.example");
        assert!(follow("http://files.shop.example/a", &http).is_some(), "a plain-http set-up keeps http");
        assert_eq!(follow("https://evil.example/", &https), None);
    }

    #[test]
    fn attacks_go_to_the_cabinet() {
        let h = hosts();
        for rd in [
            "",
            "/cabinet",
            "//evil.example",
            "//files.shop.example/x",
            "https:evil.example",
            "https:/evil.example",
            "https:files.shop.example",
            "/\\evil.example",
            "https://files.shop.example\\@evil.example",
            "https:\\\\evil.example",
            "https:///evil.example",
            "https://evil.example",
            "https://files.shop.example@evil.example/",
            "https://user:pw@files.shop.example/",
            "https://files.shop.example.evil.example/",
            "https://evil.example/https://files.shop.example/",
            "https://evil.example#@files.shop.example",
            "https://evil.example?@files.shop.example",
            "https://evilfiles.shop.example/",
            "https://shop.example/",
            "https://app.shop.example/",
            "https://app.shop.example:9000/",
            "javascript:alert(1)//files.shop.example",
            "data:text/html,files.shop.example",
            "ftp://files.shop.example/",
            "https://files.shop.example/\r\nSet-Cookie: x=1",
            "https://files.shop.example /",
            "\thttps://files.shop.example/",
            "https://files%2eshop%2eexample.evil.example/",
            "https://files.shop.example%00.evil.example/",
        ] {
            assert_eq!(safe_return(rd, &h), None, "{rd:?} must not be followed");
            assert_eq!(return_target(Some(rd), &h), "/cabinet");
        }
        let long = format!("https://files.shop.example/{}", "a".repeat(MAX_LEN));
        assert_eq!(safe_return(&long, &h), None);
        assert_eq!(safe_return("https://files.shop.example/", &[]), None, "nothing listed, nothing followed");
        assert_eq!(return_target(None, &h), "/cabinet");
    }
}
