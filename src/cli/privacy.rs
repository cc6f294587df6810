//! `perezvon privacy export|erase --number N | --email A`: a person's rights over their personal
//! data (152-FZ). The number may be written in any common form (`8 916 123-45-67`, `+7…`, ten
//! digits); it is normalized as the hotline normalizes callers' numbers. An address is compared in
//! lower case, as the mail intake stores it. `export` prints, as JSON on stdout, everything held
//! about the number or address — as given, and as its pseudonym in rows past retention: for a
//! number, calls with their events, voicemails with their recording files, callback requests with
//! their attempts, outcomes, notes and history, the letters of those requests, SMS sent to it; for
//! an address, its requests likewise, the letters it sent or was sent (with their attachment
//! files) and the letter jobs to it; and the audit entries about them. `erase` removes it (see
//! `store/privacy_erase.rs` and `store/privacy_mail.rs`), deletes the recording and attachment
//! files, prints what it changed as JSON, and is refused while a call of the number, or a call
//! back for a request of the address, is in progress. Both are audited as `cli`, naming the
//! pseudonym, never the number or address.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use serde_json::{Value, json};

use crate::config::Config;
use crate::domain::phone::PhoneNumber;
use crate::jobs::privacy::pseudonymizer;
use crate::store::{Erased, Erasure, NewAuditEntry, Store};

/// Whose data: one phone number or one e-mail address.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Whose {
    /// The number, in any common form (+7 916 123-45-67, 89161234567, …).
    #[arg(long)]
    number: Option<String>,
    /// The e-mail address (any case).
    #[arg(long)]
    email: Option<String>,
}

/// `perezvon privacy …`.
#[derive(clap::Subcommand, Debug)]
pub enum PrivacyCmd {
    /// Print everything held about one phone number or e-mail address (JSON on stdout).
    Export {
        #[command(flatten)]
        whose: Whose,
    },
    /// Erase one phone number's or e-mail address's personal data: mask it everywhere, delete
    /// its recordings or letters and their attachments, drop raw payloads and notes, close its
    /// open requests; audited. Refused during a call.
    Erase {
        #[command(flatten)]
        whose: Whose,
    },
}

/// Runs a `privacy` subcommand, writing its JSON to `out`.
pub async fn run(config: &Config, cmd: PrivacyCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let (PrivacyCmd::Export { whose } | PrivacyCmd::Erase { whose }) = &cmd;
    let erase = matches!(cmd, PrivacyCmd::Erase { .. });
    // The number or address itself is not repeated in a message: it is personal data.
    let store = match (&whose.number, &whose.email) {
        (Some(given), _) => {
            let number = PhoneNumber::parse(given).map_err(|e| anyhow::anyhow!("--number: {e}"))?;
            let store = crate::store::connect(&config.database_url).await?;
            let result = if erase {
                erase_number(config, &*store, &number, out).await
            } else {
                export_number(config, &*store, &number, out).await
            };
            (store, result)
        }
        (None, Some(given)) => {
            let address = normalize_address(given)?;
            let store = crate::store::connect(&config.database_url).await?;
            let result = if erase {
                super::privacy_mail::erase(config, &*store, &address, out).await
            } else {
                super::privacy_mail::export(config, &*store, &address, out).await
            };
            (store, result)
        }
        (None, None) => bail!("give --number or --email"),
    };
    store.0.close().await;
    store.1
}

/// `given` as the intake stores addresses (trimmed, lower case), or an error naming `--email`.
fn normalize_address(given: &str) -> anyhow::Result<String> {
    let a = given.trim().to_lowercase();
    match a.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !a.chars().any(|c| c.is_whitespace() || c == '#') =>
        {
            Ok(a)
        }
        _ => bail!("--email: not an e-mail address"),
    }
}

