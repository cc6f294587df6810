//! Registration numbers in the database: requests made before numbers existed are numbered once,
//! at start, in creation order, from the same counters new requests draw from
//! (`callbacks::imp::NEXT_REG_SEQ`), so an old request's number can never be given to a new one.
//! Several instances starting at once are safe: each request is numbered by a compare-and-set
//! (`where reg_number is null`) in the transaction that raised the counter, and a request another
//! instance numbered first is skipped (its transaction rolls back the raised counter).

use chrono::{DateTime, Utc};

use super::callbacks::NEXT_REG_SEQ;
use super::{StoreError, from_ms};
use crate::domain::registration::RegistrationFormat;

/// How many unnumbered requests one pass reads.
const BATCH: i64 = 500;

const UNNUMBERED: &str = "select id, created_at_ms from callback_requests \
     where reg_number is null order by created_at_ms, id limit $1";
const SET_NUMBER: &str =
    "update callback_requests set reg_number = $2 where id = $1 and reg_number is null";

/// Numbering requests made before registration numbers.
#[async_trait::async_trait]
pub trait RegistrationStore {
    /// Gives every request without a registration number one (see the module docs); returns how
    /// many this call numbered.
    async fn number_unnumbered_requests(
        &self,
        format: &RegistrationFormat,
    ) -> Result<u64, StoreError>;
}

macro_rules! impl_registration_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl RegistrationStore for $t {
            async fn number_unnumbered_requests(
                &self,
                format: &RegistrationFormat,
            ) -> Result<u64, StoreError> {
                let mut numbered = 0;
                loop {
                    let rows: Vec<(i64, i64)> = sqlx::query_as(UNNUMBERED)
                        .bind(BATCH)
                        .fetch_all(self.writer())
                        .await?;
                    if rows.is_empty() {
                        return Ok(numbered);
                    }
                    for (id, created_ms) in rows {
                        let created: DateTime<Utc> = from_ms(created_ms);
                        let mut tx = self.begin_write().await?;
                        let seq: i64 = sqlx::query_scalar(NEXT_REG_SEQ)
                            .bind(format.scope_at(created))
                            .fetch_one(&mut *tx)
                            .await?;
                        let done = sqlx::query(SET_NUMBER)
                            .bind(id)
                            .bind(format.number_at(created, seq))
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if done == 1 {
                            tx.commit().await?;
                            numbered += 1;
                        } else {
                            tx.rollback().await?;
                        }
                    }
                }
            }
        }
    };
}

impl_registration_store!(super::sqlite::SqliteStore);
impl_registration_store!(super::postgres::PgStore);
