//! `perezvon privacy export|erase --email A`: the e-mail side of a person's rights over their
//! personal data (see `privacy.rs` for the number's side and the shared parts). The export lists
//! the address's callback requests with their attempts and history, every letter it sent or was
//! sent and the other letters of its requests (with the stored attachment files), the letter jobs
//! to it, and the audit entries about them; the erasure is `MailPrivacyStore::erase_address`,
//! then the attachment files are deleted.

use std::io::Write;

use anyhow::bail;
use chrono::Utc;
use serde_json::json;

use super::privacy::{print_export, report_erasure, requests_json};
use crate::config::Config;
use crate::jobs::privacy::pseudonymizer;
use crate::store::{Erasure, Store};

pub(super) async fn export(
    config: &Config,
    store: &dyn Store,
    address: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let pseudonym = pseudonymizer(&config.privacy, store, now)
        .await?
        .address(address);
    let data = store.address_data(address, &pseudonym).await?;
    let doc = json!({
        "email": address,
        "pseudonym": pseudonym,
        "exported_at": now,
        "callback_requests": requests_json(store, &data.request_ids).await?,
        "letters": data.letters,
        "mail": data.mail,
        "audit": data.audit,
    });
    let counts = json!({
        "callback_requests": data.request_ids.len(),
        "letters": data.letters.len(),
    });
    print_export(store, &doc, format!("email:{pseudonym}"), counts, now, out).await
}

pub(super) async fn erase(
    config: &Config,
    store: &dyn Store,
    address: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let pz = pseudonymizer(&config.privacy, store, now).await?;
    let done = match store
        .erase_address(address, &pz, "cli", config.callbacks.lease, now)
        .await?
    {
        Erasure::Refused(why) => {
            bail!("erase refused: {why}; nothing was changed, try again later")
        }
        Erasure::Done(done) => done,
    };
    report_erasure(config, &done, &pz.address(address), out)
}
