//! The override directory (replacing and adding years, rejecting misnamed or invalid
//! files) and the status report for `/readyz`.

use std::path::{Path, PathBuf};

use super::super::{Calendar, CalendarError, HotlineHours, YearData, YearStatus};
use super::{CAL, date};

const Y2026: &str = include_str!("../../../calendar/ru/2026.toml");

fn assert_has(error: &str, parts: &[&str]) {
    for p in parts {
        assert!(error.contains(p), "{error:?} should contain {p:?}");
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str, files: &[(&str, &str)]) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("perezvon-calendar-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (file, text) in files {
            std::fs::write(dir.join(file), text).expect("write");
        }
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn override_directory_replaces_and_adds_years() {
    let draft_2027 = include_str!("../../../calendar/ru/2027.toml").replacen(
        "status = \"official\"",
        "status = \"draft\"",
        1,
    );
    let y2028 = YearData::predicted(2028).to_toml();
    let dir = TempDir::new(
        "ok",
        &[
            ("2027.toml", &draft_2027),
            ("2028.toml", &y2028),
            ("README.md", "not a calendar"),
        ],
    );
    let cal = Calendar::load(Some(dir.path()), HotlineHours::default()).expect("loads");
    assert_eq!(cal.missing_years(2024, 2029), vec![2029]);
    assert_eq!(cal.year_data(2027).expect("2027").status, YearStatus::Draft);
    assert_eq!(
        cal.year_data(2028).expect("2028").status,
        YearStatus::Predicted
    );
    let status = cal.status(date(2026, 10, 1));
    let sources: Vec<_> = status
        .years
        .iter()
        .map(|y| (y.year, y.source.ends_with(".toml")))
        .collect();
    assert_eq!(
        sources,
        [
            (2024, false),
            (2025, false),
            (2026, false),
            (2027, true),
            (2028, true)
        ]
    );
    assert_eq!(status.years[0].source, "builtin");
    assert!(status.fallback_years.is_empty());
    assert_eq!(
        status.warnings,
        ["next year's calendar (2027) is not official yet"]
    );
    assert!(
        Calendar::load(None, HotlineHours::default())
            .expect("builtin")
            .year_data(2027)
            .is_some()
    );
}

#[test]
fn override_directory_rejects_bad_files() {
    let y2026 = TempDir::new("misnamed", &[("2025.toml", Y2026)]);
    let e = Calendar::load(Some(y2026.path()), HotlineHours::default())
        .expect_err("misnamed")
        .to_string();
    assert_has(
        &e,
        &["2025.toml: ", "year = 2026 but the file is named 2025.toml"],
    );
    let other = TempDir::new("other", &[("calendar-2026.toml", Y2026)]);
    let e = Calendar::load(Some(other.path()), HotlineHours::default())
        .expect_err("bad name")
        .to_string();
    assert_has(&e, &["calendar-2026.toml: ", "must be named YYYY.toml"]);
    let bad = Y2026.replacen("schema_version = 1", "schema_version = 9", 1);
    let invalid = TempDir::new("invalid", &[("2026.toml", &bad)]);
    let e = Calendar::load(Some(invalid.path()), HotlineHours::default()).expect_err("invalid");
    assert!(matches!(e, CalendarError::Invalid { .. }));
    assert_has(&e.to_string(), &["2026.toml: schema_version = 9"]);
    let missing = std::env::temp_dir().join("perezvon-calendar-does-not-exist");
    let e = Calendar::load(Some(&missing), HotlineHours::default()).expect_err("missing");
    assert!(matches!(e, CalendarError::Io { .. }));
    assert_has(&e.to_string(), &["perezvon-calendar-does-not-exist"]);
}

#[test]
fn status_reports_missing_and_unofficial_years() {
    let s = CAL.status(date(2026, 5, 1));
    assert_eq!(
        (s.years.len(), s.fallback_years.len(), s.warnings.len()),
        (4, 0, 0)
    );
    let s = CAL.status(date(2027, 9, 30));
    assert_eq!(s.fallback_years, [2028]);
    assert_eq!(
        s.warnings,
        [
            "no production-calendar data for 2028: using plain rules (fixed holidays, automatic weekend shift); add calendar/ru/2028.toml"
        ]
    );
    let s = CAL.status(date(2027, 10, 1));
    assert_eq!(s.warnings.len(), 2);
    assert_eq!(
        s.warnings[1],
        "next year's calendar (2028) is not official yet"
    );
    let s = CAL.status(date(2030, 1, 15));
    assert_eq!(s.fallback_years, [2030, 2031]);
    assert!(s.warnings[0].starts_with("no production-calendar data for 2030"));
    let text = toml::to_string(&CAL.status(date(2026, 1, 1))).expect("serializes");
    assert!(
        text.contains("status = \"official\"") && text.contains("source = \"builtin\""),
        "{text}"
    );
}
