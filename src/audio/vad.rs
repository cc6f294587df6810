//! Energy-based voice-activity detection: does a voicemail contain someone speaking, or only
//! silence, line noise and a click? It is deliberately simple (no spectra, no model) and runs
//! in well under a millisecond per minute of 8 kHz audio.
//!
//! 1. The samples are cut into [`FRAME_MS`] = 20 ms frames (the usual speech-analysis frame,
//!    short enough to resolve syllables). Each frame's level is its AC power in dBFS
//!    (variance, so a DC offset from cheap hardware does not count as sound); digital silence
//!    is [`SILENCE_DBFS`].
//! 2. The noise floor adapts: per 1 s block, the [`FLOOR_PERCENTILE`]th percentile of frame
//!    levels; the floor of a frame is the lowest block value within ±[`FLOOR_REACH_BLOCKS`] s.
//!    Speech has gaps between words and syllables several times a second, so the quietest
//!    fifth of any second of speech is close to the background, while a percentile (unlike
//!    the minimum) ignores a few dropped-out frames. The ±2 s reach follows background
//!    changes (a caller walking out onto the street) without letting a long sentence lift it.
//! 3. A frame is active when it is at least [`MARGIN_DB`] = 10 dB above its floor (stationary
//!    noise measured over 20 ms wobbles by about ±1 dB, street noise by a few dB; voiced
//!    speech is 15–40 dB above the background even on a mobile line) **and** above the
//!    absolute gate [`GATE_DBFS`] = −50 dBFS (telephone speech sits around −26 dBFS, quiet
//!    talkers near −40; 8-bit and G.711 idle-channel noise and the hiss of an open line stay
//!    below −55), so near-silence is never speech however clean it is.
//! 4. Only runs of at least [`MIN_RUN_FRAMES`] active frames (60 ms, about one syllable)
//!    count, which discards clicks, pops and a handset being put down. The recording has
//!    speech when the counted runs add up to at least [`MIN_SPEECH_MS`] = 300 ms (a short
//!    "алло?" is about 400 ms).
//!
//! Known limits of an energy check: a cough, a door or music also count as speech, and a
//! whisper below −50 dBFS does not. A silent recording is only flagged, never dropped, so a
//! mistake costs an operator a listen, not a lost message.

/// Frame length in milliseconds.
pub const FRAME_MS: u32 = 20;
/// Frames per noise-floor block (1 s).
pub const BLOCK_FRAMES: usize = 50;
/// The percentile of frame levels in a block taken as that block's background level.
pub const FLOOR_PERCENTILE: usize = 20;
/// How many blocks (seconds) either side a frame's floor looks at.
pub const FLOOR_REACH_BLOCKS: usize = 2;
/// How far above the floor an active frame must be, in dB.
pub const MARGIN_DB: f32 = 10.0;
/// The level an active frame must exceed whatever the floor, in dBFS.
pub const GATE_DBFS: f32 = -50.0;
/// The shortest run of active frames that counts as speech.
pub const MIN_RUN_FRAMES: usize = 3;
/// The total speech a recording needs to be flagged as containing speech, in milliseconds.
pub const MIN_SPEECH_MS: i64 = 300;
/// The level reported for digital silence, in dBFS (about the range of 16-bit audio).
pub const SILENCE_DBFS: f32 = -96.0;

/// The outcome of [`detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// Milliseconds counted as speech.
    pub speech_ms: i64,
    /// Whether `speech_ms` reaches [`MIN_SPEECH_MS`].
    pub has_speech: bool,
}

/// Finds speech in mono 16-bit `samples` at `sample_rate` (see the module docs).
pub fn detect(samples: &[i16], sample_rate: u32) -> Activity {
    let rate = sample_rate.max(1) as usize;
    let frame_len = (rate * FRAME_MS as usize / 1000).max(1);
    let levels: Vec<f32> = samples.chunks_exact(frame_len).map(frame_dbfs).collect();
    let floors = block_floors(&levels);
    let mut speech_frames = 0usize;
    let mut run = 0usize;
    for (i, &level) in levels.iter().enumerate() {
        let floor = floors[i / BLOCK_FRAMES];
        if level > floor + MARGIN_DB && level > GATE_DBFS {
            run += 1;
            continue;
        }
        if run >= MIN_RUN_FRAMES {
            speech_frames += run;
        }
        run = 0;
    }
    if run >= MIN_RUN_FRAMES {
        speech_frames += run;
    }
    let speech_ms = (speech_frames as u64 * frame_len as u64 * 1000 / rate as u64) as i64;
    Activity {
        speech_ms,
        has_speech: speech_ms >= MIN_SPEECH_MS,
    }
}

/// The noise floor of each block of [`BLOCK_FRAMES`] frames: the lowest block percentile
/// within [`FLOOR_REACH_BLOCKS`] blocks either side.
fn block_floors(levels: &[f32]) -> Vec<f32> {
    let mut scratch = Vec::with_capacity(BLOCK_FRAMES);
    let percentiles: Vec<f32> = levels
        .chunks(BLOCK_FRAMES)
        .map(|block| {
            scratch.clear();
            scratch.extend_from_slice(block);
            let k = block.len() * FLOOR_PERCENTILE / 100;
            *scratch.select_nth_unstable_by(k, f32::total_cmp).1
        })
        .collect();
    (0..percentiles.len())
        .map(|b| {
            let lo = b.saturating_sub(FLOOR_REACH_BLOCKS);
            let hi = (b + FLOOR_REACH_BLOCKS + 1).min(percentiles.len());
            percentiles[lo..hi]
                .iter()
                .copied()
                .fold(f32::INFINITY, f32::min)
        })
        .collect()
}

