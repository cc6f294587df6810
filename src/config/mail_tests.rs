//! Tests of the `[mail]` section: absent by default, file then environment, defaults that follow
//! the TLS modes and the IMAP account, passwords from files, and errors naming the key.

use std::time::Duration;

use crate::config::Config;
use crate::mail::TlsMode;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(file: &str, vars: &[(&str, &str)]) -> Result<Config, String> {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), file).unwrap();
    Config::load_with_env(Some(f.path()), env(vars)).map_err(|e| e.to_string())
}

const MINIMAL: &str = "[mail]\nimap_host = \"imap.school.example.ru\"\n\
                       user = \"support@school.example.ru\"\npassword = \"imap-secret\"\n";

#[test]
fn absent_unless_imap_host_is_set() {
    assert!(load("", &[]).unwrap().mail.is_none());
    let e = load("[mail]\nuser = \"support@school.example.ru\"\n", &[]).unwrap_err();
    assert!(
        e.contains("mail.imap_host") && e.contains("mail.user"),
        "{e}"
    );
}

#[test]
fn defaults_follow_the_account_and_the_tls_modes() {
    let m = load(MINIMAL, &[]).unwrap().mail.unwrap();
    assert_eq!(m.imap.host, "imap.school.example.ru");
    assert_eq!((m.imap.tls, m.imap.port), (TlsMode::Tls, 993));
    assert_eq!(m.imap.user, "support@school.example.ru");
    assert_eq!(m.imap.password.expose(), "imap-secret");
    assert_eq!(m.imap.timeout, Duration::from_secs(30));
    assert_eq!(m.folder, "INBOX");
    assert_eq!(m.poll, Duration::from_secs(60));
    assert_eq!(m.max_attachment_bytes, 10 * 1024 * 1024);
    assert_eq!(m.smtp.host, "imap.school.example.ru");
    assert_eq!((m.smtp.tls, m.smtp.port), (TlsMode::StartTls, 587));
    let (user, password) = m.smtp.credentials.clone().unwrap();
    assert_eq!(
        (user.as_str(), password.expose()),
        ("support@school.example.ru", "imap-secret")
    );
    assert_eq!(m.from_address, "support@school.example.ru");
    assert_eq!(m.from_name, "Линия поддержки Школьного портала");
    let shown = format!("{m:?}");
    assert!(!shown.contains("imap-secret"), "{shown}");
}

#[test]
fn file_then_environment() {
    let m = load(
        MINIMAL,
        &[
            ("PEREZVON_MAIL__IMAP_TLS", "starttls"),
            ("PEREZVON_MAIL__FOLDER", "Входящие/Поддержка"),
            ("PEREZVON_MAIL__POLL_SECONDS", "15"),
            ("PEREZVON_MAIL__MAX_ATTACHMENT_BYTES", "2048"),
            ("PEREZVON_MAIL__TIMEOUT_SECONDS", "5"),
            ("PEREZVON_MAIL__SMTP_HOST", "smtp.school.example.ru"),
            ("PEREZVON_MAIL__SMTP_TLS", "tls"),
            ("PEREZVON_MAIL__SMTP_USER", "robot@school.example.ru"),
            ("PEREZVON_MAIL__SMTP_PASSWORD", "smtp-secret"),
            ("PEREZVON_MAIL__FROM_ADDRESS", "noreply@school.example.ru"),
            ("PEREZVON_MAIL__FROM_NAME", "Поддержка"),
        ],
    )
    .unwrap()
    .mail
    .unwrap();
    assert_eq!((m.imap.tls, m.imap.port), (TlsMode::StartTls, 143));
    assert_eq!(m.folder, "Входящие/Поддержка");
    assert_eq!(m.poll, Duration::from_secs(15));
    assert_eq!(m.max_attachment_bytes, 2048);
    assert_eq!(m.smtp.timeout, Duration::from_secs(5));
    assert_eq!(
        (m.smtp.host.as_str(), m.smtp.tls, m.smtp.port),
        ("smtp.school.example.ru", TlsMode::Tls, 465)
    );
    let (user, password) = m.smtp.credentials.clone().unwrap();
    assert_eq!(
        (user.as_str(), password.expose()),
        ("robot@school.example.ru", "smtp-secret")
    );
    assert_eq!(m.from_address, "noreply@school.example.ru");
    assert_eq!(m.from_name, "Поддержка");
    // Explicit ports win; an empty SMTP user sends without logging in.
    let m = load(
        MINIMAL,
        &[
            ("PEREZVON_MAIL__IMAP_PORT", "1143"),
            ("PEREZVON_MAIL__SMTP_TLS", "none"),
            ("PEREZVON_MAIL__SMTP_USER", ""),
        ],
    )
    .unwrap()
    .mail
    .unwrap();
    assert_eq!((m.imap.port, m.smtp.port), (1143, 25));
    assert!(m.smtp.credentials.is_none());
}

