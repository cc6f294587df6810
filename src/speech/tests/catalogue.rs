//! The catalogue against everything the builders can produce, over their whole domains.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, TimeDelta};

use super::super::{
    Prompt, Utterance, callback_eta, estimated_wait, number_ending, opens_at, queue_position,
    registration_number,
};
use super::{assert_consistent, at, catalogue_map, words};

#[test]
fn catalogue_paths_are_unique_and_well_formed() {
    let cat = super::super::catalogue();
    let mut seen = HashSet::new();
    for (path, text) in &cat {
        assert!(seen.insert(path.as_str()), "duplicate clip {path}");
        let name = path
            .strip_prefix("ru/")
            .and_then(|p| p.strip_suffix(".wav"))
            .unwrap_or_else(|| panic!("{path}"));
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '/'),
            "{path}"
        );
        assert_eq!(name.matches('/').count(), 1, "{path}");
        assert!(!words(text).is_empty(), "{path}: empty text");
        assert!(
            !text.chars().any(|c| c.is_ascii_digit()),
            "{path}: digits in {text:?}"
        );
    }
    assert!((150..=320).contains(&cat.len()), "{} clips", cat.len());
}

#[test]
fn every_prompt_is_catalogued_and_named_like_its_serde_value() {
    let cat = catalogue_map();
    let names: HashSet<_> = Prompt::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(names.len(), Prompt::ALL.len());
    for prompt in Prompt::ALL {
        let u = prompt.utterance();
        assert_consistent(&u, &cat);
        assert_eq!(u.clips, [format!("ru/static/{}.wav", prompt.name())]);
        assert!(u.text.ends_with(['.', '!']), "{prompt:?}");
        let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(prompt.name());
        assert_eq!(
            <Prompt as serde::Deserialize>::deserialize(de).unwrap(),
            prompt
        );
    }
}

#[test]
fn every_opening_time_and_date_uses_catalogued_clips() {
    let cat = catalogue_map();
    let day = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
    let now = day.and_hms_opt(12, 0, 0).unwrap();
    for offset in [0, 1, 2] {
        let date = day + TimeDelta::days(offset);
        for hour in 0..24 {
            for minute in 0..60 {
                let opens = date.and_hms_opt(hour, minute, 0).unwrap();
                assert_consistent(&opens_at(now, opens), &cat);
            }
        }
    }
    // Every date of a leap year: all weekdays, days of the month and months.
    let mut used = HashSet::new();
    let mut date = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    while date.year_ce().1 == 2028 {
        let u = opens_at(at(2027, 12, 1, 12, 0), date.and_hms_opt(9, 0, 0).unwrap());
        assert_consistent(&u, &cat);
        used.extend(u.clips);
        date = date.succ_opt().unwrap();
    }
    assert_eq!(
        used.iter().filter(|c| c.starts_with("ru/date/")).count(),
        7 + 31 + 12
    );
}

#[test]
fn every_callback_window_and_date_uses_catalogued_clips() {
    let cat = catalogue_map();
    let day = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
    let now = day.and_hms_opt(12, 0, 0).unwrap();
    let mut ranges = HashSet::new();
    for offset in [0, 1, 2] {
        let start = (day + TimeDelta::days(offset))
            .and_hms_opt(0, 0, 0)
            .unwrap();
        // Every whole-hour (from, to) pair, to = 24 being the next midnight, and the same
        // with minutes on either end (rounded), and reversed or overlong ranges (clamped).
        for from in 0..24 {
            for to in 0..=48 {
                for (from_min, to_min) in [(0, 0), (30, 0), (0, 30), (59, 1)] {
                    let u = callback_eta(
                        now,
                        start + TimeDelta::minutes(from * 60 + from_min),
                        start + TimeDelta::minutes(to * 60 + to_min),
                    );
                    assert_consistent(&u, &cat);
                    assert!(u.text.ends_with("часов.") || u.text.ends_with("часа."));
                    ranges.insert(u.clips[u.clips.len() - 2..].to_vec());
                }
            }
        }
    }
    // Each of the 24 starts with each later end up to 24: 24 + 23 + … + 1 ranges.
    assert_eq!(ranges.len(), 24 * 25 / 2);
    // Every date of a leap year: all weekdays, days of the month and months.
    let mut used = HashSet::new();
    let mut date = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    while date.year_ce().1 == 2028 {
        let u = callback_eta(
            at(2027, 12, 1, 12, 0),
            date.and_hms_opt(10, 0, 0).unwrap(),
            date.and_hms_opt(11, 0, 0).unwrap(),
        );
        assert_consistent(&u, &cat);
        used.extend(u.clips);
        date = date.succ_opt().unwrap();
    }
    assert_eq!(
        used.iter().filter(|c| c.starts_with("ru/date/")).count(),
        7 + 31 + 12
    );
}

#[test]
fn every_queue_wait_and_number_uses_catalogued_clips() {
    let cat = catalogue_map();
    for ahead in 0..=25 {
        assert_consistent(&queue_position(ahead), &cat);
    }
    for secs in 0..=40 * 60 {
        assert_consistent(&estimated_wait(TimeDelta::seconds(secs)), &cat);
    }
    for n in 0..10_000 {
        assert_consistent(&number_ending(&format!("{n:04}")), &cat);
    }
    for n in (0..20_000).chain([999_999, 1_000_000, 123_456_789]) {
        assert_consistent(&registration_number(n), &cat);
    }
}

#[test]
fn every_catalogued_clip_is_reachable() {
    let mut used: HashSet<String> = HashSet::new();
    let mut add = |u: Utterance| used.extend(u.clips);
    Prompt::ALL.into_iter().for_each(|p| add(p.utterance()));
    let now = at(2027, 12, 1, 12, 0);
    let mut date = NaiveDate::from_ymd_opt(2027, 12, 1).unwrap();
    for _ in 0..400 {
        for (h, m) in (0..24).flat_map(|h| (0..60).map(move |m| (h, m))) {
            if date.day0() == 0 || (h, m) == (9, 0) {
                add(opens_at(now, date.and_hms_opt(h, m, 0).unwrap()));
            }
        }
        date = date.succ_opt().unwrap();
    }
    let day = NaiveDate::from_ymd_opt(2027, 12, 1).unwrap();
    for (from, to) in (0..24).flat_map(|f| (f + 1..=24).map(move |t| (f, t))) {
        let start = day.and_hms_opt(0, 0, 0).unwrap();
        add(callback_eta(
            now,
            start + TimeDelta::hours(from),
            start + TimeDelta::hours(to),
        ));
    }
    (0..=25).for_each(|n| add(queue_position(n)));
    (0..=40 * 60).for_each(|s| add(estimated_wait(TimeDelta::seconds(s))));
    (0..10_000).for_each(|n| add(number_ending(&format!("{n:04}"))));
    (0..10).for_each(|n| add(registration_number(n)));
    for (path, _) in super::super::catalogue() {
        assert!(used.contains(&path), "{path} is never used");
    }
}

#[test]
fn join_concatenates_texts_and_clips() {
    let joined = Utterance::join([
        Prompt::OffHours.utterance(),
        Prompt::WorkingHours.utterance(),
    ]);
    assert_eq!(
        joined.text,
        format!(
            "{} {}",
            Prompt::OffHours.text(),
            Prompt::WorkingHours.text()
        )
    );
    assert_eq!(
        joined.clips,
        ["ru/static/off_hours.wav", "ru/static/working_hours.wav"]
    );
    assert_eq!(
        Utterance::join([]),
        Utterance {
            text: String::new(),
            clips: Vec::new()
        }
    );
}
