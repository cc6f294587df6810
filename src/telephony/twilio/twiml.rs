//! The routing core's [`Reply`] → TwiML, the XML document Twilio runs on a call.
//!
//! Each [`Verb`] becomes one TwiML verb (PROVIDERS.md §1.3–1.9). Follow-up URLs (`<Dial action>`,
//! `<Enqueue action waitUrl>`, `<Gather action>`) are absolute: the configured public URL plus the
//! route's path, so that they match what the signature check rebuilds. Speech is either recorded
//! clips served from our prompts directory (`<Play>`), or Twilio's text-to-speech (`<Say>`, by
//! default the Russian Polly voice Tatyana). An operator reached by PBX extension is dialed as
//! `sip:EXT@<sip domain>`. Every text and attribute is XML-escaped; characters XML 1.0 forbids are
//! dropped.

use std::fmt::Write as _;

use chrono::TimeDelta;

use super::routes::{Route, route_path};
use crate::domain::operator::ContactKind;
use crate::speech::Utterance;
use crate::telephony::{DialTarget, Reply, Verb};

/// How [`Verb::Say`] is spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechMode {
    /// Play the utterance's recorded clips from `{base_url}/{clip}`. An utterance without clips
    /// falls back to the default text-to-speech voice.
    Clips { base_url: String },
    /// Twilio text-to-speech, e.g. language `ru-RU`, voice `Polly.Tatyana`.
    Tts { language: String, voice: String },
}

/// The TTS language used when none is configured.
pub const DEFAULT_TTS_LANGUAGE: &str = "ru-RU";
/// The TTS voice used when none is configured: Amazon Polly's Russian female voice.
pub const DEFAULT_TTS_VOICE: &str = "Polly.Tatyana";

/// Text-to-speech with [`DEFAULT_TTS_LANGUAGE`] and [`DEFAULT_TTS_VOICE`]. (Clips, the usual
/// mode, need a base URL, so they cannot be a `Default`.)
impl Default for SpeechMode {
    fn default() -> Self {
        SpeechMode::Tts {
            language: DEFAULT_TTS_LANGUAGE.to_owned(),
            voice: DEFAULT_TTS_VOICE.to_owned(),
        }
    }
}

/// A reply that cannot be expressed in TwiML with the current configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "operator {operator_id} is reached by extension, but no SIP domain is configured for Twilio"
    )]
    NoSipDomain { operator_id: i64 },
    #[error("<Gather> may only contain Say, Play and Pause, not {0}")]
    NotAllowedInGather(&'static str),
}

/// Renders `reply` as a complete TwiML document. `public_url` is the service's external base URL
/// (scheme and host, no trailing slash); `sip_domain` turns an extension into `sip:EXT@domain`.
pub fn render(
    reply: &Reply,
    public_url: &str,
    speech: &SpeechMode,
    sip_domain: Option<&str>,
) -> Result<String, RenderError> {
    let ctx = Ctx {
        base: public_url.trim_end_matches('/'),
        speech,
        sip_domain,
    };
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for verb in reply {
        ctx.verb(&mut out, verb)?;
    }
    out.push_str("</Response>");
    Ok(out)
}

pub(super) struct Ctx<'a> {
    pub(super) base: &'a str,
    pub(super) speech: &'a SpeechMode,
    pub(super) sip_domain: Option<&'a str>,
}

