//! The voicemail audio decoder (WAV: PCM, float, G.711; MP3 through symphonia) and the analysis
//! run on every stored recording. Properties: nothing panics; whatever decodes is recognised by
//! `sniff_extension`, has a sample rate and analyses; the normalized 16-bit mono WAV we would
//! store (written as `store_recording` writes it, with hound) decodes back to the same samples.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::audio::{analyse, decode, sniff_extension};

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data) else {
        return;
    };
    assert!(sniff_extension(data).is_some());
    assert!(decoded.sample_rate > 0);
    let (duration_ms, _speech, speech_ms, _peak) = analyse(&decoded);
    assert!(duration_ms >= 0 && speech_ms <= duration_ms);

    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: decoded.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut wav, spec).expect("a WAV header");
    for &s in &decoded.samples {
        writer.write_sample(s).expect("a sample");
    }
    writer.finalize().expect("a finished WAV");
    let again = decode(wav.get_ref()).expect("our own WAV decodes");
    assert_eq!(again.sample_rate, decoded.sample_rate);
    assert_eq!(again.samples, decoded.samples);
});
