//! The audit log: who did what, when (sign-ins, token creation, presence changes, every access to a
//! recording). Append-only; entries carry the request id that caused them.

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
                Ok(rows
                    .into_iter()
                    .map(|r| AuditEntry {
                        id: r.id,
                        at: from_ms(r.at_ms),
                        actor: r.actor,
                        action: r.action,
                        subject: r.subject,
                        detail: r.detail,
                        request_id: r.request_id,
                    })
                    .collect())
            }
        }
    };
}

impl_audit_store!(super::sqlite::SqliteStore);
impl_audit_store!(super::postgres::PgStore);
