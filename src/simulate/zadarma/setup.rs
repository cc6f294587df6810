//! The `[zadarma]` section of the in-process instance and what the simulated PBX knows of it.
//!
//! Every clip of the prompt catalogue ([`crate::speech::catalogue`]) gets a sound manager id equal
//! to its path, so the simulator can tell which clip it is asked to play and how long it lasts:
//! the real duration of `audio/prompts/<clip>` read with `hound` (or [`CLIP_SECS`] when the file
//! cannot be read, e.g. when the binary runs outside the source tree). Hold music has an id of
//! its own. The operators `sim-op-K` are reached at extensions `100+K` through
//! `zadarma.extension_of` (their contact stays the SIP address the staff module gives them), and
//! the voicemail is the PBX scenario [`VOICEMAIL`]. A PBX-side wait is scaled by `time_scale`, but
//! a played clip lasts at least [`MIN_CLIP`] of real time: the instance takes a bare `NOTIFY_IVR`
//! sooner than 250 ms after a play for a re-delivery.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use super::fake_api::{KEY, SECRET};
use crate::config::{Config, Secret, ZadarmaConfig};
use crate::simulate::staff::OPERATOR_PREFIX;

/// A clip whose file cannot be read lasts this many PBX seconds.
pub const CLIP_SECS: f64 = 1.5;
/// The shortest real time a played clip takes (the instance's re-delivery window is 250 ms).
pub const MIN_CLIP: Duration = Duration::from_millis(320);
/// The PBX scenario that records the message.
pub const VOICEMAIL: &str = "0-2";
/// The sound manager id of the hold music.
pub const HOLD_MUSIC: &str = "sim-hold-music";
/// The hotline's number as the PBX reports it (`called_did`).
pub const DID: &str = "74950000000";

/// The PBX's knowledge of the instance's configuration.
#[derive(Debug, Clone)]
pub struct Dialplan {
    /// Sound manager id → PBX seconds it plays.
    pub clips: HashMap<String, f64>,
    /// Extension → operator login.
    pub extensions: HashMap<String, String>,
    pub time_scale: f64,
}

impl Dialplan {
    /// How long the file `id` plays, in real time.
    pub fn play(&self, id: &str) -> Duration {
        let secs = self.clips.get(id).copied().unwrap_or(CLIP_SECS);
        self.scaled(secs).max(MIN_CLIP)
    }

    /// `secs` PBX seconds in real time.
    pub fn scaled(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs * self.time_scale).clamp(0.0, 3600.0))
    }
}

/// The extension of the K-th simulated operator.
pub fn extension(k: usize) -> String {
    (100 + k).to_string()
}

/// The instance's `[zadarma]` section for `operators` simulated operators and the fake API at
/// `api_base`, and the PBX's view of it. `hold_tick_secs` comes from `config` when it has a
/// `[zadarma]` section.
pub fn configure(
    config: &Config,
    api_base: &str,
    operators: usize,
    time_scale: f64,
) -> (ZadarmaConfig, Dialplan) {
    let mut prompts = BTreeMap::new();
    let mut clips = HashMap::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/prompts");
    for (clip, _) in crate::speech::catalogue() {
        let secs = wav_secs(&root.join(&clip))
            .or_else(|| wav_secs(&Path::new("audio/prompts").join(&clip)))
            .unwrap_or(CLIP_SECS);
        clips.insert(clip.clone(), secs);
        prompts.insert(clip.clone(), clip);
    }
    let mut extension_of = BTreeMap::new();
    let mut extensions = HashMap::new();
    for k in 1..=operators {
        let login = format!("{OPERATOR_PREFIX}{k}");
        extension_of.insert(login.clone(), extension(k));
        extensions.insert(extension(k), login);
    }
    let tick = config.zadarma.as_ref().map_or(8, |z| z.hold_tick_secs);
    let z = ZadarmaConfig {
        key: KEY.into(),
        secret: Secret::new(SECRET),
        api_base: api_base.to_owned(),
        from_number: Some(format!("+{DID}")),
        voicemail_redirect: VOICEMAIL.into(),
        prompts,
        hold_music: Some(HOLD_MUSIC.into()),
        hold_tick_secs: tick,
        predicted: false,
        delete_recordings: true,
        extension_of,
    };
    let pbx = Dialplan {
        clips,
        extensions,
        time_scale,
    };
    (z, pbx)
}

/// The duration of a WAV file in seconds, if it can be read.
fn wav_secs(path: &Path) -> Option<f64> {
    let r = hound::WavReader::open(path).ok()?;
    let spec = r.spec();
    (spec.sample_rate > 0).then(|| f64::from(r.duration()) / f64::from(spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clip_has_an_id_and_a_duration() {
        let (z, pbx) = configure(&Config::default(), "http://127.0.0.1:9", 3, 0.01);
        assert!(crate::telephony::zadarma::answer::missing_clips(&z.prompts).is_empty());
        assert_eq!(z.extension_of["sim-op-3"], "103");
        assert_eq!(pbx.extensions["101"], "sim-op-1");
        assert!(pbx.clips.values().all(|s| *s > 0.0));
        assert_eq!(pbx.play("nope"), MIN_CLIP);
    }
}