/// The AC power of a frame in dBFS (full-scale square wave = 0 dBFS).
fn frame_dbfs(frame: &[i16]) -> f32 {
    let (mut sum, mut sum_sq) = (0i64, 0i64);
    for &s in frame {
        let s = i64::from(s);
        sum += s;
        sum_sq += s * s;
    }
    let n = frame.len() as f64;
    let variance = (sum_sq as f64 - (sum as f64) * (sum as f64) / n) / n;
    to_dbfs(variance / (32768.0 * 32768.0), 10.0)
}

/// The peak level of `samples` in dBFS; [`SILENCE_DBFS`] when there is nothing above zero.
pub fn peak_dbfs(samples: &[i16]) -> f32 {
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    to_dbfs(f64::from(peak) / 32768.0, 20.0)
}

fn to_dbfs(ratio: f64, factor: f64) -> f32 {
    if ratio <= 0.0 {
        return SILENCE_DBFS;
    }
    ((factor * ratio.log10()) as f32).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 8000;

    /// A deterministic pseudo-random generator (xorshift) for noise.
    fn noise(n: usize, amplitude: f64, seed: u64) -> Vec<i16> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let u = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                (u * amplitude) as i16
            })
            .collect()
    }

    /// Speech-like: 250 ms bursts of a 200 Hz tone with a 3 Hz envelope, 150 ms gaps.
    fn bursts(seconds: usize, amplitude: f64) -> Vec<i16> {
        (0..seconds * RATE as usize)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                let in_burst = (t % 0.4) < 0.25;
                let env = if in_burst {
                    (t % 0.4 / 0.25 * std::f64::consts::PI).sin()
                } else {
                    0.0
                };
                (amplitude * env * (2.0 * std::f64::consts::PI * 200.0 * t).sin()) as i16
            })
            .collect()
    }

    fn mix(a: &[i16], b: &[i16]) -> Vec<i16> {
        a.iter().zip(b).map(|(x, y)| x.saturating_add(*y)).collect()
    }

    #[test]
    fn digital_silence_is_not_speech_and_peaks_at_the_silence_level() {
        let zeros = vec![0i16; RATE as usize * 3];
        assert_eq!(
            detect(&zeros, RATE),
            Activity {
                speech_ms: 0,
                has_speech: false
            }
        );
        assert_eq!(peak_dbfs(&zeros), SILENCE_DBFS);
        assert_eq!(peak_dbfs(&[]), SILENCE_DBFS);
        assert_eq!(detect(&[], RATE).speech_ms, 0);
    }

    #[test]
    fn stationary_noise_is_not_speech_even_when_loud() {
        for amplitude in [10.0, 300.0, 8000.0] {
            let a = detect(&noise(RATE as usize * 5, amplitude, 7), RATE);
            assert!(!a.has_speech, "noise at amplitude {amplitude}: {a:?}");
        }
    }

    #[test]
    fn a_dc_offset_is_not_sound() {
        let mut s = vec![4000i16; RATE as usize * 2];
        s.extend(vec![-4000i16; RATE as usize * 2]);
        assert!(!detect(&s, RATE).has_speech);
    }

    #[test]
    fn clicks_on_a_quiet_line_are_not_speech() {
        let mut s = noise(RATE as usize * 4, 30.0, 3);
        for at in [4000, 12000, 20000, 28000] {
            for x in &mut s[at..at + 40] {
                *x = 20000;
            }
        }
        assert!(!detect(&s, RATE).has_speech);
    }

    #[test]
    fn bursts_are_speech_on_silence_and_in_noise() {
        let speech = bursts(4, 8000.0);
        let clean = detect(&speech, RATE);
        assert!(clean.has_speech, "{clean:?}");
        // About 60% of the time is in bursts; the soft envelope edges fall below the margin.
        assert!((1500..=2700).contains(&clean.speech_ms), "{clean:?}");
        let noisy = detect(&mix(&speech, &noise(speech.len(), 800.0, 11)), RATE);
        assert!(noisy.has_speech, "{noisy:?}");
    }

    #[test]
    fn quiet_bursts_below_the_gate_are_not_speech() {
        // Amplitude 60 peaks at -55 dBFS: near-silence, however clean.
        assert!(!detect(&bursts(3, 60.0), RATE).has_speech);
    }

    #[test]
    fn speech_after_a_long_silence_is_found_and_other_rates_work() {
        let mut s = noise(RATE as usize * 20, 20.0, 5);
        s.extend(bursts(1, 6000.0));
        assert!(detect(&s, RATE).has_speech);
        // 44.1 kHz: 882-sample frames.
        let hi: Vec<i16> = (0..44100 * 2)
            .map(|i| {
                if (i / 4410) % 2 == 0 {
                    ((i % 50) as i16 - 25) * 400
                } else {
                    0
                }
            })
            .collect();
        assert!(detect(&hi, 44100).has_speech);
    }

    #[test]
    fn peak_levels() {
        assert!((peak_dbfs(&[i16::MIN]) - 0.0).abs() < 1e-4);
        assert!((peak_dbfs(&[16384, -3]) + 6.0206).abs() < 1e-3);
        assert!((peak_dbfs(&[1]) + 90.309).abs() < 1e-2);
    }
}
