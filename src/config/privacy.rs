//! The `[privacy]` section (152-FZ): how long callers' phone numbers and the providers' raw
//! payloads are kept. Both ages are optional whole numbers of days; absent, the data is kept for
//! ever (as before this section existed); 0 or anything that is not a positive number is an error
//! naming the key. `pseudonym_key` (a secret, also `pseudonym_key_file`) keys the pseudonyms that
//! replace masked numbers; absent, a random key is made once and kept in the database.

use chrono::TimeDelta;
use serde::Deserialize;

use super::{ConfigError, NumOrStr, Secret, int_in_range as int, key_err};

/// The longest age accepted (a hundred years): larger values are surely typos.
const MAX_DAYS: i64 = 36_500;
/// The shortest pseudonym key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPrivacy {
    mask_numbers_after_days: Option<NumOrStr>,
    drop_payloads_after_days: Option<NumOrStr>,
    pseudonym_key: Option<String>,
}

/// Retention of personal data (`[privacy]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrivacySettings {
    /// Numbers in finished calls and closed requests older than this are replaced by pseudonyms
    /// (`privacy.mask_numbers_after_days`); `None`: kept.
    pub mask_numbers_after: Option<TimeDelta>,
    /// Raw provider payloads of finished calls older than this are dropped
    /// (`privacy.drop_payloads_after_days`); `None`: kept.
    pub drop_payloads_after: Option<TimeDelta>,
    /// The key of the pseudonyms (`privacy.pseudonym_key`); `None`: the database's own.
    pub pseudonym_key: Option<Secret>,
}

impl PrivacySettings {
    /// True when the daily privacy job has something to do.
    pub fn enabled(&self) -> bool {
        self.mask_numbers_after.is_some() || self.drop_payloads_after.is_some()
    }
}

pub(super) fn privacy_from_raw(raw: &RawPrivacy) -> Result<PrivacySettings, ConfigError> {
    let days = |v, key| Ok::<_, ConfigError>(int(v, key, 1, MAX_DAYS)?.map(TimeDelta::days));
    let pseudonym_key = match raw.pseudonym_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k) if k.len() < MIN_KEY_BYTES => {
            return Err(key_err(
                "privacy.pseudonym_key",
                format!("must be at least {MIN_KEY_BYTES} characters (a long random string)"),
            ));
        }
        Some(k) => Some(Secret::new(k)),
    };
    Ok(PrivacySettings {
        mask_numbers_after: days(
            &raw.mask_numbers_after_days,
            "privacy.mask_numbers_after_days",
        )?,
        drop_payloads_after: days(
            &raw.drop_payloads_after_days,
            "privacy.drop_payloads_after_days",
        )?,
        pseudonym_key,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use chrono::TimeDelta;

    fn load(file: &str, vars: &[(&str, &str)]) -> Result<Config, String> {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), file).unwrap();
        let env = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_with_env(Some(f.path()), env).map_err(|e| e.to_string())
    }

    #[test]
    fn absent_keeps_everything() {
        let c = load("", &[]).unwrap();
        assert_eq!(c.privacy.mask_numbers_after, None);
        assert_eq!(c.privacy.drop_payloads_after, None);
        assert!(!c.privacy.enabled());
    }

    #[test]
    fn ages_from_the_file_and_the_environment() {
        let c = load(
            "[privacy]\nmask_numbers_after_days = 30\n",
            &[("PEREZVON_PRIVACY__DROP_PAYLOADS_AFTER_DAYS", "7")],
        )
        .unwrap();
        assert_eq!(c.privacy.mask_numbers_after, Some(TimeDelta::days(30)));
        assert_eq!(c.privacy.drop_payloads_after, Some(TimeDelta::days(7)));
        assert!(c.privacy.enabled());
    }

    #[test]
    fn zero_negative_and_words_name_the_key() {
        for (file, key) in [
            (
                "[privacy]\nmask_numbers_after_days = 0\n",
                "privacy.mask_numbers_after_days",
            ),
            (
                "[privacy]\ndrop_payloads_after_days = -3\n",
                "privacy.drop_payloads_after_days",
            ),
            (
                "[privacy]\nmask_numbers_after_days = \"month\"\n",
                "privacy.mask_numbers_after_days",
            ),
            (
                "[privacy]\ndrop_payloads_after_days = 1.5\n",
                "privacy.drop_payloads_after_days",
            ),
            ("[privacy]\nmask_after = 3\n", "privacy"),
            (
                "[privacy]\npseudonym_key = \"short\"\n",
                "privacy.pseudonym_key",
            ),
        ] {
            let e = load(file, &[]).unwrap_err();
            assert!(e.contains(key), "{file}: {e}");
        }
        let e = load("", &[("PEREZVON_PRIVACY__MASK_NUMBERS_AFTER_DAYS", "0")]).unwrap_err();
        assert!(e.contains("privacy.mask_numbers_after_days"), "{e}");
    }

    #[test]
    fn the_key_from_a_file_is_a_secret() {
        let key = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(key.path(), "0123456789abcdef0123\n").unwrap();
        let c = load(
            &format!(
                "[privacy]\npseudonym_key_file = \"{}\"\n",
                key.path().display()
            ),
            &[],
        )
        .unwrap();
        let k = c.privacy.pseudonym_key.as_ref().unwrap();
        assert_eq!(k.expose(), "0123456789abcdef0123");
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
