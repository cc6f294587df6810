//! The short Russian explanation of a request's place in the list, shown to operators next to each
//! item: "срок истекает через 35 мин; звонил 3 раза; сотрудник школы". Parts appear in a fixed
//! order (deadline, when it may be called if not yet due, repeats, staff, missing message,
//! attempts, made by hand) and only when they apply.

use chrono::{DateTime, TimeDelta, Utc};

use super::Source;
use crate::calendar::{Calendar, MOSCOW};

/// What the explanation is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReasonInput {
    pub due_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub repeat_count: i64,
    pub staff: bool,
    pub silent: bool,
    /// Unanswered attempts so far.
    pub misses: i64,
    pub max_attempts: u32,
    /// Whether the due time was agreed with the caller (a follow-up).
    pub follow_up: bool,
    /// Where the request came from (anything but a voicemail was made by hand).
    pub source: Source,
}

/// "2 ч 15 мин", "35 мин", "3 ч", "менее минуты".
fn span(d: TimeDelta) -> String {
    let minutes = d.num_minutes();
    if minutes < 1 {
        return "менее минуты".into();
    }
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} мин"),
        (h, 0) => format!("{h} ч"),
        (h, m) => format!("{h} ч {m} мин"),
    }
}

/// "раз" / "раза" by the number (2–4 → "раза", else "раз", 12–14 → "раз").
fn times(n: i64) -> &'static str {
    let (last, last2) = (n % 10, n % 100);
    if (2..=4).contains(&last) && !(12..=14).contains(&last2) {
        "раза"
    } else {
        "раз"
    }
}

/// A local time, with the date when it is not today: "14:30" or "пн 30.11 09:00".
fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (lt, ln) = (t.with_timezone(&MOSCOW), now.with_timezone(&MOSCOW));
    if lt.date_naive() == ln.date_naive() {
        lt.format("%H:%M").to_string()
    } else {
        const WD: [&str; 7] = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];
        let wd = WD[chrono::Datelike::weekday(&lt).num_days_from_monday() as usize];
        format!("{wd} {}", lt.format("%d.%m %H:%M"))
    }
}

/// The explanation of a request's place at `now`; the time to the deadline is working time.
pub fn reason(r: &ReasonInput, cal: &Calendar, now: DateTime<Utc>) -> String {
    let mut parts = Vec::new();
    if now < r.deadline {
        parts.push(format!(
            "срок истекает через {}",
            span(cal.working_between(now, r.deadline))
        ));
    } else {
        parts.push(format!(
            "срок истёк {} назад",
            span(cal.working_between(r.deadline, now))
        ));
    }
    if r.due_at > now {
        let what = if r.follow_up {
            "договорились перезвонить"
        } else {
            "звонить не раньше"
        };
        parts.push(format!("{what} {}", when(r.due_at, now)));
    }
    if r.repeat_count > 0 {
        let n = r.repeat_count + 1;
        if r.source == Source::Email {
            parts.push(format!("обращался {n} {}", times(n)));
        } else {
            parts.push(format!("звонил {n} {}", times(n)));
        }
    }
    if r.staff {
        parts.push("сотрудник школы".into());
    }
    if r.silent {
        parts.push("без сообщения".into());
    }
    if r.misses > 0 {
        parts.push(format!(
            "попыток без ответа: {} из {}",
            r.misses, r.max_attempts
        ));
    }
    match r.source {
        Source::Voicemail => {}
        Source::Abandoned => parts.push("положил трубку, не дождавшись ответа".into()),
        Source::Email => parts.push("письмо на почту поддержки".into()),
        s => parts.push(format!("создана вручную ({})", s.label())),
    }
    parts.join("; ")
}
