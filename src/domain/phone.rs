//! Phone numbers: what a caller dials on the keypad or what the provider reports as caller ID,
//! normalized to E.164 (`+79161234567`) with libphonenumber's metadata (the `phonenumber` crate),
//! Russia as the home region. Accepted: `8XXXXXXXXXX`, `7XXXXXXXXXX`, ten national digits, `+…`,
//! with or without spaces, dashes, dots and parentheses, and international numbers dialled from
//! Russia (`810…`) or with `+`/`00`. Anything that cannot be a real number is refused, so a
//! number that exists is a valid one. Logs only ever see [`mask`]ed numbers.

use std::fmt;

use serde::Serialize;

/// A valid phone number in E.164 form. `Debug` shows it masked (it is personal data).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", mask(&self.0))
    }
}

/// Why an input is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no digits")]
    Empty,
    #[error("contains characters that are not part of a phone number")]
    BadCharacters,
    #[error("not a valid phone number")]
    Invalid,
}

impl PhoneNumber {
    /// Loads libphonenumber's metadata now (the first parse in a process takes tens of
    /// milliseconds), so that no caller's webhook pays for it.
    pub fn warm_up() {
        let _ = PhoneNumber::parse("+74950000000");
    }

    /// Normalizes `input` (keypad digits or a provider's caller ID) to E.164.
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || " +-().\u{a0}".contains(c)))
        {
            return Err(PhoneError::BadCharacters);
        }
        let plus = trimmed.starts_with('+');
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        if digits.len() > 17 {
            return Err(PhoneError::Invalid);
        }
        let candidate = if plus {
            format!("+{digits}")
        } else if let Some(rest) = digits
            .strip_prefix("810")
            .or_else(|| digits.strip_prefix("00"))
        {
            format!("+{rest}")
        } else {
            match digits.len() {
                11 if digits.starts_with('8') || digits.starts_with('7') => {
                    format!("+7{}", &digits[1..])
                }
                10 => format!("+7{digits}"),
                _ => digits.clone(),
            }
        };
        // A `+` candidate is read by its country code alone. With a home region, libphonenumber
        // applies that region's rules to the digits after the country code too, and can turn
        // one number into another (`+252 88 852281` became the valid `+252 852281`, which then
        // did not parse again: found by the `phone_number` fuzz target).
        let region = (!candidate.starts_with('+')).then_some(phonenumber::country::Id::RU);
        let parsed = phonenumber::parse(region, &candidate).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid);
        }
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        // libphonenumber's national-prefix handling can read odd digit strings as a valid number
        // whose E.164 form is not valid on its own (`888131261232` → `+78131261232`): keep only
        // numbers that normalize to themselves, so that a stored number parses again. A
        // candidate already in that very E.164 form was just parsed exactly as that check
        // would parse it (no home region): a caller ID from the provider, the common case,
        // is parsed once, not twice.
        if e164 != candidate && !is_stable_e164(&e164) {
            return Err(PhoneError::Invalid);
        }
        Ok(PhoneNumber(e164))
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits (read back to the caller).
    pub fn last4(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.0))
    }
}

/// A caller ID as the provider gave it, with the number it is (when it is a valid one) parsed at
/// most once however many parts of a webhook's handling ask: libphonenumber takes tens of
/// microseconds per parse, and a new call asks at the blocklist, at the caller limits and in the
/// routing decision. Shared (`Arc`) between the request's task and the step it submits.
#[derive(Clone)]
pub struct CallerId {
    raw: String,
    number: std::sync::OnceLock<Option<PhoneNumber>>,
}

impl CallerId {
    pub fn new(raw: &str) -> CallerId {
        CallerId {
            raw: raw.to_owned(),
            number: std::sync::OnceLock::new(),
        }
    }

    /// The caller ID as given.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The valid number it is, if any (parsed on first use).
    pub fn number(&self) -> Option<&PhoneNumber> {
        self.number
            .get_or_init(|| PhoneNumber::parse(&self.raw).ok())
            .as_ref()
    }
}

impl fmt::Debug for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallerId({})", mask(&self.raw))
    }
}

/// True when `e164` parses, without a home region, to a valid number printed the same way.
fn is_stable_e164(e164: &str) -> bool {
    phonenumber::parse(None, e164).is_ok_and(|n| {
        phonenumber::is_valid(&n) && n.format().mode(phonenumber::Mode::E164).to_string() == e164
    })
}

