//! WAV decoding by hand (hound reads neither G.711 nor damaged files gracefully): walks the RIFF
//! chunks, reads `fmt ` (including `WAVE_FORMAT_EXTENSIBLE`) and `data`, and turns every frame
//! into one 16-bit sample, averaging the channels. Supported encodings: PCM in 8-bit unsigned,
//! 16/24/32-bit signed containers (narrower valid bits are fine), IEEE float 32/64-bit, G.711
//! µ-law and A-law (ITU-T G.711 expansion, the values of the reference `g711.c`), and MP3 inside
//! a WAV (format tag 0x0055, handed to the MP3 decoder). A `data` chunk that declares more bytes
//! than the file holds is truncated and so unreadable, except the streaming placeholder size
//! 0xFFFFFFFF, which means "to the end of the file". The RIFF size field is ignored (writers get
//! it wrong); a trailing partial frame is dropped.

use super::{AudioError, Decoded, MAX_DURATION_SECS, SourceFormat, mp3};

/// The highest sample rate we accept (anything above is a corrupt header).
const MAX_SAMPLE_RATE: u32 = 384_000;
/// The most channels we accept.
const MAX_CHANNELS: u16 = 32;
/// `KSDATAFORMAT_SUBTYPE_*` GUIDs are `xxxx0000-0000-0010-8000-00aa00389b71`: the format tag
/// followed by these 14 bytes.
const GUID_SUFFIX: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_MULAW: u16 = 0x0007;
const TAG_MP3: u16 = 0x0055;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

