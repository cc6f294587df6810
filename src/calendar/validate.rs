//! Reading and validating a per-year file (CALENDAR.md §5 "Loader rules").
//!
//! [`parse_year`] applies the rules in order: (1) `schema_version`/`country`, every date
//! in the year, no date twice in a list; (2) `days_off` only Monday–Friday,
//! `working_days` only Saturday/Sunday and not a holiday, `short_days` must be working
//! days; (1, continued) no date in two lists, except a working weekend day that is also
//! short; (3) `holidays` equal the ст. 112 list unless `holidays_override = true`;
//! (4) the recomputed totals equal `expected`. Unknown keys are rejected. Every error
//! names the file and the date or rule at fault.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::data::{Basis, DayOff, Totals, YearData};
use super::rules::{self, is_weekend, weekday_name};
use super::{CalendarError, YearStatus};

/// A date written `"YYYY-MM-DD"` (quoted, as in §5) or as a bare TOML date.
#[derive(Debug, Clone, Copy)]
struct IsoDate(NaiveDate);

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IsoDate, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IsoDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date \"YYYY-MM-DD\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<IsoDate, E> {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(IsoDate)
                    .map_err(|_| E::custom(format!("{s:?} is not a date YYYY-MM-DD")))
            }
            // The toml crate hands a bare TOML date over as a one-entry map holding its text.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IsoDate, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((_, text)) => self.visit_str(&text),
                    None => Err(de::Error::custom("expected a date YYYY-MM-DD")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    schema_version: u32,
    country: String,
    year: i32,
    status: YearStatus,
    #[serde(default = "default_weekend")]
    weekend: Vec<String>,
    #[serde(default)]
    legal_basis: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    expected: Totals,
    #[serde(default)]
    holidays_override: bool,
    holidays: Vec<RawHoliday>,
    #[serde(default)]
    days_off: Vec<RawDayOff>,
    #[serde(default)]
    working_days: Vec<IsoDate>,
    #[serde(default)]
    short_days: Vec<IsoDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: IsoDate,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDayOff {
    date: IsoDate,
    #[serde(default)]
    from: Option<IsoDate>,
    basis: Basis,
}

fn default_weekend() -> Vec<String> {
    vec!["sat".into(), "sun".into()]
}

/// Parses and validates one per-year file; `file` (a name or path) prefixes every error.
pub fn parse_year(file: &str, text: &str) -> Result<YearData, CalendarError> {
    let raw: RawYear = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().to_string();
        CalendarError::Parse {
            file: file.to_string(),
            message: match line {
                Some(l) => format!("line {l}: {message}"),
                None => message,
            },
        }
    })?;
    validate(raw).map_err(|message| CalendarError::Invalid {
        file: file.to_string(),
        message,
    })
}

