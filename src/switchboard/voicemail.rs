//! The switchboard's voicemail effects: each step the caller completes is stored on the call's
//! voicemail, and the voicemail joins the callback list as soon as its number is settled (typed,
//! confirmed, or the caller ID kept), or when the call ends for a caller who hung up before that.
//! At the end of the message the caller hears the estimated callback time, and gets it by SMS when
//! SMS is configured (a job enqueued with the event, so it survives a crash).

use chrono::{DateTime, Utc};

use super::Switchboard;
use crate::calendar::MOSCOW;
use crate::domain::phone::PhoneNumber;
use crate::domain::routing::VoicemailChange;
use crate::domain::voicemail::{FLAG_NO_RECORDING, FLAG_NUMBER_UNCONFIRMED};
use crate::speech::russian::{month_genitive, weekday_accusative};
use crate::store::{Call, NewJob};
use crate::telephony::RecordingStatus;

/// The caller's estimated callback range, and the number the callback goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEstimate {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// E.164; personal data.
    pub number: String,
}

impl Switchboard {
    /// Applies one voicemail change; returns a job to enqueue with the event, if any.
    pub(super) async fn voicemail(
        &self,
        change: &VoicemailChange,
        call: &Call,
        now: DateTime<Utc>,
        eta: Option<&CallbackEstimate>,
    ) -> anyhow::Result<Option<NewJob>> {
        let s = &self.store;
        let id = call.id;
        match change {
            VoicemailChange::Start { caller_id } => {
                s.start_voicemail(id, caller_id.as_deref(), now).await?;
            }
            VoicemailChange::Number(n) => {
                s.set_voicemail_number(id, n, true).await?;
                self.join_callback_list(call, now).await?;
            }
            VoicemailChange::NumberUnconfirmed => {
                s.flag_voicemail(id, FLAG_NUMBER_UNCONFIRMED).await?;
                self.join_callback_list(call, now).await?;
            }
            VoicemailChange::Category(c) => {
                s.set_voicemail_category(id, c.as_str()).await?;
                self.callbacks.refresh(id).await?;
            }
            VoicemailChange::Recorded(None) => {
                s.flag_voicemail(id, FLAG_NO_RECORDING).await?;
                return Ok(self.eta_sms(call, eta, now));
            }
            VoicemailChange::Recorded(Some(rec)) => {
                s.start_voicemail(id, None, now).await?;
                let key = format!("{}:{}", call.provider, rec.id);
                s.set_voicemail_recording(
                    id,
                    &key,
                    &rec.url,
                    rec.duration.map(|d| d.num_milliseconds()),
                )
                .await?;
                return Ok(self.eta_sms(call, eta, now));
            }
            VoicemailChange::RecordingStatus { recording, status } => {
                s.start_voicemail(id, None, now).await?;
                let key = format!("{}:{}", call.provider, recording.id);
                match status {
                    RecordingStatus::Completed => {
                        let duration = recording.duration.map(|d| d.num_milliseconds());
                        if !s
                            .set_voicemail_recording(id, &key, &recording.url, duration)
                            .await?
                        {
                            tracing::warn!(
                                call = id,
                                "a second recording for one voicemail; ignored"
                            );
                            return Ok(None);
                        }
                        let payload = serde_json::json!({
                            "provider": call.provider,
                            "call_id": id,
                            "recording_id": recording.id,
                            "url": recording.url,
                        });
                        return Ok(Some(NewJob {
                            kind: crate::jobs::DOWNLOAD_RECORDING.into(),
                            payload: payload.to_string(),
                            dedup_key: Some(format!("download:{key}")),
                            run_at: now,
                            max_attempts: crate::jobs::DOWNLOAD_MAX_ATTEMPTS,
                        }));
                    }
                    RecordingStatus::Absent | RecordingStatus::Failed => {
                        s.flag_voicemail(id, FLAG_NO_RECORDING).await?
                    }
                    RecordingStatus::InProgress => {}
                }
            }
        }
        Ok(None)
    }

