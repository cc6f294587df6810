//! Claims that hold: the SQL of leasing a request to an operator, shared by SQLite and PostgreSQL
//! (the release of expired leases and the read of held requests also go into PostgreSQL's batch
//! claim, `claims_pg.rs`), and the macro that adds the claim methods to both stores. An operator
//! holds at most one claim (a unique index on the holder of claimed requests; a second claim
//! returns the one held). A claim keeps the lease length it was granted with, so the
//! click-to-call's status webhooks extend the lease by as much ([`EXTEND_FOR_CALL`]); the lease
//! sweeper never releases a request whose holder is talking to the caller ([`TALKING`]), and a
//! claim is given up by its holder or a supervisor ([`super::CallbackStore::release_callback`]).

use chrono::{DateTime, Utc};

use super::imp::{COLS, HISTORY, ORDER, history_detail};
use super::{CallbackRequest, RequestRow};
use crate::store::{StoreError, to_ms};

/// How long a connected click-to-call (no final status yet) keeps its request claimed past the
/// lease: Twilio's longest call (its default `TimeLimit` of four hours). A call whose final status
/// never arrives stops counting after that.
pub const LONGEST_CALL_MS: i64 = 4 * 3_600_000;

/// An attempt whose operator is talking to the caller: connected and neither ended, failed nor
/// given an outcome. Columns of `callback_attempts`, unqualified.
pub(super) const TALKING: &str = "outcome is null and ended_at_ms is null and error is null \
     and call_status in ('in-progress', 'answered')";

/// An attempt of a request still in progress (ringing or talking): without an end, error or
/// outcome, and started after `$2` (the dial's hold before now), or connected and started after
/// `$3` (the longest call before now). Columns of `callback_attempts`, unqualified; `$1` is left to
/// the request.
pub(crate) static DIALING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "outcome is null and ended_at_ms is null and error is null \
         and (started_at_ms > $2 or ({TALKING} and started_at_ms > $3))"
    )
});

/// The requests held by the operators that `holder` matches (`= $1` for one operator, `= any($1)`
/// for a list), with the columns `cols`.
pub(super) fn held_sql(cols: &str, holder: &str) -> String {
    format!("select {cols} from callback_requests where state = 'claimed' and claimed_by {holder}")
}

/// Expired leases at `now` back to the list, except while the holder is on a connected call of the
/// request that started after `since` (`now` and `since` are the statement's placeholders);
/// `returning id`. With `lock`, the expired rows are picked `for update skip locked`: rows another
/// statement has locked are left to it, not waited for (PostgreSQL's batch claim, `claims_pg.rs`).
pub(super) fn release_expired_sql(now: &str, since: &str, lock: bool) -> String {
    let expired = format!("state = 'claimed' and lease_until_ms <= {now}");
    let which = if lock {
        format!("id in (select id from callback_requests where {expired} for update skip locked)")
    } else {
        expired
    };
    format!(
        "update callback_requests set state = 'open', claimed_by = null, lease_until_ms = null, \
         updated_at_ms = {now} where {which} \
         and not exists (select 1 from callback_attempts where request_id = callback_requests.id \
         and operator_id = callback_requests.claimed_by and {TALKING} and started_at_ms > {since}) \
         returning id"
    )
}

/// [`release_expired_sql`] at `$1`, sparing the calls that started after `$2`.
pub(super) static RELEASE_EXPIRED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| release_expired_sql("$1", "$2", false));

/// The holder's lease runs to `$2` plus the claim's lease length (never shortened); `$1` is the
/// request.
pub(super) const EXTEND: &str = "update callback_requests set lease_until_ms = $2 + lease_ms \
     where id = $1 and state = 'claimed' and lease_until_ms < $2 + lease_ms";

/// [`EXTEND`] for the request of the provider call `$1`, if its attempt's operator holds it.
pub(super) const EXTEND_FOR_CALL: &str = "update callback_requests \
     set lease_until_ms = $2 + lease_ms where state = 'claimed' and lease_until_ms < $2 + lease_ms \
     and exists (select 1 from callback_attempts where provider_call_id = $1 \
     and request_id = callback_requests.id and operator_id = callback_requests.claimed_by)";

