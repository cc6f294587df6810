//! The clip fragments the dynamic phrases are assembled from, and the catalogue of every
//! clip file. Each function here returns one fragment: a single clip with its text, or (for
//! minutes such as "тридцать семь минут") two clips whose texts read as one phrase. The
//! builders in the parent module only ever combine these fragments, and [`catalogue`]
//! lists them by iterating the same functions over their whole domains, so a phrase can
//! never name a clip that was not synthesized.
//!
//! Layout under `audio/prompts/ru/`: `static/` (fixed prompts, whole sentences), `open/`
//! ("Линия поддержки откроется", "сегодня", "завтра"), `date/` (weekday with preposition,
//! day ordinal, month), `time/` (hours with "в … час(а/ов)"; the ends of an hour range,
//! "с десяти" and "до одиннадцати часов"; minutes 1–19 and whole tens with the noun,
//! shared by opening times and waits), `queue/` and `wait/` (an intro and the counts),
//! `callback/` (the intros of the number confirmation and of the callback estimate, and its
//! "примерно") and `digits/` (number pairs 00–99, also the "тридцать" of "тридцать семь
//! минут"). Queue and wait are an intro plus a count rather than whole sentences per
//! number, and an hour range is its two ends rather than one clip per pair: that keeps the
//! set near 300 clips and the WAVs a few megabytes.

use chrono::{Month, Weekday};

use super::Utterance;
use super::prompts::Prompt;
use super::russian::{
    Case, Gender, cardinal, cardinal_in, count, month_genitive, ordinal_genitive,
    weekday_accusative,
};

/// Most people ahead in the queue that are counted exactly; beyond it "более двадцати".
pub(super) const QUEUE_CAP: u32 = 20;
/// Longest wait in minutes that is announced exactly; beyond it "более получаса".
pub(super) const WAIT_CAP_MINUTES: u32 = 30;

const MINUTE_ACC: [&str; 3] = ["минуту", "минуты", "минут"];
const HOUR: [&str; 3] = ["час", "часа", "часов"];
const HOUR_GEN: [&str; 3] = ["часа", "часов", "часов"];
const PERSON: [&str; 3] = ["человек", "человека", "человек"];

/// "Линия поддержки откроется" (`ru/open/intro.wav`), followed by the day and the time.
pub(super) fn open_intro() -> Utterance {
    Utterance::clip("ru/open/intro.wav", "Линия поддержки откроется")
}

/// "сегодня" (`ru/open/today.wav`).
pub(super) fn today() -> Utterance {
    Utterance::clip("ru/open/today.wav", "сегодня")
}

/// "завтра" (`ru/open/tomorrow.wav`).
pub(super) fn tomorrow() -> Utterance {
    Utterance::clip("ru/open/tomorrow.wav", "завтра")
}

/// "в понедельник" … "в воскресенье": `ru/date/wd_1.wav` (Monday) … `wd_7.wav` (Sunday).
pub(super) fn weekday(weekday: Weekday) -> Utterance {
    let path = format!("ru/date/wd_{}.wav", weekday.number_from_monday());
    Utterance::clip(path, weekday_accusative(weekday))
}

/// "первого" … "тридцать первого": `ru/date/day_01.wav` … `day_31.wav`; `day` is 1..=31.
pub(super) fn day(day: u32) -> Utterance {
    let text = ordinal_genitive(day).expect("a day of the month is 1..=31");
    Utterance::clip(format!("ru/date/day_{day:02}.wav"), text)
}

/// "января" … "декабря": `ru/date/month_01.wav` … `month_12.wav`; `month` is 1..=12.
pub(super) fn month(month: u32) -> Utterance {
    let name = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .expect("a month is 1..=12");
    Utterance::clip(
        format!("ru/date/month_{month:02}.wav"),
        month_genitive(name),
    )
}

/// "в ноль часов" … "в двадцать три часа": `ru/time/hour_00.wav` … `hour_23.wav`.
pub(super) fn hour(hour: u32) -> Utterance {
    let text = format!(
        "в {}",
        count(hour, Gender::Masculine, Case::Nominative, HOUR)
    );
    Utterance::clip(format!("ru/time/hour_{hour:02}.wav"), text)
}