impl Ctx<'_> {
    fn url(&self, route: Route) -> String {
        format!("{}{}", self.base, route_path(&route))
    }

    fn verb(&self, out: &mut String, verb: &Verb) -> Result<(), RenderError> {
        match verb {
            Verb::Say(utterance) => self.say(out, utterance),
            Verb::Pause(length) => {
                let _ = write!(out, r#"<Pause length="{}"/>"#, whole_seconds(*length));
            }
            Verb::Dial {
                target,
                ring_timeout,
                caller_id,
            } => self.dial(out, target, *ring_timeout, caller_id.as_deref())?,
            Verb::Enqueue { queue } => {
                let _ = write!(
                    out,
                    r#"<Enqueue action="{}" method="POST" waitUrl="{}" waitUrlMethod="POST">{}</Enqueue>"#,
                    escape(&self.url(Route::QueueLeft)),
                    escape(&self.url(Route::QueueWait)),
                    escape(queue)
                );
            }
            Verb::Gather {
                prompt,
                max_digits,
                timeout,
                finish_on_key,
                step,
            } => {
                let _ = write!(
                    out,
                    r#"<Gather input="dtmf" numDigits="{max_digits}" timeout="{}""#,
                    whole_seconds(*timeout)
                );
                // No finish key means none at all: Twilio's default would be '#'.
                let key = finish_on_key.map(String::from).unwrap_or_default();
                let _ = write!(out, r#" finishOnKey="{}""#, escape(&key));
                let _ = write!(
                    out,
                    r#" action="{}" method="POST">"#,
                    escape(&self.url(Route::Gather(*step)))
                );
                for inner in prompt {
                    match inner {
                        Verb::Say(_) | Verb::Pause(_) => self.verb(out, inner)?,
                        other => return Err(RenderError::NotAllowedInGather(verb_name(other))),
                    }
                }
                out.push_str("</Gather>");
            }
            Verb::Record {
                max_length,
                finish_on_key,
            } => {
                let _ = write!(
                    out,
                    r#"<Record action="{}" method="POST" maxLength="{}" finishOnKey="{}" playBeep="true" timeout="10" recordingStatusCallback="{}" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed absent"/>"#,
                    escape(&self.url(Route::Recorded)),
                    whole_seconds(*max_length).max(2),
                    escape(&finish_on_key.to_string()),
                    escape(&self.url(Route::RecordingReady)),
                );
            }
            Verb::Redirect(step) => {
                let _ = write!(
                    out,
                    r#"<Redirect method="POST">{}</Redirect>"#,
                    escape(&self.url(super::routes::route_for_step(*step)))
                );
            }
            Verb::Leave => out.push_str("<Leave/>"),
            Verb::Hangup => out.push_str("<Hangup/>"),
        }
        Ok(())
    }

    pub(super) fn say(&self, out: &mut String, utterance: &Utterance) {
        let default_tts = SpeechMode::default();
        let tts = match self.speech {
            SpeechMode::Clips { base_url } if !utterance.clips.is_empty() => {
                let base = base_url.trim_end_matches('/');
                for clip in &utterance.clips {
                    let _ = write!(
                        out,
                        "<Play>{}</Play>",
                        escape(&format!("{base}/{}", encode_path(clip)))
                    );
                }
                return;
            }
            SpeechMode::Clips { .. } => &default_tts,
            tts => tts,
        };
        if let SpeechMode::Tts { language, voice } = tts
            && !utterance.text.trim().is_empty()
        {
            let _ = write!(
                out,
                r#"<Say language="{}" voice="{}">{}</Say>"#,
                escape(language),
                escape(voice),
                escape(&utterance.text)
            );
        }
    }

    fn dial(
        &self,
        out: &mut String,
        target: &DialTarget,
        ring: TimeDelta,
        caller_id: Option<&str>,
    ) -> Result<(), RenderError> {
        let (tag, contact) = match target.kind {
            ContactKind::Phone => ("Number", target.contact.clone()),
            ContactKind::Sip => ("Sip", target.contact.clone()),
            ContactKind::Extension => {
                let domain = self.sip_domain.ok_or(RenderError::NoSipDomain {
                    operator_id: target.operator_id,
                })?;
                ("Sip", format!("sip:{}@{domain}", target.contact))
            }
        };
        let _ = write!(
            out,
            r#"<Dial action="{}" method="POST" timeout="{}""#,
            escape(&self.url(Route::DialResult)),
            whole_seconds(ring)
        );
        if let Some(caller_id) = caller_id {
            let _ = write!(out, r#" callerId="{}""#, escape(caller_id));
        }
        let _ = write!(out, "><{tag}>{}</{tag}></Dial>", escape(&contact));
        Ok(())
    }
}

fn verb_name(verb: &Verb) -> &'static str {
    match verb {
        Verb::Say(_) => "Say",
        Verb::Pause(_) => "Pause",
        Verb::Dial { .. } => "Dial",
        Verb::Enqueue { .. } => "Enqueue",
        Verb::Gather { .. } => "Gather",
        Verb::Record { .. } => "Record",
        Verb::Redirect(_) => "Redirect",
        Verb::Leave => "Leave",
        Verb::Hangup => "Hangup",
    }
}

/// A duration in whole seconds for a TwiML attribute, rounded up, at least 1.
fn whole_seconds(d: TimeDelta) -> i64 {
    let ms = d.num_milliseconds();
    ((ms + 999) / 1000).max(1)
}

/// Percent-encodes a relative clip path, keeping `/` and the unreserved characters.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// XML-escapes text or an attribute value and drops characters XML 1.0 does not allow.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
