//! `perezvon doctor`: checks what a running hotline needs, each check one line `ok`, `WARN` or
//! `FAIL` with what it found and, for a failure, what to change (the config key). The
//! configuration was already loaded and validated before this runs (a bad key stops earlier, with
//! its name). Checked: the database opens and its migrations are current; the data directory is
//! writable and has free space; each configured provider accepts our credentials (a harmless API
//! call: Twilio's account, Zadarma's balance); with `[mail]`, the IMAP account logs in and selects
//! its folder and the SMTP server accepts the connection and login (nothing is read, marked or
//! sent); `public_url` answers `/healthz` (what the
//! providers will call); the production calendar has next year from 1 October. Exit status 1 when
//! anything failed.

use std::io::Write;
use std::time::Duration;

use crate::config::Config;

/// Free space under which the data directory is a failure (recordings need room).
const MIN_FREE_BYTES: u64 = 512 * 1024 * 1024;
/// Free space under which it is a warning.
const LOW_FREE_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// Runs every check, writing one line each to `out`; true when none failed.
pub async fn doctor(config: &Config, out: &mut impl Write) -> anyhow::Result<bool> {
    let mut failed = false;
    let mut say = |v: Verdict, what: &str, detail: String| -> anyhow::Result<()> {
        let tag = match v {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        failed |= v == Verdict::Fail;
        writeln!(out, "{tag} {what}: {detail}")?;
        Ok(())
    };
    let (v, d) = database(config).await;
    say(v, "database", d)?;
    let (v, d) = data_dir(config);
    say(v, "data directory", d)?;
    if let Some(t) = &config.twilio {
        let (v, d) = twilio(t).await;
        say(v, "twilio", d)?;
    }
    if let Some(z) = &config.zadarma {
        let (v, d) = zadarma(z).await;
        say(v, "zadarma", d)?;
    }
    if config.twilio.is_none() && config.zadarma.is_none() {
        say(
            Verdict::Warn,
            "telephony",
            "no provider configured (`twilio` or `zadarma`): no calls will arrive".into(),
        )?;
    }
    if let Some(m) = &config.mail {
        let (v, d) = mail_imap(m).await;
        say(v, "mail imap", d)?;
        let (v, d) = mail_smtp(m).await;
        say(v, "mail smtp", d)?;
    }
    let (v, d) = public_url(config).await;
    say(v, "public_url", d)?;
    let (v, d) = calendar(config);
    say(v, "calendar", d)?;
    Ok(!failed)
}

async fn database(config: &Config) -> (Verdict, String) {
    let store =
        match crate::store::connect_with(&config.database_url, config.sqlite_full_sync).await {
            Ok(s) => s,
            Err(e) => {
                return (
                    Verdict::Fail,
                    format!(
                        "cannot open {} ({e}): check `database_url`",
                        config.database_url
                    ),
                );
            }
        };
    let health = store.health().await;
    store.close().await;
    match health {
        Ok(h) if h.migrations_current => (
            Verdict::Ok,
            format!("{} answers, migrations current", store.backend()),
        ),
        Ok(_) => (
            Verdict::Fail,
            "the database has migrations this build does not know (a newer Perezvon ran on it)"
                .into(),
        ),
        Err(e) => (Verdict::Fail, format!("does not answer: {e}")),
    }
}

fn data_dir(config: &Config) -> (Verdict, String) {
    let dir = &config.data_dir;
    if let Err(e) = std::fs::create_dir_all(dir) {
        return (
            Verdict::Fail,
            format!("cannot create {} ({e}): check `data_dir`", dir.display()),
        );
    }
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"probe") {
        return (
            Verdict::Fail,
            format!(
                "{} is not writable ({e}): fix its owner or `data_dir`",
                dir.display()
            ),
        );
    }
    let _ = std::fs::remove_file(&probe);
    match fs4::available_space(dir) {
        Ok(free) if free < MIN_FREE_BYTES => (
            Verdict::Fail,
            format!("{}: only {} free", dir.display(), human(free)),
        ),
        Ok(free) if free < LOW_FREE_BYTES => (
            Verdict::Warn,
            format!(
                "{}: writable, {} free (recordings need room)",
                dir.display(),
                human(free)
            ),
        ),
        Ok(free) => (
            Verdict::Ok,
            format!("{}: writable, {} free", dir.display(), human(free)),
        ),
        Err(e) => (
            Verdict::Warn,
            format!("{}: writable; free space unknown ({e})", dir.display()),
        ),
    }
}

fn human(bytes: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    format!("{:.1} GiB", bytes as f64 / GIB)
}

