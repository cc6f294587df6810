//! What the schedule pages show, computed from the [`Calendar`] at one instant: open now or
//! when it opens next, this Moscow week's days with their hours, the next non-working and
//! shortened days, and the phone numbers. Every kind and hour comes from the calendar's
//! [`Calendar::day`] and [`Calendar::window_at_or_after`]; only the Russian wording is here.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};

use crate::calendar::{Calendar, Day, DayHours, DayKind, MOSCOW, moscow_date};
use crate::config::ScheduleConfig;
use crate::speech::russian::{day_month, weekday_accusative, weekday_nominative};

/// How far ahead the lists of special days look.
pub const LOOKAHEAD_DAYS: i64 = 120;

/// The hours cell of a public holiday (its name is the note).
const HOLIDAY: &str = "праздник";

/// Everything a schedule page shows.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: Status,
    pub phones: Vec<Phone>,
    /// "7 декабря – 13 декабря".
    pub week_label: String,
    /// Monday to Sunday of the current Moscow week.
    pub week: Vec<WeekDay>,
    /// The next dates on which the weekly schedule would open but the calendar closes.
    pub off_days: Vec<Special>,
    /// The next shortened (pre-holiday) days with their hours.
    pub short_days: Vec<Special>,
}

/// Open now, or when next.
#[derive(Debug, Clone)]
pub struct Status {
    pub open: bool,
    /// "Сейчас открыто до 18:00" or "Сейчас закрыто".
    pub headline: String,
    /// "Откроется в понедельник, 8 декабря, в 09:00" when closed.
    pub next: Option<String>,
}

/// A number as shown and as dialled (`tel:`).
#[derive(Debug, Clone)]
pub struct Phone {
    pub shown: String,
    pub tel: String,
}

/// One day of the week table.
#[derive(Debug, Clone)]
pub struct WeekDay {
    /// "понедельник".
    pub weekday: &'static str,
    /// "8 декабря".
    pub date: String,
    /// "09:00–18:00", "выходной", "праздник".
    pub hours: String,
    /// "сокращённый день", a holiday's name, ….
    pub note: Option<String>,
    pub today: bool,
    pub open: bool,
}

/// A coming special day.
#[derive(Debug, Clone)]
pub struct Special {
    pub date: String,
    pub weekday: &'static str,
    /// A holiday's name, "выходной, перенесён с 4 января", or the shortened hours.
    pub note: String,
}

/// The page at `now`, listing at most `max_special` days of each kind.
pub fn page(
    calendar: &Calendar,
    cfg: &ScheduleConfig,
    now: DateTime<Utc>,
    max_special: usize,
) -> Page {
    let today = moscow_date(now);
    let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
    let sunday = monday + TimeDelta::days(6);
    let week = monday
        .iter_days()
        .take(7)
        .map(|d| {
            let day = calendar.day(d);
            let (hours, note) = describe(calendar, &day);
            WeekDay {
                weekday: weekday_nominative(d.weekday()),
                date: day_month(d),
                hours,
                note,
                today: d == today,
                open: day.hours.is_some(),
            }
        })
        .collect();
    let ahead = || {
        today
            .iter_days()
            .take(LOOKAHEAD_DAYS as usize)
            .map(|d| calendar.day(d))
    };
    let special = |day: &Day, note: String| Special {
        date: day_month(day.date),
        weekday: weekday_nominative(day.date.weekday()),
        note,
    };
    let weekly = calendar.hours().weekly;
    let off_days = ahead()
        .filter(|d| {
            d.hours.is_none() && weekly[d.date.weekday().num_days_from_monday() as usize].is_some()
        })
        .take(max_special)
        .map(|d| {
            let note = match describe(calendar, &d) {
                (hours, Some(name)) if hours == HOLIDAY => name,
                (hours, Some(note)) => format!("{hours}, {note}"),
                (hours, None) => hours,
            };
            special(&d, note)
        })
        .collect();
    let short_days = ahead()
        .filter(|d| d.kind == DayKind::Shortened)
        .filter_map(|d| Some(special(&d, hours_text(d.hours?))))
        .take(max_special)
        .collect();
    Page {
        status: status(calendar, now),
        phones: cfg.phone_numbers.iter().map(|n| phone(n)).collect(),
        week_label: format!("{} – {}", day_month(monday), day_month(sunday)),
        week,
        off_days,
        short_days,
    }
}

