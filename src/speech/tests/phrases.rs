//! The wording and clips of every dynamic announcement.

use chrono::TimeDelta;

use super::super::{
    Prompt, callback_eta, estimated_wait, number_ending, opens_at, queue_position,
    registration_number,
};
use super::at;

/// The clip paths of an utterance, as `&str`.
fn clips(u: &super::Utterance) -> Vec<&str> {
    u.clips.iter().map(String::as_str).collect()
}

#[test]
fn opens_today_and_tomorrow() {
    let today = opens_at(at(2025, 12, 1, 7, 40), at(2025, 12, 1, 9, 0));
    assert_eq!(
        today.text,
        "Линия поддержки откроется сегодня в девять часов."
    );
    assert_eq!(
        clips(&today),
        [
            "ru/open/intro.wav",
            "ru/open/today.wav",
            "ru/time/hour_09.wav"
        ]
    );

    let tomorrow = opens_at(at(2025, 12, 1, 18, 5), at(2025, 12, 2, 9, 30));
    assert_eq!(
        tomorrow.text,
        "Линия поддержки откроется завтра в девять часов тридцать минут."
    );
    assert_eq!(
        clips(&tomorrow),
        [
            "ru/open/intro.wav",
            "ru/open/tomorrow.wav",
            "ru/time/hour_09.wav",
            "ru/time/min_30.wav"
        ]
    );
    // Just before midnight, the next morning is "завтра" however few hours away it is.
    let late = opens_at(at(2025, 12, 1, 23, 59), at(2025, 12, 2, 0, 0));
    assert_eq!(late.text, "Линия поддержки откроется завтра в ноль часов.");
}

#[test]
fn opens_on_a_later_day_names_weekday_and_date() {
    // Friday evening → Monday 1 December 2025.
    let monday = opens_at(at(2025, 11, 28, 19, 0), at(2025, 12, 1, 9, 0));
    assert_eq!(
        monday.text,
        "Линия поддержки откроется в понедельник, первого декабря, в девять часов."
    );
    assert_eq!(
        clips(&monday),
        [
            "ru/open/intro.wav",
            "ru/date/wd_1.wav",
            "ru/date/day_01.wav",
            "ru/date/month_12.wav",
            "ru/time/hour_09.wav"
        ]
    );
    // After the New Year holidays: Tuesday 31 December 2024 → Thursday 9 January 2025.
    let after = opens_at(at(2024, 12, 31, 12, 0), at(2025, 1, 9, 10, 15));
    assert_eq!(
        after.text,
        "Линия поддержки откроется в четверг, девятого января, в десять часов пятнадцать минут."
    );
    let tuesday = opens_at(at(2025, 9, 21, 12, 0), at(2025, 9, 23, 9, 0));
    assert_eq!(
        tuesday.text,
        "Линия поддержки откроется во вторник, двадцать третьего сентября, в девять часов."
    );
    // An opening in the past still reads as a date rather than "сегодня".
    let past = opens_at(at(2025, 3, 31, 12, 0), at(2025, 3, 30, 9, 0));
    assert_eq!(
        past.text,
        "Линия поддержки откроется в воскресенье, тридцатого марта, в девять часов."
    );
}

#[test]
fn hours_and_minutes_agree_with_their_nouns() {
    let time = |h, m| {
        let u = opens_at(at(2025, 12, 1, 0, 0), at(2025, 12, 1, h, m));
        u.text
            .trim_start_matches("Линия поддержки откроется сегодня ")
            .trim_end_matches('.')
            .to_owned()
    };
    assert_eq!(time(0, 0), "в ноль часов");
    assert_eq!(time(1, 0), "в один час");
    assert_eq!(time(2, 0), "в два часа");
    assert_eq!(time(4, 0), "в четыре часа");
    assert_eq!(time(5, 0), "в пять часов");
    assert_eq!(time(11, 0), "в одиннадцать часов");
    assert_eq!(time(21, 0), "в двадцать один час");
    assert_eq!(time(22, 0), "в двадцать два часа");
    assert_eq!(time(9, 1), "в девять часов одну минуту");
    assert_eq!(time(9, 2), "в девять часов две минуты");
    assert_eq!(time(9, 5), "в девять часов пять минут");
    assert_eq!(time(9, 11), "в девять часов одиннадцать минут");
    assert_eq!(time(21, 21), "в двадцать один час двадцать одну минуту");
    assert_eq!(time(8, 45), "в восемь часов сорок пять минут");
    assert_eq!(time(23, 59), "в двадцать три часа пятьдесят девять минут");
    let u = opens_at(at(2025, 12, 1, 0, 0), at(2025, 12, 1, 2, 37));
    assert_eq!(
        u.clips[2..],
        [
            "ru/time/hour_02.wav",
            "ru/digits/pair_30.wav",
            "ru/time/min_07.wav"
        ]
    );
}

