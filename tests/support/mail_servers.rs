//! Real mail servers for the mail tests, each private to one test: Debian's Dovecot
//! (`dovecot-imapd`) serving IMAP with IDLE on 127.0.0.1 and a free port, its configuration,
//! sockets, logs and a Maildir in a temporary directory, one user with a plain password. The SMTP
//! sink (aiosmtpd, `smtp_sink.rs`) shares the helpers here. `start_tls` runs Dovecot with a
//! certificate from a test CA (`test_ca.rs`): IMAPS on a second port, and TLS required (STARTTLS)
//! before logging in on the first. `start` returns `None` (after
//! printing `SKIPPED (mail)`) when a server is missing or does not start, unless
//! `PEREZVON_TEST_REQUIRE_MAIL=1` (CI), where that fails the test. Dropping one stops it: its own
//! process group gets SIGTERM, then SIGKILL.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perezvon::config::Secret;
use perezvon::mail::TlsMode;
use perezvon::mail::imap::ImapSettings;
use tokio::io::AsyncReadExt;

/// The mailbox's login and password.
pub const USER: &str = "support";
pub const PASSWORD: &str = "mail-test-password";

/// Gives up on a missing server: `None` normally, a failed test under CI.
pub(super) fn unavailable<T>(why: &str) -> Option<T> {
    if std::env::var("PEREZVON_TEST_REQUIRE_MAIL").is_ok_and(|v| v == "1") {
        panic!("PEREZVON_TEST_REQUIRE_MAIL=1 but {why}");
    }
    eprintln!("SKIPPED (mail): {why}");
    None
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` (a server that speaks TLS first).
pub(super) async fn listens(port: u16, child: &mut Child, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Waits until the server on `port` greets with a line starting with `greeting`.
pub(super) async fn greets(port: u16, greeting: &str, child: &mut Child, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let mut buf = [0u8; 64];
            let read = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
            if let Ok(Ok(n)) = read
                && buf[..n].starts_with(greeting.as_bytes())
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Stops a process group started with `process_group(0)`: SIGTERM, a moment, then SIGKILL.
pub(super) fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |name: &str| {
        let _ = Command::new("kill")
            .args([name, "--", &group])
            .stderr(Stdio::null())
            .status();
    };
    signal("-TERM");
    for _ in 0..30 {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // What the leader left behind (a login process, say) goes too.
    signal("-KILL");
    let _ = child.kill();
    let _ = child.wait();
}

/// `(name, uid, gid)` of a user in /etc/passwd, by name or by uid.
fn passwd_entry(matches: impl Fn(&str, u32) -> bool) -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        let (uid, gid) = (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
        matches(f[0], uid).then(|| (f[0].to_owned(), uid, gid))
    })
}

/// The name of group `gid` in /etc/group.
fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == gid).then(|| f[0].to_owned())
    })
}

/// A private Dovecot IMAP server.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    /// IMAP: plain, or STARTTLS required when started with TLS.
    pub port: u16,
    /// IMAPS (TLS from the first byte), when started with TLS.
    pub tls_port: Option<u16>,
    child: Child,
}

impl Dovecot {
    /// Configures and starts Dovecot; `None` when it is not installed or does not start.
    pub async fn start() -> Option<Dovecot> {
        Dovecot::start_with(None).await
    }

    /// Dovecot with the certificate of `ca` for `localhost`: IMAPS on `tls_port`, and on
    /// `port` no login before STARTTLS.
    pub async fn start_tls(ca: &super::test_ca::TestCa) -> Option<Dovecot> {
        Dovecot::start_with(Some(ca)).await
    }

    async fn start_with(ca: Option<&super::test_ca::TestCa>) -> Option<Dovecot> {
        let binary = std::env::var("PEREZVON_TEST_DOVECOT").unwrap_or("/usr/sbin/dovecot".into());
        if !Path::new(&binary).exists() {
            return unavailable("Dovecot is not installed (apt-get install -y dovecot-imapd)");
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        // Dovecot's login processes run as another user and must reach their sockets.
        std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let me = std::fs::metadata(&root).unwrap().uid();
        // As root, Dovecot refuses to run its login processes as root and mail as UID 0: they
        // run as its own users. Otherwise everything runs as the current user.
        let Some((internal_user, mail_uid, mail_gid)) = (if me == 0 {
            passwd_entry(|n, _| n == "dovecot")
        } else {
            passwd_entry(|_, u| u == me)
        }) else {
            return unavailable("no `dovecot` user (as root) or no passwd entry for this user");
        };
        let login_user = match me {
            0 => passwd_entry(|n, _| n == "dovenull").map_or(internal_user.clone(), |e| e.0),
            _ => internal_user.clone(),
        };
        let Some(internal_group) = group_name(mail_gid) else {
            return unavailable(&format!("group {mail_gid} is not in /etc/group"));
        };
        let mail = root.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        std::os::unix::fs::chown(&mail, Some(mail_uid), Some(mail_gid)).unwrap();
        let home = mail.join(USER);
        std::fs::write(
            root.join("passwd"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{}\n",
                home.display()
            ),
        )
        .unwrap();
        let port = free_port();
        let tls_port = ca.map(|_| free_port());
        let conf = root.join("dovecot.conf");
        let users = [login_user.as_str(), &internal_user, &internal_group];
        let mut text = config(&root, port, tls_port.unwrap_or(0), users);
        if let Some(ca) = ca {
            text.push_str(&format!(
                "ssl = required\nssl_cert = <{}\nssl_key = <{}\n",
                ca.cert_file.display(),
                ca.key_file.display()
            ));
        } else {
            text.push_str("ssl = no\n");
        }
        std::fs::write(&conf, text).unwrap();
        let mut child = Command::new(&binary)
            .process_group(0)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(root.join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(root.join("stderr.log")).unwrap())
            .spawn()
            .expect("dovecot starts");
        if !greets(port, "* OK", &mut child, Duration::from_secs(20)).await {
            stop_group(&mut child);
            let log = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_default();
            let why = format!(
                "Dovecot did not start: {}{}",
                log("stderr.log"),
                log("dovecot.log")
            );
            return unavailable(&why);
        }
        Some(Dovecot {
            dir,
            port,
            tls_port,
            child,
        })
    }

    /// How the client under test reaches the mailbox.
    pub fn settings(&self) -> ImapSettings {
        ImapSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: TlsMode::None,
            user: USER.into(),
            password: Secret::new(PASSWORD),
            timeout: Duration::from_secs(10),
            ca: Default::default(),
        }
    }

    /// Dovecot's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// The server's log once it has `n` lines containing `what` (Dovecot's log process writes a
    /// session's lines a moment after the client saw the reply), or as it is after 5 s.
    pub async fn log_with(&self, what: &str, n: usize) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.lines().filter(|l| l.contains(what)).count() >= n
                || std::time::Instant::now() > deadline
            {
                return log;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// Dovecot's configuration: IMAP only, on 127.0.0.1:`port` (and IMAPS on `tls_port` unless 0),
/// plain passwords, one Maildir, everything under `root`; new mail is noticed within a second
/// during IDLE. The caller adds the `ssl` settings.
fn config(root: &Path, port: u16, tls_port: u16, users: [&str; 3]) -> String {
    let r = root.display();
    let [login_user, internal_user, internal_group] = users;
    format!(
        "base_dir = {r}/run\n\
         state_dir = {r}/state\n\
         instance_name = perezvon-test-{port}\n\
         protocols = imap\n\
         listen = 127.0.0.1\n\
         disable_plaintext_auth = no\n\
         auth_mechanisms = plain login\n\
         log_path = {r}/dovecot.log\n\
         info_log_path = {r}/dovecot.log\n\
         default_login_user = {login_user}\n\
         default_internal_user = {internal_user}\n\
         default_internal_group = {internal_group}\n\
         first_valid_uid = 1\n\
         mail_location = maildir:~/Maildir\n\
         mailbox_idle_check_interval = 1 secs\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = username_format=%u {r}/passwd\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
         inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n  }}\n}}\n"
    )
}

/// Runs a mail test's body with a bound on its time (a server that stops answering fails the
/// test instead of hanging the suite).
pub async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(90), f)
        .await
        .expect("the test finished within 90 s");
}
