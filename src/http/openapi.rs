//! The API document served at `/api/v1/openapi.json`, and the `Allow` header of a 405 derived
//! from it.
//!
//! The document is poem-openapi's with two facts its derive cannot state, both true of every
//! schema by construction: request objects refuse unknown fields (`deny_unknown_fields` on each,
//! so `additionalProperties: false`), and an optional field is written as `null` when absent
//! (so `nullable: true`); an optional request body may be `null` as well.

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::Value;

/// poem-openapi's document with the two additions above.
pub fn document(spec: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(spec) else { return spec.to_string() };
    let bodies: Vec<String> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|ops| ops.values())
        .filter_map(|op| op.pointer("/requestBody/content"))
        .filter_map(Value::as_object)
        .flat_map(|content| content.values())
        .filter_map(|media| media.pointer("/schema/$ref").and_then(Value::as_str))
        .filter_map(|r| r.strip_prefix("#/components/schemas/").map(str::to_string))
        .collect();
    // An optional body (`Json<Option<T>>`) may also be the JSON value `null`.
    for op in doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()).filter_map(Value::as_object_mut) {
        for op in op.values_mut() {
            let Some(body) = op.get_mut("requestBody") else { continue };
            if body["required"] == Value::Bool(true) {
                continue;
            }
            for media in body["content"].as_object_mut().into_iter().flat_map(|c| c.values_mut()) {
                let schema = media["schema"].take();
                media["schema"] = serde_json::json!({"allOf": [schema], "nullable": true});
            }
        }
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
            if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                for (field, prop) in props.iter_mut() {
                    if !required.contains(&Value::String(field.clone())) {
                        prop["nullable"] = Value::Bool(true);
                    }
                }
            }
            if bodies.contains(name) {
                schema["additionalProperties"] = Value::Bool(false);
            }
        }
    }
    serde_json::to_string(&doc).unwrap_or_else(|_| spec.to_string())
}

/// The methods each documented path answers, for the `Allow` header of a 405.
#[derive(Clone, Default)]
pub struct AllowTable {
    /// (path segments, with `None` for a `{parameter}`; the `Allow` value)
    paths: Vec<(Vec<Option<String>>, HeaderValue)>,
}

impl AllowTable {
    /// Reads the paths of `doc` (a document of [`document`]) mounted under `prefix`.
    pub fn from_document(doc: &str, prefix: &str) -> Self {
        let doc: Value = serde_json::from_str(doc).unwrap_or_default();
        let mut paths = Vec::new();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            let mut methods: Vec<String> =
                ops.as_object().into_iter().flatten().map(|(m, _)| m.to_uppercase()).collect();
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".into());
            }
            methods.sort();
            let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) else { continue };
            let segments = split(&format!("{prefix}{path}"))
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                .collect();
            paths.push((segments, allow));
        }
        AllowTable { paths }
    }

    /// The `Allow` value for a request path, if the path is documented.
    pub fn allow(&self, path: &str) -> Option<&HeaderValue> {
        let wanted: Vec<&str> = split(path).collect();
        self.paths
            .iter()
            .find(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments.iter().zip(&wanted).all(|(s, w)| s.as_deref().is_none_or(|s| s == *w))
            })
            .map(|(_, allow)| allow)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Adds `Allow` to a 405 answer of a documented path (RFC 9110 §15.5.6).
pub struct AllowOn405(pub AllowTable);

impl<E: Endpoint> Middleware<E> for AllowOn405 {
    type Output = AllowOn405Endpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AllowOn405Endpoint { inner, table: self.0.clone() }
    }
}

/// The endpoint produced by [`AllowOn405`].
pub struct AllowOn405Endpoint<E> {
    inner: E,
    table: AllowTable,
}

impl<E: Endpoint> Endpoint for AllowOn405Endpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let allow = self.table.allow(req.uri().path()).cloned();
        let mut resp = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => crate::error::to_json_response(e),
            Err(e) => return Err(e),
        };
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(allow) = allow {
                resp.headers_mut().insert("Allow", allow);
            }
        }
        Ok(resp)
    }
}
