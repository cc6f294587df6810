//! `decode` never panics, whatever the bytes: arbitrary data, data behind a valid RIFF/WAVE
//! header, data behind an MPEG frame header or an ID3v2 tag, and real files with bytes
//! corrupted or cut off.

use proptest::prelude::*;

use super::super::{analyse, decode};
use super::wav_bytes;

fn check(bytes: &[u8]) {
    if let Ok(d) = decode(bytes) {
        assert!(d.sample_rate > 0 && d.channels_in > 0);
        let (duration_ms, _, speech_ms, peak) = analyse(&d);
        assert!(speech_ms <= duration_ms && peak <= 0.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_riff_header(
        tail in proptest::collection::vec(any::<u8>(), 0..512),
        declared in any::<u32>(),
    ) {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&declared.to_le_bytes());
        bytes.extend_from_slice(b"WAVE");
        bytes.extend_from_slice(&tail);
        check(&bytes);
    }

    #[test]
    fn arbitrary_chunks_after_a_valid_fmt(
        tag in prop_oneof![Just(1u16), Just(3), Just(6), Just(7), Just(0x55), Just(0xFFFE), any::<u16>()],
        channels in 0u16..4,
        rate in prop_oneof![Just(8000u32), Just(0), any::<u32>()],
        bits in prop_oneof![Just(8u16), Just(16), Just(24), Just(32), Just(64), any::<u16>()],
        data in proptest::collection::vec(any::<u8>(), 0..512),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = wav_bytes(tag, channels, rate, bits, &data);
        check(&bytes);
        check(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn arbitrary_bytes_after_mpeg_headers(
        header in prop_oneof![Just([0xFFu8, 0xE3, 0x48, 0xC4]), Just([0xFF, 0xFB, 0x92, 0x44])],
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        id3 in any::<bool>(),
    ) {
        let mut bytes = if id3 { b"ID3\x03\x00\x00\x00\x00\x00\x02\x00\x00".to_vec() } else { Vec::new() };
        // Frames with the same header and random contents, so the stream is sniffed as MPEG.
        let frame_len = if header[1] == 0xE3 { 288 } else { 418 };
        for chunk in body.chunks(frame_len - 4) {
            bytes.extend_from_slice(&header);
            bytes.extend_from_slice(chunk);
        }
        check(&bytes);
    }

    #[test]
    fn corrupted_real_files(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = [
            include_bytes!("../../../tests/data/audio/speech-8k.mp3").as_slice(),
            include_bytes!("../../../tests/data/audio/tone-44k-stereo.mp3").as_slice(),
            include_bytes!("../../../tests/data/audio/tone-8k-s24.wav").as_slice(),
        ][which]
            .to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        check(&bytes);
        check(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
