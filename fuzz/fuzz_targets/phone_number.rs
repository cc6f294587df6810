//! Phone-number normalisation (keypad digits, callers' IDs, numbers typed by operators) and the
//! masking used in logs. Properties: nothing panics; a normalised number is E.164 (`+` and
//! digits) and normalising it again gives itself; its last four digits end it; masking keeps
//! the length and never shows more than the leading `+7` and the last four digits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::domain::phone::{PhoneNumber, mask, mask_in_text};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(n) = PhoneNumber::parse(input) {
        let e164 = n.as_str();
        assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(PhoneNumber::parse(e164), Ok(n.clone()), "{input:?}");
        assert!(e164.ends_with(n.last4()) && n.last4().len() == 4);
        let masked = mask(e164);
        assert_eq!(masked.len(), e164.len());
        assert_eq!(masked[masked.len() - 4..], e164[e164.len() - 4..]);
        assert!(masked[2..masked.len() - 4].bytes().all(|b| b == b'*'));
        assert_eq!(n.to_string(), masked);
    }
    assert_eq!(mask(input).chars().count(), input.chars().count());
    let masked = mask_in_text(input);
    assert_eq!(masked.chars().count(), input.chars().count());
    // No run of 7 or more digits survives masking.
    let mut run = 0;
    for c in masked.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        assert!(run < 7, "{masked:?}");
    }
});
