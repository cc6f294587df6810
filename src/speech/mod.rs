//! What the hotline says to callers, in Russian. Every prompt exists in two forms carried
//! together by an [`Utterance`]: a text for the provider's TTS (`<Say language="ru-RU">`)
//! and the same words as a sequence of pre-recorded clips for `<Play>` (the default; which
//! form is used is a configuration switch of the telephony layer, not of this module).
//!
//! Fixed prompts are the [`Prompt`] catalogue; dynamic announcements ([`opens_at`],
//! [`queue_position`], [`estimated_wait`], [`number_ending`], [`callback_eta`]) are built
//! from small clip fragments so that every possible value is a concatenation of existing
//! files, with the Russian grammar (cases, gender, numeral agreement) done by [`russian`].
//! [`catalogue`] lists every clip with the text to synthesize for it;
//! `audio/prompts/make-prompts.sh` turns it into WAV files under `audio/prompts/`, to which
//! all clip paths are relative.
//!
//! Each dynamic builder only combines fragments from `clips` and adds the punctuation TTS
//! needs for natural pauses; the text spells every number in words. Pure: no clock, no
//! I/O; times are Moscow wall-clock times prepared by the caller (the calendar knows the
//! time zone, this module does not).

mod clips;
mod prompts;
pub mod russian;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

use clips::{QUEUE_CAP, WAIT_CAP_MINUTES};
use russian::Case;

pub use clips::catalogue;
pub use prompts::Prompt;

/// Something to say: the text for TTS and the same as a sequence of clip files for `<Play>`.
/// Clip paths are relative to `audio/prompts/`, e.g. `"ru/static/greeting.wav"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utterance {
    /// The Russian text, numbers spelled in words, punctuated for natural TTS pauses.
    pub text: String,
    /// The clips to play one after another.
    pub clips: Vec<String>,
}

impl Utterance {
    /// Several utterances said one after another: texts joined by a space, clips in order.
    /// Empty texts are skipped, so joining nothing gives an empty utterance.
    pub fn join(parts: impl IntoIterator<Item = Utterance>) -> Utterance {
        let mut joined = Utterance {
            text: String::new(),
            clips: Vec::new(),
        };
        for part in parts {
            let text = part.text.trim();
            if !text.is_empty() {
                if !joined.text.is_empty() {
                    joined.text.push(' ');
                }
                joined.text.push_str(text);
            }
            joined.clips.extend(part.clips);
        }
        joined
    }

    /// One clip and its text.
    fn clip(path: impl Into<String>, text: impl Into<String>) -> Utterance {
        Utterance {
            text: text.into(),
            clips: vec![path.into()],
        }
    }

    /// The same with `mark` (a comma, a dash, a full stop) appended to the text only.
    fn punctuated(mut self, mark: &str) -> Utterance {
        self.text.push_str(mark);
        self
    }
}

/// When the hotline opens next, relative to `now_local` (both Moscow local time):
/// "Линия поддержки откроется сегодня в девять часов.", "… завтра в девять часов тридцать
/// минут.", and for later days (or an opening earlier than today) the weekday and date:
/// "… в понедельник, первого декабря, в девять часов."
pub fn opens_at(now_local: NaiveDateTime, opens_local: NaiveDateTime) -> Utterance {
    let mut parts = vec![clips::open_intro()];
    parts.extend(day_of(now_local, opens_local.date()));
    parts.push(clips::hour(opens_local.hour()));
    if opens_local.minute() > 0 {
        parts.push(clips::minutes(opens_local.minute(), Case::Accusative));
    }
    Utterance::join(parts).punctuated(".")
}

/// When we will call back, as a day and a range of whole hours (Moscow local time, like
/// `now_local`): "Мы позвоним вам в понедельник, первого декабря, примерно с десяти до
/// одиннадцати часов.", or "… сегодня примерно с семнадцати до восемнадцати часов." and
/// "… завтра …" as in [`opens_at`]; the day is that of `from_local`. Not "перезвоним":
/// the placeholder voice stresses it wrongly (`audio/prompts/README.md`).
///
/// The range is said in whole hours: `from_local` is rounded down to its hour (0..=23) and
/// `to_local` up to the next whole hour if it has minutes or seconds, so 9:30–10:30 is
/// "с девяти до одиннадцати часов". The end is counted on `from_local`'s day, 1..=24: the
/// midnight after it (or anything later) is "до двадцати четырёх часов", and an end that
/// is not after the rounded start (a reversed or empty range) gives the one hour from the
/// start, so that every input says a well-formed range. Hour 0 and 1 read "с полуночи",
/// "с часа", "до часа".
pub fn callback_eta(
    now_local: NaiveDateTime,
    from_local: NaiveDateTime,
    to_local: NaiveDateTime,
) -> Utterance {
    let date = from_local.date();
    let from = from_local.hour();
    let to = match to_local.date().cmp(&date) {
        Ordering::Less => 0,
        Ordering::Equal => {
            let past_hour =
                (to_local.minute(), to_local.second(), to_local.nanosecond()) != (0, 0, 0);
            to_local.hour() + u32::from(past_hour)
        }
        Ordering::Greater => 24,
    }
    .clamp(from + 1, 24);
    let mut parts = vec![clips::callback_intro()];
    parts.extend(day_of(now_local, date));
    parts.extend([
        clips::callback_approx(),
        clips::from_hour(from),
        clips::to_hour(to),
    ]);
    Utterance::join(parts).punctuated(".")
}

