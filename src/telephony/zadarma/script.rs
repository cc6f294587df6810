//! A routing [`Reply`] in Zadarma's terms. Zadarma's answer to `NOTIFY_START` / `NOTIFY_IVR`
//! holds one action (play a file, wait for keys, redirect, hang up), and the PBX sends
//! `NOTIFY_IVR` when a played file ends or keys were pressed. So a reply becomes a [`Script`]: a
//! list of [`Action`]s sent one per notification. It is stored as the event's reply, so a
//! re-delivered notification gets the same script and any instance can carry it on.
//!
//! - `Say` → one `Play` per clip (each clip is a file uploaded to the PBX's sound manager);
//! - `Gather` → its prompt's clips, the last one carrying `wait_dtmf` ([`Action::Gather`]) whose
//!   `name` says which step the keys answer and which script asked ([`step_name`]); a `Pause` in
//!   the prompt becomes the keys' timeout (the hold queue's tick), with the hold music if any;
//! - `Dial` → `redirect` to the operator's extension with `return_timeout` (the ring time);
//! - `Record` → `redirect` to the PBX scenario that records the message: the script ends there;
//! - `Enqueue`, `Leave` and a `Redirect` not after a `Gather` are carried out by the webhook
//!   handler (they name the next neutral event), never sent;
//! - `Hangup` → `{"hangup": 1}`; a `Redirect` right after a `Gather` is dropped (the keys' timeout
//!   comes back as a `NOTIFY_IVR` with no digits).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::operator::ContactKind;
use crate::telephony::{Reply, Step, Verb};

/// The longest `wait_dtmf` timeout Perezvon asks for.
pub const MAX_WAIT_SECS: u32 = 60;

/// One answer to a notification, before file ids and extensions are filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "a", rename_all = "snake_case")]
pub enum Action {
    /// Play one clip.
    Play {
        clip: String,
    },
    /// Play a clip (if any), then wait for keys; the result comes back as `NOTIFY_IVR`.
    Gather {
        clip: Option<String>,
        /// Play the hold music (the clip being absent): a hold-queue tick.
        hold: bool,
        timeout: u32,
        max_digits: u32,
        step: String,
    },
    /// Ring an operator for `ring_secs`; an unanswered call comes back as a bare `NOTIFY_IVR`.
    Dial {
        operator_id: i64,
        kind: ContactKind,
        contact: String,
        ring_secs: u32,
    },
    /// Hand the call to the PBX's recording scenario.
    Record,
    /// Put the caller in the hold queue (carried out by the handler).
    Enqueue,
    /// Take the caller out of the hold queue (carried out by the handler).
    Leave,
    /// Go on at `step` as if nothing was entered (carried out by the handler).
    Next {
        step: String,
    },
    Hangup,
}

impl Action {
    /// True for the actions the handler carries out itself.
    pub fn is_internal(&self) -> bool {
        matches!(self, Action::Enqueue | Action::Leave | Action::Next { .. })
    }
}

/// The actions answering one event, in order, and the id their key names carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub actions: Vec<Action>,
}

impl Script {
    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script always serializes")
    }

    /// A stored script; `None` for anything else (an empty reply, another provider's text).
    pub fn from_json(text: &str) -> Option<Script> {
        serde_json::from_str(text).ok()
    }
}

/// The script id of the event with key `key`: short, and the same on every instance.
pub fn script_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..5])
}

/// The code of a quiet hold period: the queue menu without its announcement.
pub const QUIET_HOLD: &str = "qh";

/// The short code of a step that gathers keys.
pub fn step_code(step: Step) -> Option<String> {
    match step {
        Step::QueueMenu => Some("qm".into()),
        Step::VoicemailNumber { attempt } => Some(format!("vn{attempt}")),
        Step::VoicemailCategory { attempt } => Some(format!("vc{attempt}")),
        _ => None,
    }
}

