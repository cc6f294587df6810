//! MP3 sniffing: frame headers, ID3v2 tags, what is and is not taken for MPEG audio.

use super::super::mp3::{FrameHeader, find_stream, id3v2_len, parse_header};
use super::super::{AudioError, SourceFormat, decode, sniff_extension};

const SPEECH_MP3: &[u8] = include_bytes!("../../../tests/data/audio/speech-8k.mp3");
const STEREO_MP3: &[u8] = include_bytes!("../../../tests/data/audio/tone-44k-stereo.mp3");

/// An ID3v2.3 tag of `size` bytes of padding (with the footer flag when asked).
fn id3(size: usize, footer: bool) -> Vec<u8> {
    let mut t = b"ID3\x03\x00".to_vec();
    t.push(if footer { 0x10 } else { 0 });
    t.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7F) as u8));
    t.extend(std::iter::repeat_n(0u8, size + if footer { 10 } else { 0 }));
    t
}

#[test]
fn frame_headers() {
    // MPEG-2.5 Layer III, 32 kbps, 8 kHz, mono (the fixture's first frame).
    assert_eq!(
        parse_header(&[0xFF, 0xE3, 0x48, 0xC4]),
        Some(FrameHeader {
            version: 25,
            sample_rate: 8000,
            channels: 1,
            frame_len: 288
        })
    );
    // MPEG-1 Layer III, 128 kbps, 44.1 kHz, padded, joint stereo: 417 + 1 bytes.
    assert_eq!(
        parse_header(&[0xFF, 0xFB, 0x92, 0x44]),
        Some(FrameHeader {
            version: 1,
            sample_rate: 44100,
            channels: 2,
            frame_len: 418
        })
    );
    assert_eq!(parse_header(&[0xFF, 0xFD, 0x90, 0x00]), None, "layer II");
    assert_eq!(parse_header(&[0xFF, 0xFB, 0xF0, 0x00]), None, "bad bitrate");
    assert_eq!(
        parse_header(&[0xFF, 0xFB, 0x0C, 0x00]),
        None,
        "free format, bad rate"
    );
    assert_eq!(
        parse_header(&[0xFF, 0xEB, 0x90, 0x00]),
        None,
        "reserved version"
    );
    assert_eq!(parse_header(&[0xFF, 0xFB]), None, "short");
}

#[test]
fn id3v2_tags_are_skipped() {
    assert_eq!(id3v2_len(b"no tag here"), 0);
    assert_eq!(id3v2_len(&id3(100, false)), 110);
    let two = [id3(5, true), id3(7, false)].concat();
    assert_eq!(id3v2_len(&two), 25 + 17);
    // A tag claiming more than there is covers everything (and finds no stream).
    let mut cut = id3(1000, false);
    cut.truncate(50);
    assert_eq!(id3v2_len(&cut), 50);
    assert_eq!(find_stream(&cut), None);
    assert_eq!(sniff_extension(&cut), Some("mp3"));
}

#[test]
fn streams_are_found_behind_tags_and_junk() {
    assert_eq!(find_stream(SPEECH_MP3), Some(0));
    let tagged = [id3(300, false), STEREO_MP3.to_vec()].concat();
    assert_eq!(find_stream(&tagged), Some(310));
    let junk = [vec![0x00, 0xFF, 0xFB, 0x13, 0x37], SPEECH_MP3.to_vec()].concat();
    assert_eq!(find_stream(&junk), Some(5));
    // A lone header-like pattern is not a stream.
    let mut lone = vec![0xFF, 0xFB, 0x92, 0x44];
    lone.extend(std::iter::repeat_n(0x11, 1000));
    assert_eq!(find_stream(&lone), None);
}

#[test]
fn tagged_and_stereo_mp3_decode() {
    let tagged = [id3(1000, true), STEREO_MP3.to_vec()].concat();
    let d = decode(&tagged).expect("tagged MP3");
    assert_eq!(
        (d.format, d.sample_rate, d.channels_in),
        (SourceFormat::Mp3, 44100, 2)
    );
    // 1 s of tone, gapless: within one 1152-sample frame.
    assert!(
        (d.samples.len() as i64 - 44100).abs() <= 1152,
        "{}",
        d.samples.len()
    );
    // An ID3v1 tag at the end is not audio.
    let mut v1 = SPEECH_MP3.to_vec();
    v1.extend_from_slice(b"TAG");
    v1.extend(std::iter::repeat_n(b' ', 125));
    assert_eq!(
        decode(&v1).expect("ID3v1").samples,
        decode(SPEECH_MP3).expect("plain").samples
    );
}

#[test]
fn damaged_mp3() {
    // Only the first frames: decodes what is there.
    let head = decode(&SPEECH_MP3[..2000]).expect("a cut MP3 keeps its first frames");
    assert!(!head.samples.is_empty() && head.samples.len() < 8000);
    // A tag and nothing else.
    assert!(matches!(
        decode(&id3(64, false)),
        Err(AudioError::Unreadable(_))
    ));
}
