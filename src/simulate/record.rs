//! A simulated caller leaving a voice message at `<Record>`, and the recording the simulated Twilio
//! keeps of it (PROVIDERS.md §1.4–1.6).
//!
//! After the beep the caller speaks for a few (scaled) seconds, then either presses the finish key
//! or hangs up. Twilio then requests the `<Record action>` with `RecordingUrl`, `RecordingSid`,
//! `RecordingDuration` and `Digits` (the key, or `hangup`), and later posts the
//! `recordingStatusCallback` with `RecordingStatus=completed`. The recording lives on the fake REST
//! API (`{api}/2010-04-01/Accounts/{AC}/Recordings/{RE}`), which serves it as a WAV made up here:
//! 8 kHz mono 16-bit PCM, a tone that rises and falls like speech, as long as reported.

use std::f64::consts::TAU;

use rand::Rng;

use super::peer::{Next, Peer, new_sid};

/// The longest message a simulated caller leaves, in Twilio seconds.
const LONGEST_MESSAGE: f64 = 40.0;
/// Sample rate of the made-up recordings.
const RATE: u32 = 8000;

impl Peer {
    /// Leaves a message; says where the call goes next (`None`: on to the next verb).
    pub(super) async fn record(
        &mut self,
        action: Option<&str>,
        max_length: f64,
        finish_on_key: &str,
        status_callback: Option<&str>,
    ) -> Result<Option<Next>, String> {
        let line = self.line.clone();
        self.path.recorded = true;
        let speak = if max_length > 3.0 {
            self.rng.gen_range(3.0..=max_length.min(LONGEST_MESSAGE))
        } else {
            max_length
        };
        // The beep, then the message.
        if let Some(url) = self.wait(self.scaled(speak + 0.5)).await {
            return Ok(Some(Next::Redirect(url)));
        }
        let key = finish_on_key
            .chars()
            .find(|c| *c == '#')
            .or_else(|| finish_on_key.chars().next());
        let hang_up = key.is_none() || self.rng.gen_bool(0.5);
        let digits = match key {
            Some(k) if !hang_up => k.to_string(),
            _ => "hangup".to_owned(),
        };
        let secs = speak.round().max(1.0) as u32;
        let sid = new_sid("RE", &mut self.rng);
        line.mailboxes.add_recording(&sid, secs);
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Recordings/{sid}",
            line.api_base, line.account_sid
        );
        let status = if hang_up { "completed" } else { "in-progress" };
        let mut next = hang_up.then_some(Next::Gone);
        if let Some(action) = action {
            let params = [
                ("RecordingUrl", url.clone()),
                ("RecordingDuration", secs.to_string()),
                ("RecordingSid", sid.clone()),
                ("Digits", digits),
            ];
            let doc = self.post(action, status, &params).await?;
            if !hang_up {
                next = Some(Next::Doc(doc));
            }
        }
        if let Some(callback) = status_callback {
            let params = [
                ("RecordingSid", sid),
                ("RecordingUrl", url),
                ("RecordingStatus", "completed".to_owned()),
                ("RecordingDuration", secs.to_string()),
                ("RecordingChannels", "1".to_owned()),
                ("RecordingSource", "RecordVerb".to_owned()),
                ("RecordingStartTime", chrono::Utc::now().to_rfc2822()),
            ];
            self.post(callback, status, &params).await?;
        }
        Ok(next)
    }
}

/// A made-up recording of `secs` seconds as a WAV file.
pub fn recording_wav(secs: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let Ok(mut w) = hound::WavWriter::new(&mut out, spec) else {
        return Vec::new();
    };
    for i in 0..secs.min(600) * RATE {
        let t = f64::from(i) / f64::from(RATE);
        // A 220 Hz voice whose loudness swells four times a second, like syllables.
        let envelope = 0.5 + 0.5 * (TAU * 4.0 * t).sin().abs();
        let sample = 8000.0 * envelope * (TAU * 220.0 * t).sin();
        if w.write_sample(sample as i16).is_err() {
            return Vec::new();
        }
    }
    if w.finalize().is_err() {
        return Vec::new();
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_recording_is_a_wav_of_the_reported_length() {
        let wav = super::recording_wav(2);
        let r = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
        assert_eq!((r.spec().sample_rate, r.spec().channels), (8000, 1));
        assert_eq!(r.duration(), 16000);
    }
}
