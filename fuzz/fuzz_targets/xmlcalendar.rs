//! The xmlcalendar importer (`perezvon calendar import`): `ru/<year>/calendar.xml` to our TOML.
//! Properties: nothing panics; a file that parses converts to TOML; when the year it gives
//! passes the loader's rules, the TOML body loads back to the same year, and the imported file
//! (with its review header) loads too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::calendar::{parse_year, xmlcalendar};

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((year, _stamp)) = xmlcalendar::parse(xml) else {
        return;
    };
    let imported = xmlcalendar::to_toml(xml).expect("a file that parses converts");
    let body = year.to_toml();
    assert!(imported.ends_with(&body));
    if let Ok(loaded) = parse_year("body.toml", &body) {
        assert_eq!(loaded, year, "{body}");
        let whole = parse_year("imported.toml", &imported)
            .unwrap_or_else(|e| panic!("the imported file does not load: {e}\n{imported}"));
        assert_eq!(whole, year);
    }
});
