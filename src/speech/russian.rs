//! Russian grammar the hotline needs to speak numbers, dates and times correctly: cardinal
//! numerals in words with gender agreement ("одна минута", "два часа", "один человек"),
//! the choice of noun form after a number (1 / 2–4 / 5–20, with 11–14 always taking the
//! "many" form), cardinals in the genitive after "с"/"до" ("с десяти до двадцати одного
//! часа"), genitive ordinals for days of the month ("двадцать третьего"), month
//! names in the genitive ("декабря") and weekdays with their preposition in the accusative
//! ("во вторник"). Pure functions on plain values. For what people read: weekday names
//! ("понедельник") and dates in figures with the month in words ("8 декабря").

use chrono::{Datelike, Month, NaiveDate, Weekday};

/// Grammatical gender of the counted noun: it changes "один/одна/одно" and "два/две".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// "один час", "два часа".
    Masculine,
    /// "одна минута", "две минуты".
    Feminine,
    /// "одно сообщение", "два сообщения".
    Neuter,
}

/// Case of a counted phrase. Only inanimate nouns are counted here, so the accusative
/// differs from the nominative only in feminine "одна" → "одну" ("в девять часов одну минуту").
/// The genitive changes every word of the numeral ("двадцати одного", "пяти тысяч").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// "двадцать одна минута".
    Nominative,
    /// "двадцать одну минуту".
    Accusative,
    /// "двадцати одной минуты", "до двадцати двух часов".
    Genitive,
}

const UNITS: [&str; 10] = [
    "ноль",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
];
const TEENS: [&str; 10] = [
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
const TENS: [&str; 10] = [
    "",
    "десять",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
];
const HUNDREDS: [&str; 10] = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
];
/// Genitive cardinals 0..=9 (masculine and neuter "одного"; feminine "одной" is the only
/// gender difference).
const UNITS_GEN: [&str; 10] = [
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
];
/// Genitive cardinals 10..=19.
const TEENS_GEN: [&str; 10] = [
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
];
/// Genitive whole tens, indexed by the tens digit.
const TENS_GEN: [&str; 10] = [
    "",
    "десяти",
    "двадцати",
    "тридцати",
    "сорока",
    "пятидесяти",
    "шестидесяти",
    "семидесяти",
    "восьмидесяти",
    "девяноста",
];
/// Genitive hundreds, indexed by the hundreds digit.
const HUNDREDS_GEN: [&str; 10] = [
    "",
    "ста",
    "двухсот",
    "трёхсот",
    "четырёхсот",
    "пятисот",
    "шестисот",
    "семисот",
    "восьмисот",
    "девятисот",
];
/// Genitive ordinals 1..=19; index 0 is unused.
const ORDINAL_UNITS: [&str; 20] = [
    "",
    "первого",
    "второго",
    "третьего",
    "четвёртого",
    "пятого",
    "шестого",
    "седьмого",
    "восьмого",
    "девятого",
    "десятого",
    "одиннадцатого",
    "двенадцатого",
    "тринадцатого",
    "четырнадцатого",
    "пятнадцатого",
    "шестнадцатого",
    "семнадцатого",
    "восемнадцатого",
    "девятнадцатого",
];
/// Genitive ordinals of whole tens 20..=90, indexed by the tens digit.
const ORDINAL_TENS: [&str; 10] = [
    "",
    "десятого",
    "двадцатого",
    "тридцатого",
    "сорокового",
    "пятидесятого",
    "шестидесятого",
    "семидесятого",
    "восьмидесятого",
    "девяностого",
];

/// Picks the noun form that agrees with `n`: `forms` are [one, few, many], e.g.
/// `["минута", "минуты", "минут"]`: 1, 21, 101 → one; 2–4, 22–24 → few; 0, 5–20, 25–30,
/// 111–114 → many.
pub fn plural(n: u32, forms: [&str; 3]) -> &str {
    let [one, few, many] = forms;
    match (n % 10, n % 100) {
        (_, 11..=14) => many,
        (1, _) => one,
        (2..=4, _) => few,
        _ => many,
    }
}

/// `n` in words, nominative, agreeing with a noun of `gender`: `cardinal(2, Feminine)` is
/// "две", `cardinal(21, Masculine)` is "двадцать один", `cardinal(0, _)` is "ноль".
/// Defined for every `u32` (thousands, millions and billions included).
pub fn cardinal(n: u32, gender: Gender) -> String {
    cardinal_in(n, gender, Case::Nominative)
}

