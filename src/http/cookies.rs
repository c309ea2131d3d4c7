//! Session cookies: the `Set-Cookie` value and reading one cookie back from a request.

use poem::Request;

/// `Set-Cookie` for a script-invisible cookie, host-only unless `domain` is given (then it
/// reaches that domain's hosts too); `Secure` when served over https. `max_age` 0 with an
/// empty value removes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    same_site: &str,
    max_age: i64,
    secure: bool,
    domain: Option<&str>,
) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
    format!("{name}={value}; Path=/{domain}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// The value of cookie `name`, if present, non-empty and at most 128 bytes (our tokens are 43).
pub fn cookie_value(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}
