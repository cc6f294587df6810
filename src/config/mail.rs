//! The `[mail]` section: the support mailbox, read over IMAP, and the SMTP server replies leave
//! through. Absent unless `imap_host` is set. The password comes from `password` or
//! `password_file` (a mounted secret), likewise `smtp_password`; SMTP defaults to the IMAP host
//! and account, `smtp_user = ""` sends without logging in (a trusted relay). Ports default to
//! the usual ones for the TLS mode (IMAP 993 or 143, SMTP 465, 587 or 25). `ca_file` names a PEM
//! file of CA certificates trusted for both servers besides the built-in Mozilla roots (a mail
//! server with a certificate from the school's or region's own CA). A bad value names its key.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, NumOrStr, Secret, int_in_range as int, key_err};
use crate::mail::imap::ImapSettings;
use crate::mail::smtp::SmtpSettings;
use crate::mail::{ExtraRoots, TlsMode};

/// The sender name of the support line's letters unless `from_name` says otherwise.
pub const DEFAULT_FROM_NAME: &str = "Линия поддержки Школьного портала";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawMail {
    imap_host: Option<String>,
    imap_port: Option<NumOrStr>,
    imap_tls: Option<String>,
    user: Option<String>,
    password: Option<String>,
    folder: Option<String>,
    poll_seconds: Option<NumOrStr>,
    max_attachment_bytes: Option<NumOrStr>,
    sla_minutes: Option<NumOrStr>,
    timeout_seconds: Option<NumOrStr>,
    ca_file: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<NumOrStr>,
    smtp_tls: Option<String>,
    smtp_user: Option<String>,
    smtp_password: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
}

/// The support mailbox and its SMTP server (section `[mail]`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The IMAP server and account (`imap_host`, `imap_port`, `imap_tls`, `user`, `password`).
    pub imap: ImapSettings,
    /// The folder new letters arrive in (`folder`, default `INBOX`).
    pub folder: String,
    /// How often to look for mail where the server has no IDLE, and the longest IDLE before a
    /// fresh look (`poll_seconds`, 5–3600, default 60).
    pub poll: Duration,
    /// Attachments larger than this are not stored (`max_attachment_bytes`, default 10 MiB).
    pub max_attachment_bytes: usize,
    /// Working time from a letter's arrival (or the next opening) to its deadline
    /// (`sla_minutes`); `None`: the callback list's `callbacks.sla_minutes`.
    pub sla: Option<chrono::TimeDelta>,
    /// The SMTP server and account (`smtp_host`, `smtp_port`, `smtp_tls`, `smtp_user`,
    /// `smtp_password`).
    pub smtp: SmtpSettings,
    /// The address letters are sent from (`from_address`, default `user` when it is an address).
    pub from_address: String,
    /// The sender's name (`from_name`).
    pub from_name: String,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn host(v: String, key: &str) -> Result<String, ConfigError> {
    if v.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        return Err(key_err(key, format!("`{v}` is not a host name or address")));
    }
    Ok(v)
}

fn tls(v: &Option<String>, key: &str, default: TlsMode) -> Result<TlsMode, ConfigError> {
    match nonempty(v) {
        Some(s) => s.parse().map_err(|m| key_err(key, m)),
        None => Ok(default),
    }
}

fn one_line(v: &str, key: &str) -> Result<(), ConfigError> {
    if v.contains(['\r', '\n']) {
        return Err(key_err(key, "must be one line"));
    }
    Ok(())
}

