//! Pseudonyms for phone numbers whose retention ran out (152-FZ): what is left of a number once
//! `privacy.mask_numbers_after_days` have passed, or once it was erased on request.
//!
//! A pseudonym is the number [`mask`]ed the way logs show it, then `#` and the first 12 hex digits
//! of HMAC-SHA256 over the number under the installation's key: `+7******4567#3f9a1c0b7d2e`. The
//! same number always gives the same pseudonym and two numbers practically never share one (48
//! bits), so everything that only compares numbers — a repeat caller, an abandoned caller who got
//! through later — counts the same over masked rows as over the numbers themselves. Without the key
//! the pseudonym cannot be tried against candidate numbers; the key therefore lives apart from the
//! masked data when `privacy.pseudonym_key` is configured. A value already holding `#` counts as
//! masked: masking it again changes nothing.
//!
//! An e-mail address is pseudonymized the same way: its mask (the first character of the local
//! part and the domain, as logs show it), `#`, and the digest of the address under the same key:
//! `i***@mail.ru#3f9a1c0b7d2e`. Addresses the intake stores are lower case, so one address always
//! gives one pseudonym; a `#` in an address (legal, practically never used) makes it count as
//! masked.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::phone::{PhoneNumber, mask, mask_in_text};

/// Separates the masked number from its keyed digest; no phone number, SIP address or provider
/// caller ID contains it.
pub const MARK: char = '#';

/// Hex digits of the digest kept in a pseudonym.
const DIGEST_HEX: usize = 12;

/// Makes pseudonyms under one key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

impl Pseudonymizer {
    /// A pseudonymizer under `key` (at least 16 bytes: shorter keys are refused by the callers
    /// that read them; see `privacy.pseudonym_key`).
    pub fn new(key: &[u8]) -> Pseudonymizer {
        Pseudonymizer { key: key.to_vec() }
    }

    /// The pseudonym of `value` (a number as stored); a value already masked is returned as is.
    pub fn pseudonym(&self, value: &str) -> String {
        if is_masked(value) {
            return value.to_owned();
        }
        format!("{}{MARK}{}", mask(value), self.digest(value))
    }

    /// The pseudonym of an e-mail `address` (as stored, lower case); one already masked is
    /// returned as is.
    pub fn address(&self, address: &str) -> String {
        if is_masked(address) {
            return address.to_owned();
        }
        format!("{}{MARK}{}", mask_address(address), self.digest(address))
    }

    /// The first [`DIGEST_HEX`] hex digits of HMAC-SHA256 over `value`.
    fn digest(&self, value: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(value.as_bytes());
        let mut digest = hex::encode(mac.finalize().into_bytes());
        digest.truncate(DIGEST_HEX);
        digest
    }
}

/// Masks an e-mail address for logs and pseudonyms: the first character of the local part and
/// the domain (`i***@mail.ru`); an address is personal data.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Masks the phone numbers in free text (an operator's note, a provider's payload): a number
/// written with spaces, dashes, dots or parentheses (`8 (916) 123-45-67`) when it is a valid
/// number, and, as [`mask_in_text`] does, every run of seven or more digits. The first digit and
/// the last four stay, separators too: `8 (***) ***-45-67`. Masking twice changes nothing.
pub fn mask_numbers_in_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let opens =
            matches!(chars[i], '+' | '(') && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !(chars[i].is_ascii_digit() || opens) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The longest stretch of digits and separators, ending at a digit.
        let (mut j, mut end, mut digits) = (i, i, 0);
        while j < chars.len() && (chars[j].is_ascii_digit() || " -().".contains(chars[j]) || j == i)
        {
            if chars[j].is_ascii_digit() {
                digits += 1;
                end = j + 1;
            }
            j += 1;
        }
        let end = end.max(i + 1);
        let candidate: String = chars[i..end].iter().collect();
        if (7..=17).contains(&digits) && PhoneNumber::parse(&candidate).is_ok() {
            let mut seen = 0;
            for c in candidate.chars() {
                if c.is_ascii_digit() {
                    seen += 1;
                    out.push(if seen == 1 || seen > digits - 4 {
                        c
                    } else {
                        '*'
                    });
                } else {
                    out.push(c);
                }
            }
        } else {
            out.push_str(&candidate);
        }
        i = end;
    }
    mask_in_text(&out)
}

