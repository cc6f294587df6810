//! Staff notifications, decided: given the calendar, the settings, "now" and the state of the
//! list, which notices are due — the morning digest at each working day's opening, and an alert
//! while the due backlog or the oldest due request is past its threshold during hours — each
//! with the key that makes it durable and sent once (a job's dedup key: the same notice decided
//! again, by this instance a minute later or by another instance, is the same job). Pure: no
//! clock, no I/O; the texts are Russian.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::calendar::{Calendar, MOSCOW};

/// Who is told and when (config `[notify]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// Supervisors' e-mail addresses.
    pub emails: Vec<String>,
    /// Supervisors' phone numbers for SMS (E.164).
    pub sms: Vec<String>,
    /// Alert when this many requests are due (open and due now) during hours; 0: never.
    pub backlog_threshold: u32,
    /// Alert when the oldest due request has waited this much working time since it became
    /// due; zero: never.
    pub oldest_due: TimeDelta,
    /// While a threshold stays passed, the alert is repeated at most this often.
    pub repeat: TimeDelta,
    /// Send the morning digest at each working day's opening.
    pub digest: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            emails: Vec::new(),
            sms: Vec::new(),
            backlog_threshold: 20,
            oldest_due: TimeDelta::hours(2),
            repeat: TimeDelta::hours(1),
            digest: true,
        }
    }
}

impl NotifySettings {
    /// Whether anyone is to be told anything.
    pub fn has_recipients(&self) -> bool {
        !self.emails.is_empty() || !self.sms.is_empty()
    }
}

/// The list as the notices see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Active requests (open or with an operator).
    pub waiting: i64,
    /// Open requests due now.
    pub due_now: i64,
    /// Open requests due before today's last window closes.
    pub due_today: i64,
    /// Active requests past their SLA deadline.
    pub overdue: i64,
    /// When the longest-due open request became due.
    pub oldest_due: Option<DateTime<Utc>>,
    /// Requests that came by e-mail since the previous working window closed.
    pub mail_overnight: i64,
}

/// A notice to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Sent once per key (and recipient).
    pub key: String,
    /// The e-mail's subject.
    pub subject: String,
    /// The e-mail's text.
    pub text: String,
    /// The SMS (short).
    pub sms: String,
}

/// The notices due at `now`. `backlog` is the list at `now`.
pub fn due_notices(
    calendar: &Calendar,
    s: &NotifySettings,
    now: DateTime<Utc>,
    backlog: &Backlog,
) -> Vec<Notice> {
    let mut out = Vec::new();
    if !s.has_recipients() || !calendar.is_open(now) {
        return out;
    }
    let today = now.with_timezone(&MOSCOW).date_naive();
    if s.digest && first_window_of(calendar, today).is_some_and(|start| start <= now) {
        out.push(digest(today, backlog));
    }
    let bucket = bucket(now, s.repeat);
    if s.backlog_threshold > 0 && backlog.due_now >= i64::from(s.backlog_threshold) {
        let sms = format!(
            "Школьный портал: к звонку {} {} (порог {}).",
            backlog.due_now,
            requests(backlog.due_now),
            s.backlog_threshold
        );
        out.push(Notice {
            key: format!("notify:backlog:{bucket}"),
            subject: format!("Очередь обратных звонков: {} к звонку", backlog.due_now),
            text: format!(
                "Заявок к звонку сейчас: {} (порог {}). Всего в работе и в очереди: {}, \
                 просрочено: {}.\n",
                backlog.due_now, s.backlog_threshold, backlog.waiting, backlog.overdue
            ),
            sms,
        });
    }
    if let Some(since) = backlog.oldest_due
        && s.oldest_due > TimeDelta::zero()
    {
        let waited = calendar.working_between(since, now);
        if waited >= s.oldest_due {
            let minutes = waited.num_minutes();
            let human = duration_ru(minutes);
            out.push(Notice {
                key: format!("notify:oldest:{bucket}"),
                subject: format!("Заявка ждёт звонка {human}"),
                text: format!(
                    "Самая давняя заявка к звонку ждёт {human} рабочего времени (порог {}). \
                     К звонку: {}, просрочено: {}.\n",
                    duration_ru(s.oldest_due.num_minutes()),
                    backlog.due_now,
                    backlog.overdue
                ),
                sms: format!("Школьный портал: заявка ждёт звонка {human}."),
            });
        }
    }
    out
}

/// The start of `day`'s first working window, if the hotline opens that day.
pub fn first_window_of(calendar: &Calendar, day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(MOSCOW)
        .earliest()?
        .with_timezone(&Utc);
    calendar
        .window_at_or_after(midnight)
        .map(|w| w.start)
        .filter(|start| start.with_timezone(&MOSCOW).date_naive() == day)
}

fn digest(day: NaiveDate, b: &Backlog) -> Notice {
    let date = day.format("%d.%m.%Y");
    Notice {
        key: format!("notify:digest:{day}"),
        subject: format!("Обратные звонки на {date}"),
        text: format!(
            "Сводка на начало рабочего дня {date}.\n\n\
             Ждут обратного звонка: {}\n\
             К звонку сегодня: {}\n\
             Просрочено: {}\n\
             Поступило по почте с прошлого рабочего дня: {}\n",
            b.waiting, b.due_today, b.overdue, b.mail_overnight
        ),
        sms: format!(
            "Школьный портал {date}: ждут {}, сегодня {}, просрочено {}, по почте {}.",
            b.waiting, b.due_today, b.overdue, b.mail_overnight
        ),
    }
}

/// The index of the `repeat`-long period `now` falls in (counted from the Unix epoch).
fn bucket(now: DateTime<Utc>, repeat: TimeDelta) -> i64 {
    let len = repeat.num_milliseconds().max(60_000);
    now.timestamp_millis().div_euclid(len)
}

fn requests(n: i64) -> &'static str {
    crate::speech::russian::plural(
        u32::try_from(n.rem_euclid(100)).unwrap_or(0),
        ["заявка", "заявки", "заявок"],
    )
}

/// "45 мин", "2 ч", "2 ч 5 мин".
fn duration_ru(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} мин"),
        (h, 0) => format!("{h} ч"),
        (h, m) => format!("{h} ч {m} мин"),
    }
}

#[cfg(test)]
mod tests;
