//! Tests of the audio module: every committed fixture decodes with the right format, rate,
//! duration and speech verdict (`fixtures`), hand-built WAV files cover each encoding and each
//! way a header can be damaged (`wav`), G.711 expansion against the reference values
//! (`g711`), MP3 sniffing (`mp3`), and properties: `decode` never panics, whatever the bytes
//! (`props`).

mod fixtures;
mod g711;
mod mp3;
mod props;
mod wav;

/// A WAV file with a canonical header: `fmt ` of the given tag, channels, rate and bits,
/// then `data`. `extensible` wraps the tag in `WAVE_FORMAT_EXTENSIBLE`.
pub(super) fn wav_bytes(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    wav_with_chunks(tag, channels, rate, bits, false, &[(*b"data", data)])
}

/// A WAV file with the given chunks after `fmt `.
pub(super) fn wav_with_chunks(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    extensible: bool,
    chunks: &[([u8; 4], &[u8])],
) -> Vec<u8> {
    let block = channels.wrapping_mul(bits.div_ceil(8));
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&(if extensible { 0xFFFE } else { tag }).to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes());
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let mut body = b"WAVE".to_vec();
    for (id, content) in std::iter::once((*b"fmt ", fmt.as_slice())).chain(chunks.iter().copied()) {
        body.extend_from_slice(&id);
        body.extend_from_slice(&(content.len() as u32).to_le_bytes());
        body.extend_from_slice(content);
        if content.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Little-endian bytes of 16-bit samples.
pub(super) fn le16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}
