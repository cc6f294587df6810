//! The `perezvon` binary as scripts use it: the calendar interface (checked against the official
//! production calendar as published in xmlcalendar, parsed here independently), configuration
//! errors, user and token creation, and `serve` answering and stopping on SIGTERM.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{Datelike, NaiveDate, Weekday};

fn perezvon(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perezvon"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env_remove("PEREZVON_CONFIG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        // A command refused before it reads stdin (a bad argument) closes the pipe: not an error.
        let written = child.stdin.take().unwrap().write_all(text.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The official calendar of one year from xmlcalendar: date -> t attribute (1 off, 2 shortened, 3 working).
fn xmlcalendar(year: i32) -> HashMap<NaiveDate, u8> {
    let path = format!(
        "{}/tests/data/xmlcalendar/ru/{year}/calendar.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    // Two of the published files lack the space before `country=`; repair that as the importer does.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"country=", "\" country=");
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("day"))
        .map(|n| {
            let (m, d) = n.attribute("d").unwrap().split_once('.').unwrap();
            let date =
                NaiveDate::from_ymd_opt(year, m.parse().unwrap(), d.parse().unwrap()).unwrap();
            (date, n.attribute("t").unwrap().parse().unwrap())
        })
        .collect()
}

#[test]
fn calendar_days_agree_with_the_official_calendar_2024_2027() {
    let out = stdout(&perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2024-01-01",
            "--to",
            "2027-12-31",
        ],
        &[],
        None,
    ));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("date,kind,open,close"));
    let official: HashMap<i32, HashMap<NaiveDate, u8>> =
        (2024..=2027).map(|y| (y, xmlcalendar(y))).collect();
    let mut per_year: HashMap<i32, (u32, u32)> = HashMap::new();
    let mut rows = 0;
    for line in lines {
        rows += 1;
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 4, "{line}");
        let date: NaiveDate = f[0].parse().unwrap();
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let (want_open, want_short) = match official[&date.year()].get(&date) {
            Some(1) => (false, false),
            Some(2) => (true, true),
            Some(3) => (true, false),
            _ => (!weekend, false),
        };
        let expected = match (want_open, want_short) {
            (true, true) => ("shortened", "09:00", "17:00"),
            (true, false) => ("working", "09:00", "18:00"),
            (false, _) if weekend => (f[1], "", ""), // a closed weekend day: `weekend`, or `holiday` for a ст.112 date
            (false, _) => ("holiday", "", ""),
        };
        assert_eq!((f[1], f[2], f[3]), expected, "{line}");
        if !want_open {
            assert!(matches!(f[1], "weekend" | "holiday"), "{line}");
        }
        let e = per_year.entry(date.year()).or_default();
        if want_open {
            e.0 += 1;
            e.1 += u32::from(want_short);
        }
    }
    assert_eq!(rows, 366 + 365 * 3);
    // The official totals: working days and shortened days per year.
    assert_eq!(per_year[&2024], (248, 5));
    assert_eq!(per_year[&2025], (247, 4));
    assert_eq!(per_year[&2026], (247, 4));
    assert_eq!(per_year[&2027], (247, 4));
}

#[test]
fn calendar_days_known_rows_and_holiday_kinds() {
    let out = stdout(&perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2024-11-01",
            "--to",
            "2024-11-04",
        ],
        &[],
        None,
    ));
    assert_eq!(
        out,
        "date,kind,open,close\n2024-11-01,working,09:00,18:00\n2024-11-02,shortened,09:00,17:00\n\
         2024-11-03,weekend,,\n2024-11-04,holiday,,\n"
    );
    let out = stdout(&perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2024-12-28",
            "--to",
            "2024-12-31",
        ],
        &[],
        None,
    ));
    assert_eq!(
        out,
        "date,kind,open,close\n2024-12-28,working,09:00,18:00\n2024-12-29,weekend,,\n2024-12-30,holiday,,\n2024-12-31,holiday,,\n"
    );
    // Full hours on shortened days when configured so.
    let out = stdout(&perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2026-11-03",
            "--to",
            "2026-11-03",
        ],
        &[("PEREZVON_HOURS__SHORTENED_BY_MINUTES", "0")],
        None,
    ));
    assert_eq!(
        out,
        "date,kind,open,close\n2026-11-03,shortened,09:00,18:00\n"
    );
}