/// `n` in words in `case` (see [`Case`]), agreeing with a noun of `gender`. In the
/// genitive the thousands and millions are inflected too: `cardinal_in(2_021, Feminine,
/// Genitive)` is "двух тысяч двадцати одной", `cardinal_in(0, _, Genitive)` is "нуля".
pub fn cardinal_in(n: u32, gender: Gender, case: Case) -> String {
    let genitive = case == Case::Genitive;
    if n == 0 {
        return if genitive { UNITS_GEN[0] } else { UNITS[0] }.to_owned();
    }
    // The scale nouns as [one, few, many] after a numeral in the nominative or genitive
    // ("две тысячи", "двух тысяч").
    let scales: [(u32, Gender, [&str; 3], [&str; 3]); 3] = [
        (
            1_000_000_000,
            Gender::Masculine,
            ["миллиард", "миллиарда", "миллиардов"],
            ["миллиарда", "миллиардов", "миллиардов"],
        ),
        (
            1_000_000,
            Gender::Masculine,
            ["миллион", "миллиона", "миллионов"],
            ["миллиона", "миллионов", "миллионов"],
        ),
        (
            1_000,
            Gender::Feminine,
            ["тысяча", "тысячи", "тысяч"],
            ["тысячи", "тысяч", "тысяч"],
        ),
    ];
    let group_case = if genitive {
        Case::Genitive
    } else {
        Case::Nominative
    };
    let mut words: Vec<&str> = Vec::new();
    let mut rest = n;
    for (scale, scale_gender, nominative, genitive_forms) in scales {
        let group = rest / scale;
        rest %= scale;
        if group == 0 {
            continue;
        }
        // "тысяча", "миллион" rather than "одна тысяча", "один миллион".
        if group != 1 {
            push_group(&mut words, group, scale_gender, group_case);
        }
        let forms = if genitive { genitive_forms } else { nominative };
        words.push(plural(group, forms));
    }
    push_group(&mut words, rest, gender, case);
    words.join(" ")
}

/// Appends the words of `group` (0..=999; nothing for 0) to `words`.
fn push_group(words: &mut Vec<&'static str>, group: u32, gender: Gender, case: Case) {
    let (hundreds, tens, units) = (
        (group / 100) as usize,
        (group / 10 % 10) as usize,
        (group % 10) as usize,
    );
    let genitive = case == Case::Genitive;
    let (unit_words, teen_words, ten_words, hundred_words) = if genitive {
        (UNITS_GEN, TEENS_GEN, TENS_GEN, HUNDREDS_GEN)
    } else {
        (UNITS, TEENS, TENS, HUNDREDS)
    };
    if hundreds > 0 {
        words.push(hundred_words[hundreds]);
    }
    if tens == 1 {
        words.push(teen_words[units]);
        return;
    }
    if tens > 1 {
        words.push(ten_words[tens]);
    }
    if units > 0 {
        words.push(match (units, gender, case) {
            (1, Gender::Feminine, Case::Genitive) => "одной",
            (_, _, Case::Genitive) => unit_words[units],
            (1, Gender::Feminine, Case::Accusative) => "одну",
            (1, Gender::Feminine, Case::Nominative) => "одна",
            (1, Gender::Neuter, _) => "одно",
            (2, Gender::Feminine, _) => "две",
            _ => unit_words[units],
        });
    }
}

/// `n` in words followed by the agreeing noun form: `count(2, Feminine, Nominative,
/// ["минута", "минуты", "минут"])` is "две минуты". Give `forms` in the wanted case
/// (accusative singular "минуту" for `Case::Accusative`; for `Case::Genitive` the genitive
/// singular and then the genitive plural twice, `["часа", "часов", "часов"]`: "двух часов").
pub fn count(n: u32, gender: Gender, case: Case, forms: [&str; 3]) -> String {
    format!("{} {}", cardinal_in(n, gender, case), plural(n, forms))
}

/// The genitive ordinal used for a day of the month ("первого", "двадцать третьего",
/// "тридцать первого"); defined for 1..=99, `None` otherwise.
pub fn ordinal_genitive(n: u32) -> Option<String> {
    let (tens, units) = ((n / 10) as usize, (n % 10) as usize);
    match n {
        1..=19 => Some(ORDINAL_UNITS[n as usize].to_owned()),
        20..=99 if units == 0 => Some(ORDINAL_TENS[tens].to_owned()),
        20..=99 => Some(format!("{} {}", TENS[tens], ORDINAL_UNITS[units])),
        _ => None,
    }
}

/// The month's name in the genitive, as in "первого декабря".
pub fn month_genitive(month: Month) -> &'static str {
    match month {
        Month::January => "января",
        Month::February => "февраля",
        Month::March => "марта",
        Month::April => "апреля",
        Month::May => "мая",
        Month::June => "июня",
        Month::July => "июля",
        Month::August => "августа",
        Month::September => "сентября",
        Month::October => "октября",
        Month::November => "ноября",
        Month::December => "декабря",
    }
}

/// "On a weekday": the weekday in the accusative with its preposition ("в понедельник",
/// "во вторник", "в среду", …).
pub fn weekday_accusative(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "в понедельник",
        Weekday::Tue => "во вторник",
        Weekday::Wed => "в среду",
        Weekday::Thu => "в четверг",
        Weekday::Fri => "в пятницу",
        Weekday::Sat => "в субботу",
        Weekday::Sun => "в воскресенье",
    }
}

/// The weekday's name, nominative, lower case ("понедельник" … "воскресенье").
pub fn weekday_nominative(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "понедельник",
        Weekday::Tue => "вторник",
        Weekday::Wed => "среда",
        Weekday::Thu => "четверг",
        Weekday::Fri => "пятница",
        Weekday::Sat => "суббота",
        Weekday::Sun => "воскресенье",
    }
}

/// A date as read on a page, the day in figures and the month in the genitive: "8 декабря",
/// "31 декабря" (no year).
pub fn day_month(date: NaiveDate) -> String {
    let month = u8::try_from(date.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .expect("a date's month is 1..=12");
    format!("{} {}", date.day(), month_genitive(month))
}
