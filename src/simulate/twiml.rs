//! The simulated Twilio's TwiML reader: a reply document becomes a list of [`Verb`]s the peer
//! executes one by one, the way Twilio does (PROVIDERS.md §1.3–1.9).
//!
//! Only what the peer needs is kept: the follow-up URLs (`action`, `waitUrl`, a `<Redirect>`
//! target) and the durations (`<Pause length>`, `<Gather timeout>`, `<Dial timeout>`), with
//! Twilio's defaults when an attribute is missing. Audio is not fetched: a `<Play>` or `<Say>` only
//! takes a little time; a `<Record>` records nothing (the fake REST API serves a made-up WAV). A document that is not `<Response>` or holds a verb Twilio would not
//! accept is an error, as it would be for Twilio (error 12100).

use roxmltree::{Document, Node};

/// One TwiML verb as the peer runs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// `<Play>`: one recorded clip.
    Play,
    /// `<Say>`: text-to-speech of `chars` characters.
    Say { chars: usize },
    /// `<Pause length>`, in Twilio seconds.
    Pause { secs: f64 },
    /// `<Gather>`: plays `nested`, then waits `timeout` seconds for up to `num_digits` digits
    /// (unlimited when `None`) ended by `finish_on_key` (none when empty).
    Gather {
        action: Option<String>,
        timeout: f64,
        num_digits: Option<u32>,
        finish_on_key: String,
        nested: Vec<Verb>,
    },
    /// `<Dial>` an operator (`to`: the text of its `<Number>`, `<Sip>` or `<Client>`), ringing at
    /// most `timeout` seconds.
    Dial {
        action: Option<String>,
        timeout: f64,
        to: Option<String>,
    },
    /// `<Enqueue>`: hold in a queue, ticking at `wait_url`, reporting to `action` on leaving.
    Enqueue {
        action: Option<String>,
        wait_url: Option<String>,
    },
    /// `<Record>` a voice message of at most `max_length` seconds, ended by a key of
    /// `finish_on_key` or by hanging up.
    Record {
        action: Option<String>,
        max_length: f64,
        finish_on_key: String,
        status_callback: Option<String>,
    },
    /// `<Leave>`: leave the queue (only meaningful while queued).
    Leave,
    /// `<Hangup>`: end the call.
    Hangup,
    /// `<Redirect>`: fetch new TwiML from this URL.
    Redirect(String),
}

/// Twilio's default `<Dial timeout>` in seconds.
const DIAL_TIMEOUT: f64 = 30.0;
/// Twilio's default `<Gather timeout>` in seconds.
const GATHER_TIMEOUT: f64 = 5.0;
/// Twilio's default `<Record maxLength>` in seconds, and its default `finishOnKey`.
const RECORD_MAX_LENGTH: f64 = 3600.0;
const RECORD_FINISH_KEYS: &str = "1234567890*#";

