//! The client's IP: the socket peer, unless that peer is a configured trusted proxy, in
//! which case the right-most untrusted address of `X-Forwarded-For`.

use std::net::IpAddr;

use poem::Request;

/// True when the socket peer is a configured trusted proxy: only then are its `X-Forwarded-*`
/// headers believed.
pub fn from_trusted_proxy(req: &Request, trusted: &[IpAddr]) -> bool {
    req.remote_addr().as_socket_addr().is_some_and(|a| trusted.contains(&a.ip()))
}

/// Resolves the client IP of a request.
pub fn client_ip(req: &Request, trusted: &[IpAddr]) -> IpAddr {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}
