//! Importer for xmlcalendar (`xmlcalendar/data`, `ru/<year>/calendar.xml`), the
//! machine-readable production calendar that usually has next year about a month early.
//!
//! [`to_toml`] converts one file into our per-year TOML (CALENDAR.md §5) for an admin to
//! review against the decree before dropping it into the calendar directory; the service
//! never reads XML at run time. Mapping: `t=1` with `h` → `holidays` (named from
//! `<holidays>`); `t=1` with `f` → `days_off` (`from` = `f`; `basis = "tk112"` when it is
//! exactly the automatic ст. 112 shift, else `"decree"`); `t=1` alone on a weekday →
//! `days_off` without `from`; `t=2` → `short_days`, and also `working_days` on a
//! Saturday/Sunday; `t=3` → `working_days`. Known quirk: some published files lack the
//! space between two attributes (`date="2024.12.01"country="ru"`); that is repaired.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::data::{Basis, DayOff, YearData};
use super::rules::is_weekend;
use super::{CalendarError, YearStatus, parse_year};

const FILE: &str = "calendar.xml";

fn error(message: String) -> CalendarError {
    CalendarError::Parse {
        file: FILE.to_string(),
        message,
    }
}

/// Converts an xmlcalendar `calendar.xml` into our per-year TOML (status `draft`,
/// `expected` recomputed from the entries), with a header saying what to review. If the
/// result does not pass the loader rules yet, the header says which rule fails.
pub fn to_toml(xml: &str) -> Result<String, CalendarError> {
    let (data, stamp) = parse(xml)?;
    let body = data.to_toml();
    let mut out = format!(
        "# Imported from xmlcalendar ru/{y}/calendar.xml{stamp}.\n\
         # Review against the decree «О переносе выходных дней в {y} году» and the published\n\
         # calendar: add the decree to legal_basis, compare `expected` (recomputed here from the\n\
         # entries) with the official totals, then set status = \"official\".\n",
        y = data.year,
        stamp = stamp.map(|d| format!(" (date={d})")).unwrap_or_default(),
    );
    if let Err(e) = parse_year(&format!("{}.toml", data.year), &body) {
        out.push_str(&format!(
            "# NOTE: this file does not pass validation yet: {e}\n"
        ));
    }
    out.push_str(&body);
    Ok(out)
}

/// Parses an xmlcalendar file into year data (status `draft`), with its `date` stamp.
pub fn parse(xml: &str) -> Result<(YearData, Option<String>), CalendarError> {
    let repaired;
    let doc = match roxmltree::Document::parse(xml) {
        Ok(doc) => doc,
        Err(e) => {
            repaired = repair_attribute_spacing(xml).ok_or_else(|| error(e.to_string()))?;
            tracing::warn!("xmlcalendar file lacks a space between attributes; repaired");
            roxmltree::Document::parse(&repaired).map_err(|_| error(e.to_string()))?
        }
    };
    let root = doc.root_element();
    if root.tag_name().name() != "calendar" {
        return Err(error(format!(
            "the root element is <{}>, expected <calendar>",
            root.tag_name().name()
        )));
    }
    let year: i32 = root
        .attribute("year")
        .and_then(|y| y.trim().parse().ok())
        .filter(|y| (1900..=2200).contains(y))
        .ok_or_else(|| error("<calendar> has no valid year attribute".into()))?;
    let stamp = root.attribute("date").map(str::to_string);
    let titles: BTreeMap<&str, &str> = root
        .descendants()
        .filter(|n| n.has_tag_name("holiday"))
        .filter_map(|n| Some((n.attribute("id")?, n.attribute("title")?)))
        .collect();
    let date = |md: &str, what: &str| {
        let parsed = md.split_once('.').and_then(|(m, d)| {
            NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
                .filter(|_| m.len() == 2 && d.len() == 2)
        });
        parsed.ok_or_else(|| error(format!("{what}=\"{md}\" is not a date MM.DD of {year}")))
    };
    let automatic = YearData::predicted(year).days_off;
    let mut data = YearData::predicted(year);
    data.status = YearStatus::Draft;
    data.legal_basis = vec!["ТК РФ ст. 112, ст. 95".into()];
    data.sources = vec![format!(
        "xmlcalendar/data ru/{year}/calendar.xml{}",
        stamp
            .as_ref()
            .map(|d| format!(" (date={d})"))
            .unwrap_or_default()
    )];
    data.holidays.clear();
    data.days_off.clear();
    data.short_days.clear();
    for day in root.descendants().filter(|n| n.has_tag_name("day")) {
        let d = date(day.attribute("d").unwrap_or_default(), "d")?;
        let at = format!("day {}", d.format("%m.%d"));
        match (day.attribute("t"), day.attribute("h"), day.attribute("f")) {
            (Some("1"), Some(h), _) => {
                let title = titles.get(h).ok_or_else(|| {
                    error(format!("{at}: h=\"{h}\" is not defined in <holidays>"))
                })?;
                push_unique(&mut data.holidays, (d, title.to_string()));
            }
            (Some("1"), None, Some(f)) => {
                let from = date(f, &format!("{at}: f"))?;
                let auto = automatic
                    .iter()
                    .any(|o| o.date == d && o.from == Some(from));
                let basis = if auto { Basis::Tk112 } else { Basis::Decree };
                push_unique(
                    &mut data.days_off,
                    DayOff {
                        date: d,
                        from: Some(from),
                        basis,
                    },
                );
            }
            (Some("1"), None, None) if !is_weekend(d) => {
                push_unique(
                    &mut data.days_off,
                    DayOff {
                        date: d,
                        from: None,
                        basis: Basis::Decree,
                    },
                );
            }
            (Some("1"), None, None) => {}
            (Some("2"), _, _) => {
                push_unique(&mut data.short_days, d);
                if is_weekend(d) {
                    push_unique(&mut data.working_days, d);
                }
            }
            (Some("3"), _, _) => push_unique(&mut data.working_days, d),
            (t, _, _) => {
                return Err(error(format!(
                    "{at}: t=\"{}\" is not 1, 2 or 3",
                    t.unwrap_or_default()
                )));
            }
        }
    }
    data.holidays.sort();
    data.days_off.sort_by_key(|o| o.date);
    data.working_days.sort();
    data.short_days.sort();
    debug_assert!(data.days_off.iter().all(|o| o.date.year() == year));
    Ok((data, stamp))
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Inserts the missing space after a quoted attribute value directly followed by the
/// next attribute's name; `None` if there was nothing to repair.
fn repair_attribute_spacing(xml: &str) -> Option<String> {
    let mut out = String::with_capacity(xml.len() + 8);
    let (mut in_tag, mut quote, mut changed) = (false, None, false);
    let mut chars = xml.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match quote {
            None if !in_tag => in_tag = c == '<',
            None if c == '"' || c == '\'' => quote = Some(c),
            None => in_tag = c != '>',
            Some(q) if c == q => {
                quote = None;
                if chars.peek().is_some_and(|n| n.is_alphabetic() || *n == '_') {
                    out.push(' ');
                    changed = true;
                }
            }
            Some(_) => {}
        }
    }
    changed.then_some(out)
}