/// The support mailbox: log in, select the folder, log out.
async fn mail_imap(m: &crate::config::MailConfig) -> (Verdict, String) {
    let keys = "check `mail.imap_host`, `mail.imap_port`, `mail.imap_tls`, `mail.user`, \
         `mail.password`, `mail.ca_file`";
    let mut client = match crate::mail::imap::ImapClient::connect(&m.imap).await {
        Ok(c) => c,
        Err(e) => return (Verdict::Fail, format!("{e:#}: {keys}")),
    };
    let found = client.select(&m.folder).await;
    client.logout().await;
    match found {
        Ok(f) => (
            Verdict::Ok,
            format!(
                "logged in as the configured user; `{}` holds {} letters",
                m.folder, f.exists
            ),
        ),
        Err(e) => (Verdict::Fail, format!("{e:#}: check `mail.folder`")),
    }
}

/// The SMTP server: connect, log in where configured, NOOP.
async fn mail_smtp(m: &crate::config::MailConfig) -> (Verdict, String) {
    let keys = "check `mail.smtp_host`, `mail.smtp_port`, `mail.smtp_tls`, `mail.smtp_user`, \
         `mail.smtp_password`, `mail.ca_file`";
    let sender = match crate::mail::smtp::SmtpSender::new(&m.smtp, &m.from_address, &m.from_name) {
        Ok(s) => s,
        Err(e) => return (Verdict::Fail, format!("{e:#}: check `mail.from_address`")),
    };
    match sender.check().await {
        Ok(()) => (
            Verdict::Ok,
            format!("the server accepts us; letters go from {}", m.from_address),
        ),
        Err(e) => (Verdict::Fail, format!("{e:#}: {keys}")),
    }
}

async fn twilio(t: &crate::config::TwilioConfig) -> (Verdict, String) {
    let client = match crate::telephony::twilio::TwilioClient::new(
        &t.api_base,
        &t.account_sid,
        t.auth_token.expose(),
    ) {
        Ok(c) => c,
        Err(e) => return (Verdict::Fail, format!("{e}")),
    };
    match client.account_status().await {
        Ok(s) if s == "active" => (Verdict::Ok, "the account answers (active)".into()),
        Ok(s) => (Verdict::Fail, format!("the account is {s}")),
        Err(e) => (
            Verdict::Fail,
            format!("{e}: check `twilio.account_sid`, `twilio.auth_token`, `twilio.api_base`"),
        ),
    }
}

async fn zadarma(z: &crate::config::ZadarmaConfig) -> (Verdict, String) {
    let client =
        match crate::telephony::zadarma::ZadarmaClient::new(&z.api_base, &z.key, z.secret.expose())
        {
            Ok(c) => c,
            Err(e) => return (Verdict::Fail, format!("{e}")),
        };
    match client.balance().await {
        Ok(v) => {
            let missing = crate::telephony::zadarma::answer::missing_clips(&z.prompts).len();
            let balance = v["balance"].as_str().map(str::to_owned).unwrap_or_else(|| {
                v["balance"]
                    .as_f64()
                    .map(|b| b.to_string())
                    .unwrap_or_default()
            });
            let currency = v["currency"].as_str().unwrap_or("");
            if missing > 0 {
                (
                    Verdict::Warn,
                    format!(
                        "the API answers (balance {balance} {currency}); {missing} prompt files have no id in `zadarma.prompts_file` (`perezvon zadarma prompts --missing`)"
                    ),
                )
            } else {
                (
                    Verdict::Ok,
                    format!("the API answers (balance {balance} {currency})"),
                )
            }
        }
        Err(e) => (
            Verdict::Fail,
            format!("{e}: check `zadarma.key`, `zadarma.secret`, `zadarma.api_base`"),
        ),
    }
}

async fn public_url(config: &Config) -> (Verdict, String) {
    let url = format!("{}/healthz", config.public_url);
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(h) => h,
        Err(e) => return (Verdict::Fail, e.to_string()),
    };
    match http.get(&url).send().await {
        Ok(r) if r.status().is_success() => (Verdict::Ok, format!("{url} answers")),
        Ok(r) => (
            Verdict::Fail,
            format!(
                "{url} answered {}: check `public_url` and the proxy",
                r.status()
            ),
        ),
        Err(e) => (
            Verdict::Fail,
            format!(
                "{url} does not answer ({}): is the service running, and is `public_url` the address the providers call?",
                e.without_url()
            ),
        ),
    }
}

fn calendar(config: &Config) -> (Verdict, String) {
    let calendar = match crate::load_calendar(config) {
        Ok(c) => c,
        Err(e) => return (Verdict::Fail, format!("{e:#}: check `calendar.dir`")),
    };
    let today = chrono::Utc::now()
        .with_timezone(&crate::calendar::MOSCOW)
        .date_naive();
    let status = calendar.status(today);
    match status.warnings.first() {
        Some(w) => (Verdict::Warn, w.clone()),
        None => (Verdict::Ok, "production calendar loaded".into()),
    }
}
