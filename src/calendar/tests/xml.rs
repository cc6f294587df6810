//! The xmlcalendar importer: a small inline example, malformed input, and the
//! cross-check of the built-in data against the real files `ru/2024..2027/calendar.xml`
//! of the public repository xmlcalendar/data, saved verbatim under `tests/data/`.

use super::super::rules::dates_of;
use super::super::xmlcalendar::{parse, to_toml};
use super::super::{Basis, CalendarError, DayKind, parse_year};
use super::{CAL, date};

const REAL: [(i32, &str); 4] = [
    (
        2024,
        include_str!("../../../tests/data/xmlcalendar/ru/2024/calendar.xml"),
    ),
    (
        2025,
        include_str!("../../../tests/data/xmlcalendar/ru/2025/calendar.xml"),
    ),
    (
        2026,
        include_str!("../../../tests/data/xmlcalendar/ru/2026/calendar.xml"),
    ),
    (
        2027,
        include_str!("../../../tests/data/xmlcalendar/ru/2027/calendar.xml"),
    ),
];

/// The abridged 2026 example of CALENDAR.md §3.
const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<calendar year="2026" lang="ru" date="2025.09.30" country="ru">
    <holidays>
        <holiday id="1" title="Новогодние каникулы"/>
        <holiday id="2" title="Рождество Христово"/>
    </holidays>
    <days>
        <day d="01.01" t="1" h="1"/>
        <day d="01.07" t="1" h="2"/>
        <day d="01.09" t="1" f="01.03"/>
        <day d="03.09" t="1" f="03.08"/>
        <day d="04.30" t="2"/>
        <day d="10.31" t="2"/>
        <day d="11.14" t="3"/>
        <day d="12.31" t="1" f="01.04"/>
    </days>
</calendar>"#;

#[test]
fn to_toml_on_a_small_example() {
    let out = to_toml(EXAMPLE).expect("converts");
    for line in [
        "year = 2026",
        "status = \"draft\"",
        "\"xmlcalendar/data ru/2026/calendar.xml (date=2025.09.30)\"",
        "{ date = \"2026-01-01\", name = \"Новогодние каникулы\" }",
        "{ date = \"2026-01-07\", name = \"Рождество Христово\" }",
        "{ date = \"2026-01-09\", from = \"2026-01-03\", basis = \"decree\" }",
        "{ date = \"2026-03-09\", from = \"2026-03-08\", basis = \"tk112\" }",
        "{ date = \"2026-12-31\", from = \"2026-01-04\", basis = \"decree\" }",
        "working_days = [\"2026-10-31\", \"2026-11-14\"]", // a t=2 Saturday and a t=3 Saturday
        "short_days = [\"2026-04-30\", \"2026-10-31\"]",
        // Abridged: most holidays are missing, and the header says so.
        "# NOTE: this file does not pass validation yet: 2026.toml: holidays: 2026-01-02",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

#[test]
fn malformed_xml_is_rejected_with_a_reason() {
    let cases = [
        (
            EXAMPLE.replace("d=\"04.30\" t=\"2\"", "d=\"04.31\" t=\"2\""),
            "d=\"04.31\" is not a date MM.DD of 2026",
        ),
        (
            EXAMPLE.replace("d=\"04.30\" t=\"2\"", "d=\"04.30\" t=\"7\""),
            "day 04.30: t=\"7\" is not 1, 2 or 3",
        ),
        (
            EXAMPLE.replace("h=\"2\"", "h=\"9\""),
            "day 01.07: h=\"9\" is not defined",
        ),
        (
            EXAMPLE.replace("year=\"2026\"", "year=\"twenty\""),
            "no valid year",
        ),
        (EXAMPLE.replace("</days>", ""), "calendar.xml: "),
    ];
    for (xml, why) in cases {
        let e = to_toml(&xml).expect_err(why);
        assert!(matches!(e, CalendarError::Parse { .. }));
        assert!(
            e.to_string().starts_with("calendar.xml: ") && e.to_string().contains(why),
            "{e}"
        );
    }
}

#[test]
fn missing_attribute_space_is_repaired() {
    // As in the published 2024 and 2025 files: date="2024.12.01"country="ru".
    let xml = EXAMPLE.replace("date=\"2025.09.30\" country", "date=\"2025.09.30\"country");
    assert!(roxmltree::Document::parse(&xml).is_err());
    assert_eq!(
        parse(&xml).expect("repaired").0,
        parse(EXAMPLE).expect("clean").0
    );
}

#[test]
fn real_xmlcalendar_files_agree_with_the_builtin_data() {
    for (year, xml) in REAL {
        let toml = to_toml(xml).expect("converts");
        assert!(!toml.contains("# NOTE"), "{year}: {toml}");
        let imported =
            parse_year(&format!("{year}.toml"), &toml).expect("passes every loader rule");
        let builtin = CAL.year_data(year).expect("built in");
        assert_eq!(imported.year, year);
        // Open/closed and shortened, date by date.
        let kinds = imported.kinds();
        for d in dates_of(year) {
            let (got, want) = (kinds[d.ordinal0() as usize], CAL.legal_kind(d));
            assert_eq!(
                got.is_working(),
                want.is_working(),
                "{d}: xmlcalendar {got}, built in {want}"
            );
            assert_eq!(got == DayKind::Shortened, want == DayKind::Shortened, "{d}");
            assert_eq!(got, want, "{d}");
        }
        // And entry by entry, transfers with their origin and basis.
        assert_eq!(imported.holidays, builtin.holidays, "{year}");
        assert_eq!(imported.days_off, builtin.days_off, "{year}");
        assert_eq!(imported.working_days, builtin.working_days, "{year}");
        assert_eq!(imported.short_days, builtin.short_days, "{year}");
        assert_eq!(imported.totals(), builtin.totals(), "{year}");
    }
    use chrono::Datelike as _;
    let (y2026, _) = parse(REAL[2].1).expect("2026");
    let auto: Vec<_> = y2026
        .days_off
        .iter()
        .filter(|o| o.basis == Basis::Tk112)
        .map(|o| o.date)
        .collect();
    assert_eq!(auto, [date(2026, 3, 9), date(2026, 5, 11)]);
    assert!(y2026.days_off.iter().all(|o| o.date.year() == 2026));
}
