use proptest::prelude::*;

use super::{DEFAULT_FORMAT, RegistrationFormat, spoken_sequence};

fn f(t: &str) -> RegistrationFormat {
    RegistrationFormat::parse(t).unwrap()
}

#[test]
fn the_default_renders_year_and_padded_sequence() {
    let d = RegistrationFormat::default();
    assert_eq!(d.template(), DEFAULT_FORMAT);
    assert_eq!(d.render(2026, 123), "ШП-2026-000123");
    assert_eq!(d.render(2027, 1_234_567), "ШП-2027-1234567");
    assert!(d.yearly());
    assert_eq!(d.scope(2026), 2026);
}

#[test]
fn a_format_without_a_year_uses_one_counter() {
    let n = f("№{seq}");
    assert!(!n.yearly());
    assert_eq!(n.scope(2026), 0);
    assert_eq!(n.scope(2031), 0);
    assert_eq!(n.render(2026, 42), "№42");
}

#[test]
fn bad_templates_are_refused_with_a_reason() {
    for (t, why) in [
        ("ШП-{year}", "exactly once"),
        ("{seq}-{seq}", "exactly once"),
        ("{year}{year}-{seq}", "more than once"),
        ("ШП-{month}-{seq}", "unknown placeholder {month}"),
        ("ШП-{seq:x}", "unknown placeholder"),
        ("ШП-{seq:99}", "over 12"),
        ("ШП-{seq", "unclosed"),
        ("ШП}-{seq}", "without"),
    ] {
        let e = RegistrationFormat::parse(t).unwrap_err();
        assert!(e.contains(why), "{t}: {e}");
    }
}

#[test]
fn typed_numbers_are_recognised_loosely() {
    let d = RegistrationFormat::default();
    for q in [
        "ШП-2026-000123",
        "шп-2026-000123",
        " ШП – 2026 — 123 ",
        "шп-2026-123",
        "ШП 2026 000123",
        // Latin look-alikes are only letters that look the same; "ШП" has none, the format below does.
    ] {
        assert_eq!(d.recognise(q).as_deref(), Some("ШП-2026-000123"), "{q}");
    }
    for q in [
        "2026-000123",
        "ШП-2026",
        "ШП-2026-",
        "ШП-2026-0",
        "ШП-2026-12a",
        "89161234567",
        "",
    ] {
        assert_eq!(d.recognise(q), None, "{q}");
    }
    assert_eq!(f("№{seq}").recognise("№ 42").as_deref(), Some("№42"));
    let latin = f("ОК/{year}/{seq:04}");
    assert_eq!(
        latin.recognise("ok/2026/7").as_deref(),
        Some("ОК/2026/0007")
    );
}

#[test]
fn callers_hear_the_sequence_without_zeros() {
    assert_eq!(spoken_sequence("ШП-2026-000123"), Some(123));
    assert_eq!(spoken_sequence("№42"), Some(42));
    assert_eq!(spoken_sequence("ШП-2026-"), None);
}

proptest! {
    #[test]
    fn rendered_numbers_are_recognised_and_distinct(
        year in 2000i32..2100,
        seq in 1i64..10_000_000,
        other in 1i64..10_000_000,
        width in 0usize..9,
        prefix in "[А-Я]{1,4}",
    ) {
        let fmt = f(&format!("{prefix}-{{year}}-{{seq:0{width}}}"));
        let n = fmt.render(year, seq);
        prop_assert_eq!(fmt.recognise(&n), Some(n.clone()));
        prop_assert_eq!(fmt.recognise(&n.to_lowercase()), Some(n.clone()));
        prop_assert_eq!(spoken_sequence(&n), u64::try_from(seq).ok());
        if other != seq {
            prop_assert_ne!(fmt.render(year, other), n.clone());
        }
        if year != 2000 {
            prop_assert_ne!(fmt.render(2000, seq), n);
        }
    }

    #[test]
    fn recognise_never_panics(q in "\\PC{0,40}") {
        let _ = RegistrationFormat::default().recognise(&q);
        let _ = f("{seq}/{year}").recognise(&q);
    }
}

#[test]
fn the_year_is_moscows() {
    use chrono::TimeZone;
    let d = RegistrationFormat::default();
    // 22:30 UTC on 31 December is 01:30 on 1 January in Moscow.
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 12, 31, 22, 30, 0)
        .unwrap();
    assert_eq!(d.scope_at(at), 2027);
    assert_eq!(d.number_at(at, 5), "ШП-2027-000005");
    let before = chrono::Utc
        .with_ymd_and_hms(2026, 12, 31, 20, 59, 0)
        .unwrap();
    assert_eq!(d.scope_at(before), 2026);
}