/// The hours cell of a day and its note: ("09:00–17:00", "сокращённый день"), ("праздник",
/// "Рождество Христово"), ("выходной", "перенесён с 4 января"), ("выходной", none).
pub fn describe(calendar: &Calendar, day: &Day) -> (String, Option<String>) {
    let weekend = matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun);
    match (day.kind, day.hours) {
        (DayKind::Shortened, Some(h)) => (hours_text(h), Some("сокращённый день".into())),
        (DayKind::Working, Some(h)) if weekend => {
            (hours_text(h), Some("рабочий день по переносу".into()))
        }
        (_, Some(h)) => (hours_text(h), None),
        (DayKind::Holiday, None) => {
            let moved_from = (calendar.year_data(day.date.year()))
                .and_then(|y| y.days_off.iter().find(|d| d.date == day.date))
                .and_then(|d| d.from);
            match (calendar.holiday_name(day.date), moved_from) {
                (Some(name), _) => (HOLIDAY.into(), Some(name.into())),
                (None, Some(from)) => (
                    "выходной".into(),
                    Some(format!("перенесён с {}", day_month(from))),
                ),
                (None, None) if weekend => ("выходной".into(), None),
                (None, None) => ("нерабочий день".into(), None),
            }
        }
        (_, None) => ("выходной".into(), None),
    }
}

/// "09:00–18:00" (an en dash).
pub fn hours_text(h: DayHours) -> String {
    format!("{}–{}", hhmm(h.open), hhmm(h.close))
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// Open now ("Сейчас открыто до 18:00") or closed and when it opens next.
pub fn status(calendar: &Calendar, now: DateTime<Utc>) -> Status {
    let local = |t: DateTime<Utc>| t.with_timezone(&MOSCOW).naive_local();
    match calendar.window_at_or_after(now) {
        Some(w) if w.contains(now) => Status {
            open: true,
            headline: format!("Сейчас открыто до {}", hhmm(local(w.end).time())),
            next: None,
        },
        w => Status {
            open: false,
            headline: "Сейчас закрыто".into(),
            next: w.map(|w| opens_phrase(moscow_date(now), local(w.start))),
        },
    }
}

/// When the line opens, seen from `today` (Moscow): "Откроется сегодня в 09:00", "Откроется
/// завтра, во вторник, 9 декабря, в 09:00", "Откроется в понедельник, 8 декабря, в 09:00".
pub fn opens_phrase(today: NaiveDate, opens: NaiveDateTime) -> String {
    let time = hhmm(opens.time());
    let date = opens.date();
    let day = format!(
        "{}, {}",
        weekday_accusative(date.weekday()),
        day_month(date)
    );
    match (date - today).num_days() {
        0 => format!("Откроется сегодня в {time}"),
        1 => format!("Откроется завтра, {day}, в {time}"),
        _ => format!("Откроется {day}, в {time}"),
    }
}

/// A configured number; `+7` and ten digits is grouped as `+7 495 000-00-00`, anything else
/// is shown as written. The `tel:` form keeps the leading `+` and the digits.
pub fn phone(n: &str) -> Phone {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let tel = if n.starts_with('+') {
        format!("+{digits}")
    } else {
        digits.clone()
    };
    let shown = match n.strip_prefix("+7") {
        Some(rest) if rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()) => format!(
            "+7 {} {}-{}-{}",
            &rest[..3],
            &rest[3..6],
            &rest[6..8],
            &rest[8..]
        ),
        _ => n.to_owned(),
    };
    Phone { shown, tel }
}
