//! Operators: the user each one is, how a call reaches them, and their presence.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, parse_col, to_ms};
use crate::domain::operator::{ContactKind, Presence};

/// An operator as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Operator {
    pub id: i64,
    pub user_id: i64,
    pub login: String,
    pub name: String,
    pub contact_kind: ContactKind,
    /// E.164 number, SIP URI or extension; personal data, never logged in full.
    pub contact: String,
    pub line: String,
    pub presence: Presence,
    pub presence_since: DateTime<Utc>,
    /// When the operator last became free; the longest-idle available operator is offered a call first.
    pub idle_since: Option<DateTime<Utc>>,
    pub consecutive_misses: i64,
    /// The call the operator is reserved for (ringing or talking), if any.
    pub current_call_id: Option<i64>,
}

/// What [`OperatorStore::create_operator`] needs.
#[derive(Debug, Clone)]
pub struct NewOperator {
    pub user_id: i64,
    pub name: String,
    pub contact_kind: ContactKind,
    pub contact: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OperatorRow {
    pub(super) id: i64,
    pub(super) user_id: i64,
    pub(super) login: String,
    pub(super) name: String,
    pub(super) contact_kind: String,
    pub(super) contact: String,
    pub(super) line: String,
    pub(super) presence: String,
    pub(super) presence_since_ms: i64,
    pub(super) idle_since_ms: Option<i64>,
    pub(super) consecutive_misses: i64,
    pub(super) current_call_id: Option<i64>,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;
    fn try_from(r: OperatorRow) -> Result<Operator, StoreError> {
        Ok(Operator {
            id: r.id,
            user_id: r.user_id,
            login: r.login,
            name: r.name,
            contact_kind: parse_col(&r.contact_kind, "operators.contact_kind")?,
            contact: r.contact,
            line: r.line,
            presence: parse_col(&r.presence, "operators.presence")?,
            presence_since: from_ms(r.presence_since_ms),
            idle_since: r.idle_since_ms.map(from_ms),
            consecutive_misses: r.consecutive_misses,
            current_call_id: r.current_call_id,
        })
    }
}

pub(super) const SELECT_OPERATOR: &str = "select o.id, o.user_id, u.login, o.name, o.contact_kind, o.contact, o.line, \
     o.presence, o.presence_since_ms, o.idle_since_ms, o.consecutive_misses, o.current_call_id \
     from operators o join users u on u.id = o.user_id";

pub(crate) const INSERT_OPERATOR: &str = "insert into operators \
     (user_id, name, contact_kind, contact, presence, presence_since_ms, created_at_ms) \
     values ($1, $2, $3, $4, 'offline', $5, $5) returning id";
const SET_CONTACT: &str = "update operators set contact_kind = $2, contact = $3 where id = $1";
/// Sets presence by hand (API); `idle_since` restarts when becoming available. Never while the
/// operator is reserved for a call (that would free them for a second call while the first rings
/// or talks): the call's own events, or the reconciler once it is over, free them.
pub(crate) const SET_PRESENCE: &str = "update operators set presence = $2, presence_since_ms = $3, current_call_id = null, \
     idle_since_ms = case when $2 = 'available' and presence <> 'available' then $3 \
                          when $2 = 'available' then idle_since_ms else null end, \
     consecutive_misses = case when $2 = 'available' and presence <> 'available' then 0 else consecutive_misses end \
     where id = $1 and not (presence = 'on_call' and current_call_id is not null)";

/// An operator's own presence change (or an autopause), for occupancy statistics.
pub(crate) const LOG_PRESENCE: &str =
    "insert into presence_log (operator_id, presence, at_ms) values ($1, $2, $3)";

/// Reserves a free operator (available, or wrap-up begun before $3) for call $2; atomic, so two
/// instances never reserve the same operator.
pub(super) const RESERVE: &str = "update operators set presence = 'on_call', presence_since_ms = $4, idle_since_ms = null, \
     current_call_id = $2 where id = $1 \
     and (presence = 'available' or (presence = 'wrap_up' and presence_since_ms <= $3))";
/// Frees an operator reserved for call $2 that did not take it; a miss counts toward autopause ($4).
pub(super) const RELEASE: &str = "update operators set \
     consecutive_misses = case when $3 then consecutive_misses + 1 else 0 end, \
     presence = case when $3 and $4 > 0 and consecutive_misses + 1 >= $4 then 'break' else 'available' end, \
     presence_since_ms = $5, idle_since_ms = $5, current_call_id = null \
     where id = $1 and current_call_id = $2 and presence = 'on_call' returning presence";
pub(super) const WRAP_UP: &str = "update operators set presence = 'wrap_up', presence_since_ms = $3, consecutive_misses = 0, \
     current_call_id = null where id = $1 and current_call_id = $2 and presence = 'on_call'";
/// Frees operators left `on_call` although no call holds them: an operator is on a call only while
/// that call names them and is connecting, ringing them or connected. Only reservations older than
/// $2 are looked at, so a step committing at the same moment is never undone.
const RELEASE_ORPHANS: &str = "update operators set presence = 'available', presence_since_ms = $1, idle_since_ms = $1, \
     current_call_id = null where presence = 'on_call' and presence_since_ms < $2 and not exists \
     (select 1 from calls c where c.id = operators.current_call_id and c.operator_id = operators.id \
      and c.state in ('connecting', 'ringing_operator', 'connected'))";
/// Ends wrap-ups that began before $1.
const FINISH_WRAP_UPS: &str = "update operators set presence = 'available', idle_since_ms = $2, presence_since_ms = $2 \
     where presence = 'wrap_up' and presence_since_ms <= $1";

/// Operators and their presence.
#[async_trait::async_trait]
pub trait OperatorStore {
    /// Creates an operator (starting `offline`); [`StoreError::Conflict`] when the user is one already.
    async fn create_operator(
        &self,
        op: &NewOperator,
        now: DateTime<Utc>,
    ) -> Result<Operator, StoreError>;
    /// Every operator, ordered by id.
    async fn operators(&self) -> Result<Vec<Operator>, StoreError>;
    /// The operator tied to this login.
    async fn operator_by_login(&self, login: &str) -> Result<Option<Operator>, StoreError>;
    /// The id of the operator tied to this login. An operator profile is never deleted nor moved
    /// to another user, and a login never changes, so PostgreSQL remembers the answer once found
    /// (a round trip less on every claim).
    async fn operator_id_by_login(&self, login: &str) -> Result<Option<i64>, StoreError>;
    /// Reserves a free operator for a call (presence `on_call`): available, or wrapping up since
    /// before `wrap_up_cutoff`. False when the operator is not free (someone else took them).
    async fn reserve_operator(
        &self,
        id: i64,
        call_id: i64,
        wrap_up_cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Frees an operator reserved for `call_id` who did not take the call. A miss counts toward
    /// autopause: after `pause_after` misses in a row (0: never) the operator goes on `break`.
    /// Returns the new presence, or `None` when the operator was not reserved for this call.
    async fn release_operator(
        &self,
        id: i64,
        call_id: i64,
        missed: bool,
        pause_after: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Presence>, StoreError>;
    /// Starts wrap-up for an operator whose conversation on `call_id` ended; false if not reserved for it.
    async fn wrap_up_operator(
        &self,
        id: i64,
        call_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Frees operators `on_call` (since before `settled_before`) for a call that is over, in
    /// voicemail, or not theirs: the reconciler's repair for lost events and killed processes.
    /// Returns how many.
    async fn release_orphaned_operators(
        &self,
        now: DateTime<Utc>,
        settled_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Makes operators whose wrap-up began before `cutoff` available; returns how many.
    async fn finish_wrap_ups(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Sets presence; returns the updated operator, or `None` when there is no such operator.
    /// [`StoreError::Conflict`] while the operator is reserved for a call.
    async fn set_presence(
        &self,
        id: i64,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>, StoreError>;
    /// Changes how a call reaches an operator (the contact is validated by the caller); returns
    /// the updated operator, or `None` when there is no such operator.
    async fn set_contact(
        &self,
        id: i64,
        kind: ContactKind,
        contact: &str,
    ) -> Result<Option<Operator>, StoreError>;
}

const OPERATOR_ID: &str =
    "select o.id from operators o join users u on u.id = o.user_id where u.login = $1";

impl super::sqlite::SqliteStore {
    /// SQLite reads it every time (a read on this host is cheap).
    fn known_operator(&self, _login: &str) -> Option<i64> {
        None
    }

    fn remember_operator(&self, _login: &str, _id: i64) {}
}

impl super::postgres::PgStore {
    fn known_operator(&self, login: &str) -> Option<i64> {
        let known = self.operator_ids.lock().unwrap_or_else(|e| e.into_inner());
        known.get(login).copied()
    }

    fn remember_operator(&self, login: &str, id: i64) {
        let mut known = self.operator_ids.lock().unwrap_or_else(|e| e.into_inner());
        known.insert(login.to_owned(), id);
    }
}

macro_rules! impl_operator_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl OperatorStore for $t {
            async fn create_operator(
                &self,
                op: &NewOperator,
                now: DateTime<Utc>,
            ) -> Result<Operator, StoreError> {
                let id: i64 = sqlx::query_scalar(INSERT_OPERATOR)
                    .bind(op.user_id)
                    .bind(&op.name)
                    .bind(op.contact_kind.as_str())
                    .bind(&op.contact)
                    .bind(to_ms(now))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| {
                        StoreError::unique(e, format!("user {} is an operator already", op.user_id))
                    })?;
                let sql = format!("{SELECT_OPERATOR} where o.id = $1");
                let row: OperatorRow = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_one(self.writer())
                    .await?;
                row.try_into()
            }

            async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
                let sql = format!("{SELECT_OPERATOR} order by o.id");
                let rows: Vec<OperatorRow> = sqlx::query_as(&sql).fetch_all(self.reader()).await?;
                rows.into_iter().map(Operator::try_from).collect()
            }

            async fn operator_by_login(&self, login: &str) -> Result<Option<Operator>, StoreError> {
                let sql = format!("{SELECT_OPERATOR} where u.login = $1");
                let row: Option<OperatorRow> = sqlx::query_as(&sql)
                    .bind(login)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(Operator::try_from).transpose()
            }

            async fn operator_id_by_login(&self, login: &str) -> Result<Option<i64>, StoreError> {
                if let Some(id) = self.known_operator(login) {
                    return Ok(Some(id));
                }
                let id: Option<i64> = sqlx::query_scalar(OPERATOR_ID)
                    .bind(login)
                    .fetch_optional(self.reader())
                    .await?;
                if let Some(id) = id {
                    self.remember_operator(login, id);
                }
                Ok(id)
            }

            async fn reserve_operator(
                &self,
                id: i64,
                call_id: i64,
                wrap_up_cutoff: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(RESERVE)
                    .bind(id)
                    .bind(call_id)
                    .bind(to_ms(wrap_up_cutoff))
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn release_operator(
                &self,
                id: i64,
                call_id: i64,
                missed: bool,
                pause_after: u32,
                now: DateTime<Utc>,
            ) -> Result<Option<Presence>, StoreError> {
                self.forget_snapshot();
                let p: Option<String> = sqlx::query_scalar(RELEASE)
                    .bind(id)
                    .bind(call_id)
                    .bind(missed)
                    .bind(i64::from(pause_after))
                    .bind(to_ms(now))
                    .fetch_optional(self.writer())
                    .await?;
                p.map(|p| parse_col(&p, "operators.presence")).transpose()
            }

            async fn wrap_up_operator(
                &self,
                id: i64,
                call_id: i64,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(WRAP_UP)
                    .bind(id)
                    .bind(call_id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn release_orphaned_operators(
                &self,
                now: DateTime<Utc>,
                settled_before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                self.forget_snapshot();
                let r = sqlx::query(RELEASE_ORPHANS)
                    .bind(to_ms(now))
                    .bind(to_ms(settled_before))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected())
            }

            async fn finish_wrap_ups(
                &self,
                cutoff: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                self.forget_snapshot();
                let r = sqlx::query(FINISH_WRAP_UPS)
                    .bind(to_ms(cutoff))
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected())
            }

            async fn set_presence(
                &self,
                id: i64,
                presence: Presence,
                now: DateTime<Utc>,
            ) -> Result<Option<Operator>, StoreError> {
                self.forget_snapshot();
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(SET_PRESENCE)
                    .bind(id)
                    .bind(presence.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("{SELECT_OPERATOR} where o.id = $1");
                if r.rows_affected() == 0 {
                    let row: Option<OperatorRow> = sqlx::query_as(&sql)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    return match row {
                        None => Ok(None),
                        Some(_) => Err(StoreError::Conflict(format!(
                            "operator {id} is on a call; presence changes when the call ends"
                        ))),
                    };
                }
                sqlx::query(LOG_PRESENCE)
                    .bind(id)
                    .bind(presence.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                let row: OperatorRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Some(Operator::try_from(row)).transpose()
            }

            async fn set_contact(
                &self,
                id: i64,
                kind: ContactKind,
                contact: &str,
            ) -> Result<Option<Operator>, StoreError> {
                let r = sqlx::query(SET_CONTACT)
                    .bind(id)
                    .bind(kind.as_str())
                    .bind(contact)
                    .execute(self.writer())
                    .await?;
                if r.rows_affected() == 0 {
                    return Ok(None);
                }
                let sql = format!("{SELECT_OPERATOR} where o.id = $1");
                let row: OperatorRow = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_one(self.writer())
                    .await?;
                Some(Operator::try_from(row)).transpose()
            }
        }
    };
}

impl_operator_store!(super::sqlite::SqliteStore);
impl_operator_store!(super::postgres::PgStore);
