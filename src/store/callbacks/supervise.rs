//! A supervisor's changes to the callback list, shared by SQLite and PostgreSQL: a request made by
//! hand (the same insert as a voicemail's first request, then its source and summary), a claim
//! moved to another operator, a request closed with the supervisor's reason, and a claim taken
//! back. Each runs in one transaction that locks the request, checks what the change needs (not
//! closed; no click-to-call ringing or talking, see [`DIALING`]; the new holder holds nothing else,
//! the one-claim-per-operator index of `claims` guarding races), writes the request's history with
//! the actor and the reason, and appends the audit entry. A refusal is an answer
//! ([`Supervised::Refused`]), not an error.

use chrono::{DateTime, TimeDelta, Utc};

use super::claims::{DIALING, LONGEST_CALL_MS, RELEASE_ONE};
use super::imp::{COLS, HISTORY, INSERT_REQUEST, NEXT_REG_SEQ, ORDER, history_detail, rank_update};
use super::{CallbackRequest, RequestRow};
use crate::domain::callback::Priority;
use crate::store::audit::INSERT_AUDIT;
use crate::store::{StoreError, to_ms};

/// Who changes a request, why, and what goes to the audit log.
#[derive(Debug, Clone)]
pub struct Supervision<'a> {
    /// The supervisor's login.
    pub actor: &'a str,
    /// Why, in the supervisor's words (kept in the request's history).
    pub reason: &'a str,
    pub now: DateTime<Utc>,
    /// The audit action, e.g. `callback.close`.
    pub action: &'a str,
    /// The audit detail, never a full phone number; the store adds the request id.
    pub audit: serde_json::Value,
}

/// A request made by hand, checked by `domain::callback::supervise::ByHand`, and placed like a
/// voicemail's request (due now or at the next opening, the SLA deadline, the rank rule).
#[derive(Debug, Clone)]
pub struct HandRequest<'a> {
    /// E.164.
    pub number: &'a str,
    pub category: &'a str,
    pub source: &'a str,
    pub summary: &'a str,
    pub topic: Option<&'a str>,
    pub due: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub deadline_work_ms: i64,
    pub priority: &'a Priority,
    /// How the request's registration number is made.
    pub registration: &'a crate::domain::registration::RegistrationFormat,
}

/// Why a supervisor's change was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such request.
    NotFound,
    /// The request is closed.
    Closed,
    /// A click-to-call of the request is ringing or talking.
    Dialing,
    /// The request is not claimed (nothing to release).
    NotClaimed,
    /// The operator holds this request already.
    AlreadyHeld,
    /// The operator holds another request (its id; 0 when it was released meanwhile).
    TargetHolds(i64),
    /// The number has an active request (its id; 0 when it was closed meanwhile).
    ActiveForNumber(i64),
}

/// What a supervisor's change did.
#[derive(Debug, Clone)]
pub enum Supervised {
    /// Done: the request as it is now.
    Done(Box<CallbackRequest>),
    Refused(Refusal),
}

/// Which requests the supervisor's list shows.
#[derive(Debug, Clone, Default)]
pub struct CallbackFilter {
    /// States to show (`open`, `claimed`, `closed`); empty shows every state.
    pub states: Vec<String>,
    /// `like` patterns, one of which the callback number matches (none: any number).
    pub number_patterns: Vec<String>,
    /// Only the request with this registration number (as stored).
    pub reg_number: Option<String>,
    pub limit: i64,
}

/// A supervisor's changes to callback requests.
#[async_trait::async_trait]
pub trait SuperviseStore {
    /// Creates an open request by hand (history `created`); refused when the number has an
    /// active request.
    async fn create_callback_by_hand(
        &self,
        r: &HandRequest<'_>,
        by: &Supervision<'_>,
    ) -> Result<Supervised, StoreError>;
    /// Leases the request to `operator_id` until `now + lease` (history `reassigned`), whether it
    /// was open or held by another operator. Expired leases are released first.
    async fn reassign_callback(
        &self,
        request_id: i64,
        operator_id: i64,
        lease: TimeDelta,
        in_progress_for: TimeDelta,
        by: &Supervision<'_>,
    ) -> Result<Supervised, StoreError>;
    /// Closes an open or claimed request with `outcome` (history `closed`).
    async fn close_callback(
        &self,
        request_id: i64,
        outcome: &str,
        in_progress_for: TimeDelta,
        by: &Supervision<'_>,
    ) -> Result<Supervised, StoreError>;
    /// Returns whoever's claim to the list (history `released`), even while a call is in
    /// progress: the way out of a claim that is stuck.
    async fn release_callback_by_supervisor(
        &self,
        request_id: i64,
        by: &Supervision<'_>,
    ) -> Result<Supervised, StoreError>;
    /// Requests by state and number: active ones in list order first, then closed ones, most
    /// recently closed first. Voicemail ids are not filled in.
    async fn find_callbacks(&self, f: &CallbackFilter) -> Result<Vec<CallbackRequest>, StoreError>;
}

