//! The automatic reply to a registered letter: the request's number (in the subject too, so an
//! answer to it joins the request) and when it will be processed — the callback list's estimate
//! (its working windows, the operators on duty and the handle time, the letter's request counted
//! after every open request), else during working hours today, or from the next opening of the
//! hotline's calendar. Threaded to the letter it answers, marked
//! `Auto-Submitted: auto-replied`, and sent by a durable job (`mail.send`) enqueued in the same
//! commit as the registration.

use chrono::{DateTime, Datelike, Utc};

use super::super::Letter;
use super::super::smtp::new_message_id;
use crate::calendar::{Calendar, MOSCOW};
use crate::config::MailConfig;
use crate::notify::MailPayload;
use crate::speech::russian::{month_genitive, weekday_accusative};
use crate::store::mail::AutoReply;

/// The reply to `letter`, registered under `reg` (`new`: a new request; else joined to one).
#[allow(clippy::too_many_arguments)]
pub fn auto_reply(
    mail: &MailConfig,
    calendar: &Calendar,
    letter: &Letter,
    reg: &str,
    new: bool,
    estimate: Option<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> AutoReply {
    let message_id = new_message_id(&mail.from_address);
    let to = letter
        .reply_to
        .clone()
        .or_else(|| letter.from_address.clone())
        .unwrap_or_default();
    let subject = if new {
        format!("Заявка {reg} зарегистрирована")
    } else {
        format!("Письмо добавлено к заявке {reg}")
    };
    let when = if let Some((from, to)) = estimate {
        let hours = if calendar.is_open(now) {
            "Линия поддержки сейчас работает."
        } else {
            "Заявки обрабатываются в рабочее время (09:00–18:00 по московскому времени в рабочие \
             дни)."
        };
        format!(
            "{hours} Ориентировочно мы ответим вам {}.",
            crate::switchboard::eta_phrase(from, to, now)
        )
    } else if calendar.is_open(now) {
        "Линия поддержки сейчас работает: мы ответим вам в рабочее время, обычно в тот же день."
            .to_owned()
    } else {
        match calendar.next_open(now) {
            Some(t) => {
                let t = t.with_timezone(&MOSCOW);
                let month = u8::try_from(t.month())
                    .ok()
                    .and_then(|m| chrono::Month::try_from(m).ok())
                    .map_or("", month_genitive);
                format!(
                    "Заявки обрабатываются в рабочее время (09:00–18:00 по московскому времени в \
                     рабочие дни). Мы ответим вам {}, {} {month}, начиная с {}.",
                    weekday_accusative(t.weekday()),
                    t.day(),
                    t.format("%H:%M")
                )
            }
            None => "Заявки обрабатываются в рабочее время.".to_owned(),
        }
    };
    let text = if new {
        format!(
            "Здравствуйте!\n\nВаше обращение зарегистрировано под номером {reg}.\n{when}\n\n\
             Если будете писать нам по этому вопросу снова, ответьте на это письмо или укажите \
             номер {reg} в теме письма.\n\n— {}\n",
            mail.from_name
        )
    } else {
        format!(
            "Здравствуйте!\n\nВаше письмо добавлено к заявке {reg}.\n{when}\n\n— {}\n",
            mail.from_name
        )
    };
    let mut references = letter.references.clone();
    if let Some(id) = &letter.message_id
        && !references.contains(id)
    {
        references.push(id.clone());
    }
    let job = MailPayload {
        to: to.clone(),
        subject: subject.clone(),
        text: text.clone(),
        in_reply_to: letter.message_id.clone(),
        references,
        message_id: Some(message_id.clone()),
        automatic: true,
    }
    .job(format!("mail:reply:{message_id}"), now);
    AutoReply {
        message_id,
        to,
        subject,
        text,
        job,
    }
}