pub(super) fn mail_from_raw(raw: &RawMail) -> Result<Option<MailConfig>, ConfigError> {
    let Some(imap_host) = nonempty(&raw.imap_host) else {
        let set = [
            ("mail.user", &raw.user),
            ("mail.password", &raw.password),
            ("mail.smtp_host", &raw.smtp_host),
            ("mail.from_address", &raw.from_address),
        ];
        if let Some((key, _)) = set.iter().find(|(_, v)| nonempty(v).is_some()) {
            return Err(key_err(
                "mail.imap_host",
                format!("is required when {key} is set"),
            ));
        }
        return Ok(None);
    };
    let imap_host = host(imap_host, "mail.imap_host")?;
    let imap_tls = tls(&raw.imap_tls, "mail.imap_tls", TlsMode::Tls)?;
    let imap_port = int(&raw.imap_port, "mail.imap_port", 1, 65535)?
        .map_or(imap_tls.default_imap_port(), |p| p as u16);
    let user = nonempty(&raw.user)
        .ok_or_else(|| key_err("mail.user", "is required: the mailbox's login"))?;
    one_line(&user, "mail.user")?;
    let password = raw
        .password
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| key_err("mail.password", "is required (or mail.password_file)"))?;
    let folder = nonempty(&raw.folder).unwrap_or_else(|| "INBOX".into());
    one_line(&folder, "mail.folder")?;
    let poll = int(&raw.poll_seconds, "mail.poll_seconds", 5, 3600)?.unwrap_or(60);
    let sla =
        int(&raw.sla_minutes, "mail.sla_minutes", 1, 10 * 24 * 60)?.map(chrono::TimeDelta::minutes);
    let max_attachment_bytes = int(
        &raw.max_attachment_bytes,
        "mail.max_attachment_bytes",
        1024,
        1 << 30,
    )?
    .unwrap_or(10 << 20);
    let timeout = int(&raw.timeout_seconds, "mail.timeout_seconds", 1, 300)?.unwrap_or(30);
    let timeout = Duration::from_secs(timeout as u64);
    let ca = match nonempty(&raw.ca_file) {
        Some(path) => {
            let pem = std::fs::read(&path)
                .map_err(|e| key_err("mail.ca_file", format!("cannot read {path}: {e}")))?;
            ExtraRoots::from_pem(&pem)
                .map_err(|m| key_err("mail.ca_file", format!("{path} {m}")))?
        }
        None => ExtraRoots::default(),
    };
    let smtp_host = match nonempty(&raw.smtp_host) {
        Some(h) => host(h, "mail.smtp_host")?,
        None => imap_host.clone(),
    };
    let smtp_tls = tls(&raw.smtp_tls, "mail.smtp_tls", TlsMode::StartTls)?;
    let smtp_port = int(&raw.smtp_port, "mail.smtp_port", 1, 65535)?
        .map_or(smtp_tls.default_smtp_port(), |p| p as u16);
    let credentials = match raw.smtp_user.as_deref().map(str::trim) {
        Some("") => None,
        None => Some((user.clone(), Secret::new(password.clone()))),
        Some(smtp_user) => {
            one_line(smtp_user, "mail.smtp_user")?;
            let pass = match raw.smtp_password.clone().filter(|p| !p.is_empty()) {
                Some(p) => p,
                None if smtp_user == user => password.clone(),
                None => {
                    return Err(key_err(
                        "mail.smtp_password",
                        "is required when mail.smtp_user differs from mail.user",
                    ));
                }
            };
            Some((smtp_user.to_owned(), Secret::new(pass)))
        }
    };
    let from_address = match nonempty(&raw.from_address) {
        Some(a) => a,
        None if user.contains('@') => user.clone(),
        None => {
            return Err(key_err(
                "mail.from_address",
                "is required when mail.user is not an e-mail address",
            ));
        }
    };
    if from_address.parse::<lettre::Address>().is_err() {
        return Err(key_err(
            if raw.from_address.is_some() {
                "mail.from_address"
            } else {
                "mail.user"
            },
            format!("`{from_address}` is not an e-mail address"),
        ));
    }
    let from_name = nonempty(&raw.from_name).unwrap_or_else(|| DEFAULT_FROM_NAME.into());
    one_line(&from_name, "mail.from_name")?;
    Ok(Some(MailConfig {
        imap: ImapSettings {
            host: imap_host,
            port: imap_port,
            tls: imap_tls,
            user,
            password: Secret::new(password),
            timeout,
            ca: ca.clone(),
        },
        folder,
        poll: Duration::from_secs(poll as u64),
        max_attachment_bytes: max_attachment_bytes as usize,
        sla,
        smtp: SmtpSettings {
            host: smtp_host,
            port: smtp_port,
            tls: smtp_tls,
            credentials,
            timeout,
            ca,
        },
        from_address,
        from_name,
    }))
}

#[cfg(test)]
#[path = "mail_tests.rs"]
mod tests;
