//! Numerals (nominative, accusative, genitive), plural forms, ordinals, months and weekdays.

use chrono::{Datelike, Month, Weekday};

use super::super::russian::{
    Case, Gender, cardinal, cardinal_in, count, day_month, month_genitive, ordinal_genitive,
    plural, weekday_accusative, weekday_nominative,
};

const MINUTE: [&str; 3] = ["минута", "минуты", "минут"];
const HOUR_GEN: [&str; 3] = ["часа", "часов", "часов"];

#[test]
fn plural_follows_the_last_two_digits() {
    let cases = [
        (0, "минут"),
        (1, "минута"),
        (2, "минуты"),
        (4, "минуты"),
        (5, "минут"),
        (11, "минут"),
        (12, "минут"),
        (14, "минут"),
        (20, "минут"),
        (21, "минута"),
        (22, "минуты"),
        (25, "минут"),
        (101, "минута"),
        (104, "минуты"),
        (111, "минут"),
        (112, "минут"),
        (114, "минут"),
        (121, "минута"),
        (1_000_001, "минута"),
    ];
    for (n, form) in cases {
        assert_eq!(plural(n, MINUTE), form, "{n}");
    }
}

#[test]
fn cardinals_in_words() {
    use Gender::*;
    let cases = [
        (0, Masculine, "ноль"),
        (0, Feminine, "ноль"),
        (1, Masculine, "один"),
        (1, Feminine, "одна"),
        (1, Neuter, "одно"),
        (2, Masculine, "два"),
        (2, Feminine, "две"),
        (2, Neuter, "два"),
        (20, Masculine, "двадцать"),
        (21, Masculine, "двадцать один"),
        (21, Feminine, "двадцать одна"),
        (22, Feminine, "двадцать две"),
        (40, Masculine, "сорок"),
        (99, Masculine, "девяносто девять"),
        (100, Masculine, "сто"),
        (101, Masculine, "сто один"),
        (101, Feminine, "сто одна"),
        (110, Masculine, "сто десять"),
        (512, Masculine, "пятьсот двенадцать"),
        (999, Masculine, "девятьсот девяносто девять"),
        (1_000, Masculine, "тысяча"),
        (2_001, Feminine, "две тысячи одна"),
        (21_000, Masculine, "двадцать одна тысяча"),
        (5_000_000, Masculine, "пять миллионов"),
        (1_002_003, Masculine, "миллион две тысячи три"),
    ];
    for (n, gender, words) in cases {
        assert_eq!(cardinal(n, gender), words, "{n} {gender:?}");
    }
    let teens = [
        "десять",
        "одиннадцать",
        "двенадцать",
        "тринадцать",
        "четырнадцать",
        "пятнадцать",
        "шестнадцать",
        "семнадцать",
        "восемнадцать",
        "девятнадцать",
    ];
    for (n, words) in (10..).zip(teens) {
        assert_eq!(cardinal(n, Masculine), words);
        assert_eq!(cardinal(n, Feminine), words);
    }
    assert!(
        cardinal(u32::MAX, Masculine)
            .starts_with("четыре миллиарда двести девяносто четыре миллиона")
    );
}

#[test]
fn every_number_below_a_thousand_is_words_only() {
    for n in 0..1000 {
        let genders = [Gender::Masculine, Gender::Feminine, Gender::Neuter];
        let cases = [Case::Nominative, Case::Accusative, Case::Genitive];
        for (gender, case) in genders.into_iter().flat_map(|g| cases.map(|c| (g, c))) {
            let w = cardinal_in(n, gender, case);
            assert!(
                !w.is_empty() && w.chars().all(|c| c.is_alphabetic() || c == ' '),
                "{n}: {w:?}"
            );
            assert!(
                !w.contains("  ") && !w.starts_with(' ') && !w.ends_with(' '),
                "{n}: {w:?}"
            );
        }
    }
}

#[test]
fn accusative_changes_only_feminine_one() {
    assert_eq!(cardinal_in(1, Gender::Feminine, Case::Accusative), "одну");
    assert_eq!(
        cardinal_in(31, Gender::Feminine, Case::Accusative),
        "тридцать одну"
    );
    assert_eq!(cardinal_in(2, Gender::Feminine, Case::Accusative), "две");
    assert_eq!(cardinal_in(1, Gender::Masculine, Case::Accusative), "один");
    assert_eq!(
        count(1, Gender::Feminine, Case::Nominative, MINUTE),
        "одна минута"
    );
    assert_eq!(
        count(22, Gender::Feminine, Case::Nominative, MINUTE),
        "двадцать две минуты"
    );
    assert_eq!(
        count(
            1,
            Gender::Masculine,
            Case::Nominative,
            ["человек", "человека", "человек"]
        ),
        "один человек"
    );
}

