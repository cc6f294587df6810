//! The audit log: who did what, when (sign-ins, token creation, presence changes, user and operator
//! administration, every access to a recording). Append-only; entries carry the request id that
//! caused them. [`AuditStore::search_audit`] reads it back newest first, filtered by actor, action
//! and time, a page at a time (indexes `audit_log(actor, at_ms)` and `audit_log(action, at_ms)`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, to_ms};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// A login, or `system` / `cli` for actions without a signed-in user.
    pub actor: String,
    /// What happened, e.g. `token.create`, `operator.presence`, `voicemail.audio`.
    pub action: String,
    /// What it happened to, e.g. `user:ivanova`.
    pub subject: String,
    /// Details as JSON text; never a full phone number or a secret.
    pub detail: String,
    pub request_id: Option<String>,
}

/// An entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub request_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    request_id: Option<String>,
}

/// What [`AuditStore::search_audit`] looks for; empty or `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this actor (a login, `cli`, `system`).
    pub actor: String,
    /// Exactly this action, e.g. `user.disable`.
    pub action: String,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this id (the next page).
    pub before_id: Option<i64>,
    /// At most this many entries (clamped to 1–1000).
    pub limit: i64,
}

const AUDIT_COLUMNS: &str = "id, at_ms, actor, action, subject, detail, request_id";

/// The query and its parameters for a filter, in bind order (all `i64` or text).
fn search_sql(f: &AuditFilter) -> (String, Vec<Param>) {
    let mut params = Vec::new();
    let mut conds = Vec::new();
    let mut add = |cond: &str, p: Param| {
        params.push(p);
        conds.push(cond.replace('?', &format!("${}", params.len())));
    };
    if !f.actor.is_empty() {
        add("actor = ?", Param::Text(f.actor.clone()));
    }
    if !f.action.is_empty() {
        add("action = ?", Param::Text(f.action.clone()));
    }
    if let Some(t) = f.from {
        add("at_ms >= ?", Param::Int(to_ms(t)));
    }
    if let Some(t) = f.to {
        add("at_ms < ?", Param::Int(to_ms(t)));
    }
    if let Some(id) = f.before_id {
        add("id < ?", Param::Int(id));
    }
    params.push(Param::Int(f.limit.clamp(1, 1000)));
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!(" where {}", conds.join(" and "))
    };
    let sql = format!(
        "select {AUDIT_COLUMNS} from audit_log{filter} order by id desc limit ${}",
        params.len()
    );
    (sql, params)
}

enum Param {
    Int(i64),
    Text(String),
}

fn entry(r: AuditRow) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: from_ms(r.at_ms),
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        detail: r.detail,
        request_id: r.request_id,
    }
}

pub(crate) const INSERT_AUDIT: &str = "insert into audit_log (at_ms, actor, action, subject, detail, request_id) \
     values ($1, $2, $3, $4, $5, $6) returning id";
const RECENT_AUDIT: &str = "select id, at_ms, actor, action, subject, detail, request_id from audit_log \
     order by id desc limit $1";

/// The audit log.
#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends an entry; returns its id.
    async fn audit(&self, entry: &NewAuditEntry, now: DateTime<Utc>) -> Result<i64, StoreError>;
    /// The newest entries, newest first.
    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// Entries matching `filter`, newest (highest id) first.
    async fn search_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
}

macro_rules! impl_audit_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl AuditStore for $t {
            async fn audit(
                &self,
                e: &NewAuditEntry,
                now: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(INSERT_AUDIT)
                    .bind(to_ms(now))
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.subject)
                    .bind(&e.detail)
                    .bind(&e.request_id)
                    .fetch_one(self.writer())
                    .await?)
            }

            async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
                let rows: Vec<AuditRow> = sqlx::query_as(RECENT_AUDIT)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(entry).collect())
            }

            async fn search_audit(
                &self,
                filter: &AuditFilter,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                let (sql, params) = search_sql(filter);
                let mut q = sqlx::query_as::<_, AuditRow>(&sql);
                for p in params {
                    q = match p {
                        Param::Int(v) => q.bind(v),
                        Param::Text(v) => q.bind(v),
                    };
                }
                let rows = q.fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(entry).collect())
            }
        }
    };
}

impl_audit_store!(super::sqlite::SqliteStore);
impl_audit_store!(super::postgres::PgStore);
