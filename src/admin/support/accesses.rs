//! `GET /admin/accesses?state=active|grace|expired&expiring_within_days=N` (support and whoever
//! may read accounts): every customer's access to every service with its state (DESIGN §7),
//! soonest end first, paged with an opaque cursor.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::accounts::access::{Grant, GRANT_COLUMNS};
use crate::admin::access::auth::authorize;
use crate::admin::access::roles::Permission;
use crate::admin::paging;
use crate::admin::{AdminTag, BAD_QUERY, REFUSED, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::db::schema::{access_grants, accounts, services};
use crate::db::DbConn;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::state::AppState;

const DAY: i64 = 86_400;

/// When an access is over, in SQL: the period plus its grace (none for a period a refund took
/// back), as `accounts::access::ends_at` says it in Rust. (`grace_days` is at most 365, so its
/// seconds fit the 32-bit product every backend computes; no CAST, whose type names differ.)
const ENDS_AT: &str = "(access_grants.active_until + CASE WHEN access_grants.taken_back_at IS NULL \
     AND services.grace_days > 0 THEN services.grace_days * 86400 ELSE 0 END)";

/// Which accesses to list.
pub struct Filter {
    /// `active`, `grace` or `expired`.
    pub state: Option<String>,
    /// Running out: the period ends within this many days and the access is not over yet.
    pub expiring_within_days: Option<i64>,
    /// Position after which the page starts: `(active_until, account_id, slug)`.
    pub after: Option<(i64, String, String)>,
    pub limit: i64,
}

/// One listed access: the account's login and email, and the grant.
pub type Row = (String, String, String, Grant);

/// The accesses matching `f` at `now`, soonest `active_until` first.
pub fn list(c: &mut DbConn, f: &Filter, now: i64) -> QueryResult<Vec<Row>> {
    let mut q = access_grants::table.inner_join(accounts::table).inner_join(services::table).into_boxed();
    q = match f.state.as_deref() {
        Some("active") => q.filter(access_grants::active_until.gt(now)),
        Some("grace") => q
            .filter(access_grants::active_until.le(now))
            .filter(sql::<Bool>(&format!("{ENDS_AT} > ")).bind::<BigInt, _>(now)),
        Some(_) => q.filter(sql::<Bool>(&format!("{ENDS_AT} <= ")).bind::<BigInt, _>(now)),
        None => q,
    };
    if let Some(days) = f.expiring_within_days {
        q = q
            .filter(access_grants::active_until.lt(now.saturating_add(days.saturating_mul(DAY))))
            .filter(sql::<Bool>(&format!("{ENDS_AT} > ")).bind::<BigInt, _>(now));
    }
    if let Some((t, account, slug)) = f.after.clone() {
        q = q.filter(
            access_grants::active_until.gt(t).or(access_grants::active_until.eq(t).and(
                access_grants::account_id
                    .gt(account.clone())
                    .or(access_grants::account_id.eq(account).and(access_grants::service_slug.gt(slug))),
            )),
        );
    }
    q.select((accounts::id, accounts::login, accounts::email, GRANT_COLUMNS))
        .order((access_grants::active_until.asc(), access_grants::account_id.asc(), access_grants::service_slug.asc()))
        .limit(f.limit)
        .load(c)
}

/// `<active_until>.<account_id>.<slug>`.
fn parse_cursor(raw: Option<&str>) -> Result<Option<(i64, String, String)>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else { return Ok(None) };
    let bad = || ApiError::bad_request("invalid_query", "cursor: not a cursor from a previous page");
    let (head, slug) = raw.rsplit_once('.').ok_or_else(bad)?;
    let (t, account) = paging::parse_cursor(Some(head)).map_err(|_| bad())?.ok_or_else(bad)?;
    if !crate::crypto::is_key(slug) {
        return Err(bad());
    }
    Ok(Some((t, account, slug.to_string())))
}

/// A customer's access to a service.
#[derive(Object)]
pub struct AdminAccessRow {
    pub login: String,
    pub email: String,
    /// The service's slug.
    pub service: String,
    pub service_name: String,
    /// RFC 3339: the end of the paid period.
    pub active_until: String,
    /// `active` (before `active_until`), `grace` (after it, within the service's grace days:
    /// the doors still open) or `expired` (over, or taken back by a refund).
    pub state: String,
    /// RFC 3339: when the access is over (the period plus its grace).
    pub ends_at: String,
}

/// A page of accesses.
#[derive(Object)]
pub struct AccessPage {
    pub accesses: Vec<AdminAccessRow>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

crate::outcomes! {
    /// `GET /admin/accesses`.
    pub ListAccessesOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
}

pub struct AdminAccessesApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminAccessesApi {
    /// List customers' accesses by state, soonest end of period first. `expiring_within_days=N`
    /// keeps the accesses whose period ends within N days and that are not over yet (active
    /// ones about to end, and those in grace).
    #[oai(path = "/admin/accesses", method = "get")]
    async fn list_admin_accesses(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(name = "state", validator(pattern = r"^(active|grace|expired)?$"))] access_state: Query<Option<String>>,
        #[oai(validator(minimum(value = "0"), maximum(value = "3650")))] expiring_within_days: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
        #[oai(validator(pattern = r"^([0-9]{1,18}\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64})?$"))] cursor: Query<
            Option<String>,
        >,
    ) -> Result<Json<AccessPage>, Fail<ListAccessesOutcomes>> {
        authorize(&state, req, Permission::ReadAccounts).await?;
        let wanted = access_state.0.filter(|s| !s.is_empty());
        if wanted.as_deref().is_some_and(|s| !matches!(s, "active" | "grace" | "expired")) {
            return Err(ApiError::bad_request("invalid_query", "state: one of active, grace, expired").into());
        }
        if expiring_within_days.0.is_some_and(|d| !(0..=3650).contains(&d)) {
            return Err(ApiError::bad_request("invalid_query", "expiring_within_days: 0 to 3650").into());
        }
        let f = Filter {
            state: wanted,
            expiring_within_days: expiring_within_days.0,
            after: parse_cursor(cursor.0.as_deref())?,
            limit: paging::limit(limit.0)?,
        };
        let now = state.clock.now();
        let page_size = f.limit as usize;
        let rows = state.db.read(move |c| Ok(list(c, &f, now)?)).await?;
        let next_cursor = (rows.len() == page_size)
            .then(|| rows.last().map(|(id, _, _, g)| format!("{}.{}", paging::cursor(g.active_until, id), g.slug)))
            .flatten();
        let accesses = rows
            .into_iter()
            .map(|(_, login, email, g)| AdminAccessRow {
                state: g.state(now).as_str().into(),
                ends_at: rfc3339(g.open_until()),
                active_until: rfc3339(g.active_until),
                service: g.slug,
                service_name: g.name,
                login,
                email,
            })
            .collect();
        Ok(Json(AccessPage { accesses, next_cursor }))
    }
}