#[test]
fn queue_positions() {
    let said = |n| queue_position(n).text;
    assert_eq!(said(0), "Ваш звонок следующий в очереди.");
    assert_eq!(said(1), "Перед вами в очереди один человек.");
    assert_eq!(said(2), "Перед вами в очереди два человека.");
    assert_eq!(said(4), "Перед вами в очереди четыре человека.");
    assert_eq!(said(5), "Перед вами в очереди пять человек.");
    assert_eq!(said(11), "Перед вами в очереди одиннадцать человек.");
    assert_eq!(said(20), "Перед вами в очереди двадцать человек.");
    assert_eq!(said(21), "Перед вами в очереди более двадцати человек.");
    assert_eq!(said(25), "Перед вами в очереди более двадцати человек.");
    assert_eq!(said(u32::MAX), said(21));
    assert_eq!(
        queue_position(3).clips,
        ["ru/queue/intro.wav", "ru/queue/people_03.wav"]
    );
    assert_eq!(queue_position(0).clips, ["ru/queue/next.wav"]);
    assert_eq!(
        queue_position(25).clips,
        ["ru/queue/intro.wav", "ru/queue/people_more.wav"]
    );
}

#[test]
fn waits_round_up_to_whole_minutes() {
    let said = |secs| estimated_wait(TimeDelta::seconds(secs)).text;
    assert_eq!(said(0), "Примерное время ожидания — менее минуты.");
    assert_eq!(said(-30), said(0));
    assert_eq!(said(59), said(0));
    assert_eq!(said(60), "Примерное время ожидания — одна минута.");
    assert_eq!(said(61), "Примерное время ожидания — две минуты.");
    assert_eq!(said(5 * 60), "Примерное время ожидания — пять минут.");
    assert_eq!(
        said(21 * 60),
        "Примерное время ожидания — двадцать одна минута."
    );
    assert_eq!(said(30 * 60), "Примерное время ожидания — тридцать минут.");
    assert_eq!(
        said(30 * 60 + 1),
        "Примерное время ожидания — более получаса."
    );
    assert_eq!(said(45 * 60), said(30 * 60 + 1));
    assert_eq!(estimated_wait(TimeDelta::MAX).text, said(45 * 60));
    assert_eq!(
        estimated_wait(TimeDelta::milliseconds(60_001)).text,
        said(61)
    );
    assert_eq!(
        estimated_wait(TimeDelta::minutes(5)).clips,
        ["ru/wait/intro.wav", "ru/time/min_05.wav"]
    );
    assert_eq!(
        estimated_wait(TimeDelta::minutes(21)).clips,
        [
            "ru/wait/intro.wav",
            "ru/digits/pair_20.wav",
            "ru/time/one_minute.wav"
        ]
    );
    assert_eq!(
        estimated_wait(TimeDelta::zero()).clips,
        ["ru/wait/intro.wav", "ru/wait/under_minute.wav"]
    );
}

#[test]
fn registration_numbers_are_dictated_in_pairs() {
    let u = registration_number(123);
    assert_eq!(u.text, "Номер вашей заявки: один — двадцать три.");
    assert_eq!(
        clips(&u),
        [
            "ru/callback/reg_intro.wav",
            "ru/digits/one_1.wav",
            "ru/digits/pair_23.wav"
        ]
    );
    assert_eq!(
        registration_number(1005).text,
        "Номер вашей заявки: десять — ноль пять."
    );
    assert_eq!(registration_number(7).text, "Номер вашей заявки: семь.");
    assert_eq!(registration_number(0).text, "Номер вашей заявки: ноль.");
}

