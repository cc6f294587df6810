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
    id: i64,
    user_id: i64,
    login: String,
    name: String,
    contact_kind: String,
    contact: String,
    line: String,
    presence: String,
    presence_since_ms: i64,
    idle_since_ms: Option<i64>,
    consecutive_misses: i64,
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
        })
    }
}

const SELECT_OPERATOR: &str = "select o.id, o.user_id, u.login, o.name, o.contact_kind, o.contact, o.line, \
     o.presence, o.presence_since_ms, o.idle_since_ms, o.consecutive_misses \
     from operators o join users u on u.id = o.user_id";

pub(crate) const INSERT_OPERATOR: &str = "insert into operators \
     (user_id, name, contact_kind, contact, presence, presence_since_ms, created_at_ms) \
     values ($1, $2, $3, $4, 'offline', $5, $5) returning id";
/// Sets presence; `idle_since` restarts whenever the operator becomes available.
pub(crate) const SET_PRESENCE: &str = "update operators set presence = $2, presence_since_ms = $3, \
     idle_since_ms = case when $2 = 'available' and presence <> 'available' then $3 \
                          when $2 = 'available' then idle_since_ms else null end, \
     consecutive_misses = case when $2 = 'available' and presence <> 'available' then 0 else consecutive_misses end \
     where id = $1";

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
    /// Sets presence; returns the updated operator, or `None` when there is no such operator.
    async fn set_presence(
        &self,
        id: i64,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>, StoreError>;
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
                        StoreError::unique(e, format!("user {} as operator", op.user_id))
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

            async fn set_presence(
                &self,
                id: i64,
                presence: Presence,
                now: DateTime<Utc>,
            ) -> Result<Option<Operator>, StoreError> {
                let mut tx = self.writer().begin().await?;
                let r = sqlx::query(SET_PRESENCE)
                    .bind(id)
                    .bind(presence.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Ok(None);
                }
                let sql = format!("{SELECT_OPERATOR} where o.id = $1");
                let row: OperatorRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Some(Operator::try_from(row)).transpose()
            }
        }
    };
}

impl_operator_store!(super::sqlite::SqliteStore);
impl_operator_store!(super::postgres::PgStore);