#[test]
fn genitive_cardinals_up_to_twenty_four() {
    let words = [
        "нуля",
        "одного",
        "двух",
        "трёх",
        "четырёх",
        "пяти",
        "шести",
        "семи",
        "восьми",
        "девяти",
        "десяти",
        "одиннадцати",
        "двенадцати",
        "тринадцати",
        "четырнадцати",
        "пятнадцати",
        "шестнадцати",
        "семнадцати",
        "восемнадцати",
        "девятнадцати",
        "двадцати",
        "двадцати одного",
        "двадцати двух",
        "двадцати трёх",
        "двадцати четырёх",
    ];
    for (n, said) in (0..).zip(words) {
        assert_eq!(
            cardinal_in(n, Gender::Masculine, Case::Genitive),
            said,
            "{n}"
        );
        assert_eq!(cardinal_in(n, Gender::Neuter, Case::Genitive), said, "{n}");
    }
    // Hours in the genitive, as in "до двух часов": 1 and 21 take the singular.
    let hours = |n| count(n, Gender::Masculine, Case::Genitive, HOUR_GEN);
    assert_eq!(hours(1), "одного часа");
    for n in 2..=20 {
        assert_eq!(hours(n), format!("{} часов", words[n as usize]), "{n}");
    }
    assert_eq!(hours(21), "двадцати одного часа");
    assert_eq!(hours(22), "двадцати двух часов");
    assert_eq!(hours(23), "двадцати трёх часов");
    assert_eq!(hours(24), "двадцати четырёх часов");
}

#[test]
fn genitive_changes_every_word() {
    use Gender::*;
    let cases = [
        (1, Feminine, "одной"),
        (2, Feminine, "двух"),
        (21, Feminine, "двадцати одной"),
        (30, Masculine, "тридцати"),
        (40, Masculine, "сорока"),
        (45, Masculine, "сорока пяти"),
        (50, Masculine, "пятидесяти"),
        (90, Masculine, "девяноста"),
        (99, Masculine, "девяноста девяти"),
        (100, Masculine, "ста"),
        (101, Masculine, "ста одного"),
        (200, Masculine, "двухсот"),
        (512, Masculine, "пятисот двенадцати"),
        (999, Masculine, "девятисот девяноста девяти"),
        (1_000, Masculine, "тысячи"),
        (2_021, Feminine, "двух тысяч двадцати одной"),
        (5_000, Masculine, "пяти тысяч"),
        (21_000, Masculine, "двадцати одной тысячи"),
        (1_000_000, Masculine, "миллиона"),
        (3_000_000, Masculine, "трёх миллионов"),
        (2_000_000_000, Masculine, "двух миллиардов"),
    ];
    for (n, gender, words) in cases {
        assert_eq!(
            cardinal_in(n, gender, Case::Genitive),
            words,
            "{n} {gender:?}"
        );
    }
    assert_eq!(
        count(2, Feminine, Case::Genitive, ["минуты", "минут", "минут"]),
        "двух минут"
    );
    // The other cases are unchanged by the genitive tables.
    assert_eq!(cardinal_in(0, Masculine, Case::Nominative), "ноль");
    assert_eq!(cardinal_in(45, Masculine, Case::Accusative), "сорок пять");
}

#[test]
fn ordinals_in_the_genitive() {
    let cases = [
        (1, "первого"),
        (2, "второго"),
        (3, "третьего"),
        (4, "четвёртого"),
        (7, "седьмого"),
        (8, "восьмого"),
        (11, "одиннадцатого"),
        (19, "девятнадцатого"),
        (20, "двадцатого"),
        (21, "двадцать первого"),
        (23, "двадцать третьего"),
        (30, "тридцатого"),
        (31, "тридцать первого"),
        (40, "сорокового"),
        (99, "девяносто девятого"),
    ];
    for (n, words) in cases {
        assert_eq!(ordinal_genitive(n).as_deref(), Some(words), "{n}");
    }
    for n in 1..=31 {
        assert!(ordinal_genitive(n).unwrap().ends_with("го"), "{n}");
    }
    assert_eq!(ordinal_genitive(0), None);
    assert_eq!(ordinal_genitive(100), None);
}

#[test]
fn months_and_weekdays() {
    let months: Vec<_> = (1..=12u8)
        .map(|m| month_genitive(Month::try_from(m).unwrap()))
        .collect();
    assert_eq!(
        months,
        [
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря"
        ]
    );
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let said: Vec<_> = days.into_iter().map(weekday_accusative).collect();
    assert_eq!(
        said,
        [
            "в понедельник",
            "во вторник",
            "в среду",
            "в четверг",
            "в пятницу",
            "в субботу",
            "в воскресенье"
        ]
    );
}

#[test]
fn weekday_names_and_dates_as_read() {
    let names: Vec<_> = (0..7)
        .map(|i| weekday_nominative(Weekday::try_from(i as u8).unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            "понедельник",
            "вторник",
            "среда",
            "четверг",
            "пятница",
            "суббота",
            "воскресенье"
        ]
    );
    let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for (date, read) in [
        (d(2026, 12, 8), "8 декабря"),
        (d(2026, 12, 31), "31 декабря"),
        (d(2027, 1, 1), "1 января"),
        (d(2027, 5, 9), "9 мая"),
        (d(2028, 2, 29), "29 февраля"),
    ] {
        assert_eq!(day_month(date), read);
    }
}

proptest::proptest! {
    /// Read back, "D месяца" names the date's day and month.
    #[test]
    fn day_month_reads_back(days in 0i64..3_000) {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::TimeDelta::days(days);
        let text = day_month(date);
        let (day, month) = text.split_once(' ').unwrap();
        proptest::prop_assert_eq!(day.parse::<u32>().unwrap(), date.day());
        let m = (1..=12u8).find(|&m| month_genitive(Month::try_from(m).unwrap()) == month);
        proptest::prop_assert_eq!(m.map(u32::from), Some(date.month()));
    }
}