    /// Attaches the call's voicemail to the callback request for its number (once; later calls
    /// change nothing). A voicemail without a usable number cannot be called back: logged.
    pub(super) async fn join_callback_list(
        &self,
        call: &Call,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let Some(vm) = self.store.voicemail_for_call(call.id).await? else {
            return Ok(());
        };
        if vm.callback_request_id.is_some() {
            return Ok(());
        }
        let number = vm
            .callback_number
            .as_deref()
            .and_then(|n| PhoneNumber::parse(n).ok());
        let Some(number) = number else {
            tracing::warn!(
                call = call.id,
                voicemail = vm.id,
                "a voicemail without a callback number: it is listed but cannot join the callback list"
            );
            return Ok(());
        };
        let attached = self
            .callbacks
            .attach(call.id, number.as_str(), vm.caller_category.as_deref(), now)
            .await?;
        self.callbacks.refresh(call.id).await?;
        if let Some(a) = attached {
            tracing::info!(call = call.id, request = a.request_id(), how = ?a, "voicemail joined the callback list");
        }
        Ok(())
    }

    /// The range the caller is told at the end of the message: from the request's place in the
    /// list, the operators and the handle time.
    pub(super) async fn callback_eta(
        &self,
        call: &Call,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<CallbackEstimate>> {
        self.join_callback_list(call, now).await?;
        let Some(r) = self.store.callback_for_call(call.id).await? else {
            return Ok(None);
        };
        Ok(self.callbacks.eta(&r, now).await?.map(|e| {
            let (from, to) = crate::domain::callback::eta_range(&e);
            CallbackEstimate {
                from,
                to,
                number: r.callback_number.clone(),
            }
        }))
    }

    /// The SMS with the estimate, when SMS is configured.
    fn eta_sms(
        &self,
        call: &Call,
        eta: Option<&CallbackEstimate>,
        now: DateTime<Utc>,
    ) -> Option<NewJob> {
        let eta = eta.filter(|_| self.sms)?;
        Some(crate::jobs::sms::sms_job(
            &eta.number,
            &eta_sms_text(eta.from, eta.to, now),
            format!("sms:eta:{}", call.id),
            now,
        ))
    }
}

/// "Линия поддержки Школьного портала: мы перезвоним вам в понедельник, 30 ноября, примерно с
/// 10:00 до 11:00." ("сегодня"/"завтра" for those days.)
pub fn eta_sms_text(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (f, t, n) = (
        from.with_timezone(&MOSCOW),
        to.with_timezone(&MOSCOW),
        now.with_timezone(&MOSCOW),
    );
    let day = match (f.date_naive() - n.date_naive()).num_days() {
        0 => "сегодня".to_owned(),
        1 => "завтра".to_owned(),
        _ => {
            use chrono::Datelike;
            let month = u8::try_from(f.month())
                .ok()
                .and_then(|m| chrono::Month::try_from(m).ok())
                .map_or("", month_genitive);
            format!("{}, {} {month},", weekday_accusative(f.weekday()), f.day())
        }
    };
    format!(
        "Линия поддержки Школьного портала: мы перезвоним вам {day} примерно с {} до {}.",
        f.format("%H:%M"),
        t.format("%H:%M")
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn msk(d: u32, h: u32) -> DateTime<Utc> {
        MOSCOW
            .with_ymd_and_hms(2026, 12, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn sms_text_names_the_day() {
        let now = msk(1, 8);
        assert_eq!(
            eta_sms_text(msk(1, 10), msk(1, 11), now),
            "Линия поддержки Школьного портала: мы перезвоним вам сегодня примерно с 10:00 до 11:00."
        );
        assert_eq!(
            eta_sms_text(msk(2, 9), msk(2, 10), now),
            "Линия поддержки Школьного портала: мы перезвоним вам завтра примерно с 09:00 до 10:00."
        );
        assert_eq!(
            eta_sms_text(msk(4, 17), msk(4, 18), now),
            "Линия поддержки Школьного портала: мы перезвоним вам в пятницу, 4 декабря, примерно с 17:00 до 18:00."
        );
    }
}
