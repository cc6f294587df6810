//! A raw letter as an IMAP server hands it over (any bytes): parsing never panics; what it gives
//! is tidy (no carriage returns in the text, no empty or padded ids); the phone numbers found in its text
//! are E.164 numbers that normalise to themselves; a registration number found in its subject
//! is written with the configured prefix.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::domain::phone::PhoneNumber;
use perezvon::mail::{find_phones, find_reference, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(letter) = parse(data) else {
        return;
    };
    assert!(!letter.text.contains('\r'), "{:?}", letter.text);
    for id in letter
        .message_id
        .iter()
        .chain(&letter.in_reply_to)
        .chain(&letter.references)
    {
        assert!(!id.is_empty() && id.trim() == id, "{id:?}");
    }
    for phone in find_phones(&letter.text) {
        assert_eq!(
            PhoneNumber::parse(&phone).map(|p| p.as_str().to_owned()),
            Ok(phone.clone())
        );
    }
    if let Some(reference) = find_reference(&letter.subject, "ШП") {
        assert!(reference.starts_with("ШП-"), "{reference:?}");
    }
});
