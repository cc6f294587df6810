//! [`super::MailPrivacyStore`] for both backends: the same SQL text; masking and erasure each in
//! one write transaction.

use super::*;

macro_rules! impl_mail_privacy_store {
    ($t:ty) => {
        impl $t {
            /// The letter jobs to `address` (their payloads parsed), inside `tx`.
            async fn letter_jobs(
                tx: &mut <$t as super::super::Backend>::Conn,
                address: &str,
            ) -> Result<Vec<(OutboxJob, serde_json::Value)>, StoreError> {
                let jobs: Vec<OutboxJob> = sqlx::query_as(MAIL_TO)
                    .bind(like_address(address))
                    .fetch_all(&mut *tx)
                    .await?;
                Ok(jobs
                    .into_iter()
                    .filter_map(|j| letter_to(&j.payload, address).map(|v| (j, v)))
                    .collect())
            }

            /// The letter jobs to `address` or its `pseudonym`, and those of our letters of its
            /// requests, by id.
            async fn address_jobs(
                tx: &mut <$t as super::super::Backend>::Conn,
                address: &str,
                pseudonym: &str,
            ) -> Result<Vec<OutboxJob>, StoreError> {
                let mut jobs: Vec<OutboxJob> = sqlx::query_as(REPLY_JOBS)
                    .bind(address)
                    .bind(pseudonym)
                    .fetch_all(&mut *tx)
                    .await?;
                for a in [address, pseudonym] {
                    jobs.extend(Self::letter_jobs(tx, a).await?.into_iter().map(|(j, _)| j));
                }
                jobs.sort_by_key(|j| j.id);
                jobs.dedup_by_key(|j| j.id);
                Ok(jobs)
            }
        }

        #[async_trait::async_trait]
        impl MailPrivacyStore for $t {
            async fn addresses_to_mask(
                &self,
                cutoff: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<String>, StoreError> {
                self.values_before(&TO_MASK, cutoff, limit).await
            }

            async fn mask_address(
                &self,
                address: &str,
                pseudonym: &str,
                cutoff: DateTime<Utc>,
            ) -> Result<Masked, StoreError> {
                let cut = to_ms(cutoff);
                let mut m = Masked::default();
                let mut tx = self.begin_write().await?;
                let letters: Vec<(i64, String, String)> = sqlx::query_as(LETTERS_DONE.as_str())
                    .bind(cut)
                    .bind(address)
                    .fetch_all(&mut *tx)
                    .await?;
                for (id, subject, body) in letters {
                    let subject = masked_text(Some(&subject)).unwrap_or(subject);
                    let body = masked_text(Some(&body)).unwrap_or(body);
                    m.letters += sqlx::query(SET_LETTER.as_str())
                        .bind(id)
                        .bind(pseudonym)
                        .bind(subject)
                        .bind(body)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                m.requests += sqlx::query(MASK_REQUESTS.as_str())
                    .bind(cut)
                    .bind(address)
                    .bind(pseudonym)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                for (job, mut v) in Self::letter_jobs(&mut tx, address).await? {
                    if !matches!(job.state.as_str(), "done" | "failed") || job.updated_at_ms >= cut {
                        continue;
                    }
                    v["to"] = serde_json::json!(pseudonym);
                    for key in ["subject", "text"] {
                        if let Some(t) = v.get(key).and_then(|t| t.as_str()) {
                            v[key] = serde_json::json!(masked_text(Some(t)).unwrap_or(t.into()));
                        }
                    }
                    sqlx::query(SET_JOB)
                        .bind(job.id)
                        .bind(v.to_string())
                        .bind(cut)
                        .bind(false)
                        .execute(&mut *tx)
                        .await?;
                    m.jobs += 1;
                }
                tx.commit().await?;
                Ok(m)
            }

            async fn address_data(
                &self,
                address: &str,
                pseudonym: &str,
            ) -> Result<AddressData, StoreError> {
                let requests: Vec<(i64, String, Option<i64>, String)> =
                    sqlx::query_as(ADDRESS_REQUESTS)
                        .bind(address)
                        .bind(pseudonym)
                        .fetch_all(self.reader())
                        .await?;
                let request_ids: Vec<i64> = requests.iter().map(|r| r.0).collect();
                let letters: Vec<MailRow> = sqlx::query_as(ADDRESS_LETTERS.as_str())
                    .bind(address)
                    .bind(pseudonym)
                    .fetch_all(self.reader())
                    .await?;
                let mut conn = self.reader().acquire().await?;
                let mail = Self::address_jobs(&mut conn, address, pseudonym).await?;
                drop(conn);
                let mut subjects = vec![format!("email:{pseudonym}")];
                subjects.extend(request_ids.iter().map(|id| format!("callback:{id}")));
                let audit = self.audit_about(&subjects).await?;
                Ok(AddressData {
                    request_ids,
                    letters,
                    mail,
                    audit,
                })
            }

            async fn erase_address(
                &self,
                address: &str,
                pz: &Pseudonymizer,
                actor: &str,
                in_progress_for: TimeDelta,
                now: DateTime<Utc>,
            ) -> Result<Erasure, StoreError> {
                let at = to_ms(now);
                let pseudonym = &pz.address(address);
                let mut tx = self.begin_write().await?;
                let dialing: i64 = sqlx::query_scalar(DIALING_FOR.as_str())
                    .bind(address)
                    .bind(to_ms(now - in_progress_for))
                    .bind(at - LONGEST_CALL_MS)
                    .fetch_one(&mut *tx)
                    .await?;
                if dialing > 0 {
                    tx.rollback().await?;
                    return Ok(Erasure::Refused(
                        "an operator's call back for a request of this address is in progress"
                            .into(),
                    ));
                }
                let mut e = Erased::default();
                let requests: Vec<(i64, String, Option<i64>, String)> =
                    sqlx::query_as(ADDRESS_REQUESTS)
                        .bind(address)
                        .bind(pseudonym)
                        .fetch_all(&mut *tx)
                        .await?;
                let letters: Vec<MailRow> = sqlx::query_as(ADDRESS_LETTERS.as_str())
                    .bind(address)
                    .bind(pseudonym)
                    .fetch_all(&mut *tx)
                    .await?;
                for (id, state, holder, number) in requests {
                    if state != "closed" {
                        Self::close_erased(&mut tx, id, holder, actor, now).await?;
                        e.requests_closed += 1;
                    }
                    let number = if number.is_empty() { number } else { pz.pseudonym(&number) };
                    e.masked.requests += sqlx::query(ERASE_REQUEST)
                        .bind(id)
                        .bind(pseudonym)
                        .bind(number)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    e.masked.history += Self::mask_history(&mut tx, id).await?;
                    e.notes_removed += sqlx::query(ERASE_ATTEMPT_NOTES)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for l in letters {
                    e.files.extend(attachment_files(&l.attachments));
                    let person = if l.direction == "in" { &l.from_address } else { &l.to_address };
                    let masked = person.as_deref().map(|a| pz.address(&a.to_lowercase()));
                    e.letters_removed += sqlx::query(ERASE_LETTER.as_str())
                        .bind(l.id)
                        .bind(masked)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for job in Self::address_jobs(&mut tx, address, pseudonym).await? {
                    let v: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
                    if v.get("erased").is_some() {
                        continue;
                    }
                    let to = v.get("to").and_then(|t| t.as_str()).unwrap_or_default();
                    let payload = serde_json::json!({"to": pz.address(&to.to_lowercase()), "erased": true});
                    sqlx::query(SET_JOB)
                        .bind(job.id)
                        .bind(payload.to_string())
                        .bind(at)
                        .bind(true)
                        .execute(&mut *tx)
                        .await?;
                    e.mail_cancelled += u64::from(job.state == "queued");
                    e.masked.jobs += 1;
                }
                e.audit_id =
                    Self::audit_erasure(&mut tx, &e, actor, format!("email:{pseudonym}"), now)
                        .await?;
                tx.commit().await?;
                Ok(Erasure::Done(e))
            }
        }
    };
}

impl_mail_privacy_store!(crate::store::sqlite::SqliteStore);
impl_mail_privacy_store!(crate::store::postgres::PgStore);
