//! Prometheus metrics (DESIGN §9), served as OpenMetrics text on `metrics_listen` (off by
//! default). Counters and histograms are recorded where things happen (the HTTP edge, the
//! callback receiver, the login check, the mail and webhook workers); the queue gauges (outbox
//! depth and oldest age, dead letters, webhook backlog, hashing queue) are read at scrape time,
//! so every instance over one database reports the same queue.

mod routes;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use routes::RouteNames;

use crate::state::AppState;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    gateway: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

/// Every metric family of the service, in one registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    callbacks: Family<CallbackLabels, Counter>,
    logins: Family<OutcomeLabels, Counter>,
    emails: Family<OutcomeLabels, Counter>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    hashing_in_use: Gauge,
    hashing_capacity: Gauge,
    database_up: Gauge,
    pending: Family<QueueLabels, Gauge>,
    oldest_age: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    dead_letters: Family<QueueLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keyturn");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from the request head to the response head, by route template and method",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let callbacks = Family::<CallbackLabels, Counter>::default();
        registry.register(
            "payment_callbacks",
            "Gateway callbacks, by gateway and outcome (a refusal reason such as invalid_signature, or what the event did, such as provisioned or mismatch)",
            callbacks.clone(),
        );
        let logins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "logins",
            "Customer credential checks (cabinet login, access check), by outcome: success or the refusal code (invalid_credentials, too_many_attempts, rate_limited, ...)",
            logins.clone(),
        );
        let emails = Family::<OutcomeLabels, Counter>::default();
        registry.register("emails", "Email send attempts, by outcome: sent, retry or dead", emails.clone());
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome: delivered, retry, dead or gone (the receiver answered 410)",
            webhook_deliveries.clone(),
        );
        let hashing_in_use = Gauge::default();
        registry.register(
            "password_hashing_queue",
            "Places of the password hashing queue taken (running or waiting hashes) on this instance",
            hashing_in_use.clone(),
        );
        let hashing_capacity = Gauge::default();
        registry.register(
            "password_hashing_queue_capacity",
            "Places of the password hashing queue (workers + waiting room); beyond it logins answer 503",
            hashing_capacity.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the database answered this scrape's queue queries",
            database_up.clone(),
        );
        let pending = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_pending",
            "Jobs waiting (or being worked on), by queue: mail or webhook",
            pending.clone(),
        );
        let oldest_age = Family::<QueueLabels, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "queue_oldest_age",
            "Age of the oldest waiting job, by queue (0 when none waits)",
            prometheus_client::registry::Unit::Seconds,
            oldest_age.clone(),
        );
        let dead_letters = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "dead_letters",
            "Jobs given up after their last attempt, by queue (emails: resend from the admin portal; webhooks: redeliver)",
            dead_letters.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            callbacks,
            logins,
            emails,
            webhook_deliveries,
            hashing_in_use,
            hashing_capacity,
            database_up,
            pending,
            oldest_age,
            dead_letters,
        }
    }

    /// One answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        // A client may send any method token: only the standard ones are labels of their own,
        // so requests cannot grow the number of series.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let (route, method) = (route.to_string(), method.to_string());
        self.requests
            .get_or_create(&RequestLabels { route: route.clone(), method: method.clone(), status: status.to_string() })
            .inc();
        self.latency.get_or_create(&RouteLabels { route, method }).observe(took.as_secs_f64());
    }

    /// One gateway callback and what became of it.
    pub fn callback(&self, gateway: &str, outcome: &str) {
        self.callbacks.get_or_create(&CallbackLabels { gateway: gateway.into(), outcome: outcome.into() }).inc();
    }

    /// One credential check: `success` or the refusal's code.
    pub fn login(&self, outcome: &str) {
        self.logins.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// One email send attempt: `sent`, `retry` or `dead`.
    pub fn email(&self, outcome: &str) {
        self.emails.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// One webhook delivery attempt: `delivered`, `retry`, `dead` or `gone`.
    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// The text for a scrape: the queue gauges read now, then every family.
    pub async fn scrape(state: &AppState) -> String {
        let m = &state.metrics;
        let (in_use, capacity) = state.hasher.queue();
        m.hashing_in_use.set(in_use as i64);
        m.hashing_capacity.set(capacity as i64);
        let now = state.clock.now();
        match state.db.read(move |c| Ok(crate::jobs::queues::read(c, now)?)).await {
            Ok(queues) => {
                m.database_up.set(1);
                for q in queues {
                    let label = QueueLabels { queue: q.name.to_string() };
                    m.pending.get_or_create(&label).set(q.pending);
                    m.oldest_age.get_or_create(&label).set(q.oldest_age_secs as f64);
                    m.dead_letters.get_or_create(&label).set(q.dead);
                }
            }
            Err(e) => {
                m.database_up.set(0);
                tracing::warn!(event = "metrics_queue_read_failed", error = %e, "queue gauges keep their last values");
            }
        }
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.registry) {
            tracing::error!(event = "metrics_encode_failed", error = %e, "metrics could not be written");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A made-up method is counted as `other`: clients cannot add series.
    #[test]
    fn unknown_methods_share_one_label() {
        let m = super::Metrics::new();
        for method in ["GET", "XQZ123", "BREW", "POST"] {
            m.request("/", method, 404, Duration::from_millis(1));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &m.registry).unwrap();
        assert!(!text.contains("XQZ123") && !text.contains("BREW"), "{text}");
        assert!(text.contains("method=\"other\""), "{text}");
        assert!(text.contains("method=\"GET\"") && text.contains("method=\"POST\""), "{text}");
    }
}