fn unreadable(msg: impl Into<String>) -> AudioError {
    AudioError::Unreadable(msg.into())
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Whether `bytes` start like a WAV file (`RIFF....WAVE`).
pub(super) fn is_riff_wave(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// The `fmt ` chunk, reduced to what decoding needs.
#[derive(Debug, Clone, Copy)]
struct Fmt {
    tag: u16,
    channels: u16,
    sample_rate: u32,
    bits: u16,
}

fn parse_fmt(body: &[u8]) -> Result<Fmt, AudioError> {
    if body.len() < 16 {
        return Err(unreadable("WAV fmt chunk shorter than 16 bytes"));
    }
    let mut fmt = Fmt {
        tag: le_u16(body, 0),
        channels: le_u16(body, 2),
        sample_rate: le_u32(body, 4),
        bits: le_u16(body, 14),
    };
    if fmt.tag == TAG_EXTENSIBLE {
        if body.len() < 40 || body[26..40] != GUID_SUFFIX {
            return Err(unreadable(
                "WAV extensible format without a known sub-format",
            ));
        }
        fmt.tag = le_u16(body, 24);
    }
    if fmt.channels == 0 || fmt.channels > MAX_CHANNELS {
        return Err(unreadable(format!("WAV with {} channels", fmt.channels)));
    }
    if fmt.sample_rate == 0 || fmt.sample_rate > MAX_SAMPLE_RATE {
        return Err(unreadable(format!(
            "WAV sample rate {} Hz",
            fmt.sample_rate
        )));
    }
    Ok(fmt)
}

/// Decodes a RIFF/WAVE file (the caller checked [`is_riff_wave`]).
pub(super) fn decode_wav(bytes: &[u8]) -> Result<Decoded, AudioError> {
    let mut fmt = None;
    let mut data = None;
    let mut pos = 12usize;
    while bytes.len().saturating_sub(pos) >= 8 {
        let id = &bytes[pos..pos + 4];
        let declared = le_u32(bytes, pos + 4);
        let body = pos + 8;
        let available = bytes.len() - body;
        let size = if id == b"data" && declared == u32::MAX {
            available
        } else {
            declared as usize
        };
        if size > available {
            let what = String::from_utf8_lossy(id).into_owned();
            if data.is_none() || fmt.is_none() {
                return Err(unreadable(format!(
                    "truncated WAV: the {what:?} chunk declares {size} bytes, {available} present"
                )));
            }
            break; // a damaged chunk after the audio: ignore it
        }
        match id {
            b"fmt " => fmt = Some(parse_fmt(&bytes[body..body + size])?),
            b"data" if data.is_none() => data = Some(&bytes[body..body + size]),
            _ => {}
        }
        pos = body + size + (size & 1);
    }
    let fmt = fmt.ok_or_else(|| unreadable("WAV without a fmt chunk"))?;
    let data = data.ok_or_else(|| unreadable("WAV without a data chunk"))?;
    if fmt.tag == TAG_MP3 {
        let start =
            mp3::find_stream(data).ok_or_else(|| unreadable("MP3-in-WAV without frames"))?;
        return mp3::decode(&data[start..]);
    }
    let (format, width) = sample_format(fmt)?;
    let frame_bytes = width * usize::from(fmt.channels);
    let frames = data.len() / frame_bytes;
    if frames as u64 > u64::from(fmt.sample_rate) * u64::from(MAX_DURATION_SECS) {
        return Err(unreadable(format!(
            "recording longer than {MAX_DURATION_SECS} s"
        )));
    }
    let data = &data[..frames * frame_bytes];
    let samples = match format {
        SourceFormat::PcmU8 => to_mono(data, fmt.channels, 1, |b| (i32::from(b[0]) - 128) << 8),
        SourceFormat::Pcm16 => to_mono(data, fmt.channels, 2, |b| {
            i32::from(i16::from_le_bytes([b[0], b[1]]))
        }),
        // Wider integers: keep the top 16 bits (the container is left-justified).
        SourceFormat::Pcm24 => to_mono(data, fmt.channels, 3, |b| {
            i32::from(i16::from_le_bytes([b[1], b[2]]))
        }),
        SourceFormat::Pcm32 => to_mono(data, fmt.channels, 4, |b| {
            i32::from(i16::from_le_bytes([b[2], b[3]]))
        }),
        SourceFormat::Float32 => to_mono(data, fmt.channels, 4, |b| {
            float_to_i32(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        }),
        SourceFormat::Float64 => to_mono(data, fmt.channels, 8, |b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            float_to_i32(f64::from_le_bytes(a))
        }),
        SourceFormat::MuLaw => to_mono(data, fmt.channels, 1, |b| i32::from(ULAW[b[0] as usize])),
        SourceFormat::ALaw => to_mono(data, fmt.channels, 1, |b| i32::from(ALAW[b[0] as usize])),
        SourceFormat::Mp3 => unreachable!("MP3 in WAV is handled above"),
    };
    Ok(Decoded {
        samples,
        sample_rate: fmt.sample_rate,
        channels_in: fmt.channels,
        format,
    })
}

/// The source format and the bytes per sample (the container width) of a `fmt ` chunk.
fn sample_format(fmt: Fmt) -> Result<(SourceFormat, usize), AudioError> {
    let bits = fmt.bits;
    match (fmt.tag, bits) {
        (TAG_PCM, 1..=8) => Ok((SourceFormat::PcmU8, 1)),
        (TAG_PCM, 9..=16) => Ok((SourceFormat::Pcm16, 2)),
        (TAG_PCM, 17..=24) => Ok((SourceFormat::Pcm24, 3)),
        (TAG_PCM, 25..=32) => Ok((SourceFormat::Pcm32, 4)),
        (TAG_FLOAT, 32) => Ok((SourceFormat::Float32, 4)),
        (TAG_FLOAT, 64) => Ok((SourceFormat::Float64, 8)),
        (TAG_MULAW, 8) => Ok((SourceFormat::MuLaw, 1)),
        (TAG_ALAW, 8) => Ok((SourceFormat::ALaw, 1)),
        (TAG_PCM | TAG_FLOAT | TAG_MULAW | TAG_ALAW, _) => Err(unreadable(format!(
            "WAV format tag {:#06x} with {bits} bits per sample",
            fmt.tag
        ))),
        (tag, _) => Err(unreadable(format!(
            "unsupported WAV encoding (format tag {tag:#06x})"
        ))),
    }
}

/// Converts interleaved frames to mono: `sample` maps one `width`-byte sample to the 16-bit
/// scale; channels are averaged.
fn to_mono(data: &[u8], channels: u16, width: usize, sample: impl Fn(&[u8]) -> i32) -> Vec<i16> {
    if channels == 1 {
        return data
            .chunks_exact(width)
            .map(|s| sample(s).clamp(-32768, 32767) as i16)
            .collect();
    }
    let n = i32::from(channels);
    data.chunks_exact(width * usize::from(channels))
        .map(|frame| {
            let sum: i32 = frame.chunks_exact(width).map(&sample).sum();
            (sum / n).clamp(-32768, 32767) as i16
        })
        .collect()
}

/// A float sample (full scale ±1.0) on the 16-bit scale; NaN becomes 0, overs are clipped.
fn float_to_i32(x: f64) -> i32 {
    (x.clamp(-1.0, 1.0) * 32767.0).round() as i32
}

/// G.711 µ-law to linear (the reference `ulaw2linear`): full scale is ±32124.
pub(crate) const fn mulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let t = ((((u & 0x0F) as i32) << 3) + 0x84) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 {
        (0x84 - t) as i16
    } else {
        (t - 0x84) as i16
    }
}

/// G.711 A-law to linear (the reference `alaw2linear`): full scale is ±32256.
pub(crate) const fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let segment = ((a & 0x70) >> 4) as i32;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (segment - 1),
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

const fn g711_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_to_linear(i as u8)
        } else {
            mulaw_to_linear(i as u8)
        };
        i += 1;
    }
    table
}

static ULAW: [i16; 256] = g711_table(false);
static ALAW: [i16; 256] = g711_table(true);