#[test]
fn number_endings_are_read_in_pairs() {
    let u = number_ending("4567");
    assert_eq!(
        u.text,
        "Мы позвоним вам на номер, который заканчивается на сорок пять — шестьдесят семь."
    );
    assert_eq!(
        clips(&u),
        [
            "ru/callback/number_ending.wav",
            "ru/digits/pair_45.wav",
            "ru/digits/pair_67.wav"
        ]
    );
    assert_eq!(number_ending("+7 (916) 123-45-67"), u);
    let zeros = number_ending("0500");
    assert!(
        zeros.text.ends_with("на ноль пять — ноль ноль."),
        "{}",
        zeros.text
    );
    assert!(
        number_ending("1011")
            .text
            .ends_with("на десять — одиннадцать.")
    );
    assert_eq!(number_ending("123"), Prompt::EnterNumber.utterance());
    assert_eq!(number_ending(""), Prompt::EnterNumber.utterance());
    assert_eq!(number_ending("anonymous"), Prompt::EnterNumber.utterance());
}

#[test]
fn callback_eta_on_a_later_day_names_weekday_and_date() {
    // Friday evening → Monday 30 November 2026, ten to eleven.
    let monday = callback_eta(
        at(2026, 11, 27, 20, 0),
        at(2026, 11, 30, 10, 0),
        at(2026, 11, 30, 11, 0),
    );
    assert_eq!(
        monday.text,
        "Мы позвоним вам в понедельник, тридцатого ноября, примерно с десяти до одиннадцати часов."
    );
    assert_eq!(
        clips(&monday),
        [
            "ru/callback/eta_intro.wav",
            "ru/date/wd_1.wav",
            "ru/date/day_30.wav",
            "ru/date/month_11.wav",
            "ru/callback/approx.wav",
            "ru/time/from_10.wav",
            "ru/time/to_11.wav"
        ]
    );
    let tuesday = callback_eta(
        at(2025, 9, 21, 12, 0),
        at(2025, 9, 23, 9, 0),
        at(2025, 9, 23, 10, 0),
    );
    assert_eq!(
        tuesday.text,
        "Мы позвоним вам во вторник, двадцать третьего сентября, примерно с девяти до десяти часов."
    );
    // A window in the past still reads as a date rather than "сегодня".
    let past = callback_eta(
        at(2025, 3, 31, 12, 0),
        at(2025, 3, 30, 9, 0),
        at(2025, 3, 30, 10, 0),
    );
    assert_eq!(
        past.text,
        "Мы позвоним вам в воскресенье, тридцатого марта, примерно с девяти до десяти часов."
    );
}

#[test]
fn callback_eta_today_and_tomorrow() {
    let today = callback_eta(
        at(2026, 11, 30, 14, 20),
        at(2026, 11, 30, 17, 0),
        at(2026, 11, 30, 18, 0),
    );
    assert_eq!(
        today.text,
        "Мы позвоним вам сегодня примерно с семнадцати до восемнадцати часов."
    );
    assert_eq!(
        clips(&today),
        [
            "ru/callback/eta_intro.wav",
            "ru/open/today.wav",
            "ru/callback/approx.wav",
            "ru/time/from_17.wav",
            "ru/time/to_18.wav"
        ]
    );
    let tomorrow = callback_eta(
        at(2026, 11, 30, 19, 45),
        at(2026, 12, 1, 8, 0),
        at(2026, 12, 1, 9, 0),
    );
    assert_eq!(
        tomorrow.text,
        "Мы позвоним вам завтра примерно с восьми до девяти часов."
    );
    assert_eq!(
        clips(&tomorrow),
        [
            "ru/callback/eta_intro.wav",
            "ru/open/tomorrow.wav",
            "ru/callback/approx.wav",
            "ru/time/from_08.wav",
            "ru/time/to_09.wav"
        ]
    );
    // A wider window and one ending at midnight.
    let wide = callback_eta(
        at(2026, 11, 30, 9, 0),
        at(2026, 11, 30, 9, 0),
        at(2026, 11, 30, 20, 0),
    );
    assert_eq!(
        wide.text,
        "Мы позвоним вам сегодня примерно с девяти до двадцати часов."
    );
    let late = callback_eta(
        at(2026, 11, 30, 9, 0),
        at(2026, 11, 30, 23, 0),
        at(2026, 12, 1, 0, 0),
    );
    assert_eq!(
        late.text,
        "Мы позвоним вам сегодня примерно с двадцати трёх до двадцати четырёх часов."
    );
    assert_eq!(
        late.clips[3..],
        ["ru/time/from_23.wav", "ru/time/to_24.wav"]
    );
}

