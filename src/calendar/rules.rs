//! Fixed rules of the Labour Code and the plain-rules fallback for a year without data.
//!
//! [`st112`] is the ст. 112 ч. 1 holiday list. [`YearData::predicted`] synthesises a year
//! by CALENDAR.md §5 rule 6: the fixed holidays; a non-January holiday falling on
//! Saturday/Sunday moves to the next working day (ст. 112 ч. 2); no January transfers
//! and no working Saturdays (those need a decree); a working day immediately before a
//! holiday is shortened (ст. 95). [`YearData::to_toml`] writes a year in the §5 format,
//! for the importer and for an admin who wants a starting point.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, Weekday};

use super::data::{Basis, DayOff, YearData};
use super::{DayKind, YearStatus};

/// The first year a data file may describe.
pub const FIRST_DATA_YEAR: i32 = 1900;
/// The last year a data file may describe.
pub const LAST_DATA_YEAR: i32 = 2200;
/// The ст. 112 list in words, for error messages.
pub const ST112_SUMMARY: &str = "1–8 Jan, 23 Feb, 8 Mar, 1 May, 9 May, 12 Jun, 4 Nov";

const ST112: [(u32, u32, &str); 14] = [
    (1, 1, "Новогодние каникулы"),
    (1, 2, "Новогодние каникулы"),
    (1, 3, "Новогодние каникулы"),
    (1, 4, "Новогодние каникулы"),
    (1, 5, "Новогодние каникулы"),
    (1, 6, "Новогодние каникулы"),
    (1, 7, "Рождество Христово"),
    (1, 8, "Новогодние каникулы"),
    (2, 23, "День защитника Отечества"),
    (3, 8, "Международный женский день"),
    (5, 1, "Праздник Весны и Труда"),
    (5, 9, "День Победы"),
    (6, 12, "День России"),
    (11, 4, "День народного единства"),
];

/// The ст. 112 ч. 1 non-working holidays of `year`, in date order, with their names.
pub fn st112(year: i32) -> Vec<(NaiveDate, &'static str)> {
    ST112
        .iter()
        .filter_map(|&(m, d, name)| Some((NaiveDate::from_ymd_opt(year, m, d)?, name)))
        .collect()
}

/// Whether `date` is a ст. 112 holiday.
pub fn is_st112(date: NaiveDate) -> bool {
    ST112
        .iter()
        .any(|&(m, d, _)| date.month() == m && date.day() == d)
}

/// Saturday or Sunday.
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The English name of a weekday ("Sunday").
pub fn weekday_name(wd: Weekday) -> &'static str {
    match wd {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Every date of `year`, in order.
pub fn dates_of(year: i32) -> impl Iterator<Item = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("year in chrono's range");
    first.iter_days().take_while(move |d| d.year() == year)
}

impl YearData {
    /// The plain-rules year (status `predicted`) used when no file describes `year`.
    pub fn predicted(year: i32) -> YearData {
        let holidays = st112(year);
        let mut days_off: Vec<DayOff> = Vec::new();
        let is_off =
            |d: NaiveDate, offs: &[DayOff]| is_st112(d) || offs.iter().any(|o| o.date == d);
        for &(h, _) in holidays
            .iter()
            .filter(|(d, _)| d.month() != 1 && is_weekend(*d))
        {
            let to = h
                .iter_days()
                .skip(1)
                .find(|&d| !is_weekend(d) && !is_off(d, &days_off))
                .expect("a working day follows");
            days_off.push(DayOff {
                date: to,
                from: Some(h),
                basis: Basis::Tk112,
            });
        }
        days_off.sort_by_key(|o| o.date);
        let short_days = dates_of(year)
            .filter(|&d| !is_weekend(d) && !is_off(d, &days_off))
            .filter(|d| d.succ_opt().is_some_and(is_st112))
            .collect();
        YearData {
            year,
            status: YearStatus::Predicted,
            legal_basis: vec![
                "ТК РФ ст. 112 (holidays, automatic weekend shift), ст. 95 (shortened days)".into(),
            ],
            sources: vec!["plain rules (no decree): CALENDAR.md §5 rule 6".into()],
            holidays_override: false,
            holidays: holidays
                .into_iter()
                .map(|(d, n)| (d, n.to_string()))
                .collect(),
            days_off,
            working_days: Vec::new(),
            short_days,
        }
    }

    /// This year in the per-year TOML format of CALENDAR.md §5, `expected` recomputed
    /// from the entries. [`super::parse_year`] reads it back unchanged.
    pub fn to_toml(&self) -> String {
        let t = self.totals();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "schema_version = 1\ncountry = \"RU\"\nyear = {}",
            self.year
        );
        let _ = writeln!(
            out,
            "status = \"{}\"\nweekend = [\"sat\", \"sun\"]",
            self.status
        );
        for (key, list) in [
            ("legal_basis", &self.legal_basis),
            ("sources", &self.sources),
        ] {
            let _ = writeln!(out, "{key} = [");
            list.iter().for_each(|s| {
                let _ = writeln!(out, "  {},", quote(s));
            });
            out.push_str("]\n");
        }
        let _ = writeln!(
            out,
            "expected = {{ working_days = {}, non_working_days = {}, hours_40h = {} }}",
            t.working_days, t.non_working_days, t.hours_40h
        );
        if self.holidays_override {
            out.push_str("holidays_override = true\n");
        }
        out.push_str("\nholidays = [\n");
        for (d, name) in &self.holidays {
            let _ = writeln!(
                out,
                "  {{ date = \"{d}\", name = {} }},  # {}",
                quote(name),
                dow(*d)
            );
        }
        out.push_str("]\ndays_off = [\n");
        for o in &self.days_off {
            let from = o
                .from
                .map(|f| format!(", from = \"{f}\""))
                .unwrap_or_default();
            let note = o
                .from
                .map(|f| format!(" <- {}", dow(f)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {{ date = \"{}\"{from}, basis = \"{}\" }},  # {}{note}",
                o.date,
                o.basis.as_str(),
                dow(o.date)
            );
        }
        out.push_str("]\n");
        for (key, list) in [
            ("working_days", &self.working_days),
            ("short_days", &self.short_days),
        ] {
            let items: Vec<String> = list.iter().map(|d| format!("\"{d}\"")).collect();
            let _ = writeln!(out, "{key} = [{}]", items.join(", "));
        }
        out
    }
}

/// "Sat 02-20" for comments.
fn dow(d: NaiveDate) -> String {
    format!(
        "{} {:02}-{:02}",
        &weekday_name(d.weekday())[..3],
        d.month(),
        d.day()
    )
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{:04X}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// The kind a legal calendar gives `date` if it were a plain weekday/weekend day.
pub fn base_kind(date: NaiveDate) -> DayKind {
    if is_weekend(date) {
        DayKind::Weekend
    } else {
        DayKind::Working
    }
}
