//! Per-instance, per-IP burst limits (governor). Limits that must hold across instances
//! (failed logins per account, resends per address) live in the database instead.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;

/// What a limiter guards.
#[derive(Debug, Clone, Copy)]
pub enum Bucket {
    Orders,
    Login,
    /// Resending credentials or a verification link.
    Resend,
    /// Asking for a password-reset link: a budget of its own, so that a customer who used
    /// "resend" can still ask for a reset (the same size, `rate_limit_resend_per_minute`).
    Reset,
}

/// The keyed limiters of one instance.
pub struct Limiters {
    orders: DefaultKeyedRateLimiter<IpAddr>,
    login: DefaultKeyedRateLimiter<IpAddr>,
    resend: DefaultKeyedRateLimiter<IpAddr>,
    reset: DefaultKeyedRateLimiter<IpAddr>,
    /// Callbacks per gateway (keyed by its name).
    callbacks: DefaultKeyedRateLimiter<&'static str>,
}

fn per_minute(n: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(n.max(1)).expect("nonzero")))
}

impl Limiters {
    pub fn new(s: &Settings) -> Self {
        Limiters {
            orders: per_minute(s.rate_limit_orders_per_minute),
            login: per_minute(s.rate_limit_login_per_minute),
            resend: per_minute(s.rate_limit_resend_per_minute),
            reset: per_minute(s.rate_limit_resend_per_minute),
            callbacks: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(s.http.callback_rate_limit_per_minute.max(1)).expect("nonzero"),
            )),
        }
    }

    /// `Err(seconds to wait)` when `gateway` sent more callbacks than its budget.
    pub fn check_callback(&self, gateway: &'static str) -> Result<(), u64> {
        self.callbacks.check_key(&gateway).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::warn!(event = "excess_rate_limit_exceeded", bucket = "callback", gateway, "rate limit");
            wait.as_secs().max(1)
        })
    }

    /// `Err(seconds to wait)` when `ip` has used its burst.
    pub fn check(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        let limiter = match bucket {
            Bucket::Orders => &self.orders,
            Bucket::Login => &self.login,
            Bucket::Resend => &self.resend,
            Bucket::Reset => &self.reset,
        };
        // One IPv6 customer typically holds a whole /64: count it as one client.
        let key = match ip {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::warn!(event = "excess_rate_limit_exceeded", bucket = ?bucket, ip = %ip, "rate limit");
            wait.as_secs().max(1)
        })
    }

    /// Forgets idle keys so memory stays bounded.
    pub fn shrink(&self) {
        for l in [&self.orders, &self.login, &self.resend, &self.reset] {
            l.retain_recent();
            l.shrink_to_fit();
        }
        self.callbacks.retain_recent();
    }
}
