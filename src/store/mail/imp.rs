//! [`super::MailStore`] for both backends: the same SQL text, one write transaction per letter.

use super::*;

macro_rules! impl_mail_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl MailStore for $t {
            async fn register_letter(
                &self,
                l: &IncomingLetter<'_>,
                plan: &MailPlan<'_>,
            ) -> Result<Registered, StoreError> {
                let now = to_ms(l.now);
                let mut tx = self.begin_write().await?;
                let seen: Option<Option<i64>> =
                    sqlx::query_scalar(SEEN).bind(l.key).fetch_optional(&mut *tx).await?;
                if let Some(request) = seen {
                    tx.rollback().await?;
                    return Ok(Registered::Already(request));
                }
                let insert_in = |request: Option<i64>| {
                    sqlx::query(INSERT_MAIL)
                        .bind(request)
                        .bind("in")
                        .bind(l.key)
                        .bind(l.from_address)
                        .bind(None::<&str>)
                        .bind(l.subject)
                        .bind(l.body)
                        .bind(l.attachments)
                        .bind(l.automatic)
                        .bind(now)
                };
                if l.automatic.is_some() || l.blocked.is_some() {
                    insert_in(None).execute(&mut *tx).await?;
                    tx.commit().await?;
                    return Ok(Registered::Kept);
                }
                // The request it belongs to: named in the subject, answered, or by phone.
                let mut found: Option<(i64, Option<String>)> = None;
                if let Some(reg) = l.reference {
                    found = sqlx::query_as(BY_REG).bind(reg).fetch_optional(&mut *tx).await?;
                }
                for id in l.thread {
                    if found.is_some() {
                        break;
                    }
                    found = sqlx::query_as(BY_MESSAGE).bind(id).fetch_optional(&mut *tx).await?;
                }
                let mut phone = l.phone;
                if let (None, Some(p)) = (&found, l.phone) {
                    let by_phone: Option<(i64, Option<String>, Option<String>)> =
                        sqlx::query_as(BY_PHONE).bind(p).fetch_optional(&mut *tx).await?;
                    match by_phone {
                        // A call's request, or this sender's: the letter joins it.
                        Some((id, reg, email))
                            if email.as_deref().is_none_or(|e| e == l.from_address) =>
                        {
                            found = Some((id, reg));
                        }
                        // Another sender's request has the number: a request of its own.
                        Some(_) => phone = None,
                        None => {}
                    }
                }
                let (request_id, reg_number, new) = match found {
                    Some((id, reg)) => {
                        sqlx::query(JOIN)
                            .bind(id)
                            .bind(to_ms(plan.due))
                            .bind(l.from_address)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        let detail = serde_json::json!({"via": "email", "letter": l.key});
                        sqlx::query(HISTORY)
                            .bind(id)
                            .bind(now)
                            .bind("system")
                            .bind("merged")
                            .bind(history_detail(detail))
                            .execute(&mut *tx)
                            .await?;
                        (id, reg.unwrap_or_default(), false)
                    }
                    None => {
                        let seq: i64 = sqlx::query_scalar(NEXT_REG_SEQ)
                            .bind(plan.registration.scope_at(l.now))
                            .fetch_one(&mut *tx)
                            .await?;
                        let reg = plan.registration.number_at(l.now, seq);
                        let id: i64 = sqlx::query_scalar(INSERT_REQUEST)
                            .bind(phone.unwrap_or(""))
                            .bind(None::<&str>)
                            .bind(now)
                            .bind(to_ms(plan.due))
                            .bind(to_ms(plan.deadline))
                            .bind(plan.deadline_work_ms)
                            .bind("email")
                            .bind(&reg)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(|e| StoreError::unique(e, "an active request for this number"))?;
                        let summary: String = l.subject.chars().take(500).collect();
                        sqlx::query(SET_MAIL)
                            .bind(id)
                            .bind(l.from_address)
                            .bind(summary)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(&rank_update(plan.priority))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        let detail = serde_json::json!({
                            "via": "email",
                            "letter": l.key,
                            "due_at": plan.due.to_rfc3339(),
                            "deadline": plan.deadline.to_rfc3339(),
                        });
                        sqlx::query(HISTORY)
                            .bind(id)
                            .bind(now)
                            .bind("system")
                            .bind("created")
                            .bind(history_detail(detail))
                            .execute(&mut *tx)
                            .await?;
                        (id, reg, true)
                    }
                };
                insert_in(Some(request_id)).execute(&mut *tx).await?;
                let reply = (plan.reply)(&reg_number, new);
                sqlx::query(INSERT_MAIL)
                    .bind(request_id)
                    .bind("out")
                    .bind(&reply.message_id)
                    .bind(None::<&str>)
                    .bind(&reply.to)
                    .bind(&reply.subject)
                    .bind(&reply.text)
                    .bind("[]")
                    .bind("auto-replied")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let j = &reply.job;
                sqlx::query(INSERT_JOB)
                    .bind(&j.kind)
                    .bind(&j.payload)
                    .bind(&j.dedup_key)
                    .bind(j.max_attempts.max(1))
                    .bind(to_ms(j.run_at))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(if new {
                    Registered::New { request_id, reg_number }
                } else {
                    Registered::Joined { request_id, reg_number }
                })
            }

            async fn request_letters(&self, request_id: i64) -> Result<Vec<MailRow>, StoreError> {
                Ok(sqlx::query_as(LETTERS.as_str())
                    .bind(request_id)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn add_reply_letter(
                &self,
                request_id: i64,
                reply: &AutoReply,
                actor: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let at = to_ms(now);
                let mut tx = self.begin_write().await?;
                sqlx::query(INSERT_MAIL)
                    .bind(request_id)
                    .bind("out")
                    .bind(&reply.message_id)
                    .bind(None::<&str>)
                    .bind(&reply.to)
                    .bind(&reply.subject)
                    .bind(&reply.text)
                    .bind("[]")
                    .bind(None::<&str>)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::unique(e, format!("callback request {request_id}")))?;
                let j = &reply.job;
                sqlx::query(INSERT_JOB)
                    .bind(&j.kind)
                    .bind(&j.payload)
                    .bind(&j.dedup_key)
                    .bind(j.max_attempts.max(1))
                    .bind(to_ms(j.run_at))
                    .bind(at)
                    .fetch_optional(&mut *tx)
                    .await?;
                let detail = serde_json::json!({"letter": reply.message_id, "subject": reply.subject});
                sqlx::query(HISTORY)
                    .bind(request_id)
                    .bind(at)
                    .bind(actor)
                    .bind("replied")
                    .bind(history_detail(detail))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_mailbox(
                &self,
                mailbox: &str,
                holder: &str,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> Result<Option<(i64, i64)>, StoreError> {
                sqlx::query(ENSURE_MAILBOX).bind(mailbox).execute(self.writer()).await?;
                Ok(sqlx::query_as(TAKE_MAILBOX)
                    .bind(mailbox)
                    .bind(holder)
                    .bind(to_ms(now))
                    .bind(to_ms(until))
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn set_mailbox_place(
                &self,
                mailbox: &str,
                holder: &str,
                uid_validity: i64,
                last_uid: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(PLACE)
                    .bind(mailbox)
                    .bind(holder)
                    .bind(uid_validity)
                    .bind(last_uid)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

impl_mail_store!(crate::store::sqlite::SqliteStore);
impl_mail_store!(crate::store::postgres::PgStore);
