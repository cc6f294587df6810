//! Waiting for new mail in the selected folder: IMAP IDLE (RFC 2177) where the server offers it,
//! bounded by the caller's limit however often the server says it is still there; otherwise a
//! sleep and a NOOP (polling). A change the server reported during an earlier command (an
//! `EXISTS` that arrived with a fetch's answer) wakes the caller at once, so that no letter waits
//! for the next period because its notice came at the wrong moment.

use std::time::Duration;

use anyhow::{Context as _, bail};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;

use super::{ImapClient, bounded};

/// Why [`ImapClient::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server reported a change (new mail, most often): fetch now.
    Changed,
    /// The time was up, or a poll (no IDLE) heard of no change: fetch anyway.
    TimedOut,
}

impl ImapClient {
    /// True when the server offers IDLE (else [`ImapClient::wait`] polls).
    pub fn supports_idle(&self) -> bool {
        self.idle
    }

    /// Pretends the server has no IDLE (to exercise the polling fallback).
    pub fn without_idle(mut self) -> ImapClient {
        self.idle = false;
        self
    }

    /// True when the server reported new or changed mail since the last look (and forgets it).
    fn reported_changes(&mut self) -> anyhow::Result<bool> {
        let session = self.session()?;
        let mut changed = false;
        while let Ok(r) = session.unsolicited_responses.try_recv() {
            changed |= matches!(
                r,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            );
        }
        Ok(changed)
    }

    /// Waits for a change in the selected folder for at most `limit`: IDLE where the server has
    /// it, else a sleep and a NOOP (polling). Fetch after it returns, whatever it says.
    pub async fn wait(&mut self, limit: Duration) -> anyhow::Result<Wake> {
        if self.reported_changes()? {
            return Ok(Wake::Changed);
        }
        if !self.idle {
            tokio::time::sleep(limit).await;
            self.run("NOOP", async |s| s.noop().await).await?;
            return Ok(if self.reported_changes()? {
                Wake::Changed
            } else {
                Wake::TimedOut
            });
        }
        let Some(session) = self.session.take() else {
            bail!("the IMAP connection was lost: reconnect");
        };
        let mut handle = session.idle();
        bounded(self.timeout, "IDLE", handle.init()).await?;
        let (waiting, stop) = handle.wait_with_timeout(limit);
        let outcome = tokio::time::timeout(limit, waiting).await;
        drop(stop);
        let wake = match outcome {
            Ok(Ok(IdleResponse::NewData(_))) => Wake::Changed,
            Ok(Ok(_)) | Err(_) => Wake::TimedOut,
            Ok(Err(e)) => return Err(e).context("IMAP IDLE failed"),
        };
        self.session = Some(bounded(self.timeout, "DONE (end of IDLE)", handle.done()).await?);
        Ok(wake)
    }
}