#[test]
fn passwords_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let imap = dir.path().join("imap");
    std::fs::write(&imap, "from-file\n").unwrap();
    let smtp = dir.path().join("smtp");
    std::fs::write(&smtp, "smtp-from-file").unwrap();
    let file = format!(
        "[mail]\nimap_host = \"imap.example.ru\"\nuser = \"help\"\npassword_file = \"{}\"\n\
         from_address = \"help@example.ru\"\nsmtp_user = \"other\"\n",
        imap.display()
    );
    let m = load(
        &file,
        &[("PEREZVON_MAIL__SMTP_PASSWORD_FILE", smtp.to_str().unwrap())],
    )
    .unwrap()
    .mail
    .unwrap();
    assert_eq!(m.imap.password.expose(), "from-file");
    assert_eq!(m.smtp.credentials.unwrap().1.expose(), "smtp-from-file");
    let e = load(
        &format!("{MINIMAL}password_file = \"{}\"\n", imap.display()),
        &[],
    )
    .unwrap_err();
    assert!(
        e.contains("mail.password_file") && e.contains("not both"),
        "{e}"
    );
}

#[test]
fn errors_name_the_key() {
    let no_password = "[mail]\nimap_host = \"imap.example.ru\"\nuser = \"help@example.ru\"\n";
    for (file, vars, key) in [
        (no_password, vec![], "mail.password"),
        (
            "[mail]\nimap_host = \"imap.example.ru\"\npassword = \"p\"\n",
            vec![],
            "mail.user",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__IMAP_TLS", "ssl")],
            "mail.imap_tls",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__SMTP_TLS", "yes")],
            "mail.smtp_tls",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__IMAP_PORT", "0")],
            "mail.imap_port",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__SMTP_PORT", "70000")],
            "mail.smtp_port",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__IMAP_HOST", "imap host")],
            "mail.imap_host",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__POLL_SECONDS", "1")],
            "mail.poll_seconds",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__POLL_SECONDS", "often")],
            "mail.poll_seconds",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__MAX_ATTACHMENT_BYTES", "10")],
            "mail.max_attachment_bytes",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__TIMEOUT_SECONDS", "0")],
            "mail.timeout_seconds",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__FROM_ADDRESS", "support")],
            "mail.from_address",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__SMTP_USER", "robot")],
            "mail.smtp_password",
        ),
        (
            MINIMAL,
            vec![("PEREZVON_MAIL__FROM_NAME", "a\nBcc: x@y")],
            "mail.from_name",
        ),
        (MINIMAL, vec![("PEREZVON_MAIL__COLOUR", "red")], "colour"),
        (
            "[mail]\nimap_host = \"imap.example.ru\"\nuser = \"help\"\npassword = \"p\"\n",
            vec![],
            "mail.from_address",
        ),
    ] {
        let e = load(file, &vars).unwrap_err();
        assert!(e.contains(key), "{key}: {e}");
        assert!(!e.contains("imap-secret"), "{e}");
    }
}