/// Parses a TwiML document into its verbs.
pub fn parse(xml: &str) -> Result<Vec<Verb>, String> {
    let doc = Document::parse(xml).map_err(|e| format!("the reply is not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Response" {
        return Err(format!(
            "the reply's root is <{}>, not <Response>",
            root.tag_name().name()
        ));
    }
    root.children()
        .filter(Node::is_element)
        .map(|n| verb(n, false))
        .collect()
}

fn verb(n: Node<'_, '_>, nested: bool) -> Result<Verb, String> {
    let name = n.tag_name().name();
    let url = |attr: &str| n.attribute(attr).map(str::to_owned);
    let secs = |attr: &str, default: f64| -> Result<f64, String> {
        match n.attribute(attr) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| format!("<{name} {attr}=\"{v}\"> is not a number of seconds")),
        }
    };
    let v = match name {
        "Play" => Verb::Play,
        "Say" => Verb::Say {
            chars: n.text().map_or(0, |t| t.chars().count()),
        },
        "Pause" => Verb::Pause {
            secs: secs("length", 1.0)?,
        },
        _ if nested => return Err(format!("<Gather> may not contain <{name}>")),
        "Gather" => Verb::Gather {
            action: url("action"),
            timeout: secs("timeout", GATHER_TIMEOUT)?,
            num_digits: n.attribute("numDigits").and_then(|d| d.trim().parse().ok()),
            finish_on_key: n.attribute("finishOnKey").unwrap_or("#").to_owned(),
            nested: n
                .children()
                .filter(Node::is_element)
                .map(|c| verb(c, true))
                .collect::<Result<_, _>>()?,
        },
        "Dial" => Verb::Dial {
            action: url("action"),
            timeout: secs("timeout", DIAL_TIMEOUT)?,
            to: n
                .children()
                .find(Node::is_element)
                .and_then(|c| c.text())
                .map(|t| t.trim().to_owned()),
        },
        "Enqueue" => Verb::Enqueue {
            action: url("action"),
            wait_url: url("waitUrl"),
        },
        "Record" => Verb::Record {
            action: url("action"),
            max_length: secs("maxLength", RECORD_MAX_LENGTH)?,
            finish_on_key: n
                .attribute("finishOnKey")
                .unwrap_or(RECORD_FINISH_KEYS)
                .to_owned(),
            status_callback: url("recordingStatusCallback"),
        },
        "Leave" => Verb::Leave,
        "Hangup" => Verb::Hangup,
        "Redirect" => Verb::Redirect(
            n.text()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or("<Redirect> without a URL")?
                .to_owned(),
        ),
        other => return Err(format!("unsupported TwiML verb <{other}>")),
    };
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_perezvon_renders() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Play>http://h/a.wav</Play><Say language="ru-RU">Ждите</Say><Dial action="http://h/webhooks/twilio/dial" method="POST" timeout="20"><Sip>sip:a@b</Sip></Dial><Enqueue action="http://h/l" waitUrl="http://h/w">main</Enqueue><Gather numDigits="1" timeout="1" action="http://h/g"><Play>x</Play><Pause length="30"/></Gather><Leave/><Hangup/><Redirect>http://h/r</Redirect></Response>"#;
        let v = parse(xml).unwrap();
        assert_eq!(v[0], Verb::Play);
        assert_eq!(v[1], Verb::Say { chars: 5 });
        assert_eq!(
            v[2],
            Verb::Dial {
                action: Some("http://h/webhooks/twilio/dial".into()),
                timeout: 20.0,
                to: Some("sip:a@b".into())
            }
        );
        assert_eq!(
            v[3],
            Verb::Enqueue {
                action: Some("http://h/l".into()),
                wait_url: Some("http://h/w".into())
            }
        );
        assert_eq!(
            v[4],
            Verb::Gather {
                action: Some("http://h/g".into()),
                timeout: 1.0,
                num_digits: Some(1),
                finish_on_key: "#".into(),
                nested: vec![Verb::Play, Verb::Pause { secs: 30.0 }]
            }
        );
        assert_eq!(
            &v[5..],
            &[
                Verb::Leave,
                Verb::Hangup,
                Verb::Redirect("http://h/r".into())
            ]
        );
    }

    #[test]
    fn rejects_what_twilio_rejects() {
        assert!(parse("<Foo/>").is_err());
        assert!(parse("not xml").is_err());
        assert!(parse("<Response><Refer/></Response>").is_err());
        assert_eq!(
            parse(
                r##"<Response><Record action="/r" maxLength="120" finishOnKey="#"/></Response>"##
            )
            .unwrap(),
            vec![Verb::Record {
                action: Some("/r".into()),
                max_length: 120.0,
                finish_on_key: "#".into(),
                status_callback: None
            }]
        );
        assert!(parse("<Response><Gather><Dial/></Gather></Response>").is_err());
        assert!(parse(r#"<Response><Pause length="x"/></Response>"#).is_err());
        assert_eq!(
            parse("<Response><Dial><Number>+7</Number></Dial></Response>").unwrap(),
            vec![Verb::Dial {
                action: None,
                timeout: 30.0,
                to: Some("+7".into())
            }]
        );
    }
}
