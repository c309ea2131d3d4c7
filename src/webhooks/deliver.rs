//! One delivery attempt over HTTP, SSRF-safe: the URL's host is resolved here and every
//! address checked (no private, loopback, link-local, unique-local, multicast or unspecified
//! target unless `webhook_allow_private`), then the request goes to exactly those addresses
//! (no second lookup a rebinding DNS could answer differently), without proxies, without
//! following redirects, within 15 seconds; the outcome is the status line (at most a few KiB of the body are read,
//! within 2 seconds, and dropped).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// The whole attempt (connect, send, answer) must fit in this.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer is read (and dropped) so the connection ends cleanly.
const MAX_ANSWER_BYTES: usize = 4096;

/// Why a URL cannot be a webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Not an absolute http(s) URL with a host.
    Invalid(&'static str),
    /// The host resolves to an address that is not public.
    Private(IpAddr),
    /// The host does not resolve.
    Unresolvable,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::Invalid(why) => write!(f, "not a valid webhook URL: {why}"),
            TargetError::Private(ip) => write!(f, "the host resolves to a non-public address ({ip})"),
            TargetError::Unresolvable => write!(f, "the host does not resolve"),
        }
    }
}

/// Parses an endpoint URL: http or https, a host, no credentials, at most 2,048 characters.
pub fn parse_url(raw: &str) -> Result<Url, TargetError> {
    if raw.len() > 2048 {
        return Err(TargetError::Invalid("longer than 2048 characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|_| TargetError::Invalid("not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Invalid("the scheme must be http or https"));
    }
    if url.host().is_none() {
        return Err(TargetError::Invalid("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Invalid("credentials in the URL are not allowed"));
    }
    Ok(url)
}

/// The URL as the audit log may show it (viewers read it): without userinfo, query string or
/// fragment, where a merchant may have put a token.
pub fn redacted(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "(unreadable URL)".into(),
    }
}

/// True for an address a webhook may go to on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // This network 0.0.0.0/8, carrier-grade NAT 100.64.0.0/10, benchmarking 198.18.0.0/15, reserved 240.0.0.0/4.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        // IETF protocol assignments 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (seg[0] & 0xfe00) == 0xfc00
        || (seg[0] & 0xffc0) == 0xfe80
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        // Teredo 2001::/32 and local-use NAT64 64:ff9b:1::/48 hide an IPv4 address that cannot
        // be read back reliably; IPv4-compatible ::/96 is deprecated: refuse them outright.
        || (seg[0] == 0x2001 && seg[1] == 0)
        || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 1)
        || ip.to_ipv4().is_some())
}

/// The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address leads to: such a target
/// is as public as that address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if seg[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        Some(v4(seg[6], seg[7]))
    } else if seg[0] == 0x2002 {
        Some(v4(seg[1], seg[2]))
    } else {
        None
    }
}

/// Resolves the URL's host and checks every address; returns the addresses to connect to.
pub async fn resolve_checked(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, TargetError> {
    let port = url.port_or_known_default().ok_or(TargetError::Invalid("no port"))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let lookup = tokio::net::lookup_host((name.to_string(), port));
            match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                Ok(Ok(found)) => found.collect(),
                _ => return Err(TargetError::Unresolvable),
            }
        }
        None => return Err(TargetError::Invalid("no host")),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable);
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(TargetError::Private(bad.ip()));
        }
    }
    Ok(addrs)
}

/// What a receiver did with one attempt.
#[derive(Debug)]
pub struct Answer {
    /// Its HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt did not count as delivered (for the log; never a secret).
    pub error: Option<String>,
}

/// Sends `body` with `headers` to `url`, connecting only to `addrs` (checked by
/// [`resolve_checked`]).
pub async fn post(url: &Url, addrs: &[SocketAddr], headers: &[(&str, String)], body: &str) -> Answer {
    let failed = |e: String| Answer { status: None, error: Some(e) };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10));
    if let Some(Host::Domain(name)) = url.host() {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot build the HTTP client: {e}")),
    };
    let mut req = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header("user-agent", concat!("keyturn-webhooks/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    // The outcome is decided on the status line; the body is read (at most a few KiB, within
    // a short limit) only so the connection ends cleanly, and never changes the outcome: a 2xx
    // whose body stalls was still received, and counting it as a failure would send it twice.
    let resp = match tokio::time::timeout(TIMEOUT, req.body(body.to_string()).send()).await {
        Err(_) => return failed(format!("no answer within {} s", TIMEOUT.as_secs())),
        Ok(Err(e)) => return failed(describe(&e).to_string()),
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status().as_u16();
    drain(resp).await;
    Answer { status: Some(status), error: classify(status) }
}

/// How long the answer's body may take to arrive after the status line.
const BODY_LIMIT: Duration = Duration::from_secs(2);

/// Reads and drops at most [`MAX_ANSWER_BYTES`] of the answer within [`BODY_LIMIT`].
async fn drain(mut resp: reqwest::Response) {
    let _ = tokio::time::timeout(BODY_LIMIT, async {
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
    })
    .await;
}

/// The error recorded for an answer with `status` (`None`: delivered). Only the status and a
/// fixed phrase: a receiver's own text may quote the customer and is neither stored nor logged.
pub fn classify(status: u16) -> Option<String> {
    match status {
        200..=299 => None,
        300..=399 => Some(format!("HTTP {status} (redirects are not followed)")),
        _ => Some(format!("HTTP {status}")),
    }
}

/// A fixed class for a transport error (reqwest's messages carry the URL, which may hold a
/// token the merchant put in a query string, and its causes may carry the receiver's words).
fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_urls_lose_tokens() {
        assert_eq!(redacted("https://hooks.example/in?token=s3cret#x"), "https://hooks.example/in");
        assert_eq!(redacted("https://u:pw@hooks.example:8443/a/b"), "https://hooks.example:8443/a/b");
        assert_eq!(redacted("not a url"), "(unreadable URL)");
    }

    #[test]
    fn the_outcome_is_the_status_alone() {
        assert_eq!(classify(200), None);
        assert_eq!(classify(204), None);
        assert_eq!(classify(302).as_deref(), Some("HTTP 302 (redirects are not followed)"));
        assert_eq!(classify(500).as_deref(), Some("HTTP 500"));
    }

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "0.1.2.3",
            "100.127.255.254",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.1",
            "240.0.0.1",
            "255.255.255.255",
            "239.255.255.250",
            "fc00::1",
            "febf::1",
            "ff02::1",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.0.0.1",
            // NAT64 and 6to4 around a private address, Teredo, local-use NAT64.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::5db8:d822",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} passed");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "64:ff9b::5db8:d822", "2002:5db8:d822::1"] {
            assert!(is_public(public.parse().unwrap()), "{public} refused");
        }
    }

    #[tokio::test]
    async fn names_and_literals_that_reach_this_machine_are_refused() {
        for url in ["http://127.0.0.1:9/x", "http://[::1]/", "http://localhost:8080/hook", "https://169.254.169.254/"] {
            let u = parse_url(url).unwrap();
            assert!(matches!(resolve_checked(&u, false).await, Err(TargetError::Private(_))), "{url}");
            assert!(resolve_checked(&u, true).await.is_ok(), "{url} with allow_private");
        }
        assert!(parse_url("ftp://example.com/").is_err());
        assert!(parse_url("https://user:pw@example.com/").is_err());
        assert!(parse_url("/relative").is_err());
    }
}