#[test]
fn calendar_next_window() {
    let cases = [
        (
            "2026-11-27T17:59:00+03:00",
            "2026-11-27T09:00:00+03:00,2026-11-27T18:00:00+03:00",
        ),
        (
            "2026-11-27T18:00:00+03:00",
            "2026-11-30T09:00:00+03:00,2026-11-30T18:00:00+03:00",
        ),
        (
            "2026-11-27T21:30:00Z",
            "2026-11-30T09:00:00+03:00,2026-11-30T18:00:00+03:00",
        ),
        (
            "2026-11-03T17:00:00+03:00",
            "2026-11-05T09:00:00+03:00,2026-11-05T18:00:00+03:00",
        ),
        (
            "2026-12-31T10:00:00+03:00",
            "2027-01-11T09:00:00+03:00,2027-01-11T18:00:00+03:00",
        ),
    ];
    for (at, want) in cases {
        let out = stdout(&perezvon(
            &["calendar", "next-window", "--at", at],
            &[],
            None,
        ));
        assert_eq!(out.trim_end(), want, "at {at}");
    }
    let o = perezvon(&["calendar", "next-window", "--at", "Monday"], &[], None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("RFC 3339"));
}

#[test]
fn calendar_fallback_warns_on_stderr() {
    let o = perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2030-01-01",
            "--to",
            "2030-01-09",
        ],
        &[],
        None,
    );
    let out = stdout(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning") && err.contains("2030"), "{err}");
    assert!(
        out.contains("2030-01-08,holiday,,") && out.contains("2030-01-09,working,09:00,18:00"),
        "{out}"
    );
    let o = perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-09",
        ],
        &[],
        None,
    );
    assert!(o.stderr.is_empty(), "no warning for a year with data");
}

#[test]
fn bad_configuration_names_the_key() {
    let o = perezvon(
        &[
            "calendar",
            "days",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
        ],
        &[("PEREZVON_HOURS__MON", "9-18")],
        None,
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("hours.mon"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("perezvon.toml");
    std::fs::write(&file, "listen = \"here\"\n").unwrap();
    let o = perezvon(&["--config", file.to_str().unwrap(), "migrate"], &[], None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("`listen`"));
}

#[test]
fn import_xmlcalendar_round_trips_through_the_calendar_dir() {
    let dir = tempfile::tempdir().unwrap();
    let xml = format!(
        "{}/tests/data/xmlcalendar/ru/2026/calendar.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let toml = stdout(&perezvon(
        &["calendar", "import-xmlcalendar", &xml],
        &[],
        None,
    ));
    std::fs::write(dir.path().join("2026.toml"), &toml).unwrap();
    let env = [("PEREZVON_CALENDAR__DIR", dir.path().to_str().unwrap())];
    let range = [
        "calendar",
        "days",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
    ];
    assert_eq!(
        stdout(&perezvon(&range, &env, None)),
        stdout(&perezvon(&range, &[], None))
    );
    // A file whose totals disagree with its entries is refused, naming the rule.
    let broken = toml.replace("working_days = 247", "working_days = 248");
    assert_ne!(broken, toml, "the importer writes the totals");
    std::fs::write(dir.path().join("2026.toml"), broken).unwrap();
    let o = perezvon(&range, &env, None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("2026.toml") && err.contains("working_days"),
        "{err}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn users_tokens_and_serve_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let env = [
        ("PEREZVON_DATA_DIR", data),
        ("PEREZVON_LISTEN", listen.as_str()),
    ];

    let o = perezvon(
        &["user", "add", "--login", "ivanova", "--role", "operator"],
        &env,
        Some("long enough pw\n"),
    );
    stdout(&o);
    let o = perezvon(
        &["user", "add", "--login", "ivanova", "--role", "operator"],
        &env,
        Some("long enough pw\n"),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("exists"));
    let o = perezvon(
        &["user", "add", "--login", "petrov", "--role", "operator"],
        &env,
        Some("short\n"),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("at least"));
    let o = perezvon(
        &["user", "add", "--login", "x1", "--role", "boss"],
        &env,
        Some("long enough pw\n"),
    );
    assert!(!o.status.success());
    let token = stdout(&perezvon(
        &["token", "create", "--login", "ivanova", "--label", "test"],
        &env,
        None,
    ))
    .trim()
    .to_owned();
    assert!(token.starts_with("pzv_"), "{token}");
    let o = perezvon(&["token", "create", "--login", "nobody"], &env, None);
    assert!(!o.status.success());
    assert!(Path::new(data).join("perezvon.db").exists());

    let mut child = Command::new(env!("CARGO_BIN_EXE_perezvon"))
        .arg("serve")
        .envs(env)
        .env_remove("PEREZVON_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let me: serde_json::Value = rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = client
                .get(format!("http://{listen}/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
            {
                return r.json().await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("serve did not answer");
    });
    assert_eq!(me["login"], "ivanova");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("stopped"), "{err}");
    assert!(!err.contains(&token), "the token never reaches the log");
}

#[test]
fn operator_add_creates_user_and_operator() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("PEREZVON_DATA_DIR", dir.path().to_str().unwrap())];
    let o = perezvon(
        &[
            "operator",
            "add",
            "--login",
            "smirnova",
            "--name",
            "Мария Смирнова",
            "--sip",
            "sip:smirnova@pbx.school.ru",
        ],
        &env,
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("offline"), "{err}");
    // The user exists now: a token can be made for it.
    stdout(&perezvon(
        &["token", "create", "--login", "smirnova"],
        &env,
        None,
    ));
    let o = perezvon(
        &[
            "operator",
            "add",
            "--login",
            "smirnova",
            "--name",
            "X",
            "--extension",
            "101",
        ],
        &env,
        None,
    );
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("already"),
        "one operator per user"
    );
    // An existing user becomes an operator too.
    stdout(&perezvon(
        &[
            "user",
            "add",
            "--login",
            "kuznetsov",
            "--role",
            "supervisor",
        ],
        &env,
        Some("long enough pw\n"),
    ));
    let o = perezvon(
        &[
            "operator",
            "add",
            "--login",
            "kuznetsov",
            "--name",
            "К",
            "--phone",
            "+74951234567",
        ],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = perezvon(
        &[
            "operator",
            "add",
            "--login",
            "x1",
            "--name",
            "X",
            "--phone",
            "84951234567",
        ],
        &env,
        None,
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("E.164"));
    let o = perezvon(
        &[
            "operator",
            "add",
            "--login",
            "x2",
            "--name",
            "X",
            "--phone",
            "+74951234567",
            "--sip",
            "sip:a@b",
        ],
        &env,
        None,
    );
    assert!(!o.status.success());
    let o = perezvon(
        &["operator", "add", "--login", "x3", "--name", "X"],
        &env,
        None,
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("exactly one"));
}

