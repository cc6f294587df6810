//! The production calendar's status for supervisors, in Russian: which years have loaded data
//! (and their status and source), which of this and next year fall back to the plain rules, the
//! next weekdays that are not working days and the next shortened days, and — from 1 October
//! (Moscow date) — a warning when next year's data is missing. Pure: the caller passes "today"
//! from the service's clock.

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use serde::Serialize;

use crate::calendar::{Calendar, DayKind, YearInfo, YearStatus, rules};

/// How many of each kind of notable day are listed.
const NEXT_DAYS: usize = 8;

/// The calendar's state as the administration pages and `GET /api/v1/calendar/status` show it.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarOverview {
    /// The Moscow date the overview is for.
    pub today: NaiveDate,
    /// Years with production-calendar data.
    pub years: Vec<YearInfo>,
    /// Of this year and next year, those using the plain rules.
    pub fallback_years: Vec<i32>,
    /// True from 1 October when next year has no data.
    pub next_year_missing: bool,
    /// Russian lines to show prominently; empty when all is well.
    pub warnings: Vec<String>,
    /// The next weekdays (Monday–Friday) that are not working days, within a year.
    pub days_off: Vec<NotableDay>,
    /// The next shortened pre-holiday days, within a year.
    pub short_days: Vec<NotableDay>,
}

/// A date worth knowing about, with a Russian note.
#[derive(Debug, Clone, Serialize)]
pub struct NotableDay {
    pub date: NaiveDate,
    /// E.g. `5 января 2027, вт`.
    pub label: String,
    /// Why: the holiday's name, or the day it replaces.
    pub note: String,
}

/// The overview as of the Moscow date `today`.
pub fn overview(cal: &Calendar, today: NaiveDate) -> CalendarOverview {
    let status = cal.status(today);
    let this = today.year();
    let next = this + 1;
    let next_year_missing = today.month() >= 10 && cal.year_data(next).is_none();
    let mut warnings = Vec::new();
    if cal.year_data(this).is_none() {
        warnings.push(missing(this));
    }
    if next_year_missing {
        warnings.push(missing(next));
    }
    if let Some(d) = cal.year_data(this)
        && d.status != YearStatus::Official
    {
        warnings.push(format!(
            "Календарь на {this} год — {}, а не официальный.",
            status_ru(d.status)
        ));
    }
    if today.month() >= 10
        && let Some(d) = cal.year_data(next)
        && d.status != YearStatus::Official
    {
        warnings.push(format!(
            "Календарь на {next} год — пока {}, а не официальный.",
            status_ru(d.status)
        ));
    }
    let coming = || {
        today
            .iter_days()
            .take_while(move |d| *d < today + TimeDelta::days(366))
    };
    let days_off = coming()
        .filter(|d| {
            d.weekday().num_days_from_monday() < 5 && cal.legal_kind(*d) == DayKind::Holiday
        })
        .take(NEXT_DAYS)
        .map(|d| notable(cal, d))
        .collect();
    let short_days = coming()
        .filter(|d| cal.legal_kind(*d) == DayKind::Shortened)
        .take(NEXT_DAYS)
        .map(|d| NotableDay {
            date: d,
            label: ru_date(d),
            note: "предпраздничный день, короче на час".into(),
        })
        .collect();
    CalendarOverview {
        today,
        years: status.years,
        fallback_years: status.fallback_years,
        next_year_missing,
        warnings,
        days_off,
        short_days,
    }
}

fn missing(year: i32) -> String {
    format!(
        "Нет данных производственного календаря на {year} год: действуют общие правила \
         (праздники по ст. 112 ТК РФ и автоматический перенос выходных, без переносов по \
         постановлению). Добавьте файл {year}.toml в каталог календаря."
    )
}

/// A year's status in Russian.
pub fn status_ru(s: YearStatus) -> &'static str {
    match s {
        YearStatus::Official => "официальный",
        YearStatus::Draft => "проект",
        YearStatus::Predicted => "прогноз",
    }
}

fn notable(cal: &Calendar, d: NaiveDate) -> NotableDay {
    let holiday = match cal.year_data(d.year()) {
        Some(y) => y
            .holidays
            .iter()
            .find(|(h, _)| *h == d)
            .map(|(_, n)| n.clone()),
        None => rules::st112(d.year())
            .into_iter()
            .find(|(h, _)| *h == d)
            .map(|(_, n)| n.to_owned()),
    };
    let moved = cal
        .year_data(d.year())
        .and_then(|y| y.days_off.iter().find(|o| o.date == d).and_then(|o| o.from));
    let note = match (holiday, moved) {
        (Some(name), _) => name,
        (None, Some(from)) => format!("перенесённый выходной (с {})", ru_date(from)),
        (None, None) => "выходной день (перенос)".into(),
    };
    NotableDay {
        date: d,
        label: ru_date(d),
        note,
    }
}

/// A date in Russian: `5 января 2027, вт`.
pub fn ru_date(d: NaiveDate) -> String {
    let wd = match d.weekday() {
        Weekday::Mon => "пн",
        Weekday::Tue => "вт",
        Weekday::Wed => "ср",
        Weekday::Thu => "чт",
        Weekday::Fri => "пт",
        Weekday::Sat => "сб",
        Weekday::Sun => "вс",
    };
    format!(
        "{} {}, {wd}",
        crate::speech::russian::day_month(d),
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::HotlineHours;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn warns_from_october_when_next_year_is_missing() {
        let cal = Calendar::builtin(HotlineHours::default());
        let before = overview(&cal, date(2027, 9, 30));
        assert!(
            !before.next_year_missing && before.warnings.is_empty(),
            "{before:?}"
        );
        assert_eq!(before.fallback_years, vec![2028]);
        let after = overview(&cal, date(2027, 10, 1));
        assert!(after.next_year_missing);
        assert!(
            after.warnings.iter().any(|w| w.contains("2028")),
            "{after:?}"
        );
        let fine = overview(&cal, date(2026, 10, 1));
        assert!(!fine.next_year_missing && fine.fallback_years.is_empty());
    }

    #[test]
    fn lists_coming_days_off_and_short_days() {
        let cal = Calendar::builtin(HotlineHours::default());
        let o = overview(&cal, date(2026, 12, 1));
        assert!(
            o.days_off
                .iter()
                .all(|d| d.date.weekday().num_days_from_monday() < 5)
        );
        assert!(
            o.days_off.iter().any(|d| d.date == date(2027, 1, 1)),
            "{o:?}"
        );
        assert!(!o.short_days.is_empty());
        assert_eq!(ru_date(date(2027, 1, 5)), "5 января 2027, вт");
    }
}
