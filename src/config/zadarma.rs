//! The `[zadarma]` section: the Zadarma (or classic Novofon) account Perezvon answers calls for.
//! Absent unless `key` is set. The API `key` and `secret` come from the PBX's API page (the secret
//! also signs every webhook); `voicemail_redirect` names the PBX scenario that records the voice
//! message (the PBX holds it: the webhook answer cannot record); `prompts_file` maps each prompt
//! clip (as listed by `perezvon zadarma prompts`) to the id the PBX's sound manager gave the
//! uploaded file; `[zadarma.extension_of]` gives the PBX extension of operators reached otherwise
//! (by phone for Twilio, say). A bad value names its key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{BoolOrStr, ConfigError, NumOrStr, Secret, int_in_range as int, key_err};

/// Zadarma's production API.
pub const DEFAULT_API_BASE: &str = "https://api.zadarma.com";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawZadarma {
    key: Option<String>,
    secret: Option<String>,
    api_base: Option<String>,
    from_number: Option<String>,
    voicemail_redirect: Option<String>,
    prompts_file: Option<String>,
    hold_music: Option<String>,
    hold_tick_secs: Option<NumOrStr>,
    predicted: Option<BoolOrStr>,
    delete_recordings: Option<BoolOrStr>,
    extension_of: BTreeMap<String, String>,
}

/// The Zadarma account (section `[zadarma]`).
#[derive(Debug, Clone)]
pub struct ZadarmaConfig {
    /// The API key (the `key` of `Authorization: key:signature`).
    pub key: String,
    /// The API secret: signs API requests and the webhooks' `Signature`.
    pub secret: Secret,
    /// REST API base; tests point it at a local fake.
    pub api_base: String,
    /// The hotline's number at Zadarma (shown in logs masked; informative).
    pub from_number: Option<String>,
    /// The PBX scenario (`0-2`) or extension that records the voice message.
    pub voicemail_redirect: String,
    /// Clip path → file id in the PBX's sound manager (loaded from `prompts_file`).
    pub prompts: BTreeMap<String, String>,
    /// The file played while a caller holds in the queue (sound manager id); silence otherwise.
    pub hold_music: Option<String>,
    /// How long one hold period lasts before Perezvon looks again for a free operator (seconds).
    pub hold_tick_secs: u32,
    /// Click-to-call rings the caller first and bridges the operator only on answer.
    pub predicted: bool,
    /// Delete a recording at Zadarma once it is stored here (it is personal data).
    pub delete_recordings: bool,
    /// Operator login → PBX extension, for operators whose contact is not an extension.
    pub extension_of: BTreeMap<String, String>,
}

pub(super) fn zadarma_from_raw(raw: RawZadarma) -> Result<Option<ZadarmaConfig>, ConfigError> {
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let Some(key) = nonempty(raw.key) else {
        if nonempty(raw.secret).is_some() {
            return Err(key_err(
                "zadarma.key",
                "is required when zadarma.secret is set",
            ));
        }
        return Ok(None);
    };
    let secret = nonempty(raw.secret)
        .ok_or_else(|| key_err("zadarma.secret", "is required when zadarma.key is set"))?;
    let api_base = nonempty(raw.api_base).unwrap_or_else(|| DEFAULT_API_BASE.into());
    match url::Url::parse(&api_base) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return Err(key_err(
                "zadarma.api_base",
                format!("`{api_base}` is not an http(s) URL"),
            ));
        }
    }
    let from_number = nonempty(raw.from_number);
    if let Some(n) = &from_number {
        crate::domain::operator::validate_contact(crate::domain::operator::ContactKind::Phone, n)
            .map_err(|m| key_err("zadarma.from_number", m))?;
    }
    let voicemail_redirect = nonempty(raw.voicemail_redirect).ok_or_else(|| {
        key_err(
            "zadarma.voicemail_redirect",
            "is required: the PBX scenario (e.g. 0-2) that records the voice message",
        )
    })?;
    if !is_redirect(&voicemail_redirect) {
        return Err(key_err(
            "zadarma.voicemail_redirect",
            format!(
                "`{voicemail_redirect}` is neither a scenario (0-2, 2, 0-main) nor an extension"
            ),
        ));
    }
    let prompts = match nonempty(raw.prompts_file) {
        Some(path) => load_prompts(&PathBuf::from(path))?,
        None => BTreeMap::new(),
    };
    let hold_tick_secs = int(&raw.hold_tick_secs, "zadarma.hold_tick_secs", 3, 14)?.unwrap_or(8);
    let mut extension_of = BTreeMap::new();
    for (login, ext) in raw.extension_of {
        let key = format!("zadarma.extension_of.{login}");
        let ext = crate::domain::operator::validate_contact(
            crate::domain::operator::ContactKind::Extension,
            &ext,
        )
        .map_err(|m| key_err(&key, m))?;
        extension_of.insert(login, ext);
    }
    let flag = |v: &Option<BoolOrStr>, key: &str| match v {
        Some(v) => v.to_bool(key),
        None => Ok(false),
    };
    Ok(Some(ZadarmaConfig {
        key,
        secret: Secret::new(secret),
        api_base: api_base.trim_end_matches('/').to_owned(),
        from_number,
        voicemail_redirect,
        prompts,
        hold_music: nonempty(raw.hold_music),
        hold_tick_secs: hold_tick_secs as u32,
        predicted: flag(&raw.predicted, "zadarma.predicted")?,
        delete_recordings: flag(&raw.delete_recordings, "zadarma.delete_recordings")?,
        extension_of,
    }))
}

/// A `redirect` target Zadarma accepts: `0-1`, `1`, `0-main` or a PBX extension.
fn is_redirect(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match v.split_once('-') {
        Some((menu, rest)) => digits(menu) && (digits(rest) || rest == "main"),
        None => digits(v),
    }
}

/// Reads the prompt map: a TOML table `"clip path" = "file id"`.
fn load_prompts(path: &std::path::Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let key = "zadarma.prompts_file";
    let text = std::fs::read_to_string(path)
        .map_err(|e| key_err(key, format!("cannot read {}: {e}", path.display())))?;
    let table: BTreeMap<String, toml::Value> = toml::from_str(&text)
        .map_err(|e| key_err(key, format!("{} is not valid TOML: {e}", path.display())))?;
    let mut prompts = BTreeMap::new();
    for (clip, id) in table {
        let id = match id {
            toml::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
            toml::Value::Integer(n) => n.to_string(),
            _ => {
                return Err(key_err(
                    key,
                    format!(
                        "{}: `{clip}` must map to the file id (a string)",
                        path.display()
                    ),
                ));
            }
        };
        prompts.insert(clip, id);
    }
    Ok(prompts)
}

#[cfg(test)]
mod tests {
    use super::is_redirect;

    #[test]
    fn redirect_targets() {
        for ok in ["0-1", "1", "0-main", "100", "12-3"] {
            assert!(is_redirect(ok), "{ok}");
        }
        for bad in ["", "-", "0-", "a-1", "0-x", "1 2", "blacklist"] {
            assert!(!is_redirect(bad), "{bad}");
        }
    }
}