fn validate(raw: RawYear) -> Result<YearData, String> {
    let y = raw.year;
    // Rule 1: header, dates within the year, no date twice.
    if raw.schema_version != 1 {
        return Err(format!(
            "schema_version = {} is not supported (expected 1)",
            raw.schema_version
        ));
    }
    if raw.country != "RU" {
        return Err(format!(
            "country = {:?}: only \"RU\" (the Russian federal calendar) is supported",
            raw.country
        ));
    }
    if !(rules::FIRST_DATA_YEAR..=rules::LAST_DATA_YEAR).contains(&y) {
        return Err(format!(
            "year = {y} is outside the supported range {}–{}",
            rules::FIRST_DATA_YEAR,
            rules::LAST_DATA_YEAR
        ));
    }
    let mut weekend: Vec<String> = raw.weekend.iter().map(|w| w.to_lowercase()).collect();
    weekend.sort();
    if weekend != ["sat", "sun"] {
        return Err(format!(
            "weekend = {:?}: only [\"sat\", \"sun\"] is supported",
            raw.weekend
        ));
    }
    let holidays: Vec<(NaiveDate, String)> = raw
        .holidays
        .into_iter()
        .map(|h| (h.date.0, h.name))
        .collect();
    let days_off: Vec<DayOff> = raw
        .days_off
        .into_iter()
        .map(|o| DayOff {
            date: o.date.0,
            from: o.from.map(|f| f.0),
            basis: o.basis,
        })
        .collect();
    let working: Vec<NaiveDate> = raw.working_days.iter().map(|d| d.0).collect();
    let short: Vec<NaiveDate> = raw.short_days.iter().map(|d| d.0).collect();
    let lists: [(&str, Vec<NaiveDate>); 4] = [
        ("holidays", holidays.iter().map(|h| h.0).collect()),
        ("days_off", days_off.iter().map(|o| o.date).collect()),
        ("working_days", working.clone()),
        ("short_days", short.clone()),
    ];
    for (list, dates) in &lists {
        for (i, &d) in dates.iter().enumerate() {
            if d.year() != y {
                return Err(format!(
                    "{list} {d} is outside year {y}; every date must be in {y}"
                ));
            }
            if dates[..i].contains(&d) {
                return Err(format!("{list} lists {d} twice"));
            }
        }
    }
    // Rule 2: the weekday of each exception.
    for o in &days_off {
        if is_weekend(o.date) {
            let wd = weekday_name(o.date.weekday());
            return Err(format!(
                "days_off {} is a {wd}; days_off must be Monday–Friday",
                o.date
            ));
        }
    }
    for &d in &working {
        if !is_weekend(d) {
            let wd = weekday_name(d.weekday());
            return Err(format!(
                "working_days {d} is a {wd}; working_days must be Saturday or Sunday"
            ));
        }
        if holidays.iter().any(|h| h.0 == d) {
            return Err(format!(
                "working_days {d} is a holiday; working_days must not be holidays"
            ));
        }
    }
    for &d in &short {
        if is_weekend(d) && !working.contains(&d) {
            let wd = weekday_name(d.weekday());
            return Err(format!(
                "short_days {d} is a {wd} that is not in working_days; short days must be working days"
            ));
        }
    }
    // Rule 1, continued: no date in two lists.
    let mut seen: BTreeMap<NaiveDate, &str> = BTreeMap::new();
    for (list, dates) in &lists {
        for &d in dates {
            match seen.get(&d) {
                Some(&"working_days") if *list == "short_days" => {}
                Some(&other) => {
                    let hint = if *list == "short_days" {
                        "; short days must be working days"
                    } else {
                        ""
                    };
                    return Err(format!(
                        "{d} is in both {other} and {list}; a date may be in one list only \
                         (except a working Saturday/Sunday that is also in short_days){hint}"
                    ));
                }
                None => {
                    seen.insert(d, list);
                }
            }
        }
    }
    // Rule 3: the ст. 112 list.
    for (d, name) in &holidays {
        if name.trim().is_empty() {
            return Err(format!("holidays {d} has an empty name"));
        }
    }
    if !raw.holidays_override {
        let legal = rules::st112(y);
        let hint = format!(
            "holidays must be the ст. 112 list ({}) unless holidays_override = true",
            rules::ST112_SUMMARY
        );
        for (d, name) in &legal {
            if !holidays.iter().any(|h| h.0 == *d) {
                return Err(format!("holidays: {d} ({name}) is missing; {hint}"));
            }
        }
        for (d, _) in &holidays {
            if !legal.iter().any(|l| l.0 == *d) {
                return Err(format!("holidays {d} is not a ст. 112 holiday; {hint}"));
            }
        }
    }
    let mut data = YearData {
        year: y,
        status: raw.status,
        legal_basis: raw.legal_basis,
        sources: raw.sources,
        holidays_override: raw.holidays_override,
        holidays,
        days_off,
        working_days: working,
        short_days: short,
    };
    data.holidays.sort();
    data.days_off.sort_by_key(|o| o.date);
    data.working_days.sort();
    data.short_days.sort();
    // Rule 4: the official totals.
    let got = data.totals();
    let want = raw.expected;
    let mismatches: Vec<String> = [
        ("working_days", want.working_days, got.working_days),
        (
            "non_working_days",
            want.non_working_days,
            got.non_working_days,
        ),
        ("hours_40h", want.hours_40h, got.hours_40h),
    ]
    .into_iter()
    .filter(|(_, w, g)| w != g)
    .map(|(field, w, g)| format!("expected.{field} = {w} but the entries give {g}"))
    .collect();
    if !mismatches.is_empty() {
        return Err(mismatches.join("; "));
    }
    Ok(data)
}
