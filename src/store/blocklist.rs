//! The blocklist, its blocked-attempt counts, the per-number limits set by supervisors, and what
//! the limits look at: a number's calls in the last hour and its voicemails of the day. Rules are
//! stored normalised (`crate::domain::blocklist::normalise`, by the caller); a rule is unique by
//! kind and value. An attempt is counted once per key (`<provider>:<call id>` for a call,
//! `mail:<message id>` for a letter), so a re-delivered webhook or letter counts once.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, parse_col, to_ms};
use crate::domain::blocklist::{CallLimits, Rule, RuleKind};

/// How often a rule blocked something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttemptCount {
    pub rule_id: i64,
    /// Ever (since the rule was added).
    pub total: i64,
    /// At or after the `since` instant asked for.
    pub recent: i64,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    kind: String,
    value: String,
    reason: String,
    created_by: String,
    created_at_ms: i64,
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> Result<Rule, StoreError> {
        Ok(Rule {
            id: r.id,
            kind: parse_col::<RuleKind>(&r.kind, "blocklist.kind")?,
            value: r.value,
            reason: r.reason,
            created_by: r.created_by,
            created_at: from_ms(r.created_at_ms),
        })
    }
}

pub(crate) const LIST: &str =
    "select id, kind, value, reason, created_by, created_at_ms from blocklist order by kind, value";
const INSERT: &str = "insert into blocklist (kind, value, reason, created_by, created_at_ms) \
     values ($1, $2, $3, $4, $5) returning id, kind, value, reason, created_by, created_at_ms";
const DELETE: &str = "delete from blocklist where id = $1 returning id, kind, value, reason, created_by, created_at_ms";
/// Counts an attempt once per key; nothing when the rule was removed meanwhile.
pub(crate) const ATTEMPT: &str = "insert into blocked_attempts (attempt_key, rule_id, at_ms) \
     select $1, id, $3 from blocklist where id = $2 on conflict (attempt_key) do nothing";
const COUNTS: &str = "select rule_id, count(*) as total, \
     coalesce(sum(case when at_ms >= $1 then 1 else 0 end), 0) as recent \
     from blocked_attempts group by rule_id order by rule_id";
pub(crate) const LIMITS: &str =
    "select voicemails_per_day, calls_per_hour from call_limits where id = 1";
const SET_LIMITS: &str = "insert into call_limits (id, voicemails_per_day, calls_per_hour, updated_by, updated_at_ms) \
     values (1, $1, $2, $3, $4) on conflict (id) do update set voicemails_per_day = excluded.voicemails_per_day, \
     calls_per_hour = excluded.calls_per_hour, updated_by = excluded.updated_by, \
     updated_at_ms = excluded.updated_at_ms";
/// A number's other calls since `$2` and its voicemails since `$5` (the call `$3`/`$4` excluded).
pub(crate) const CALLER_RECORD: &str = "select \
     (select count(*) from calls c where c.from_number = $1 and c.started_at_ms >= $2 \
      and not (c.provider = $3 and c.provider_call_id = $4)) as calls, \
     (select count(*) from voicemails v join calls c on c.id = v.call_id where c.from_number = $1 \
      and v.received_at_ms >= $5 and not (c.provider = $3 and c.provider_call_id = $4)) as voicemails";

