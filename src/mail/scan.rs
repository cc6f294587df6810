//! What a letter's words point at: phone numbers written the Russian ways (`+7 (916) 123-45-67`,
//! `8 916 1234567`, `89161234567`, `8-495-123-45-67`), normalised to E.164 by
//! [`crate::domain::phone::PhoneNumber`], so that an operator can call a writer back; and our own
//! registration number in a reply's subject (`Re: ШП-2026-000123`), so that the reply joins its
//! request. Both are pure functions over text, tolerant of anything a person may type.

use crate::domain::phone::PhoneNumber;

/// Characters allowed between the digits of a written phone number.
const SEPARATORS: &str = " -().\u{a0}\u{2011}\u{2012}\u{2013}";

/// The phone numbers in `text`, as E.164, each once, in the order they first appear.
///
/// Without a `+`, a number counts when it has 11 digits starting with 8 or 7, or 10 digits that
/// start with 9 (a mobile number) or are written in groups (`(495) 123-45-67`); a bare run of
/// 10 or 12 digits is more often a tax or account number. Digits glued to letters or to a
/// hyphenated code (`ШП-2026-000123`) are not a phone number.
pub fn find_phones(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c == '+' || c == '(' || c.is_ascii_digit();
        if !starts || !at_boundary(&chars, i) {
            i += 1;
            continue;
        }
        let (end, digits) = run_from(&chars, i);
        let candidate: String = chars[i..end].iter().collect();
        let glued = chars.get(end).is_some_and(|c| c.is_alphanumeric());
        match (!glued).then(|| accept(&candidate, digits)).flatten() {
            Some(e164) => {
                if !found.contains(&e164) {
                    found.push(e164);
                }
                i = end;
            }
            // A run can hold a number after other digits (`с 9 до 18 8-916-…`): try from the
            // next group.
            None => i = next_group(&chars, i, end),
        }
    }
    found
}

/// True when a number may start at `i`: not inside a word or a hyphenated code.
fn at_boundary(chars: &[char], i: usize) -> bool {
    match i.checked_sub(1).map(|p| chars[p]) {
        None => true,
        Some(p) => !(p.is_alphanumeric() || "-_/@+#№".contains(p)),
    }
}

/// The end of the phone-like run starting at `start` and the number of digits in it. The run
/// stops at a third separator in a row, at a `+` after the start, or past 15 digits.
fn run_from(chars: &[char], start: usize) -> (usize, usize) {
    let mut digits = 0;
    let mut seps = 0;
    let mut end = start;
    let mut j = start;
    while j < chars.len() {
        let c = chars[j];
        if c.is_ascii_digit() {
            digits += 1;
            seps = 0;
            end = j + 1;
            if digits > 15 {
                break;
            }
        } else if (c == '+' && j == start) || (SEPARATORS.contains(c) && seps < 2) {
            if c != '+' {
                seps += 1;
            }
        } else {
            break;
        }
        j += 1;
    }
    (end.max(start + 1), digits)
}

/// The start of the next digit group after `start` within `..end` (or `end`).
fn next_group(chars: &[char], start: usize, end: usize) -> usize {
    let mut j = start;
    while j < end && !chars[j].is_ascii_digit() {
        j += 1;
    }
    while j < end && chars[j].is_ascii_digit() {
        j += 1;
    }
    while j < end && !chars[j].is_ascii_digit() && chars[j] != '+' && chars[j] != '(' {
        j += 1;
    }
    j.max(start + 1)
}

/// The E.164 form of a candidate run when it is a phone number by the rules of [`find_phones`].
fn accept(candidate: &str, digits: usize) -> Option<String> {
    let trimmed = candidate.trim_matches(|c: char| SEPARATORS.contains(c) && c != '(');
    let only: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let grouped = trimmed.chars().any(|c| !c.is_ascii_digit() && c != '+');
    let plausible = if trimmed.starts_with('+') {
        (10..=15).contains(&digits)
    } else {
        match digits {
            11 => only.starts_with('8') || only.starts_with('7'),
            10 => only.starts_with('9') || grouped,
            _ => false,
        }
    };
    if !plausible {
        return None;
    }
    let normal: String = trimmed
        .chars()
        .map(|c| if SEPARATORS.contains(c) { ' ' } else { c })
        .collect();
    PhoneNumber::parse(&normal)
        .ok()
        .map(|n| n.as_str().to_owned())
}

