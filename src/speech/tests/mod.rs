//! Tests of the speech module: Russian grammar tables ([`russian`](self::russian)), the
//! wording of every dynamic announcement (`phrases`), and the clip catalogue checked
//! exhaustively against everything the builders can produce over their whole input
//! domains (`catalogue`).

mod catalogue;
mod phrases;
mod russian;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use super::{Utterance, catalogue};

/// A local date-time from its parts.
fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
}

/// Lower-case words only: punctuation and dashes removed, whitespace collapsed.
fn words(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphabetic() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The catalogue as a map from clip path to text.
fn catalogue_map() -> HashMap<String, String> {
    catalogue().into_iter().collect()
}

/// Checks that every clip of `u` is catalogued, that its clips' texts read as its text, and
/// that the text spells all numbers.
fn assert_consistent(u: &Utterance, cat: &HashMap<String, String>) {
    assert!(!u.clips.is_empty(), "no clips: {u:?}");
    let mut spoken = Vec::new();
    for clip in &u.clips {
        let text = cat
            .get(clip)
            .unwrap_or_else(|| panic!("{clip} is not in the catalogue ({u:?})"));
        spoken.push(text.as_str());
    }
    assert_eq!(
        words(&u.text),
        words(&spoken.join(" ")),
        "text and clips differ: {u:?}"
    );
    assert!(
        !u.text.chars().any(|c| c.is_ascii_digit()),
        "digits in {:?}",
        u.text
    );
}
