//! The JSON Zadarma expects in answer to `NOTIFY_START` / `NOTIFY_IVR`, one action at a time:
//! `{"ivr_play": id}`, `{"ivr_play": id, "wait_dtmf": {…}}`, `{"redirect": …, "return_timeout":
//! N}`, `{"hangup": 1}`. A clip is played by the id the PBX's sound manager gave its uploaded
//! file; a clip with no id is skipped (and logged once per answer). A `wait_dtmf`'s `default` —
//! what the PBX does when nothing was entered and we give no other answer — is the recording
//! scenario, so a caller can still leave a message if Perezvon cannot be reached.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::script::{Action, step_name};

/// What turning actions into JSON needs from the configuration.
#[derive(Debug, Clone)]
pub struct Answers<'a> {
    /// Clip path → sound manager file id.
    pub prompts: &'a BTreeMap<String, String>,
    /// The PBX scenario that records the message.
    pub voicemail_redirect: &'a str,
    pub hold_music: Option<&'a str>,
}

/// Why an action has no JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The clip has no file id: go on with the next action.
    NoFile(String),
    /// The handler carries this action out itself.
    Internal,
    /// The operator has no extension to redirect to.
    NoExtension(i64),
}

impl Answers<'_> {
    /// The JSON of `action` of the script `script_id`; `extension` is the operator's extension
    /// for a `Dial`.
    pub fn json(
        &self,
        action: &Action,
        script_id: &str,
        extension: Option<&str>,
    ) -> Result<Value, Skip> {
        match action {
            Action::Play { clip } => Ok(json!({ "ivr_play": self.file(clip)? })),
            Action::Gather {
                clip,
                hold,
                timeout,
                max_digits,
                step,
            } => {
                let mut v = json!({
                    "wait_dtmf": {
                        "timeout": timeout,
                        "attempts": 1,
                        "maxdigits": max_digits,
                        "name": step_name(step, script_id),
                        "default": self.voicemail_redirect,
                    }
                });
                let file = match clip {
                    Some(c) => self.file(c).ok(),
                    None if *hold => self.hold_music,
                    None => None,
                };
                if let Some(f) = file {
                    v["ivr_play"] = json!(f);
                }
                Ok(v)
            }
            Action::Dial {
                operator_id,
                ring_secs,
                ..
            } => {
                let ext = extension.ok_or(Skip::NoExtension(*operator_id))?;
                Ok(json!({ "redirect": ext, "return_timeout": ring_secs }))
            }
            Action::Record => Ok(json!({
                "redirect": self.voicemail_redirect,
                "return_timeout": 0,
            })),
            Action::Hangup => Ok(json!({ "hangup": 1 })),
            Action::Enqueue | Action::Leave | Action::Next { .. } => Err(Skip::Internal),
        }
    }

    fn file<'a>(&'a self, clip: &str) -> Result<&'a str, Skip> {
        self.prompts
            .get(clip)
            .map(String::as_str)
            .ok_or_else(|| Skip::NoFile(clip.to_owned()))
    }
}

/// The clips of the prompt catalogue that have no file id in `prompts`.
pub fn missing_clips(prompts: &BTreeMap<String, String>) -> Vec<(String, String)> {
    crate::speech::catalogue()
        .into_iter()
        .filter(|(clip, _)| !prompts.contains_key(clip))
        .collect()
}