const SET_BY_HAND: &str =
    "update callback_requests set source = $2, summary = $3, topic = $4 where id = $1";
const ACTIVE_FOR_NUMBER: &str =
    "select id from callback_requests where callback_number = $1 and state <> 'closed'";
const HELD_BY: &str =
    "select id from callback_requests where state = 'claimed' and claimed_by = $1";
const REASSIGN: &str = "update callback_requests set state = 'claimed', claimed_by = $2, \
     lease_until_ms = $3, lease_ms = $4, updated_at_ms = $5 where id = $1 and state <> 'closed'";
const CLOSE: &str = "update callback_requests set state = 'closed', outcome = $2, claimed_by = null, \
     lease_until_ms = null, closed_at_ms = $3, updated_at_ms = $3 where id = $1 and state <> 'closed'";

/// The order of [`SuperviseStore::find_callbacks`].
static FIND_ORDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "case when state = 'closed' then 1 else 0 end, \
         case when state = 'closed' then -closed_at_ms else 0 end, {ORDER}"
    )
});

macro_rules! impl_supervise_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl SuperviseStore for $t {
            async fn create_callback_by_hand(
                &self,
                r: &HandRequest<'_>,
                by: &Supervision<'_>,
            ) -> Result<Supervised, StoreError> {
                let now = to_ms(by.now);
                let mut tx = self.begin_write().await?;
                let sql = format!("{ACTIVE_FOR_NUMBER} {}", <$t>::ROW_LOCK);
                let existing: Option<i64> =
                    sqlx::query_scalar(&sql).bind(r.number).fetch_optional(&mut *tx).await?;
                if let Some(id) = existing {
                    tx.rollback().await?;
                    return Ok(Supervised::Refused(Refusal::ActiveForNumber(id)));
                }
                let seq: i64 = sqlx::query_scalar(NEXT_REG_SEQ)
                    .bind(r.registration.scope_at(by.now))
                    .fetch_one(&mut *tx)
                    .await?;
                let inserted = sqlx::query_scalar::<_, i64>(INSERT_REQUEST)
                    .bind(r.number)
                    .bind(r.category)
                    .bind(now)
                    .bind(to_ms(r.due))
                    .bind(to_ms(r.deadline))
                    .bind(r.deadline_work_ms)
                    .bind(r.source)
                    .bind(r.registration.number_at(by.now, seq))
                    .fetch_one(&mut *tx)
                    .await;
                let id = match inserted {
                    Ok(id) => id,
                    // A voicemail from the number won the race for its one active request.
                    Err(e) => match StoreError::unique(e, "an active request for this number") {
                        StoreError::Conflict(_) => {
                            tx.rollback().await?;
                            let id: Option<i64> = sqlx::query_scalar(ACTIVE_FOR_NUMBER)
                                .bind(r.number)
                                .fetch_optional(self.writer())
                                .await?;
                            return Ok(Supervised::Refused(Refusal::ActiveForNumber(id.unwrap_or(0))));
                        }
                        other => return Err(other),
                    },
                };
                sqlx::query(SET_BY_HAND)
                    .bind(id)
                    .bind(r.source)
                    .bind(r.summary)
                    .bind(r.topic)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&rank_update(r.priority)).bind(id).execute(&mut *tx).await?;
                let detail = serde_json::json!({
                    "source": r.source,
                    "summary": r.summary,
                    "topic": r.topic,
                    "reason": by.reason,
                    "due_at": r.due.to_rfc3339(),
                    "deadline": r.deadline.to_rfc3339(),
                });
                Self::supervised_in(&mut tx, id, "created", detail, by).await?;
                Ok(Supervised::Done(Box::new(self.finish_supervised(tx, id).await?)))
            }

            async fn reassign_callback(
                &self,
                request_id: i64,
                operator_id: i64,
                lease: TimeDelta,
                in_progress_for: TimeDelta,
                by: &Supervision<'_>,
            ) -> Result<Supervised, StoreError> {
                self.release_expired(by.now).await?;
                let mut tx = self.begin_write().await?;
                let (state, holder) = match Self::locked(&mut tx, request_id).await? {
                    Some(found) => found,
                    None => return Self::refuse(tx, Refusal::NotFound).await,
                };
                if state == "closed" {
                    return Self::refuse(tx, Refusal::Closed).await;
                }
                if state == "claimed" && holder == Some(operator_id) {
                    return Self::refuse(tx, Refusal::AlreadyHeld).await;
                }
                if Self::dialing(&mut tx, request_id, by.now, in_progress_for).await? {
                    return Self::refuse(tx, Refusal::Dialing).await;
                }
                let held: Option<i64> =
                    sqlx::query_scalar(HELD_BY).bind(operator_id).fetch_optional(&mut *tx).await?;
                if let Some(other) = held {
                    return Self::refuse(tx, Refusal::TargetHolds(other)).await;
                }
                let now = to_ms(by.now);
                let moved = sqlx::query(REASSIGN)
                    .bind(request_id)
                    .bind(operator_id)
                    .bind(to_ms(by.now + lease))
                    .bind(lease.num_milliseconds())
                    .bind(now)
                    .execute(&mut *tx)
                    .await;
                if let Err(e) = moved {
                    // The operator claimed another request meanwhile (one claim per operator).
                    return match StoreError::unique(e, "one claim per operator") {
                        StoreError::Conflict(_) => {
                            tx.rollback().await?;
                            let other: Option<i64> = sqlx::query_scalar(HELD_BY)
                                .bind(operator_id)
                                .fetch_optional(self.writer())
                                .await?;
                            Ok(Supervised::Refused(Refusal::TargetHolds(other.unwrap_or(0))))
                        }
                        other => Err(other),
                    };
                }
                let detail = serde_json::json!({
                    "from_operator_id": if state == "claimed" { holder } else { None },
                    "operator_id": operator_id,
                    "lease_until": (by.now + lease).to_rfc3339(),
                    "reason": by.reason,
                });
                Self::supervised_in(&mut tx, request_id, "reassigned", detail, by).await?;
                Ok(Supervised::Done(Box::new(self.finish_supervised(tx, request_id).await?)))
            }

            async fn close_callback(
                &self,
                request_id: i64,
                outcome: &str,
                in_progress_for: TimeDelta,
                by: &Supervision<'_>,
            ) -> Result<Supervised, StoreError> {
                let mut tx = self.begin_write().await?;
                let (state, holder) = match Self::locked(&mut tx, request_id).await? {
                    Some(found) => found,
                    None => return Self::refuse(tx, Refusal::NotFound).await,
                };
                if state == "closed" {
                    return Self::refuse(tx, Refusal::Closed).await;
                }
                if Self::dialing(&mut tx, request_id, by.now, in_progress_for).await? {
                    return Self::refuse(tx, Refusal::Dialing).await;
                }
                sqlx::query(CLOSE)
                    .bind(request_id)
                    .bind(outcome)
                    .bind(to_ms(by.now))
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({
                    "closed_as": outcome,
                    "operator_id": if state == "claimed" { holder } else { None },
                    "reason": by.reason,
                });
                Self::supervised_in(&mut tx, request_id, "closed", detail, by).await?;
                Ok(Supervised::Done(Box::new(self.finish_supervised(tx, request_id).await?)))
            }

            async fn release_callback_by_supervisor(
                &self,
                request_id: i64,
                by: &Supervision<'_>,
            ) -> Result<Supervised, StoreError> {
                let mut tx = self.begin_write().await?;
                let (state, holder) = match Self::locked(&mut tx, request_id).await? {
                    Some(found) => found,
                    None => return Self::refuse(tx, Refusal::NotFound).await,
                };
                if state != "claimed" {
                    let why = if state == "closed" { Refusal::Closed } else { Refusal::NotClaimed };
                    return Self::refuse(tx, why).await;
                }
                sqlx::query(RELEASE_ONE)
                    .bind(request_id)
                    .bind(to_ms(by.now))
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({
                    "reason": by.reason,
                    "operator_id": holder,
                    "by_supervisor": true,
                });
                Self::supervised_in(&mut tx, request_id, "released", detail, by).await?;
                Ok(Supervised::Done(Box::new(self.finish_supervised(tx, request_id).await?)))
            }

            async fn find_callbacks(
                &self,
                f: &CallbackFilter,
            ) -> Result<Vec<CallbackRequest>, StoreError> {
                let mut conds = vec!["1 = 1".to_owned()];
                let mut n = 0;
                let mut next = || {
                    n += 1;
                    format!("${n}")
                };
                if !f.states.is_empty() {
                    let marks: Vec<String> = f.states.iter().map(|_| next()).collect();
                    conds.push(format!("state in ({})", marks.join(", ")));
                }
                if !f.number_patterns.is_empty() {
                    let alts: Vec<String> = f
                        .number_patterns
                        .iter()
                        .map(|_| format!("callback_number like {}", next()))
                        .collect();
                    conds.push(format!("({})", alts.join(" or ")));
                }
                if f.reg_number.is_some() {
                    conds.push(format!("reg_number = {}", next()));
                }
                let limit = next();
                let sql = format!(
                    "select {COLS} from callback_requests where {} order by {} limit {limit}",
                    conds.join(" and "),
                    *FIND_ORDER
                );
                let mut q = sqlx::query_as::<_, RequestRow>(&sql);
                for s in &f.states {
                    q = q.bind(s.as_str());
                }
                for p in &f.number_patterns {
                    q = q.bind(p.as_str());
                }
                if let Some(r) = &f.reg_number {
                    q = q.bind(r.as_str());
                }
                let rows = q.bind(f.limit).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }

        impl $t {
            /// The request's state and holder, locked for the change.
            async fn locked(
                tx: &mut <$t as crate::store::Backend>::Conn,
                request_id: i64,
            ) -> Result<Option<(String, Option<i64>)>, StoreError> {
                let sql = format!(
                    "select state, claimed_by from callback_requests where id = $1 {}",
                    <$t>::ROW_LOCK
                );
                Ok(sqlx::query_as(&sql).bind(request_id).fetch_optional(&mut *tx).await?)
            }

            /// True while a click-to-call of the request is ringing or talking.
            async fn dialing(
                tx: &mut <$t as crate::store::Backend>::Conn,
                request_id: i64,
                now: DateTime<Utc>,
                in_progress_for: TimeDelta,
            ) -> Result<bool, StoreError> {
                let sql = format!(
                    "select id from callback_attempts where request_id = $1 and {} limit 1",
                    *DIALING
                );
                let busy: Option<i64> = sqlx::query_scalar(&sql)
                    .bind(request_id)
                    .bind(to_ms(now - in_progress_for))
                    .bind(to_ms(now) - LONGEST_CALL_MS)
                    .fetch_optional(&mut *tx)
                    .await?;
                Ok(busy.is_some())
            }

            async fn refuse(
                tx: sqlx::Transaction<'static, <<$t as crate::store::Backend>::Conn as sqlx::Connection>::Database>,
                why: Refusal,
            ) -> Result<Supervised, StoreError> {
                tx.rollback().await?;
                Ok(Supervised::Refused(why))
            }

            /// The history step and the audit entry of a supervisor's change.
            async fn supervised_in(
                tx: &mut <$t as crate::store::Backend>::Conn,
                request_id: i64,
                step: &str,
                detail: serde_json::Value,
                by: &Supervision<'_>,
            ) -> Result<(), StoreError> {
                let now = to_ms(by.now);
                sqlx::query(HISTORY)
                    .bind(request_id)
                    .bind(now)
                    .bind(by.actor)
                    .bind(step)
                    .bind(history_detail(detail))
                    .execute(&mut *tx)
                    .await?;
                let mut audit = by.audit.clone();
                if let Some(map) = audit.as_object_mut() {
                    map.insert("request_id".into(), request_id.into());
                }
                sqlx::query(INSERT_AUDIT)
                    .bind(now)
                    .bind(by.actor)
                    .bind(by.action)
                    .bind(format!("callback:{request_id}"))
                    .bind(audit.to_string())
                    .bind(None::<String>)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            }

            /// Reads the changed request and commits.
            async fn finish_supervised(
                &self,
                mut tx: sqlx::Transaction<'static, <<$t as crate::store::Backend>::Conn as sqlx::Connection>::Database>,
                request_id: i64,
            ) -> Result<CallbackRequest, StoreError> {
                let sql = format!("select {COLS} from callback_requests where id = $1");
                let row: RequestRow = sqlx::query_as(&sql).bind(request_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                self.with_voicemails(row.into()).await
            }
        }
    };
}

impl_supervise_store!(crate::store::sqlite::SqliteStore);
impl_supervise_store!(crate::store::postgres::PgStore);