/// The day of `date` as seen on `now_local`'s: "сегодня", "завтра", or (for later days and
/// days in the past) "в понедельник, первого декабря," with the commas that set the date
/// apart from the time that follows.
fn day_of(now_local: NaiveDateTime, date: NaiveDate) -> Vec<Utterance> {
    match (date - now_local.date()).num_days() {
        0 => vec![clips::today()],
        1 => vec![clips::tomorrow()],
        _ => vec![
            clips::weekday(date.weekday()).punctuated(","),
            clips::day(date.day()),
            clips::month(date.month()).punctuated(","),
        ],
    }
}

/// The caller's place in the queue given how many callers are `ahead`: 0 → "Ваш звонок
/// следующий в очереди.", 3 → "Перед вами в очереди три человека.", above 20 → "Перед
/// вами в очереди более двадцати человек."
pub fn queue_position(ahead: u32) -> Utterance {
    let people = match ahead {
        0 => return clips::queue_next(),
        n if n <= QUEUE_CAP => clips::queue_people(n),
        _ => clips::queue_people_more(),
    };
    Utterance::join([clips::queue_intro(), people]).punctuated(".")
}

/// The estimated wait, rounded up to whole minutes: under a minute (or negative) →
/// "Примерное время ожидания — менее минуты.", 61 s → "… — две минуты.", over 30 minutes →
/// "… — более получаса."
pub fn estimated_wait(wait: TimeDelta) -> Utterance {
    const MINUTE_MS: i64 = 60_000;
    let ms = wait.num_milliseconds();
    let duration = if ms < MINUTE_MS {
        clips::wait_under_minute()
    } else {
        match u32::try_from((ms - 1) / MINUTE_MS + 1) {
            Ok(m) if m <= WAIT_CAP_MINUTES => clips::minutes(m, Case::Nominative),
            _ => clips::wait_over_half_hour(),
        }
    };
    Utterance::join([clips::wait_intro().punctuated(" —"), duration]).punctuated(".")
}

/// The request's registration number as the caller hears it: its sequence number (the digits
/// at the end of `ШП-2026-000123`, without the zeros) dictated in pairs from the left, an odd
/// first digit alone: "Номер вашей заявки: один — двадцать три." For 1 005: "десять — ноль пять".
pub fn registration_number(seq: u64) -> Utterance {
    let digits: Vec<u32> = seq
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let (head, pairs) = digits.split_at(digits.len() % 2);
    let mut parts: Vec<Utterance> = head.iter().map(|d| clips::digit(*d)).collect();
    parts.extend(pairs.chunks(2).map(|p| clips::pair(p[0] * 10 + p[1])));
    let count = parts.len();
    let mut spoken = vec![clips::registration_intro().punctuated(":")];
    for (i, p) in parts.into_iter().enumerate() {
        spoken.push(if i + 1 < count {
            p.punctuated(" —")
        } else {
            p
        });
    }
    Utterance::join(spoken).punctuated(".")
}

/// Confirms the callback number by its last four digits, read in pairs: "Мы позвоним вам на
/// номер, который заканчивается на сорок пять — шестьдесят семь." `last4` may be the
/// whole number in any format ("+7 916 123-45-67"): the last four ASCII digits are used.
/// With fewer than four digits there is nothing to confirm, and the result asks for the
/// number instead ([`Prompt::EnterNumber`]).
pub fn number_ending(last4: &str) -> Utterance {
    let digits: Vec<u32> = last4.chars().filter_map(|c| c.to_digit(10)).collect();
    let [a, b, c, d] = match digits.len().checked_sub(4).map(|start| &digits[start..]) {
        Some(&[a, b, c, d]) => [a, b, c, d],
        _ => return Prompt::EnterNumber.utterance(),
    };
    Utterance::join([
        clips::number_ending_intro(),
        clips::pair(a * 10 + b).punctuated(" —"),
        clips::pair(c * 10 + d),
    ])
    .punctuated(".")
}