/// `user disable|enable|password|list` and `token list|revoke`; tokens expire by default.
#[test]
fn user_and_token_administration() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("PEREZVON_DATA_DIR", dir.path().to_str().unwrap())];
    stdout(&perezvon(
        &["user", "add", "--login", "ivanova", "--role", "operator"],
        &env,
        Some("long enough pw\n"),
    ));
    let first = stdout(&perezvon(
        &["token", "create", "--login", "ivanova", "--label", "robot"],
        &env,
        None,
    ));
    stdout(&perezvon(
        &["token", "create", "--login", "ivanova", "--never-expires"],
        &env,
        None,
    ));
    let list = stdout(&perezvon(&["token", "list"], &env, None));
    let rows: Vec<Vec<&str>> = list
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(
        list.lines().next(),
        Some("id,login,label,created,last_used,expires,state")
    );
    assert_eq!(rows.len(), 2, "{list}");
    assert!(
        !list.contains(first.trim()),
        "a token's value is never listed"
    );
    // The default expiry is web.token_days (90) from now; --never-expires has none.
    let expires = chrono::DateTime::parse_from_rfc3339(rows[0][5]).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "{list}");
    assert_eq!(rows[1][5], "", "{list}");
    assert!(rows.iter().all(|r| r[6] == "live"), "{list}");
    // Revoke one by id; then every token of the login.
    stdout(&perezvon(
        &["token", "revoke", "--id", rows[0][0]],
        &env,
        None,
    ));
    let list = stdout(&perezvon(
        &["token", "list", "--login", "ivanova"],
        &env,
        None,
    ));
    assert!(list.lines().nth(1).unwrap().ends_with(",revoked"), "{list}");
    assert!(list.lines().nth(2).unwrap().ends_with(",live"), "{list}");
    let again = perezvon(&["token", "revoke", "--id", rows[0][0]], &env, None);
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("revoked already")
    );
    stdout(&perezvon(
        &["token", "revoke", "--login", "ivanova"],
        &env,
        None,
    ));
    let list = stdout(&perezvon(&["token", "list"], &env, None));
    assert!(
        list.lines().skip(1).all(|l| l.ends_with(",revoked")),
        "{list}"
    );

    // Password from stdin (at least 10 characters); disable and enable.
    let short = perezvon(
        &["user", "password", "--login", "ivanova"],
        &env,
        Some("short\n"),
    );
    assert!(!short.status.success());
    stdout(&perezvon(
        &["user", "password", "--login", "ivanova"],
        &env,
        Some("another long pw\n"),
    ));
    let nobody = perezvon(&["user", "disable", "--login", "nobody"], &env, None);
    assert!(!nobody.status.success() && String::from_utf8_lossy(&nobody.stderr).contains("nobody"));
    stdout(&perezvon(
        &["user", "disable", "--login", "ivanova"],
        &env,
        None,
    ));
    let users = stdout(&perezvon(&["user", "list"], &env, None));
    assert!(
        users.contains("ivanova,operator,disabled,ivanova"),
        "{users}"
    );
    let refused = perezvon(&["token", "create", "--login", "ivanova"], &env, None);
    assert!(!refused.status.success(), "no token for a disabled user");
    stdout(&perezvon(
        &["user", "enable", "--login", "ivanova"],
        &env,
        None,
    ));
    let users = stdout(&perezvon(&["user", "list"], &env, None));
    assert!(
        users.contains("ivanova,operator,enabled,ivanova"),
        "{users}"
    );
}