/// The start of an hour range, the hour in the genitive with "с": "с полуночи" (0), "с
/// часа" (1), "с двух" … "с двадцати трёх": `ru/time/from_00.wav` … `from_23.wav`. The noun
/// is left to the end of the range ([`to_hour`]): "с десяти до одиннадцати часов".
pub(super) fn from_hour(hour: u32) -> Utterance {
    let text = match hour {
        0 => "с полуночи".to_owned(),
        1 => "с часа".to_owned(),
        2..=23 => format!("с {}", cardinal_in(hour, Gender::Masculine, Case::Genitive)),
        _ => panic!("a starting hour is 0..=23, not {hour}"),
    };
    Utterance::clip(format!("ru/time/from_{hour:02}.wav"), text)
}

/// The end of an hour range, the hour in the genitive with "до" and the agreeing noun: "до
/// часа" (1), "до двух часов", "до двадцати одного часа", "до двадцати четырёх часов"
/// (24, the midnight ending the day): `ru/time/to_01.wav` … `to_24.wav`.
pub(super) fn to_hour(hour: u32) -> Utterance {
    let text = match hour {
        1 => "до часа".to_owned(),
        2..=24 => format!(
            "до {}",
            count(hour, Gender::Masculine, Case::Genitive, HOUR_GEN)
        ),
        _ => panic!("an ending hour is 1..=24, not {hour}"),
    };
    Utterance::clip(format!("ru/time/to_{hour:02}.wav"), text)
}

/// A number of minutes, 1..=59: in the accusative after an hour ("в девять часов одну
/// минуту"), in the nominative for a wait ("двадцать одна минута"); the two differ only in
/// "одну/одна". 1–19 and whole tens are one clip (`ru/time/min_07.wav`, nominative "одна
/// минута" is `ru/time/one_minute.wav`); the others are the tens as a digit-pair clip
/// followed by the units clip ("тридцать" + "семь минут").
pub(super) fn minutes(minutes: u32, case: Case) -> Utterance {
    let whole = |m: u32| match (m, case) {
        (1, Case::Nominative) => Utterance::clip("ru/time/one_minute.wav", "одна минута"),
        _ => {
            let text = count(m, Gender::Feminine, Case::Accusative, MINUTE_ACC);
            Utterance::clip(format!("ru/time/min_{m:02}.wav"), text)
        }
    };
    if minutes < 20 || minutes.is_multiple_of(10) {
        whole(minutes)
    } else {
        Utterance::join([pair(minutes / 10 * 10), whole(minutes % 10)])
    }
}

/// "Ваш звонок следующий в очереди." (`ru/queue/next.wav`).
pub(super) fn queue_next() -> Utterance {
    Utterance::clip("ru/queue/next.wav", "Ваш звонок следующий в очереди.")
}

/// "Перед вами в очереди" (`ru/queue/intro.wav`), followed by [`queue_people`].
pub(super) fn queue_intro() -> Utterance {
    Utterance::clip("ru/queue/intro.wav", "Перед вами в очереди")
}

/// "один человек", "три человека", "пять человек" (`ru/queue/people_03.wav`); 1..=20.
pub(super) fn queue_people(people: u32) -> Utterance {
    let text = count(people, Gender::Masculine, Case::Nominative, PERSON);
    Utterance::clip(format!("ru/queue/people_{people:02}.wav"), text)
}

/// "более двадцати человек" (`ru/queue/people_more.wav`).
pub(super) fn queue_people_more() -> Utterance {
    Utterance::clip("ru/queue/people_more.wav", "более двадцати человек")
}

/// "Примерное время ожидания" (`ru/wait/intro.wav`), followed by a dash and the duration.
pub(super) fn wait_intro() -> Utterance {
    Utterance::clip("ru/wait/intro.wav", "Примерное время ожидания")
}

