//! `perezvon doctor` against fakes of the providers' APIs (wiremock) and a stand-in for the public
//! address: every check passes on a good setup; bad credentials and an unreachable `public_url`
//! fail with the config keys to look at, and the exit status says so. With `[mail]`, the real
//! Dovecot and SMTP sink of the mail tests: the mailbox and the SMTP server answer, a wrong
//! password and a closed SMTP port fail naming their keys.

mod support;

use std::process::{Command, Output};

use support::mail_servers::{Dovecot, PASSWORD as MAIL_PASSWORD, USER as MAIL_USER};
use support::smtp_sink::SmtpSink;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn doctor(envs: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perezvon"));
    cmd.arg("doctor").env_remove("PEREZVON_CONFIG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn line<'a>(out: &'a str, what: &str) -> &'a str {
    out.lines()
        .find(|l| l[5..].starts_with(&format!("{what}:")))
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{out}"))
}

async fn fakes(twilio_status: u16) -> (MockServer, MockServer, MockServer) {
    let twilio = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/2010-04-01/Accounts/{SID}.json")))
        .respond_with(
            ResponseTemplate::new(twilio_status).set_body_json(if twilio_status == 200 {
                serde_json::json!({"sid": SID, "status": "active"})
            } else {
                serde_json::json!({"code": 20003, "message": "Authenticate"})
            }),
        )
        .mount(&twilio)
        .await;
    let zadarma = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/info/balance/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"status": "success", "balance": "104.50", "currency": "RUB"}),
        ))
        .mount(&zadarma)
        .await;
    let public = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&public)
        .await;
    (twilio, zadarma, public)
}

fn env(
    dir: &std::path::Path,
    twilio: &str,
    zadarma: &str,
    public: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("PEREZVON_DATA_DIR", dir.display().to_string()),
        (
            "PEREZVON_DATABASE_URL",
            format!("sqlite://{}/perezvon.db", dir.display()),
        ),
        ("PEREZVON_PUBLIC_URL", public.to_owned()),
        ("PEREZVON_TWILIO__ACCOUNT_SID", SID.into()),
        ("PEREZVON_TWILIO__AUTH_TOKEN", "token".into()),
        ("PEREZVON_TWILIO__API_BASE", twilio.to_owned()),
        ("PEREZVON_ZADARMA__KEY", "key".into()),
        ("PEREZVON_ZADARMA__SECRET", "secret".into()),
        ("PEREZVON_ZADARMA__API_BASE", zadarma.to_owned()),
        ("PEREZVON_ZADARMA__VOICEMAIL_REDIRECT", "0-2".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_setup_passes_and_a_bad_one_names_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (twilio, zadarma, public) = fakes(200).await;
    let vars = env(dir.path(), &twilio.uri(), &zadarma.uri(), &public.uri());
    let out = tokio::task::spawn_blocking(move || doctor(&vars))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        line(&text, "database").starts_with("ok   database: sqlite answers, migrations current")
    );
    assert!(line(&text, "data directory").contains("writable"));
    assert!(line(&text, "twilio").starts_with("ok   twilio: the account answers (active)"));
    // No prompt ids configured: the API works, the prompts are a warning.
    let z = line(&text, "zadarma");
    assert!(
        z.starts_with("WARN zadarma: the API answers (balance 104.50 RUB)"),
        "{z}"
    );
    assert!(z.contains("zadarma prompts --missing"), "{z}");
    assert!(line(&text, "public_url").starts_with("ok   public_url:"));
    // Wrong Twilio credentials and nothing at the public address.
    let (twilio, zadarma, _) = fakes(401).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let vars = env(dir.path(), &twilio.uri(), &zadarma.uri(), &closed);
    let out = tokio::task::spawn_blocking(move || doctor(&vars))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{text}");
    let t = line(&text, "twilio");
    assert!(
        t.starts_with("FAIL twilio:") && t.contains("twilio.auth_token"),
        "{t}"
    );
    assert!(!t.contains("token\""), "no secret in the output: {t}");
    let p = line(&text, "public_url");
    assert!(
        p.starts_with("FAIL public_url:") && p.contains("`public_url`"),
        "{p}"
    );
    assert!(line(&text, "database").starts_with("ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailbox_and_the_smtp_server_are_checked() {
    let (Some(imap), Some(sink)) = (Dovecot::start().await, SmtpSink::start().await) else {
        println!("SKIPPED (mail)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let vars = |password: &str, smtp_port: u16| {
        let (mut v, dir) = (Vec::new(), dir.path().display().to_string());
        v.push(("PEREZVON_DATA_DIR", dir.clone()));
        v.push((
            "PEREZVON_DATABASE_URL",
            format!("sqlite://{dir}/perezvon.db"),
        ));
        v.push(("PEREZVON_MAIL__IMAP_HOST", "127.0.0.1".into()));
        v.push(("PEREZVON_MAIL__IMAP_PORT", imap.port.to_string()));
        v.push(("PEREZVON_MAIL__IMAP_TLS", "none".into()));
        v.push(("PEREZVON_MAIL__USER", MAIL_USER.into()));
        v.push(("PEREZVON_MAIL__PASSWORD", password.to_owned()));
        v.push(("PEREZVON_MAIL__SMTP_HOST", "127.0.0.1".into()));
        v.push(("PEREZVON_MAIL__SMTP_PORT", smtp_port.to_string()));
        v.push(("PEREZVON_MAIL__SMTP_TLS", "none".into()));
        v.push(("PEREZVON_MAIL__SMTP_USER", String::new()));
        v.push((
            "PEREZVON_MAIL__FROM_ADDRESS",
            "support@school.example.ru".into(),
        ));
        v
    };
    let run = |v: Vec<(&'static str, String)>| async move {
        let out = tokio::task::spawn_blocking(move || doctor(&v))
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (String::from_utf8_lossy(&out.stdout).into_owned(), err)
    };
    let (text, err) = run(vars(MAIL_PASSWORD, sink.port)).await;
    let i = line(&text, "mail imap");
    assert!(
        i.starts_with("ok   mail imap: logged in") && i.contains("`INBOX`"),
        "{i}\n{err}"
    );
    let s = line(&text, "mail smtp");
    assert!(
        s.starts_with("ok   mail smtp: the server accepts us"),
        "{s}"
    );
    assert!(sink.received().is_empty(), "the check sends nothing");
    // A wrong password, and nothing listening where the SMTP server should be.
    let (text, _) = run(vars("wrong-password", closed)).await;
    let i = line(&text, "mail imap");
    assert!(
        i.starts_with("FAIL mail imap:") && i.contains("`mail.password`"),
        "{i}"
    );
    assert!(
        !i.contains("wrong-password"),
        "no secret in the output: {i}"
    );
    let s = line(&text, "mail smtp");
    assert!(
        s.starts_with("FAIL mail smtp:") && s.contains("`mail.smtp_port`"),
        "{s}"
    );
}