#[test]
fn zadarma_prompts_lists_the_files_to_upload_and_bad_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("zadarma-prompts.toml");
    let greeting = perezvon::speech::Prompt::Greeting.clip();
    std::fs::write(&prompts, format!("\"{greeting}\" = \"5f1e2d\"\n")).unwrap();
    let env = [
        ("PEREZVON_ZADARMA__KEY", "k"),
        ("PEREZVON_ZADARMA__SECRET", "s"),
        ("PEREZVON_ZADARMA__VOICEMAIL_REDIRECT", "0-2"),
        ("PEREZVON_ZADARMA__PROMPTS_FILE", prompts.to_str().unwrap()),
    ];
    let all = stdout(&perezvon(&["zadarma", "prompts"], &env, None));
    let catalogue = perezvon::speech::catalogue();
    assert_eq!(all.lines().next(), Some("file;id;text"));
    assert_eq!(all.lines().count(), catalogue.len() + 1);
    let row = format!("audio/prompts/{greeting};5f1e2d;");
    assert!(all.lines().any(|l| l.starts_with(&row)), "{all}");
    let missing = stdout(&perezvon(&["zadarma", "prompts", "--missing"], &env, None));
    assert_eq!(missing.lines().count(), catalogue.len());
    assert!(!missing.contains(&greeting));
    // The skeleton is a prompts_file: every clip, each mapped to its id or "".
    let skeleton = stdout(&perezvon(&["zadarma", "prompts", "--toml"], &env, None));
    let table: toml::Table = toml::from_str(&skeleton).unwrap();
    assert_eq!(table.len(), catalogue.len());
    assert_eq!(table[&greeting].as_str(), Some("5f1e2d"));
    // Every file listed exists in the repository.
    for (clip, _) in &catalogue {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("audio/prompts")
            .join(clip);
        assert!(path.exists(), "{}", path.display());
    }
    for (key, value, named) in [
        (
            "PEREZVON_ZADARMA__VOICEMAIL_REDIRECT",
            "voicemail",
            "zadarma.voicemail_redirect",
        ),
        (
            "PEREZVON_ZADARMA__HOLD_TICK_SECS",
            "30",
            "zadarma.hold_tick_secs",
        ),
        ("PEREZVON_ZADARMA__API_BASE", "ftp://x", "zadarma.api_base"),
        (
            "PEREZVON_ZADARMA__PROMPTS_FILE",
            "/nonexistent/p.toml",
            "zadarma.prompts_file",
        ),
    ] {
        let mut bad = env.to_vec();
        bad.retain(|(k, _)| *k != key);
        bad.push((key, value));
        let o = perezvon(&["zadarma", "prompts"], &bad, None);
        assert!(!o.status.success(), "{key}={value}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(named), "{key}={value}: {err}");
    }
}
