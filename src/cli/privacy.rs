//! `perezvon privacy export|erase --number N`: a caller's rights over their personal data
//! (152-FZ). The number may be written in any common form (`8 916 123-45-67`, `+7…`, ten digits);
//! it is normalized as the hotline normalizes callers' numbers. `export` prints, as JSON on stdout,
//! everything held about the number — as given, and as its pseudonym in rows past retention:
//! calls with their events, voicemails with their recording files, callback requests with their
//! attempts, outcomes, notes and history, SMS sent to it, and the audit entries about them.
//! `erase` removes it (see `store/privacy_erase.rs`), deletes the recording files, prints what it
//! changed as JSON, and is refused while a call of the number is in progress. Both are audited as
//! `cli`, naming the pseudonym, never the number.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use serde_json::{Value, json};

use crate::config::Config;
use crate::domain::phone::PhoneNumber;
use crate::jobs::privacy::pseudonymizer;
use crate::store::{Erasure, NewAuditEntry, Store};

/// `perezvon privacy …`.
#[derive(clap::Subcommand, Debug)]
pub enum PrivacyCmd {
    /// Print everything held about one phone number (JSON on stdout).
    Export {
        /// The number, in any common form (+7 916 123-45-67, 89161234567, …).
        #[arg(long)]
        number: String,
    },
    /// Erase one phone number's personal data: mask it everywhere, delete its recordings, drop
    /// raw payloads and notes, close its open requests; audited. Refused during a call.
    Erase {
        /// The number, in any common form.
        #[arg(long)]
        number: String,
    },
}

/// Runs a `privacy` subcommand, writing its JSON to `out`.
pub async fn run(config: &Config, cmd: PrivacyCmd, out: &mut impl Write) -> anyhow::Result<()> {
    let given = match &cmd {
        PrivacyCmd::Export { number } | PrivacyCmd::Erase { number } => number,
    };
    // The number itself is not repeated in the message: it may be someone's personal data.
    let number = PhoneNumber::parse(given).map_err(|e| anyhow::anyhow!("--number: {e}"))?;
    let store = crate::store::connect(&config.database_url).await?;
    let result = match cmd {
        PrivacyCmd::Export { .. } => export(config, &*store, &number, out).await,
        PrivacyCmd::Erase { .. } => erase(config, &*store, &number, out).await,
    };
    store.close().await;
    result
}

async fn export(
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
    let mut requests = Vec::new();
    for id in &data.request_ids {
        let Some(r) = store.callback_request(*id).await? else {
            continue;
        };
        let mut j = serde_json::to_value(&r)?;
        j["attempts"] = serde_json::to_value(store.attempts_of(*id).await?)?;
        j["history"] = serde_json::to_value(store.callback_history(*id).await?)?;
        requests.push(j);
    }
    let doc = json!({
        "number": number.as_str(),
        "pseudonym": pseudonym,
        "exported_at": now,
        "calls": calls,
        "voicemails": voicemails,
        "callback_requests": requests,
        "sms": data.sms,
        "audit": data.audit,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    let counts = json!({
        "calls": data.calls.len(),
        "voicemails": data.voicemails.len(),
        "callback_requests": data.request_ids.len(),
    });
    store
        .audit(&audit("privacy.export", &pseudonym, counts), now)
        .await?;
    Ok(())
}

async fn erase(
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
    let mut failed = Vec::new();
    for file in &done.files {
        if let Err(e) = remove_recording(&config.data_dir, Path::new(file)) {
            failed.push(format!("{file}: {e:#}"));
        }
    }
    let mut summary = serde_json::to_value(&done)?;
    summary["pseudonym"] = json!(pseudonym);
    summary["audit_id"] = json!(done.audit_id);
    summary["files_deleted"] = json!(done.files.len() - failed.len());
    serde_json::to_writer_pretty(&mut *out, &summary)?;
    writeln!(out)?;
    if !failed.is_empty() {
        bail!(
            "the data is erased but {} recording file(s) could not be deleted (delete them by hand):\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    Ok(())
}

/// Deletes one recording file; a file already gone is fine, one outside the data directory is
/// left alone (an error).
fn remove_recording(data_dir: &Path, file: &Path) -> anyhow::Result<()> {
    if !file.starts_with(data_dir) {
        bail!("outside the data directory {}", data_dir.display());
    }
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context("cannot delete the file")
        }
        _ => Ok(()),
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

fn audit(action: &str, pseudonym: &str, detail: Value) -> NewAuditEntry {
    NewAuditEntry {
        actor: "cli".into(),
        action: action.into(),
        subject: format!("number:{pseudonym}"),
        detail: detail.to_string(),
        request_id: None,
    }
}