/// The step a code names.
pub fn step_of(code: &str) -> Option<Step> {
    let attempt = |rest: &str| rest.parse::<u8>().ok().filter(|a| *a < 10);
    // `qh`: a quiet hold period between two announcements of the same queue menu.
    if code == "qm" || code == "qh" {
        Some(Step::QueueMenu)
    } else if let Some(a) = code.strip_prefix("vn").and_then(attempt) {
        Some(Step::VoicemailNumber { attempt: a })
    } else {
        code.strip_prefix("vc")
            .and_then(attempt)
            .map(|a| Step::VoicemailCategory { attempt: a })
    }
}

/// The `wait_dtmf` name: the step's code and the asking script's id, `vn0.a1b2c3d4e5`.
pub fn step_name(code: &str, script: &str) -> String {
    format!("{code}.{script}")
}

/// A `wait_dtmf` name split into the step and the script id; `None` when it is not ours.
pub fn parse_step_name(name: &str) -> Option<(Step, &str)> {
    let (code, script) = name.split_once('.')?;
    let ok = script.len() == 10 && script.bytes().all(|b| b.is_ascii_hexdigit());
    Some((step_of(code)?, script)).filter(|_| ok)
}

/// The script for `reply`, answering the event with key `key`.
pub fn render(reply: &Reply, key: &str, hold_tick_secs: u32) -> Script {
    let mut actions = Vec::new();
    let mut after_gather = false;
    for verb in reply {
        let gathered = std::mem::take(&mut after_gather);
        match verb {
            Verb::Say(u) => {
                actions.extend(u.clips.iter().map(|c| Action::Play { clip: c.clone() }))
            }
            // Silence on its own is only asked for while a move to an operator lands.
            Verb::Pause(_) => {}
            Verb::Dial {
                target,
                ring_timeout,
                ..
            } => actions.push(Action::Dial {
                operator_id: target.operator_id,
                kind: target.kind,
                contact: target.contact.clone(),
                ring_secs: secs(ring_timeout.num_seconds()).max(3),
            }),
            Verb::Enqueue { .. } => actions.push(Action::Enqueue),
            Verb::Gather {
                prompt,
                max_digits,
                timeout,
                step,
                ..
            } => {
                after_gather = true;
                gather(
                    &mut actions,
                    prompt,
                    *max_digits,
                    timeout.num_seconds(),
                    *step,
                    hold_tick_secs,
                );
            }
            Verb::Record { .. } => {
                actions.push(Action::Record);
                break;
            }
            Verb::Redirect(_) if gathered => {}
            Verb::Redirect(step) => match step_code(*step) {
                Some(code) => actions.push(Action::Next { step: code }),
                None => tracing::warn!(?step, "a redirect Zadarma cannot follow; dropped"),
            },
            Verb::Leave => actions.push(Action::Leave),
            Verb::Hangup => {
                actions.push(Action::Hangup);
                break;
            }
        }
    }
    Script {
        id: script_id(key),
        actions,
    }
}

fn gather(
    actions: &mut Vec<Action>,
    prompt: &[Verb],
    max_digits: u32,
    timeout: i64,
    step: Step,
    hold_tick_secs: u32,
) {
    let mut clips: Vec<String> = Vec::new();
    let mut pause = 0;
    for v in prompt {
        match v {
            Verb::Say(u) => clips.extend(u.clips.iter().cloned()),
            Verb::Pause(d) => pause += d.num_seconds(),
            _ => {}
        }
    }
    let Some(code) = step_code(step) else {
        tracing::warn!(?step, "keys Zadarma cannot gather; dropped");
        return;
    };
    // The hold queue waits in short ticks, so a freed operator is reached soon.
    let hold = pause > 0 && step == Step::QueueMenu;
    let wait = if hold {
        secs(pause + timeout).min(hold_tick_secs)
    } else {
        secs(pause + timeout)
    };
    let last = if hold { None } else { clips.pop() };
    actions.extend(clips.into_iter().map(|clip| Action::Play { clip }));
    actions.push(Action::Gather {
        clip: last,
        hold,
        timeout: wait.clamp(1, MAX_WAIT_SECS),
        max_digits: max_digits.max(1),
        step: code,
    });
}

fn secs(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