#[test]
fn callback_eta_rounds_to_whole_hours() {
    let range = |from: (u32, u32), to: (u32, u32)| {
        let u = callback_eta(
            at(2026, 11, 30, 8, 0),
            at(2026, 11, 30, from.0, from.1),
            at(2026, 11, 30, to.0, to.1),
        );
        u.text
            .trim_start_matches("Мы позвоним вам сегодня примерно ")
            .trim_end_matches('.')
            .to_owned()
    };
    // The start rounds down, the end up.
    assert_eq!(range((9, 30), (10, 30)), "с девяти до одиннадцати часов");
    assert_eq!(range((9, 30), (10, 0)), "с девяти до десяти часов");
    assert_eq!(range((9, 59), (11, 1)), "с девяти до двенадцати часов");
    assert_eq!(
        range((23, 0), (23, 30)),
        "с двадцати трёх до двадцати четырёх часов"
    );
    // Seconds count as past the hour too.
    let u = callback_eta(
        at(2026, 11, 30, 8, 0),
        at(2026, 11, 30, 17, 0),
        at(2026, 11, 30, 18, 0) + TimeDelta::seconds(1),
    );
    assert!(
        u.text.ends_with("с семнадцати до девятнадцати часов."),
        "{}",
        u.text
    );
    // An empty or reversed range is the hour from its start.
    assert_eq!(range((10, 0), (10, 0)), "с десяти до одиннадцати часов");
    assert_eq!(range((10, 30), (9, 0)), "с десяти до одиннадцати часов");
    let before = callback_eta(
        at(2026, 11, 30, 8, 0),
        at(2026, 11, 30, 10, 0),
        at(2026, 11, 29, 12, 0),
    );
    assert!(before.text.ends_with("с десяти до одиннадцати часов."));
    // Anything past the midnight ending the day is that midnight.
    let beyond = callback_eta(
        at(2026, 11, 30, 8, 0),
        at(2026, 11, 30, 20, 0),
        at(2026, 12, 2, 9, 0),
    );
    assert!(
        beyond
            .text
            .ends_with("с двадцати до двадцати четырёх часов.")
    );
}

#[test]
fn callback_eta_hours_in_the_genitive() {
    let from = |h| {
        let u = callback_eta(
            at(2026, 11, 30, 0, 0),
            at(2026, 11, 30, h, 0),
            at(2026, 12, 1, 0, 0),
        );
        u.text
            .trim_start_matches("Мы позвоним вам сегодня примерно ")
            .trim_end_matches(" до двадцати четырёх часов.")
            .to_owned()
    };
    let starts = [
        "с полуночи",
        "с часа",
        "с двух",
        "с трёх",
        "с четырёх",
        "с пяти",
        "с шести",
        "с семи",
        "с восьми",
        "с девяти",
        "с десяти",
        "с одиннадцати",
        "с двенадцати",
        "с тринадцати",
        "с четырнадцати",
        "с пятнадцати",
        "с шестнадцати",
        "с семнадцати",
        "с восемнадцати",
        "с девятнадцати",
        "с двадцати",
        "с двадцати одного",
        "с двадцати двух",
        "с двадцати трёх",
    ];
    for (h, said) in (0..).zip(starts) {
        assert_eq!(from(h), said, "{h}");
    }
    let to = |h| {
        let end = at(2026, 11, 30, 0, 0) + TimeDelta::hours(h);
        let u = callback_eta(at(2026, 11, 30, 0, 0), at(2026, 11, 30, 0, 0), end);
        u.text
            .trim_start_matches("Мы позвоним вам сегодня примерно с полуночи ")
            .trim_end_matches('.')
            .to_owned()
    };
    let ends = [
        "до часа",
        "до двух часов",
        "до трёх часов",
        "до четырёх часов",
        "до пяти часов",
        "до шести часов",
        "до семи часов",
        "до восьми часов",
        "до девяти часов",
        "до десяти часов",
        "до одиннадцати часов",
        "до двенадцати часов",
        "до тринадцати часов",
        "до четырнадцати часов",
        "до пятнадцати часов",
        "до шестнадцати часов",
        "до семнадцати часов",
        "до восемнадцати часов",
        "до девятнадцати часов",
        "до двадцати часов",
        "до двадцати одного часа",
        "до двадцати двух часов",
        "до двадцати трёх часов",
        "до двадцати четырёх часов",
    ];
    for (h, said) in (1..).zip(ends) {
        assert_eq!(to(h), said, "{h}");
    }
}
