//! The committed fixtures (`tests/data/audio/`, made by `make-fixtures.sh` there): each decodes
//! with the right format, rate, channels and duration, and gets the right speech verdict.

use super::super::{AudioError, Decoded, SourceFormat, analyse, decode, sniff_extension};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/data/audio/", $name)).as_slice()
    };
}

/// The speech phrase: 27 758 samples at 8 kHz (3.469 s).
const SPEECH_SAMPLES: usize = 27_758;

fn decoded(bytes: &[u8]) -> Decoded {
    decode(bytes).expect("the fixture decodes")
}

#[test]
fn speech_in_every_wav_encoding() {
    let cases = [
        (fixture!("speech-8k-s16.wav"), SourceFormat::Pcm16, 90.0),
        (fixture!("speech-8k-ulaw.wav"), SourceFormat::MuLaw, 33.0),
        (fixture!("speech-8k-alaw.wav"), SourceFormat::ALaw, 33.0),
        (fixture!("speech-8k-u8.wav"), SourceFormat::PcmU8, 20.0),
    ];
    let reference = decoded(cases[0].0);
    for (bytes, format, min_snr_db) in cases {
        let d = decoded(bytes);
        assert_eq!((d.format, d.sample_rate, d.channels_in), (format, 8000, 1));
        assert_eq!(d.samples.len(), SPEECH_SAMPLES, "{format}");
        assert_eq!(d.duration_ms(), 3469);
        let (duration_ms, has_speech, speech_ms, peak) = analyse(&d);
        assert_eq!(duration_ms, 3469);
        assert!(has_speech, "{format}: speech expected");
        assert!(
            (1500..=3200).contains(&speech_ms),
            "{format}: {speech_ms} ms of speech"
        );
        assert!((-4.5..=-2.0).contains(&peak), "{format}: peak {peak} dBFS");
        // The 8-bit codings stay close to the 16-bit original (G.711 ~37 dB SNR, 8-bit PCM
        // with dither ~22 dB on this peaky synthetic voice).
        let err: f64 = d
            .samples
            .iter()
            .zip(&reference.samples)
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
            .sum();
        let sig: f64 = reference
            .samples
            .iter()
            .map(|s| f64::from(*s).powi(2))
            .sum();
        let snr = 10.0 * (sig / err.max(1.0)).log10();
        assert!(snr > min_snr_db, "{format}: {snr:.1} dB from the original");
        assert_eq!(sniff_extension(bytes), Some("wav"));
    }
}

#[test]
fn mp3_speech_is_gapless_within_a_frame() {
    let bytes = fixture!("speech-8k.mp3");
    let d = decoded(bytes);
    assert_eq!(
        (d.format, d.sample_rate, d.channels_in),
        (SourceFormat::Mp3, 8000, 1)
    );
    // MPEG-2.5 frames are 576 samples.
    let diff = d.samples.len() as i64 - SPEECH_SAMPLES as i64;
    assert!(diff.abs() <= 576, "{} samples", d.samples.len());
    let (_, has_speech, _, _) = analyse(&d);
    assert!(has_speech);
    assert_eq!(sniff_extension(bytes), Some("mp3"));
}

#[test]
fn mpeg1_stereo_mp3() {
    let d = decoded(fixture!("tone-44k-stereo.mp3"));
    assert_eq!(
        (d.format, d.sample_rate, d.channels_in),
        (SourceFormat::Mp3, 44100, 2)
    );
    assert!(
        (d.samples.len() as i64 - 44100).abs() <= 1152,
        "{}",
        d.samples.len()
    );
    assert!((990..=1010).contains(&d.duration_ms()));
}

#[test]
fn stereo_wav_is_downmixed() {
    let d = decoded(fixture!("tone-8k-stereo.wav"));
    assert_eq!(
        (d.format, d.sample_rate, d.channels_in),
        (SourceFormat::Pcm16, 8000, 2)
    );
    assert_eq!(d.samples.len(), 8000);
    // Left at -6 dBFS, right silent: the average peaks at -12 dBFS.
    let (duration_ms, _, _, peak) = analyse(&d);
    assert_eq!(duration_ms, 1000);
    assert!((-12.6..=-11.5).contains(&peak), "peak {peak}");
}

#[test]
fn wide_formats() {
    for (bytes, format) in [
        (fixture!("tone-8k-s24.wav"), SourceFormat::Pcm24),
        (fixture!("tone-8k-f32.wav"), SourceFormat::Float32),
    ] {
        let d = decoded(bytes);
        assert_eq!((d.format, d.sample_rate, d.channels_in), (format, 8000, 1));
        assert_eq!(d.samples.len(), 4000);
        let (_, _, _, peak) = analyse(&d);
        assert!((-6.5..=-5.5).contains(&peak), "{format}: peak {peak}");
    }
}

#[test]
fn silence_and_low_noise_have_no_speech() {
    for bytes in [fixture!("silence-8k.wav"), fixture!("noise-8k.wav")] {
        let d = decoded(bytes);
        assert_eq!(d.samples.len(), 16000);
        let (duration_ms, has_speech, speech_ms, peak) = analyse(&d);
        assert_eq!(duration_ms, 2000);
        assert!(!has_speech, "{speech_ms} ms of speech in silence");
        assert!(peak < -55.0, "peak {peak}");
    }
}

#[test]
fn garbage_and_truncated_files_are_unreadable() {
    for (bytes, ext) in [
        (fixture!("garbage.bin"), None),
        (fixture!("truncated.wav"), Some("wav")),
    ] {
        assert!(matches!(decode(bytes), Err(AudioError::Unreadable(_))));
        assert_eq!(sniff_extension(bytes), ext);
    }
}
