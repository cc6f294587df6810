//! What the hotline says to callers, in Russian. Every prompt exists in two forms carried
//! together by an [`Utterance`]: a text for the provider's TTS (`<Say language="ru-RU">`)
//! and the same words as a sequence of pre-recorded clips for `<Play>` (the default; which
//! form is used is a configuration switch of the telephony layer, not of this module).
//!
//! Fixed prompts are the [`Prompt`] catalogue; dynamic announcements ([`opens_at`],
//! [`queue_position`], [`estimated_wait`], [`number_ending`]) are built from small clip
//! fragments so that every possible value is a concatenation of existing files, with the
//! Russian grammar (cases, gender, numeral agreement) done by [`russian`]. [`catalogue`]
//! lists every clip with the text to synthesize for it; `audio/prompts/make-prompts.sh`
//! turns it into WAV files under `audio/prompts/`, to which all clip paths are relative.
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

use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};
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
    let date = opens_local.date();
    let mut parts = vec![clips::open_intro()];
    match (date - now_local.date()).num_days() {
        0 => parts.push(clips::today()),
        1 => parts.push(clips::tomorrow()),
        _ => {
            parts.push(clips::weekday(date.weekday()).punctuated(","));
            parts.push(clips::day(date.day()));
            parts.push(clips::month(date.month()).punctuated(","));
        }
    }
    parts.push(clips::hour(opens_local.hour()));
    if opens_local.minute() > 0 {
        parts.push(clips::minutes(opens_local.minute(), Case::Accusative));
    }
    Utterance::join(parts).punctuated(".")
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
