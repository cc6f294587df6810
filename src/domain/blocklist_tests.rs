//! The blocklist's normalisation and matching, and the limits.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn rule(id: i64, kind: RuleKind, input: &str) -> Rule {
    Rule {
        id,
        kind,
        value: normalise(kind, input).unwrap(),
        reason: String::new(),
        created_by: "sup".into(),
        created_at: Utc.timestamp_millis_opt(0).unwrap(),
    }
}

#[test]
fn values_are_normalised_or_refused() {
    use RuleKind::*;
    assert_eq!(
        normalise(Number, "8 (916) 123-45-67").unwrap(),
        "+79161234567"
    );
    assert_eq!(normalise(Number, "12"), Err(RuleError::Number));
    assert_eq!(normalise(Prefix, "+7 (800)").unwrap(), "+7800");
    assert_eq!(normalise(Prefix, "7800").unwrap(), "+7800");
    assert_eq!(normalise(Prefix, "+"), Err(RuleError::Prefix));
    assert_eq!(normalise(Prefix, "+7abc"), Err(RuleError::Prefix));
    assert_eq!(
        normalise(Prefix, "+1234567890123456"),
        Err(RuleError::Prefix)
    );
    assert_eq!(
        normalise(Email, " Spam@Example.RU ").unwrap(),
        "spam@example.ru"
    );
    assert_eq!(normalise(Email, "no-at-sign"), Err(RuleError::Email));
    assert_eq!(normalise(Email, "a b@example.ru"), Err(RuleError::Email));
    assert_eq!(normalise(Email, "a@localhost"), Err(RuleError::Email));
    assert_eq!(normalise(Domain, "*.Spam.Example").unwrap(), "spam.example");
    assert_eq!(normalise(Domain, "@школа.рф").unwrap(), "школа.рф");
    assert_eq!(normalise(Domain, "bad..domain"), Err(RuleError::Domain));
    assert_eq!(normalise(Domain, "-x.ru"), Err(RuleError::Domain));
}

#[test]
fn numbers_match_in_any_notation_and_prefixes_by_their_start() {
    let b = Blocklist::new(vec![
        rule(1, RuleKind::Number, "+79161234567"),
        rule(2, RuleKind::Prefix, "+7800"),
        rule(3, RuleKind::Prefix, "+78005"),
    ]);
    assert_eq!(b.blocks_number("89161234567").map(|r| r.id), Some(1));
    assert_eq!(b.blocks_number("+7 916 123-45-67").map(|r| r.id), Some(1));
    assert_eq!(b.blocks_number("+78001234567").map(|r| r.id), Some(2));
    // The longest prefix is the one reported.
    assert_eq!(b.blocks_number("+78005553535").map(|r| r.id), Some(3));
    assert_eq!(b.blocks_number("+79161234568"), None);
    assert_eq!(b.blocks_number("anonymous"), None);
    assert_eq!(b.blocks_number(""), None);
    // An invalid international number still matches a prefix.
    assert_eq!(b.blocks_number("+7800000").map(|r| r.id), Some(2));
}

#[test]
fn emails_match_the_address_then_the_domain_and_its_parents() {
    let b = Blocklist::new(vec![
        rule(1, RuleKind::Email, "spammer@mail.ru"),
        rule(2, RuleKind::Domain, "spam.example"),
    ]);
    assert_eq!(b.blocks_email("Spammer@MAIL.ru").map(|r| r.id), Some(1));
    assert_eq!(
        b.blocks_email("Вася <spammer@mail.ru>").map(|r| r.id),
        Some(1)
    );
    assert_eq!(b.blocks_email("parent@mail.ru"), None);
    assert_eq!(b.blocks_email("x@spam.example").map(|r| r.id), Some(2));
    assert_eq!(b.blocks_email("x@a.b.spam.example").map(|r| r.id), Some(2));
    assert_eq!(b.blocks_email("x@notspam.example"), None);
    assert_eq!(b.blocks_email("x@example"), None);
    assert_eq!(b.blocks_email("not an address"), None);
}

#[test]
fn limits_of_zero_are_off() {
    let off = CallLimits::default();
    assert!(!off.calls_over(1000) && !off.voicemails_over(1000));
    let l = CallLimits {
        voicemails_per_day: 2,
        calls_per_hour: 3,
    };
    assert!(!l.calls_over(2) && l.calls_over(3));
    assert!(!l.voicemails_over(1) && l.voicemails_over(2));
}

proptest! {
    #[test]
    fn a_prefix_blocks_exactly_the_numbers_that_start_with_it(
        p in "[1-9][0-9]{0,4}", n in "[1-9][0-9]{6,13}"
    ) {
        let b = Blocklist::new(vec![rule(7, RuleKind::Prefix, &p)]);
        let caller = format!("+{n}");
        let key = caller_key(&CallerId::new(&caller));
        let expected = key.as_deref().is_some_and(|k| k.starts_with(&format!("+{p}")));
        prop_assert_eq!(b.blocks_number(&caller).is_some(), expected);
    }

    #[test]
    fn a_domain_blocks_its_subdomains_and_nothing_else(
        sub in "[a-z]{1,8}", dom in "[a-z]{1,8}\\.[a-z]{2,3}", other in "[a-z]{1,8}\\.[a-z]{2,3}"
    ) {
        let b = Blocklist::new(vec![rule(1, RuleKind::Domain, &dom)]);
        let sub_address = format!("u@{sub}.{dom}");
        prop_assert!(b.blocks_email(&sub_address).is_some());
        let upper = format!("U@{}", dom.to_uppercase());
        prop_assert!(b.blocks_email(&upper).is_some());
        let blocked = other == dom || other.ends_with(&format!(".{dom}"));
        prop_assert_eq!(b.blocks_email(&format!("u@{other}")).is_some(), blocked);
    }

    #[test]
    fn normalising_twice_changes_nothing(s in "\\PC{0,20}") {
        for kind in RuleKind::ALL {
            if let Ok(v) = normalise(*kind, &s) {
                prop_assert_eq!(normalise(*kind, &v), Ok(v.clone()));
            }
        }
    }
}
