//! Where the calendar data comes from, and how healthy it is.
//!
//! The years 2024–2027 are built into the binary (`calendar/ru/YYYY.toml`, embedded with
//! `include_str!`). [`Calendar::load`] adds the files `YYYY.toml` of an override
//! directory; a file replaces the built-in year of the same number. Any invalid file
//! fails the whole load, so a bad file never takes effect. [`Calendar::status`] reports
//! the years in use and warns about missing or unofficial years (for `/readyz` and the
//! start-up log).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use super::{
    Calendar, CalendarError, CalendarStatus, HotlineHours, YearData, YearStatus, parse_year,
};

/// The built-in years: year, file name, text.
const BUILTIN: [(i32, &str, &str); 4] = [
    (
        2024,
        "2024.toml",
        include_str!("../../calendar/ru/2024.toml"),
    ),
    (
        2025,
        "2025.toml",
        include_str!("../../calendar/ru/2025.toml"),
    ),
    (
        2026,
        "2026.toml",
        include_str!("../../calendar/ru/2026.toml"),
    ),
    (
        2027,
        "2027.toml",
        include_str!("../../calendar/ru/2027.toml"),
    ),
];

/// The `source` of a built-in year.
pub const BUILTIN_SOURCE: &str = "builtin";

/// The built-in years, parsed and validated.
pub fn builtin_years() -> Result<Vec<YearData>, CalendarError> {
    BUILTIN
        .iter()
        .map(|&(year, name, text)| {
            let data = parse_year(name, text)?;
            debug_assert_eq!(data.year, year);
            Ok(data)
        })
        .collect()
}

/// Reads and validates every `YYYY.toml` in `dir` (other extensions are ignored; a
/// `.toml` file not named after its year is an error), in file-name order.
pub fn read_dir(dir: &Path) -> Result<Vec<(YearData, String)>, CalendarError> {
    let io = |e| CalendarError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    paths.sort();
    let mut years = Vec::new();
    for path in paths {
        if !path.is_file() || path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let label = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem.len() != 4 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CalendarError::Invalid {
                file: label,
                message: "per-year calendar files must be named YYYY.toml (e.g. 2027.toml)".into(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| CalendarError::Io {
            path: path.clone(),
            source: e,
        })?;
        let data = parse_year(&label, &text)?;
        if data.year.to_string() != stem {
            return Err(CalendarError::Invalid {
                file: label,
                message: format!(
                    "year = {} but the file is named {stem}.toml; a file for year Y must be named Y.toml",
                    data.year
                ),
            });
        }
        years.push((data, label));
    }
    Ok(years)
}

impl Calendar {
    /// The calendar with the built-in years 2024–2027 and the plain rules for the others.
    pub fn builtin(hours: HotlineHours) -> Calendar {
        let years =
            builtin_years().expect("the built-in calendar data is valid (checked by the tests)");
        Calendar::from_data(
            years.into_iter().map(|d| (d, BUILTIN_SOURCE.to_string())),
            hours,
        )
    }

    /// The built-in years plus the files `dir/YYYY.toml`, which replace or add years.
    /// Fails, naming the file and the date or rule, if any file is invalid.
    pub fn load(dir: Option<&Path>, hours: HotlineHours) -> Result<Calendar, CalendarError> {
        let mut years: BTreeMap<i32, (YearData, String)> = builtin_years()?
            .into_iter()
            .map(|d| (d.year, (d, BUILTIN_SOURCE.to_string())))
            .collect();
        if let Some(dir) = dir {
            for (data, path) in read_dir(dir)? {
                let year = data.year;
                let replaced = years.insert(year, (data, path.clone())).is_some();
                let action = if replaced {
                    "replaces the built-in year"
                } else {
                    "adds the year"
                };
                tracing::info!(year, file = %path, "production calendar file {action}");
            }
        }
        Ok(Calendar::from_data(years.into_values(), hours))
    }

    /// The years in use and warnings, as of the Moscow date `today`.
    pub fn status(&self, today: NaiveDate) -> CalendarStatus {
        let data = &self.inner.data;
        let this = today.year();
        let next = this + 1;
        let years = data.values().map(|(_, info)| info.clone()).collect();
        let fallback_years: Vec<i32> = [this, next]
            .into_iter()
            .filter(|y| !data.contains_key(y))
            .collect();
        let mut warnings: Vec<String> = fallback_years
            .iter()
            .map(|y| {
                format!(
                    "no production-calendar data for {y}: using plain rules (fixed holidays, automatic \
                     weekend shift); add calendar/ru/{y}.toml"
                )
            })
            .collect();
        if let Some((_, info)) = data.get(&this)
            && info.status != YearStatus::Official
        {
            warnings.push(format!(
                "this year's calendar ({this}) has status {}, not official",
                info.status
            ));
        }
        if today.month() >= 10
            && data
                .get(&next)
                .is_none_or(|(_, info)| info.status != YearStatus::Official)
        {
            warnings.push(format!("next year's calendar ({next}) is not official yet"));
        }
        CalendarStatus {
            years,
            fallback_years,
            warnings,
        }
    }
}
