//! The support mailbox over IMAP (the `async-imap` crate on tokio): log in over TCP, STARTTLS or
//! TLS, select the folder (its UIDVALIDITY tells whether remembered UIDs still mean the same
//! letters), fetch the letters whose UID is above a high-water mark, mark one processed (`\Seen`
//! plus the keyword `$PerezvonDone` where the folder keeps keywords), wait for new mail with IDLE
//! (or by sleeping and NOOP where the server has no IDLE), and APPEND. Every command is bounded by
//! the configured timeout; a command that fails or times out leaves the connection unusable and
//! the caller reconnects. Nothing here panics on a server's answer.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use async_imap::types::Flag;
use async_imap::{Client, Session};
use futures_util::TryStreamExt as _;
use tokio::net::TcpStream;

use super::TlsMode;
use super::stream::{ExtraRoots, MailStream};
use crate::config::Secret;

mod idle;
mod utf7;
pub use idle::Wake;

/// The keyword a processed letter gets besides `\Seen` (where the folder keeps keywords).
pub const DONE_KEYWORD: &str = "$PerezvonDone";

/// Where and as whom to read the mailbox.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: Secret,
    /// The limit on connecting and on each command.
    pub timeout: Duration,
    /// Certificates trusted besides the built-in roots (`mail.ca_file`).
    pub ca: ExtraRoots,
}

/// What `SELECT` told about the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    /// Remembered UIDs are valid only while this stays the same.
    pub uid_validity: u32,
    /// The UID the next letter will get, when the server says.
    pub uid_next: Option<u32>,
    /// Letters in the folder.
    pub exists: u32,
}

/// One letter as fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub uid: u32,
    /// `\Seen`, `$PerezvonDone`, ... as the server wrote them.
    pub flags: Vec<String>,
    /// The whole letter (RFC822).
    pub raw: Vec<u8>,
}

impl Fetched {
    /// True when an earlier run marked it processed (the keyword is set).
    pub fn processed(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f.eq_ignore_ascii_case(DONE_KEYWORD))
    }
}

/// A logged-in IMAP connection.
pub struct ImapClient {
    session: Option<Session<MailStream>>,
    timeout: Duration,
    idle: bool,
    keyword: bool,
}

/// Runs `f` within `limit`, naming `what` in the error.
async fn bounded<T, E>(
    limit: Duration,
    what: &str,
    f: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.with_context(|| format!("IMAP {what} failed")),
        Err(_) => bail!("IMAP {what}: no answer within {} s", limit.as_secs()),
    }
}