/// The request the operator `$1` holds, by id.
pub(super) static HELD_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| held_sql("id", "= $1"));

/// Whether any lease ran out (read before taking the write lock for [`RELEASE_EXPIRED`]).
const ANY_EXPIRED: &str = "select count(*) from (select 1 from callback_requests \
     where state = 'claimed' and lease_until_ms <= $1 limit 1) t";

/// Leases the top due request to operator `$1` until `$2` (lease length `$4`, now `$3`) unless
/// they hold one; `returning` what the caller needs. `lock` is the backend's claim lock clause.
pub(super) fn claim_sql(lock: &str, returning: &str) -> String {
    format!(
        "update callback_requests set state = 'claimed', claimed_by = $1, \
         lease_until_ms = $2, lease_ms = $4, updated_at_ms = $3 where id = \
         (select id from callback_requests where state = 'open' and due_at_ms <= $3 \
          order by {ORDER} limit 1 {lock}) and state = 'open' \
         and not exists ({}) returning {returning}",
        held_sql("1", "= $1")
    )
}

/// Whether anything is due at `$1`.
pub(super) const ANY_DUE: &str = "select count(*) from (select 1 from callback_requests \
     where state = 'open' and due_at_ms <= $1 limit 1) t";

/// Back to the list by hand.
pub(super) const RELEASE_ONE: &str = "update callback_requests set state = 'open', \
     claimed_by = null, lease_until_ms = null, updated_at_ms = $2 where id = $1 and state = 'claimed'";

macro_rules! impl_claims {
    ($t:ty) => {
        impl $t {
            pub(super) async fn release_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                // Most of the time nothing ran out: a read, not the write lock, says so.
                let any: i64 = sqlx::query_scalar(ANY_EXPIRED)
                    .bind(to_ms(now))
                    .fetch_one(self.reader())
                    .await?;
                if any == 0 {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let ids: Vec<i64> = sqlx::query_scalar(RELEASE_EXPIRED.as_str())
                    .bind(to_ms(now))
                    .bind(to_ms(now) - LONGEST_CALL_MS)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in &ids {
                    sqlx::query(HISTORY)
                        .bind(id)
                        .bind(to_ms(now))
                        .bind("system")
                        .bind("released")
                        .bind(r#"{"reason":"lease expired"}"#)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(ids.len() as u64)
            }

            /// The release in a sqlx transaction (see `claims_fast` for what each backend uses).
            #[allow(dead_code)]
            pub(super) async fn release_one_tx(
                &self,
                request_id: i64,
                holder: Option<i64>,
                actor: &str,
                now: DateTime<Utc>,
            ) -> Result<CallbackRequest, StoreError> {
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "select state, claimed_by from callback_requests where id = $1 {}",
                    <$t>::ROW_LOCK
                );
                let found: Option<(String, Option<i64>)> =
                    sqlx::query_as(&sql).bind(request_id).fetch_optional(&mut *tx).await?;
                let Some((state, claimed_by)) = found else {
                    return Err(StoreError::NotFound(format!("callback request {request_id}")));
                };
                let held = state == "claimed" && holder.is_none_or(|op| claimed_by == Some(op));
                if !held {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(match holder {
                        Some(_) => "the request is not claimed by you".into(),
                        None => "the request is not claimed".into(),
                    }));
                }
                sqlx::query(RELEASE_ONE)
                    .bind(request_id)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                let reason = if holder.is_some() { "released by its holder" } else { "released by a supervisor" };
                let detail = serde_json::json!({"reason": reason, "operator_id": claimed_by});
                sqlx::query(HISTORY)
                    .bind(request_id)
                    .bind(to_ms(now))
                    .bind(actor)
                    .bind("released")
                    .bind(history_detail(detail))
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("select {COLS} from callback_requests where id = $1");
                let row: RequestRow = sqlx::query_as(&sql).bind(request_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                self.with_voicemails(row.into()).await
            }
        }
    };
}

impl_claims!(crate::store::sqlite::SqliteStore);
impl_claims!(crate::store::postgres::PgStore);