/// Blocklist, attempts and limits.
#[async_trait::async_trait]
pub trait BlocklistStore {
    /// Every rule, by kind and value.
    async fn block_rules(&self) -> Result<Vec<Rule>, StoreError>;
    /// Adds a rule (`value` normalised); [`StoreError::Conflict`] when the same one exists.
    async fn add_block_rule(
        &self,
        kind: RuleKind,
        value: &str,
        reason: &str,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Rule, StoreError>;
    /// Removes a rule and its attempt counts; [`StoreError::NotFound`] when there is none.
    async fn remove_block_rule(&self, id: i64) -> Result<Rule, StoreError>;
    /// Counts a blocked attempt once per `key`; true when it was new. A rule removed meanwhile
    /// counts nothing.
    async fn count_blocked_attempt(
        &self,
        rule_id: i64,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Attempts per rule, ever and since `since` (rules never used are absent).
    async fn blocked_attempts(&self, since: DateTime<Utc>)
    -> Result<Vec<AttemptCount>, StoreError>;
    /// The limits a supervisor set (`None`: never set, the configured defaults apply).
    async fn call_limits(&self) -> Result<Option<CallLimits>, StoreError>;
    async fn set_call_limits(
        &self,
        limits: CallLimits,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// What `from` did before the call (`provider`, `call_id`): calls started since
    /// `calls_since`, voicemails received since `voicemails_since`.
    async fn caller_record(
        &self,
        from: &str,
        provider: &str,
        call_id: &str,
        calls_since: DateTime<Utc>,
        voicemails_since: DateTime<Utc>,
    ) -> Result<(u32, u32), StoreError>;
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

macro_rules! impl_blocklist_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl BlocklistStore for $t {
            async fn block_rules(&self) -> Result<Vec<Rule>, StoreError> {
                let rows: Vec<RuleRow> = sqlx::query_as(LIST).fetch_all(self.reader()).await?;
                rows.into_iter().map(Rule::try_from).collect()
            }

            async fn add_block_rule(
                &self,
                kind: RuleKind,
                value: &str,
                reason: &str,
                created_by: &str,
                now: DateTime<Utc>,
            ) -> Result<Rule, StoreError> {
                let row: RuleRow = sqlx::query_as(INSERT)
                    .bind(kind.as_str())
                    .bind(value)
                    .bind(reason)
                    .bind(created_by)
                    .bind(to_ms(now))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::unique(e, format!("{kind} rule exists already")))?;
                row.try_into()
            }

            async fn remove_block_rule(&self, id: i64) -> Result<Rule, StoreError> {
                let row: Option<RuleRow> = sqlx::query_as(DELETE)
                    .bind(id)
                    .fetch_optional(self.writer())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("blocklist rule {id}")))?
                    .try_into()
            }

            async fn count_blocked_attempt(
                &self,
                rule_id: i64,
                key: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(ATTEMPT)
                    .bind(key)
                    .bind(rule_id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn blocked_attempts(
                &self,
                since: DateTime<Utc>,
            ) -> Result<Vec<AttemptCount>, StoreError> {
                let rows: Vec<(i64, i64, i64)> = sqlx::query_as(COUNTS)
                    .bind(to_ms(since))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(rule_id, total, recent)| AttemptCount {
                        rule_id,
                        total,
                        recent,
                    })
                    .collect())
            }

            async fn call_limits(&self) -> Result<Option<CallLimits>, StoreError> {
                let row: Option<(i64, i64)> =
                    sqlx::query_as(LIMITS).fetch_optional(self.reader()).await?;
                Ok(row.map(|(v, c)| CallLimits {
                    voicemails_per_day: count(v),
                    calls_per_hour: count(c),
                }))
            }

            async fn set_call_limits(
                &self,
                limits: CallLimits,
                by: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(SET_LIMITS)
                    .bind(i64::from(limits.voicemails_per_day))
                    .bind(i64::from(limits.calls_per_hour))
                    .bind(by)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn caller_record(
                &self,
                from: &str,
                provider: &str,
                call_id: &str,
                calls_since: DateTime<Utc>,
                voicemails_since: DateTime<Utc>,
            ) -> Result<(u32, u32), StoreError> {
                let (calls, voicemails): (i64, i64) = sqlx::query_as(CALLER_RECORD)
                    .bind(from)
                    .bind(to_ms(calls_since))
                    .bind(provider)
                    .bind(call_id)
                    .bind(to_ms(voicemails_since))
                    .fetch_one(self.reader())
                    .await?;
                Ok((count(calls), count(voicemails)))
            }
        }
    };
}

impl_blocklist_store!(super::sqlite::SqliteStore);
impl_blocklist_store!(super::postgres::PgStore);
