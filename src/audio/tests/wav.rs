//! Hand-built WAV files: every sample encoding, downmix, chunk layout, and damaged headers.

use super::super::{AudioError, SourceFormat, decode};
use super::{le16, wav_bytes, wav_with_chunks};

fn unreadable(bytes: &[u8]) -> String {
    match decode(bytes) {
        Err(AudioError::Unreadable(msg)) => msg,
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

#[test]
fn pcm_widths_and_floats_scale_to_16_bits() {
    let u8s = decode(&wav_bytes(1, 1, 8000, 8, &[0, 128, 255])).expect("u8");
    assert_eq!(
        (u8s.format, u8s.samples),
        (SourceFormat::PcmU8, vec![-32768, 0, 32512])
    );

    let s16 = decode(&wav_bytes(1, 1, 16000, 16, &le16(&[1, -2, i16::MAX]))).expect("s16");
    assert_eq!((s16.format, s16.sample_rate), (SourceFormat::Pcm16, 16000));
    assert_eq!(s16.samples, vec![1, -2, i16::MAX]);

    // 24-bit: 0x123456 and -1 (0xFFFFFF) keep their top 16 bits.
    let s24 = decode(&wav_bytes(
        1,
        1,
        8000,
        24,
        &[0x56, 0x34, 0x12, 0xFF, 0xFF, 0xFF],
    ));
    let s24 = s24.expect("s24");
    assert_eq!(
        (s24.format, s24.samples),
        (SourceFormat::Pcm24, vec![0x1234, -1])
    );

    let s32 = decode(&wav_bytes(1, 1, 8000, 32, &i32::MIN.to_le_bytes())).expect("s32");
    assert_eq!(
        (s32.format, s32.samples),
        (SourceFormat::Pcm32, vec![i16::MIN])
    );

    let floats: Vec<u8> = [0.5f32, -1.0, 2.0, f32::NAN]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    let f32s = decode(&wav_bytes(3, 1, 8000, 32, &floats)).expect("f32");
    assert_eq!(
        (f32s.format, f32s.samples),
        (SourceFormat::Float32, vec![16384, -32767, 32767, 0])
    );

    let f64s = decode(&wav_bytes(3, 1, 8000, 64, &0.25f64.to_le_bytes())).expect("f64");
    assert_eq!(
        (f64s.format, f64s.samples),
        (SourceFormat::Float64, vec![8192])
    );
}

#[test]
fn extensible_headers_name_the_real_format() {
    let data = [0x00, 0x00, 0x80, 0x7F, 0x00, 0x00, 0x80, 0xC0];
    let d = decode(&wav_with_chunks(1, 1, 8000, 32, true, &[(*b"data", &data)])).expect("ext");
    assert_eq!(
        (d.format, d.samples),
        (SourceFormat::Pcm32, vec![0x7F80, -16256])
    );
    let mu = decode(&wav_with_chunks(
        7,
        1,
        8000,
        8,
        true,
        &[(*b"data", &[0x00])],
    ))
    .expect("mu");
    assert_eq!(mu.samples, vec![-32124]);
    // An unknown sub-format GUID.
    let mut bad = wav_with_chunks(1, 1, 8000, 16, true, &[(*b"data", &[0, 0])]);
    bad[20 + 24 + 4] ^= 0xFF;
    assert!(unreadable(&bad).contains("sub-format"));
}

#[test]
fn channels_are_averaged() {
    let stereo = le16(&[1000, 3000, -32768, -32768, 32767, -32768, 7, 0]);
    let d = decode(&wav_bytes(1, 2, 8000, 16, &stereo)).expect("stereo");
    assert_eq!((d.channels_in, d.samples), (2, vec![2000, -32768, 0, 3]));
    let six = le16(&[600, 600, 600, 600, 600, 600]);
    assert_eq!(
        decode(&wav_bytes(1, 6, 8000, 16, &six))
            .expect("5.1")
            .samples,
        vec![600]
    );
    // A trailing partial frame is dropped.
    let partial = wav_bytes(1, 2, 8000, 16, &[0, 1, 0, 1, 9, 9]);
    assert_eq!(decode(&partial).expect("partial").samples.len(), 1);
}

#[test]
fn chunks_around_the_audio_are_skipped() {
    let odd = [1u8, 2, 3];
    let bytes = wav_with_chunks(
        1,
        1,
        8000,
        16,
        false,
        &[
            (*b"LIST", &odd),
            (*b"data", &le16(&[5, 6])),
            (*b"junk", &[0; 8]),
        ],
    );
    assert_eq!(decode(&bytes).expect("chunks").samples, vec![5, 6]);
    // A wrong RIFF size is tolerated; so is a damaged chunk after the audio.
    let mut riff = bytes.clone();
    riff[4..8].copy_from_slice(&7u32.to_le_bytes());
    let trailing = [riff, b"bad!\xff\xff\x00\x00".to_vec()].concat();
    assert_eq!(decode(&trailing).expect("trailing").samples, vec![5, 6]);
    // The streaming placeholder size means "to the end of the file".
    let mut streaming = wav_bytes(1, 1, 8000, 16, &le16(&[9, 8, 7]));
    let at = streaming.len() - 6 - 4;
    streaming[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        decode(&streaming).expect("streaming").samples,
        vec![9, 8, 7]
    );
    // An empty data chunk is a valid, empty recording.
    assert!(
        decode(&wav_bytes(1, 1, 8000, 16, &[]))
            .expect("empty")
            .samples
            .is_empty()
    );
}

#[test]
fn damaged_or_unsupported_headers_are_unreadable() {
    let good = wav_bytes(1, 1, 8000, 16, &le16(&[1, 2, 3, 4]));
    assert!(unreadable(&good[..good.len() - 2]).contains("truncated"));
    assert!(unreadable(&good[..30]).contains("truncated"));
    assert!(unreadable(&good[..12]).contains("fmt"));
    assert!(unreadable(&good[..36]).contains("data"));
    assert!(unreadable(&wav_bytes(2, 1, 8000, 4, &[0; 64])).contains("0x0002"));
    assert!(unreadable(&wav_bytes(1, 0, 8000, 16, &[0; 4])).contains("channels"));
    assert!(unreadable(&wav_bytes(1, 1, 0, 16, &[0; 4])).contains("rate"));
    assert!(unreadable(&wav_bytes(1, 1, 8000, 40, &[0; 10])).contains("bits"));
    assert!(unreadable(&wav_bytes(7, 1, 8000, 16, &[0; 4])).contains("bits"));
    assert!(unreadable(&wav_bytes(3, 1, 8000, 16, &[0; 4])).contains("bits"));
    let short_fmt = wav_with_chunks(1, 1, 8000, 16, false, &[]);
    let mut short_fmt = short_fmt[..20].to_vec();
    short_fmt.extend_from_slice(&[1, 0, 1, 0]);
    short_fmt[16..20].copy_from_slice(&4u32.to_le_bytes());
    assert!(unreadable(&short_fmt).contains("shorter"));
    // More than an hour at 8 kHz (the header alone says so; nothing is allocated).
    let mut long = wav_bytes(1, 1, 8000, 8, &[]);
    let at = long.len() - 4;
    long[at..].copy_from_slice(&u32::MAX.to_le_bytes());
    long.extend(std::iter::repeat_n(0x80u8, 8000 * 3600 + 8));
    assert!(unreadable(&long).contains("longer"));
}

#[test]
fn mp3_inside_wav_is_decoded_as_mp3() {
    let mp3 = include_bytes!("../../../tests/data/audio/speech-8k.mp3");
    let wrapped = wav_bytes(0x55, 1, 8000, 0, mp3);
    let d = decode(&wrapped).expect("MP3 in WAV");
    assert_eq!(d.format, SourceFormat::Mp3);
    assert_eq!(d.samples, decode(mp3).expect("MP3").samples);
}