impl ImapClient {
    /// Connects, secures the connection as configured and logs in.
    pub async fn connect(s: &ImapSettings) -> anyhow::Result<ImapClient> {
        let addr = format!("{}:{}", s.host, s.port);
        let tcp = bounded(s.timeout, "connect", TcpStream::connect(&addr))
            .await
            .with_context(|| format!("cannot reach the IMAP server {addr}"))?;
        let mut stream = MailStream::Plain(tcp);
        if s.tls == TlsMode::Tls {
            stream = bounded_tls(stream, s).await?;
        }
        let mut client = Client::new(stream);
        let greeting = bounded(s.timeout, "greeting", client.read_response()).await?;
        if greeting.is_none() {
            bail!("the IMAP server {addr} closed the connection before greeting");
        }
        if s.tls == TlsMode::StartTls {
            bounded(
                s.timeout,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            let tls = bounded_tls(client.into_inner(), s).await?;
            client = Client::new(tls);
        }
        let login = client.login(&s.user, s.password.expose());
        let mut session = match tokio::time::timeout(s.timeout, login).await {
            Ok(Ok(session)) => session,
            Ok(Err((e, _))) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("IMAP login as `{}` at {addr} refused", s.user));
            }
            Err(_) => bail!(
                "IMAP login at {addr}: no answer within {} s",
                s.timeout.as_secs()
            ),
        };
        let caps = bounded(s.timeout, "CAPABILITY", session.capabilities()).await?;
        Ok(ImapClient {
            idle: caps.has_str("IDLE"),
            session: Some(session),
            timeout: s.timeout,
            keyword: false,
        })
    }

    fn session(&mut self) -> anyhow::Result<&mut Session<MailStream>> {
        self.session
            .as_mut()
            .ok_or_else(|| anyhow!("the IMAP connection was lost: reconnect"))
    }

    /// Runs one command on the session; a failure or a time-out drops the connection.
    async fn run<T, F>(&mut self, what: &str, f: F) -> anyhow::Result<T>
    where
        F: AsyncFnOnce(&mut Session<MailStream>) -> async_imap::error::Result<T>,
    {
        let limit = self.timeout;
        let session = self.session()?;
        let r = bounded(limit, what, f(session)).await;
        if r.is_err() {
            self.session = None;
        }
        r
    }

    /// Selects `folder` (named in UTF-8; sent in IMAP's modified UTF-7) for reading and writing.
    pub async fn select(&mut self, folder: &str) -> anyhow::Result<Selected> {
        let what = format!("SELECT {folder}");
        let wire = utf7::encode(folder);
        let mailbox = self.run(&what, async |s| s.select(&wire).await).await?;
        let uid_validity = mailbox
            .uid_validity
            .ok_or_else(|| anyhow!("the IMAP folder `{folder}` has no UIDVALIDITY"))?;
        // No PERMANENTFLAGS at all means every flag is kept (RFC 3501 7.1).
        self.keyword = mailbox.permanent_flags.is_empty()
            || mailbox.permanent_flags.iter().any(|f| match f {
                Flag::MayCreate => true,
                Flag::Custom(k) => k.eq_ignore_ascii_case(DONE_KEYWORD),
                _ => false,
            });
        Ok(Selected {
            uid_validity,
            uid_next: mailbox.uid_next,
            exists: mailbox.exists,
        })
    }

    /// True when the selected folder keeps `$PerezvonDone`.
    pub fn keeps_keyword(&self) -> bool {
        self.keyword
    }

    /// The UIDs above `after` in the selected folder, ascending. (`UID SEARCH UID n:*` also
    /// answers the last letter when `n` is above every UID: that one is left out.)
    pub async fn uids_after(&mut self, after: u32) -> anyhow::Result<Vec<u32>> {
        let Some(from) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let query = format!("UID {from}:*");
        let found = self
            .run("UID SEARCH", async |s| s.uid_search(&query).await)
            .await?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Fetches at most `limit` letters whose UID is above `after`, oldest first. The content is
    /// read with `BODY.PEEK[]` (the same bytes as `RFC822`), which, unlike `RFC822`, does not set
    /// `\Seen`: a letter looks unread until [`ImapClient::mark_processed`].
    pub async fn fetch_after(&mut self, after: u32, limit: usize) -> anyhow::Result<Vec<Fetched>> {
        let uids = self.uids_after(after).await?;
        let chosen: Vec<String> = uids.iter().take(limit).map(u32::to_string).collect();
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let set = chosen.join(",");
        let fetches = self
            .run("UID FETCH", async |s| {
                s.uid_fetch(&set, "(UID FLAGS BODY.PEEK[])")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        let mut out: Vec<Fetched> = fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|&u| u > after)?;
                Some(Fetched {
                    uid,
                    flags: f.flags().map(|fl| flag_text(&fl)).collect(),
                    raw: f.body()?.to_vec(),
                })
            })
            .collect();
        out.sort_by_key(|f| f.uid);
        out.dedup_by_key(|f| f.uid);
        Ok(out)
    }

    /// Marks a letter processed: `\Seen`, and `$PerezvonDone` where the folder keeps keywords.
    pub async fn mark_processed(&mut self, uid: u32) -> anyhow::Result<()> {
        let flags = if self.keyword {
            format!("+FLAGS.SILENT (\\Seen {DONE_KEYWORD})")
        } else {
            "+FLAGS.SILENT (\\Seen)".to_owned()
        };
        let set = uid.to_string();
        self.run("UID STORE", async |s| {
            s.uid_store(&set, &flags)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .with_context(|| format!("cannot mark letter UID {uid} processed"))?;
        Ok(())
    }

    /// Creates `folder` (for replies kept in a folder of their own, say); an error if it exists.
    pub async fn create_folder(&mut self, folder: &str) -> anyhow::Result<()> {
        let wire = utf7::encode(folder);
        self.run("CREATE", async |s| s.create(&wire).await)
            .await
            .with_context(|| format!("cannot create the folder `{folder}`"))
    }

    /// Stores `raw` as a letter in `folder` with `flags` (such as `(\Seen)`).
    pub async fn append(
        &mut self,
        folder: &str,
        raw: &[u8],
        flags: Option<&str>,
    ) -> anyhow::Result<()> {
        let wire = utf7::encode(folder);
        self.run("APPEND", async |s| s.append(&wire, flags, None, raw).await)
            .await
            .with_context(|| format!("cannot store a letter in `{folder}`"))
    }

    /// Logs out (best effort: the connection closes either way).
    pub async fn logout(mut self) {
        if let Some(mut s) = self.session.take() {
            let _ = tokio::time::timeout(self.timeout, s.logout()).await;
        }
    }
}

/// Wraps `stream` in TLS for the server of `s` within its timeout.
async fn bounded_tls(stream: MailStream, s: &ImapSettings) -> anyhow::Result<MailStream> {
    match tokio::time::timeout(s.timeout, stream.into_tls(&s.host, &s.ca)).await {
        Ok(r) => r,
        Err(_) => bail!(
            "TLS handshake with {}: no answer within {} s",
            s.host,
            s.timeout.as_secs()
        ),
    }
}

/// A flag as IMAP writes it.
fn flag_text(f: &Flag<'_>) -> String {
    match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => "\\Recent".into(),
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(k) => k.to_string(),
    }
}