async fn export_number(
    config: &Config,
    store: &dyn Store,
    number: &PhoneNumber,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let pseudonym = pseudonym_of(config, store, number, now).await?;
    let data = store.number_data(number.as_str(), &pseudonym).await?;
    let mut calls = Vec::new();
    for call in &data.calls {
        let mut c = serde_json::to_value(call)?;
        c["events"] = serde_json::to_value(store.call_events(call.id).await?)?;
        calls.push(c);
    }
    let voicemails: Vec<Value> = data
        .voicemails
        .iter()
        .map(|v| {
            let mut j = serde_json::to_value(v)?;
            j["audio_path"] = json!(v.audio_path);
            j["original_path"] = json!(v.original_path);
            j["recording_url"] = json!(v.recording_url);
            Ok(j)
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let requests = requests_json(store, &data.request_ids).await?;
    let doc = json!({
        "number": number.as_str(),
        "pseudonym": pseudonym,
        "exported_at": now,
        "calls": calls,
        "voicemails": voicemails,
        "callback_requests": requests,
        "letters": data.letters,
        "sms": data.sms,
        "audit": data.audit,
    });
    let counts = json!({
        "calls": data.calls.len(),
        "voicemails": data.voicemails.len(),
        "callback_requests": data.request_ids.len(),
    });
    print_export(store, &doc, format!("number:{pseudonym}"), counts, now, out).await
}

/// Prints an export and audits it (`privacy.export` about `subject`, with `counts`).
pub(super) async fn print_export(
    store: &dyn Store,
    doc: &Value,
    subject: String,
    counts: Value,
    now: chrono::DateTime<Utc>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)?;
    let entry = NewAuditEntry {
        actor: "cli".into(),
        action: "privacy.export".into(),
        subject,
        detail: counts.to_string(),
        request_id: None,
    };
    store.audit(&entry, now).await?;
    Ok(())
}

async fn erase_number(
    config: &Config,
    store: &dyn Store,
    number: &PhoneNumber,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let pseudonym = pseudonym_of(config, store, number, now).await?;
    let done = match store
        .erase_number(
            number.as_str(),
            &pseudonym,
            "cli",
            config.callbacks.lease,
            now,
        )
        .await?
    {
        Erasure::Refused(why) => {
            bail!("erase refused: {why}; nothing was changed, try again later")
        }
        Erasure::Done(done) => done,
    };
    report_erasure(config, &done, &pseudonym, out)
}

/// The callback requests `ids` with their attempts and history, as JSON.
pub(super) async fn requests_json(store: &dyn Store, ids: &[i64]) -> anyhow::Result<Vec<Value>> {
    let mut requests = Vec::new();
    for id in ids {
        let Some(r) = store.callback_request(*id).await? else {
            continue;
        };
        let mut j = serde_json::to_value(&r)?;
        j["attempts"] = serde_json::to_value(store.attempts_of(*id).await?)?;
        j["history"] = serde_json::to_value(store.callback_history(*id).await?)?;
        requests.push(j);
    }
    Ok(requests)
}

/// Deletes the files an erasure freed and prints what it changed; an error when a file could not
/// be deleted (the data is erased all the same).
pub(super) fn report_erasure(
    config: &Config,
    done: &Erased,
    pseudonym: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    for file in &done.files {
        if let Err(e) = remove_file(&config.data_dir, Path::new(file)) {
            failed.push(format!("{file}: {e:#}"));
        }
    }
    let mut summary = serde_json::to_value(done)?;
    summary["pseudonym"] = json!(pseudonym);
    summary["audit_id"] = json!(done.audit_id);
    summary["files_deleted"] = json!(done.files.len() - failed.len());
    serde_json::to_writer_pretty(&mut *out, &summary)?;
    writeln!(out)?;
    if !failed.is_empty() {
        bail!(
            "the data is erased but {} file(s) could not be deleted (delete them by hand):\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    Ok(())
}

/// Deletes one recording or attachment file (a relative path is under the data directory), and
/// its directory when that is left empty; a file already gone is fine, one outside the data
/// directory is left alone (an error).
fn remove_file(data_dir: &Path, file: &Path) -> anyhow::Result<()> {
    let file = data_dir.join(file);
    let outside = file
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir));
    if outside || !file.starts_with(data_dir) {
        bail!("outside the data directory {}", data_dir.display());
    }
    let file = file.as_path();
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context("cannot delete the file")
        }
        _ => {
            // An attachment's directory holds one letter's files: gone once they all are.
            let mail = data_dir.join("mail");
            if let Some(dir) = file.parent().filter(|d| d.parent() == Some(mail.as_path())) {
                let _ = std::fs::remove_dir(dir);
            }
            Ok(())
        }
    }
}

/// The number's pseudonym under this installation's key.
async fn pseudonym_of(
    config: &Config,
    store: &dyn Store,
    number: &PhoneNumber,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<String> {
    let pz = pseudonymizer(&config.privacy, store, now).await?;
    Ok(pz.pseudonym(number.as_str()))
}