/// Our registration number in `subject`: `<prefix>-<4 digits>-<digits>`, the prefix matched
/// without regard to case (`шп-2026-000123` in a reply is `ШП-2026-000123`). Returns it written
/// with `prefix` as given. `None` for an empty prefix or when there is none.
pub fn find_reference(subject: &str, prefix: &str) -> Option<String> {
    let prefix: Vec<char> = prefix.trim().chars().collect();
    if prefix.is_empty() {
        return None;
    }
    let chars: Vec<char> = subject.chars().collect();
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    for start in 0..chars.len() {
        if start > 0 && chars[start - 1].is_alphanumeric() {
            continue;
        }
        let Some(head) = chars.get(start..start + prefix.len()) else {
            break;
        };
        if !head.iter().zip(&prefix).all(|(&a, &b)| same(a, b)) {
            continue;
        }
        let rest = &chars[start + prefix.len()..];
        let digits_at = |from: usize| {
            rest.iter()
                .skip(from)
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        if rest.first() != Some(&'-') || digits_at(1) != 4 || rest.get(5) != Some(&'-') {
            continue;
        }
        let n = digits_at(6);
        if n == 0 || n > 18 || rest.get(6 + n).is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        let year: String = rest[1..5].iter().collect();
        let number: String = rest[6..6 + n].iter().collect();
        let prefix: String = prefix.iter().collect();
        return Some(format!("{prefix}-{year}-{number}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_ways_of_writing_a_number() {
        for text in [
            "Мой телефон +7 (916) 123-45-67, звоните после обеда.",
            "тел. 8 916 1234567",
            "89161234567",
            "Перезвоните: 8-916-123-45-67!",
            "моб.:+79161234567.",
            "9161234567",
        ] {
            assert_eq!(find_phones(text), vec!["+79161234567"], "{text}");
        }
        assert_eq!(find_phones("(495) 123-45-67"), vec!["+74951234567"]);
    }

    #[test]
    fn several_numbers_each_once() {
        let text = "Рабочий 8 (495) 123-45-67, мобильный +7 916 123 45 67, ещё раз 89161234567";
        assert_eq!(find_phones(text), vec!["+74951234567", "+79161234567"]);
        assert_eq!(
            find_phones("с 9 до 18 8-916-123-45-67"),
            vec!["+79161234567"]
        );
    }

    #[test]
    fn other_numbers_are_not_phones() {
        for text in [
            "Заявка ШП-2026-000123 от 06.12.2026",
            "ИНН 7707083893",
            "ИНН 500100732259",
            "логин user89161234567",
            "89161234567abc",
            "счёт 40817810099910004312",
            "код 123456",
            "",
        ] {
            assert!(
                find_phones(text).is_empty(),
                "{text}: {:?}",
                find_phones(text)
            );
        }
    }

    #[test]
    fn references_in_subjects() {
        let r = |s: &str| find_reference(s, "ШП");
        assert_eq!(r("Re: ШП-2026-000123").as_deref(), Some("ШП-2026-000123"));
        assert_eq!(
            r("RE: Fwd: шп-2026-7 спасибо").as_deref(),
            Some("ШП-2026-7")
        );
        assert_eq!(r("[Шп-2027-000001]").as_deref(), Some("ШП-2027-000001"));
        assert_eq!(r("№ШП-2026-000123").as_deref(), Some("ШП-2026-000123"));
        for none in [
            "Re: вопрос",
            "ШП-26-000123",
            "ШП-2026-",
            "ШП2026-000123",
            "АШП-2026-000123",
            "ШП-2026-000123А",
            "ШП-20261-000123",
        ] {
            assert_eq!(r(none), None, "{none}");
        }
        assert_eq!(
            find_reference("Re: sd-2026-42", "SD").as_deref(),
            Some("SD-2026-42")
        );
        assert_eq!(find_reference("ШП-2026-1", ""), None);
    }
}
