//! The caller's callback estimate and registration number: at the end of the message the caller
//! hears the estimated callback time and the request's number, and gets both by SMS when SMS is
//! configured (a job enqueued in the step, so it survives a crash). The voicemail's own writes
//! are planned in `plan.rs`.

use chrono::{DateTime, Utc};

use super::Switchboard;
use crate::calendar::MOSCOW;
use crate::domain::call::CallState;
use crate::speech::russian::{month_genitive, weekday_accusative};

/// What the caller is told at the end of a message: the estimated callback range (when the
/// list can estimate one), the request's registration number, and the number the callback goes
/// to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEstimate {
    /// From–to; `None` when the list cannot estimate (no working window ahead).
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The request's registration number (`ШП-2026-000123`).
    pub reg_number: Option<String>,
    /// E.164; personal data.
    pub number: String,
}

impl Switchboard {
    /// The range the caller is told at the end of the message, read before the step: from the
    /// request's place in the list, the operators and the handle time. `None` when the call is not
    /// leaving a message or its voicemail is not on the list.
    pub(super) async fn callback_eta(
        &self,
        provider: &str,
        call_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<CallbackEstimate>> {
        let Some(call) = self.store.call_by_provider_id(provider, call_id).await? else {
            return Ok(None);
        };
        if call.state != CallState::Voicemail.as_str() {
            return Ok(None);
        }
        let Some(r) = self.store.callback_for_call(call.id).await? else {
            return Ok(None);
        };
        let range = self
            .callbacks
            .eta(&r, now)
            .await?
            .map(|e| crate::domain::callback::eta_range(&e));
        Ok(Some(CallbackEstimate {
            range,
            reg_number: r.reg_number.clone(),
            number: r.callback_number.clone(),
        }))
    }
}

/// The SMS after a message: "Линия поддержки Школьного портала: ваша заявка ШП-2026-000123
/// зарегистрирована, мы перезвоним вам в понедельник, 30 ноября, примерно с 10:00 до 11:00."
/// Without an estimate: "… мы перезвоним вам в рабочее время."; without a number (a request made
/// before numbers existed): [`eta_sms_text`] alone.
pub fn callback_sms_text(e: &CallbackEstimate, now: DateTime<Utc>) -> String {
    let when = match e.range {
        Some((from, to)) => eta_sms_text(from, to, now),
        None => "Линия поддержки Школьного портала: мы перезвоним вам в рабочее время.".to_owned(),
    };
    match &e.reg_number {
        Some(reg) => when.replacen(
            ": мы перезвоним",
            &format!(": ваша заявка {reg} зарегистрирована, мы перезвоним"),
            1,
        ),
        None => when,
    }
}

/// "Линия поддержки Школьного портала: мы перезвоним вам в понедельник, 30 ноября, примерно с
/// 10:00 до 11:00." ("сегодня"/"завтра" for those days.)
pub fn eta_sms_text(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "Линия поддержки Школьного портала: мы перезвоним вам {}.",
        eta_phrase(from, to, now)
    )
}

/// "в понедельник, 30 ноября, примерно с 10:00 до 11:00" ("сегодня"/"завтра" for those days):
/// an estimated range in Moscow time as seen at `now`.
pub fn eta_phrase(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> String {
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
        "{day} примерно с {} до {}",
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

    #[test]
    fn sms_text_gives_the_registration_number() {
        let now = msk(1, 8);
        let mut e = CallbackEstimate {
            range: Some((msk(1, 10), msk(1, 11))),
            reg_number: Some("ШП-2026-000123".into()),
            number: "+79161234567".into(),
        };
        assert_eq!(
            callback_sms_text(&e, now),
            "Линия поддержки Школьного портала: ваша заявка ШП-2026-000123 зарегистрирована, \
             мы перезвоним вам сегодня примерно с 10:00 до 11:00."
        );
        e.range = None;
        assert_eq!(
            callback_sms_text(&e, now),
            "Линия поддержки Школьного портала: ваша заявка ШП-2026-000123 зарегистрирована, \
             мы перезвоним вам в рабочее время."
        );
        e.reg_number = None;
        assert_eq!(
            callback_sms_text(&e, now),
            "Линия поддержки Школьного портала: мы перезвоним вам в рабочее время."
        );
    }
}
