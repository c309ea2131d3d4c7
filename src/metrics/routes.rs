//! The route template a request path matched (`/pay/:order_id`, `/api/v1/orders/{id}`), so
//! request metrics are labelled by route, never by raw path: ids and tokens in paths would make
//! a series per customer (and put secrets in the metrics).

/// One template: its segments (`None` for a parameter) and its label.
#[derive(Clone, Debug)]
struct Template {
    segments: Vec<Option<String>>,
    /// A template ending in `/*` (a nested service, e.g. `/docs`) matches every path under it.
    prefix: bool,
    label: String,
}

/// Every route template of the service.
#[derive(Clone, Debug, Default)]
pub struct RouteNames {
    templates: Vec<Template>,
}

/// The label of a path no template matches (scanners' 404s: one series, not one per path).
pub const UNMATCHED: &str = "unmatched";

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl RouteNames {
    /// Adds a template: poem's `:name` and OpenAPI's `{name}` are parameters; a trailing `/*`
    /// matches everything under the prefix.
    pub fn add(&mut self, template: &str) {
        let (path, prefix) = match template.strip_suffix("/*") {
            Some(p) => (p, true),
            None => (template, false),
        };
        let segments = split(path)
            .map(|s| (!(s.starts_with(':') || (s.starts_with('{') && s.ends_with('}')))).then(|| s.to_string()))
            .collect();
        self.templates.push(Template { segments, prefix, label: template.to_string() });
    }

    /// The paths of an OpenAPI document mounted under `prefix`.
    pub fn add_document(&mut self, doc: &str, prefix: &str) {
        let doc: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
        for path in doc["paths"].as_object().into_iter().flat_map(|p| p.keys()) {
            self.add(&format!("{prefix}{path}"));
        }
    }

    /// The label of `path`: the matching template with the most literal segments (so
    /// `/pay/:order_id/paypal/return` wins over `/pay/:order_id/:gateway`), else [`UNMATCHED`].
    pub fn label(&self, path: &str) -> &str {
        let wanted: Vec<&str> = split(path).collect();
        self.templates
            .iter()
            .filter(|t| {
                let fits = if t.prefix { wanted.len() >= t.segments.len() } else { wanted.len() == t.segments.len() };
                fits && t.segments.iter().zip(&wanted).all(|(s, w)| s.as_deref().is_none_or(|s| s == *w))
            })
            .max_by_key(|t| (!t.prefix, t.segments.iter().filter(|s| s.is_some()).count()))
            .map(|t| t.label.as_str())
            .unwrap_or(UNMATCHED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_labelled_by_their_template() {
        let mut names = RouteNames::default();
        for t in ["/", "/pay/:order_id", "/pay/:order_id/paypal/return", "/pay/:order_id/:gateway", "/docs/*"] {
            names.add(t);
        }
        names.add_document(r#"{"paths": {"/orders/{id}": {}, "/orders": {}}}"#, "/api/v1");
        assert_eq!(names.label("/"), "/");
        assert_eq!(names.label("/pay/ord_123"), "/pay/:order_id");
        assert_eq!(names.label("/pay/ord_123/paypal/return"), "/pay/:order_id/paypal/return");
        assert_eq!(names.label("/pay/ord_123/stripe"), "/pay/:order_id/:gateway");
        assert_eq!(names.label("/api/v1/orders/ord_1"), "/api/v1/orders/{id}");
        assert_eq!(names.label("/api/v1/orders"), "/api/v1/orders");
        assert_eq!(names.label("/docs/index.css"), "/docs/*");
        assert_eq!(names.label("/wp-login.php"), UNMATCHED);
        assert_eq!(names.label("/pay"), UNMATCHED);
    }
}