/// Hides all but the country code's first digits and the last four: `+7******4567`. For logs.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let head = if chars[0] == '+' { 2.min(n - 4) } else { 0 };
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - 4 - head));
    out.extend(&chars[n - 4..]);
    out
}

/// Masks every run of 7 or more digits in free text (e.g. a provider's error message) the same
/// way: first digit, stars, last four (`74951234567` → `7******4567`). For logs.
pub fn mask_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        let n = digits.len();
        if n >= 7 {
            out.push_str(&digits[..1]);
            out.push_str(&"*".repeat(n - 5));
            out.push_str(&digits[n - 4..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_whole_number() {
        let n = PhoneNumber::parse("+79161234567").unwrap();
        let shown = format!("{n:?} {:?}", Some(&n));
        assert!(!shown.contains("9161234567"), "{shown}");
        assert!(shown.contains("4567"), "{shown}");
    }

    fn e164(s: &str) -> String {
        PhoneNumber::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn russian_forms_normalize_to_the_same_number() {
        for s in [
            "+79161234567",
            "89161234567",
            "79161234567",
            "9161234567",
            "8 (916) 123-45-67",
            "+7 916 123 45 67",
            "8-916-123-45-67",
        ] {
            assert_eq!(e164(s), "+79161234567", "{s}");
        }
        assert_eq!(e164("84951234567"), "+74951234567", "Moscow landline");
        assert_eq!(e164("(495) 123-45-67"), "+74951234567");
    }

    #[test]
    fn international_numbers() {
        assert_eq!(e164("+4930123456"), "+4930123456");
        assert_eq!(
            e164("8104930123456"),
            "+4930123456",
            "dialled from Russia with 810"
        );
        assert_eq!(e164("004930123456"), "+4930123456");
        assert_eq!(e164("+375291234567"), "+375291234567", "Belarus mobile");
    }

    /// Found by the `phone_number` fuzz target: libphonenumber read these twelve digits (RU home
    /// region) as the valid `+78131261232`, which is not valid when parsed again.
    #[test]
    fn a_normalized_number_normalizes_to_itself() {
        assert_eq!(
            PhoneNumber::parse("8 8+813  12+6) 123--2"),
            Err(PhoneError::Invalid)
        );
        assert_eq!(PhoneNumber::parse("888131261232"), Err(PhoneError::Invalid));
        // Also found by it: with Russia as the home region libphonenumber read `+252 88 852281`
        // as the Somali `+252852281`, another number, which then did not parse again.
        assert_eq!(
            PhoneNumber::parse("+2528 8  85228 1"),
            Err(PhoneError::Invalid)
        );
        assert_eq!(PhoneNumber::parse("+25288852281"), Err(PhoneError::Invalid));
        for s in [
            "89161234567",
            "+4930123456",
            "8104930123456",
            "(495) 123-45-67",
        ] {
            let n = e164(s);
            assert_eq!(e164(&n), n, "{s}");
        }
    }

    #[test]
    fn what_cannot_be_a_number_is_refused() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("  -  "), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("anonymous"),
            Err(PhoneError::BadCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("sip:op@pbx"),
            Err(PhoneError::BadCharacters)
        );
        for bad in [
            "12345",
            "0000000000",
            "89",
            "+7123",
            "1111111111111111111",
            "266696687",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_and_last_digits() {
        let n = PhoneNumber::parse("89161234567").unwrap();
        assert_eq!(n.last4(), "4567");
        assert_eq!(n.to_string(), "+7******4567");
        assert_eq!(mask("4567"), "****");
        assert_eq!(mask("84951234567"), "*******4567");
        assert_eq!(
            mask_in_text("To +74951234567 is invalid (code 21211)"),
            "To +7******4567 is invalid (code 21211)"
        );
    }

    proptest::proptest! {
        /// What lets `parse` skip the second parse for a candidate already in E.164 form: such
        /// a number, once valid, is always stable.
        #[test]
        fn an_e164_input_that_parses_is_stable(s in "\\+7[0-9]{10}|\\+[1-9][0-9]{6,14}") {
            if let Ok(n) = PhoneNumber::parse(&s) {
                proptest::prop_assert!(is_stable_e164(n.as_str()), "{}", n.as_str());
            }
        }

        #[test]
        fn parse_never_panics_and_is_idempotent(s in "[0-9 +()\\-]{0,24}") {
            if let Ok(n) = PhoneNumber::parse(&s) {
                proptest::prop_assert_eq!(PhoneNumber::parse(n.as_str()).unwrap(), n.clone());
                proptest::prop_assert!(n.as_str().starts_with('+'));
            }
        }
    }
}
