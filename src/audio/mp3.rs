//! MP3 through symphonia (pure Rust; only its `mp3` feature is enabled). Finding the stream is
//! ours: skip ID3v2 tags, then look (within the first [`SCAN_LIMIT`] bytes, so leading junk is
//! tolerated) for a Layer III frame header followed by a second, consistent header exactly one
//! frame later (or by the end of the data). Random bytes almost never pass that test, so a
//! garbage file is not mistaken for a very noisy MP3. Decoding is gapless (the LAME tag's
//! encoder delay and padding are trimmed), frames that fail to decode are skipped, channels
//! are averaged, and a panic inside the decoder (untrusted input) becomes
//! [`AudioError::Unreadable`].

use std::io::Cursor;

use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::default::codecs::MpaDecoder;
use symphonia::default::formats::MpaReader;

use super::{AudioError, Decoded, MAX_DURATION_SECS, SourceFormat};

/// How far into the data (after ID3v2 tags) the first frame may start.
pub(super) const SCAN_LIMIT: usize = 64 * 1024;
/// Consecutive undecodable frames after which we give up on the rest of the stream.
const MAX_CONSECUTIVE_ERRORS: u32 = 64;

fn unreadable(msg: impl Into<String>) -> AudioError {
    AudioError::Unreadable(msg.into())
}

/// What a Layer III frame header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameHeader {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    pub version: u8,
    pub sample_rate: u32,
    pub channels: u16,
    /// The whole frame, header included, in bytes.
    pub frame_len: usize,
}

/// Parses a 4-byte MPEG audio header; `None` unless it is a valid Layer III header with a
/// known bitrate (free format is not supported) and sample rate.
pub(super) fn parse_header(h: &[u8]) -> Option<FrameHeader> {
    const BITRATE_V1: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const BITRATE_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let h: [u8; 4] = h.get(..4)?.try_into().ok()?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 || (h[1] >> 1) & 3 != 1 || h[3] & 3 == 2 {
        return None; // no sync, not Layer III, or reserved emphasis
    }
    let version = match (h[1] >> 3) & 3 {
        0 => 25,
        2 => 2,
        3 => 1,
        _ => return None,
    };
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    if bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let (kbps, base_rate, slots) = match version {
        1 => (
            BITRATE_V1[bitrate_index],
            [44100, 48000, 32000][rate_index],
            144,
        ),
        2 => (
            BITRATE_V2[bitrate_index],
            [22050, 24000, 16000][rate_index],
            72,
        ),
        _ => (
            BITRATE_V2[bitrate_index],
            [11025, 12000, 8000][rate_index],
            72,
        ),
    };
    let padding = u32::from((h[2] >> 1) & 1);
    Some(FrameHeader {
        version,
        sample_rate: base_rate,
        channels: if h[3] >> 6 == 3 { 1 } else { 2 },
        frame_len: (slots * kbps * 1000 / base_rate + padding) as usize,
    })
}

/// The length of the ID3v2 tags at the start of `bytes` (0 when there are none).
pub(super) fn id3v2_len(bytes: &[u8]) -> usize {
    let mut pos = 0usize;
    while let Some(tag) = bytes.get(pos..pos + 10) {
        if &tag[..3] != b"ID3" || tag[6..10].iter().any(|b| b & 0x80 != 0) {
            break;
        }
        let size = tag[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(*b));
        let footer = if tag[5] & 0x10 != 0 { 10 } else { 0 };
        pos = pos.saturating_add(10 + size + footer);
    }
    pos.min(bytes.len())
}

/// Where the MPEG audio stream starts in `bytes`, if there is one (see the module docs).
pub(super) fn find_stream(bytes: &[u8]) -> Option<usize> {
    let start = id3v2_len(bytes);
    let end = bytes.len().min(start.saturating_add(SCAN_LIMIT));
    (start..end).find(|&pos| {
        let Some(first) = parse_header(&bytes[pos..]) else {
            return false;
        };
        let next = pos + first.frame_len;
        if next == bytes.len() {
            return true;
        }
        bytes
            .get(next..)
            .and_then(parse_header)
            .is_some_and(|second| {
                second.version == first.version
                    && second.sample_rate == first.sample_rate
                    && second.channels == first.channels
            })
    })
}

/// Decodes an MPEG audio stream that starts at the beginning of `bytes` (see [`find_stream`]).
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, AudioError> {
    std::panic::catch_unwind(|| decode_inner(bytes))
        .unwrap_or_else(|_| Err(unreadable("the MP3 decoder failed on this file")))
}