/// True when `value` is a pseudonym already.
pub fn is_masked(value: &str) -> bool {
    value.contains(MARK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_keeps_the_mask_and_hides_the_digits() {
        let p = Pseudonymizer::new(b"0123456789abcdef").pseudonym("+79161234567");
        assert!(p.starts_with("+7******4567#"), "{p}");
        assert_eq!(p.len(), "+7******4567#".len() + DIGEST_HEX);
        assert!(!p.contains("916123"), "{p}");
        assert!(is_masked(&p));
    }

    #[test]
    fn an_address_pseudonym_keeps_the_domain_and_hides_the_name() {
        let a = Pseudonymizer::new(b"0123456789abcdef");
        let p = a.address("ivan.petrov@mail.ru");
        assert!(p.starts_with("i***@mail.ru#"), "{p}");
        assert_eq!(p.len(), "i***@mail.ru#".len() + DIGEST_HEX);
        assert!(!p.contains("petrov"), "{p}");
        assert!(is_masked(&p));
        assert_eq!(a.address(&p), p, "masking twice changes nothing");
        assert_eq!(a.address("ivan.petrov@mail.ru"), p);
        assert_ne!(
            a.address("ilya.petrov@mail.ru"),
            p,
            "same mask, other address"
        );
        let b = Pseudonymizer::new(b"fedcba9876543210");
        assert_ne!(b.address("ivan.petrov@mail.ru"), p, "other key");
        assert_eq!(mask_address("not an address"), "***");
    }

    #[test]
    fn stable_per_number_distinct_between_numbers_and_keys() {
        let a = Pseudonymizer::new(b"0123456789abcdef");
        let b = Pseudonymizer::new(b"fedcba9876543210");
        assert_eq!(a.pseudonym("+79161234567"), a.pseudonym("+79161234567"));
        // Same mask (same last four digits), different numbers: different pseudonyms.
        assert_ne!(a.pseudonym("+79161234567"), a.pseudonym("+79261234567"));
        assert_ne!(a.pseudonym("+79161234567"), b.pseudonym("+79161234567"));
    }

    #[test]
    fn numbers_in_free_text_are_masked_dates_and_ids_are_not() {
        for (text, want) in [
            (
                "перезвонила на 8 (916) 123-45-67, вопрос решён",
                "перезвонила на 8 (***) ***-45-67, вопрос решён",
            ),
            ("+7 916 123 45 67.", "+7 *** *** 45 67."),
            ("From=%2B79161234567&To=x", "From=%2B7******4567&To=x"),
            ("{\"to\":\"+79161234567\"}", "{\"to\":\"+7******4567\"}"),
            (
                "до 2026-12-05 10:00, заявка 123",
                "до 2026-12-05 10:00, заявка 123",
            ),
            ("(495) 123-45-67", "(4**) ***-45-67"),
        ] {
            let once = mask_numbers_in_text(text);
            assert_eq!(once, want, "{text}");
            assert_eq!(mask_numbers_in_text(&once), once, "{text}: twice");
        }
    }

    #[test]
    fn masking_twice_changes_nothing() {
        let a = Pseudonymizer::new(b"0123456789abcdef");
        let once = a.pseudonym("+79161234567");
        assert_eq!(a.pseudonym(&once), once);
        // Whatever the provider reported is masked too, digits or not.
        let anon = a.pseudonym("anonymous");
        assert!(anon.starts_with("*****mous#"), "{anon}");
        assert_eq!(a.pseudonym(&anon), anon);
    }
}
