//! G.711 expansion against the values of the ITU-T reference implementation.

use super::super::decode::{alaw_to_linear, mulaw_to_linear};
use super::super::{SourceFormat, decode};
use super::wav_bytes;

#[test]
fn mulaw_reference_values() {
    assert_eq!(mulaw_to_linear(0xFF), 0);
    assert_eq!(mulaw_to_linear(0x7F), 0); // "negative zero"
    assert_eq!(mulaw_to_linear(0x00), -32124);
    assert_eq!(mulaw_to_linear(0x80), 32124);
    assert_eq!(mulaw_to_linear(0xFE), 8);
    assert_eq!(mulaw_to_linear(0x7E), -8);
    assert_eq!(mulaw_to_linear(0xF0), 120);
    assert_eq!(mulaw_to_linear(0xEF), 132);
}

#[test]
fn alaw_reference_values() {
    assert_eq!(alaw_to_linear(0xD5), 8);
    assert_eq!(alaw_to_linear(0x55), -8);
    assert_eq!(alaw_to_linear(0xAA), 32256);
    assert_eq!(alaw_to_linear(0x2A), -32256);
    assert_eq!(alaw_to_linear(0xD4), 24);
    assert_eq!(alaw_to_linear(0xC5), 264);
}

#[test]
fn g711_is_odd_symmetric_and_monotonic_per_sign() {
    for code in 0u8..=0x7F {
        assert_eq!(
            mulaw_to_linear(code),
            -mulaw_to_linear(code | 0x80),
            "mu {code:#x}"
        );
        assert_eq!(
            alaw_to_linear(code),
            -alaw_to_linear(code | 0x80),
            "a {code:#x}"
        );
    }
    // µ-law: codes 0x80..=0xFF run from the loudest positive value down to zero.
    let mu: Vec<i16> = (0x80u8..=0xFF).map(mulaw_to_linear).collect();
    assert!(mu.windows(2).all(|w| w[0] > w[1]));
    // A-law: magnitudes grow with the code once the even-bit inversion is undone.
    let a: Vec<i16> = (0u8..0x80)
        .map(|c| alaw_to_linear((c ^ 0x55) | 0x80))
        .collect();
    assert!(a.windows(2).all(|w| w[0] < w[1]), "{a:?}");
}

#[test]
fn g711_wav_files_decode_through_the_tables() {
    let codes = [0xFF, 0x00, 0x80, 0x7E];
    let mu = decode(&wav_bytes(7, 1, 8000, 8, &codes)).expect("µ-law");
    assert_eq!(mu.format, SourceFormat::MuLaw);
    assert_eq!(mu.samples, vec![0, -32124, 32124, -8]);
    let a = decode(&wav_bytes(6, 1, 8000, 8, &[0xD5, 0x55, 0xAA])).expect("A-law");
    assert_eq!(a.format, SourceFormat::ALaw);
    assert_eq!(a.samples, vec![8, -8, 32256]);
    // Stereo µ-law: the channels are averaged.
    let st = decode(&wav_bytes(7, 2, 8000, 8, &[0x80, 0xFF, 0x80, 0x00])).expect("stereo");
    assert_eq!((st.channels_in, st.samples), (2, vec![16062, 0]));
}