/// "менее минуты" (`ru/wait/under_minute.wav`).
pub(super) fn wait_under_minute() -> Utterance {
    Utterance::clip("ru/wait/under_minute.wav", "менее минуты")
}

/// "более получаса" (`ru/wait/over_half_hour.wav`).
pub(super) fn wait_over_half_hour() -> Utterance {
    Utterance::clip("ru/wait/over_half_hour.wav", "более получаса")
}

/// "Мы позвоним вам на номер, который заканчивается на" (`ru/callback/number_ending.wav`).
pub(super) fn number_ending_intro() -> Utterance {
    Utterance::clip(
        "ru/callback/number_ending.wav",
        "Мы позвоним вам на номер, который заканчивается на",
    )
}

/// "Мы позвоним вам" (`ru/callback/eta_intro.wav`), followed by the day and
/// [`callback_approx`]. Not "перезвоним": espeak-ng stresses it wrongly (see
/// `audio/prompts/README.md`).
pub(super) fn callback_intro() -> Utterance {
    Utterance::clip("ru/callback/eta_intro.wav", "Мы позвоним вам")
}

/// "примерно" (`ru/callback/approx.wav`), before the hour range of a callback estimate.
pub(super) fn callback_approx() -> Utterance {
    Utterance::clip("ru/callback/approx.wav", "примерно")
}

/// Two digits of a phone number read together: "ноль ноль", "ноль пять", "сорок пять"
/// (`ru/digits/pair_45.wav`); `pair` is 0..=99.
pub(super) fn pair(pair: u32) -> Utterance {
    let text = if pair < 10 {
        format!("ноль {}", cardinal(pair, Gender::Masculine))
    } else {
        cardinal(pair, Gender::Masculine)
    };
    Utterance::clip(format!("ru/digits/pair_{pair:02}.wav"), text)
}

/// One digit said alone, at the start of a number read in pairs: "ноль" … "девять"
/// (`ru/digits/one_5.wav`); `digit` is 0..=9.
pub(super) fn digit(digit: u32) -> Utterance {
    let text = if digit == 0 {
        "ноль".to_owned()
    } else {
        cardinal(digit, Gender::Masculine)
    };
    Utterance::clip(format!("ru/digits/one_{digit}.wav"), text)
}

/// "Номер вашей заявки" (`ru/callback/reg_intro.wav`), followed by the digits of the request's
/// registration number.
pub(super) fn registration_intro() -> Utterance {
    Utterance::clip("ru/callback/reg_intro.wav", "Номер вашей заявки")
}

/// Every clip file any [`Utterance`] of this module can reference, with the Russian text
/// to synthesize for it, in a stable order (prompts, then fragments by directory).
pub fn catalogue() -> Vec<(String, String)> {
    let mut fragments: Vec<Utterance> = Prompt::ALL.iter().map(|p| p.utterance()).collect();
    fragments.extend([open_intro(), today(), tomorrow()]);
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    fragments.extend(weekdays.into_iter().map(weekday));
    fragments.extend((1..=31).map(day));
    fragments.extend((1..=12).map(month));
    fragments.extend((0..=23).map(hour));
    fragments.extend((0..=23).map(from_hour));
    fragments.extend((1..=24).map(to_hour));
    fragments.extend(
        (1..=19)
            .chain([20, 30, 40, 50])
            .map(|m| minutes(m, Case::Accusative)),
    );
    fragments.push(minutes(1, Case::Nominative));
    fragments.extend([queue_next(), queue_intro()]);
    fragments.extend((1..=QUEUE_CAP).map(queue_people));
    fragments.extend([
        queue_people_more(),
        wait_intro(),
        wait_under_minute(),
        wait_over_half_hour(),
    ]);
    fragments.extend([
        number_ending_intro(),
        callback_intro(),
        callback_approx(),
        registration_intro(),
    ]);
    fragments.extend((0..=99).map(pair));
    fragments.extend((0..=9).map(digit));
    fragments
        .into_iter()
        .map(|u| {
            let [path] =
                <[String; 1]>::try_from(u.clips).expect("catalogue fragments are single clips");
            (path, u.text)
        })
        .collect()
}