fn decode_inner(bytes: &[u8]) -> Result<Decoded, AudioError> {
    // An ID3v1 tag (128 bytes, "TAG") at the end is not audio.
    let bytes = match bytes.len().checked_sub(128) {
        Some(at) if bytes[at..].starts_with(b"TAG") => &bytes[..at],
        _ => bytes,
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = MpaReader::try_new(source, FormatOptions::default())
        .map_err(|e| unreadable(format!("not an MP3 stream: {e}")))?;
    let track = reader
        .tracks()
        .first()
        .ok_or_else(|| unreadable("MP3 without a track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unreadable("MP3 track without audio parameters"))?
        .clone();
    // At most 24 samples per byte (MPEG-2 at 8 kbps, 24 kHz): a lying Xing tag cannot make
    // us reserve more than the stream could hold.
    let expected = track.num_frames.unwrap_or(0).min(bytes.len() as u64 * 24) as usize;
    let mut decoder = MpaDecoder::try_new(&params, &AudioDecoderOptions::default().gapless(true))
        .map_err(|e| unreadable(format!("unsupported MPEG audio: {e}")))?;

    let mut samples: Vec<i16> = Vec::with_capacity(expected);
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut sample_rate = 0u32;
    let mut channels_in = 0u16;
    let mut decoded_frames = 0u64;
    let mut consecutive_errors = 0u32;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            // The end, or a stream cut inside its last frame: keep what decoded.
            Ok(None) | Err(SymError::IoError(_)) => break,
            Err(e) => return Err(unreadable(format!("MP3 stream: {e}"))),
        };
        let buf = match decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::DecodeError(_)) => {
                consecutive_errors += 1;
                if consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
                    break;
                }
                continue;
            }
            Err(e) => return Err(unreadable(format!("MP3 frame: {e}"))),
        };
        consecutive_errors = 0;
        decoded_frames += 1;
        let rate = buf.spec().rate();
        if sample_rate == 0 {
            sample_rate = rate;
        } else if rate != sample_rate {
            continue; // the decoder rejects such frames; be safe regardless
        }
        let channels = downmix_into(&buf, &mut planes, &mut samples);
        channels_in = channels_in.max(channels);
        if samples.len() as u64 > u64::from(sample_rate) * u64::from(MAX_DURATION_SECS) {
            return Err(unreadable(format!(
                "recording longer than {MAX_DURATION_SECS} s"
            )));
        }
    }
    if decoded_frames == 0 || sample_rate == 0 {
        return Err(unreadable("no MP3 frame could be decoded"));
    }
    Ok(Decoded {
        samples,
        sample_rate,
        channels_in: channels_in.max(1),
        format: SourceFormat::Mp3,
    })
}

/// Appends the decoded frames of `buf` to `out` as mono 16-bit samples (the average of the
/// channels) and returns the channel count. The decoder's planar `f32` output is read in
/// place for mono and stereo; anything else goes through a copy (`planes` is scratch).
fn downmix_into(
    buf: &GenericAudioBufferRef<'_>,
    planes: &mut Vec<Vec<f32>>,
    out: &mut Vec<i16>,
) -> u16 {
    // Float-to-integer `as` saturates (overs clip) and maps NaN to 0.
    fn to_i16(v: f32) -> i16 {
        (v + 0.5f32.copysign(v)) as i16
    }
    if let GenericAudioBufferRef::F32(b) = buf {
        if b.num_planes() == 1
            && let Some(mono) = b.plane(0)
        {
            out.extend(mono.iter().map(|&x| to_i16(x * 32767.0)));
            return 1;
        }
        if b.num_planes() == 2
            && let Some((left, right)) = b.plane_pair(0, 1)
        {
            out.extend(
                left.iter()
                    .zip(right)
                    .map(|(&l, &r)| to_i16((l + r) * 16383.5)),
            );
            return 2;
        }
    }
    buf.copy_to_vecs_planar::<f32>(planes);
    let n = planes.len().clamp(1, usize::from(u16::MAX));
    let frames = planes.first().map_or(0, Vec::len);
    let scale = 32767.0 / n as f32;
    out.extend((0..frames).map(|i| to_i16(planes.iter().map(|p| p[i]).sum::<f32>() * scale)));
    n as u16
}
