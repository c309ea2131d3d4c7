//! `GET /admin/audit` (owner, viewer).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::audit::{self, Filter};
use crate::admin::access::auth::authorize;
use crate::admin::paging;
use crate::admin::access::roles::Permission;
use crate::admin::{AdminTag, BAD_QUERY, REFUSED, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::outcomes::Fail;
use crate::state::AppState;

/// An audit log entry.
#[derive(Object)]
pub struct AuditEntry {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// Admin username, `cli` or `system` (for a failed login: the username as typed).
    pub actor: String,
    /// e.g. `admin.login`, `account.suspend`, `service.update`.
    pub action: String,
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: String,
    /// `success`, or the code that refused it.
    pub outcome: String,
}

/// One page of audit entries, newest first.
#[derive(Object)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

fn parse_json(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

crate::outcomes! {
    /// `GET /admin/audit`.
    pub ListAuditOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
}

pub struct AdminAuditApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminAuditApi {
    /// The audit log, newest first (filters: actor, action, from/to as RFC 3339 or unix seconds).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/admin/audit", method = "get")]
    async fn list_audit(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(max_length = 128, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] actor: Query<Option<String>>,
        #[oai(validator(max_length = 64, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] action: Query<Option<String>>,
        #[oai(validator(
            pattern = r"^\s*(-?[0-9]{1,15}|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\s*$"
        ))]
        from: Query<Option<String>>,
        #[oai(validator(
            pattern = r"^\s*(-?[0-9]{1,15}|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\s*$"
        ))]
        to: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
        #[oai(validator(pattern = r"^([0-9]{1,18}\.[A-Za-z0-9_-]{1,64})?$"))] cursor: Query<Option<String>>,
    ) -> Result<Json<AuditPage>, Fail<ListAuditOutcomes>> {
        authorize(&state, req, Permission::ReadAudit).await?;
        let f = Filter {
            actor: paging::text_filter("actor", actor.0.as_deref(), 128)?,
            action: paging::text_filter("action", action.0.as_deref(), 64)?,
            from: paging::parse_time("from", from.0.as_deref())?,
            to: paging::parse_time("to", to.0.as_deref())?,
            before: paging::parse_cursor(cursor.0.as_deref())?,
            limit: paging::limit(limit.0)?,
        };
        let page_size = f.limit as usize;
        let rows = state.db.read(move |c| Ok(audit::list(c, &f)?)).await?;
        let next_cursor = (rows.len() == page_size).then(|| rows.last().map(|e| paging::cursor(e.at, &e.id))).flatten();
        Ok(Json(AuditPage {
            entries: rows
                .into_iter()
                .map(|e| AuditEntry {
                    id: e.id,
                    at: rfc3339(e.at),
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    before: parse_json(e.before_json),
                    after: parse_json(e.after_json),
                    ip: e.ip,
                    outcome: e.outcome,
                })
                .collect(),
            next_cursor,
        }))
    }
}
