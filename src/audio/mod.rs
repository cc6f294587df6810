//! Voicemail audio: decode what a provider hands us, check it, and store it. Twilio sends WAV
//! (16-bit PCM or G.711 µ-law/A-law at 8 kHz), Zadarma and Mango send MP3. [`decode`] sniffs the
//! container from the bytes themselves (RIFF/WAVE, or an MPEG audio frame sync, optionally behind
//! ID3v2 tags; never from a file name or a content type) and returns 16-bit mono samples at the
//! source rate. [`analyse`] measures duration and peak level and runs an energy-based voice
//! activity check, so that a silent voicemail is flagged rather than dropped (thresholds in
//! [`vad`]). [`store_recording`] keeps the original bytes as received and, when they decode,
//! writes a normalized 16-bit PCM mono WAV next to them under
//! `{data_dir}/voicemail/YYYY/MM/DD/` (the Moscow date), each file atomically. A recording we
//! cannot decode is still kept and reported as [`AudioStatus::Unreadable`]: the voicemail and
//! its callback exist regardless. Recordings are personal data: files are created with mode
//! 0640 and no path component but the numeric voicemail id comes from outside.
//!
//! Submodules: `decode` (WAV and G.711), `mp3` (MPEG audio through symphonia), [`vad`]
//! (voice activity), `store` (file layout and atomic writes).

mod decode;
mod mp3;
mod store;
pub mod vad;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use store::{
    AudioStatus, StoredAudio, original_file_name, store_recording, store_recording_blocking,
    voicemail_dir, wav_file_name,
};

/// The longest recording we decode, in seconds. A voicemail is a few minutes at most; this
/// bounds the memory a hostile or broken file can make us allocate (an hour of 48 kHz mono is
/// 330 MB of samples). Longer files are reported as [`AudioError::Unreadable`] and kept as
/// received.
pub const MAX_DURATION_SECS: u32 = 3600;

/// How the samples were encoded in the file we received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SourceFormat {
    /// WAV, 8-bit unsigned PCM.
    #[serde(rename = "pcm_u8")]
    PcmU8,
    /// WAV, 16-bit signed PCM (also 9–15-bit samples in a 16-bit container).
    #[serde(rename = "pcm16")]
    Pcm16,
    /// WAV, 24-bit signed PCM.
    #[serde(rename = "pcm24")]
    Pcm24,
    /// WAV, 32-bit signed PCM.
    #[serde(rename = "pcm32")]
    Pcm32,
    /// WAV, 32-bit IEEE float.
    #[serde(rename = "float32")]
    Float32,
    /// WAV, 64-bit IEEE float.
    #[serde(rename = "float64")]
    Float64,
    /// WAV, G.711 µ-law (telephony, North America / Japan; Twilio's default).
    #[serde(rename = "mulaw")]
    MuLaw,
    /// WAV, G.711 A-law (telephony, Europe and Russia).
    #[serde(rename = "alaw")]
    ALaw,
    /// MPEG-1/2/2.5 Layer III, bare or inside a WAV container.
    #[serde(rename = "mp3")]
    Mp3,
}

impl SourceFormat {
    /// A short stable name: `pcm_u8`, `pcm16`, `pcm24`, `pcm32`, `float32`, `float64`, `mulaw`,
    /// `alaw`, `mp3`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::PcmU8 => "pcm_u8",
            SourceFormat::Pcm16 => "pcm16",
            SourceFormat::Pcm24 => "pcm24",
            SourceFormat::Pcm32 => "pcm32",
            SourceFormat::Float32 => "float32",
            SourceFormat::Float64 => "float64",
            SourceFormat::MuLaw => "mulaw",
            SourceFormat::ALaw => "alaw",
            SourceFormat::Mp3 => "mp3",
        }
    }
}

impl std::fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded recording: 16-bit mono samples at the source sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Mono samples; several channels are averaged.
    pub samples: Vec<i16>,
    /// Samples per second, as in the source (never 0).
    pub sample_rate: u32,
    /// How many channels the source had.
    pub channels_in: u16,
    /// How the source was encoded.
    pub format: SourceFormat,
}

impl Decoded {
    /// Duration in whole milliseconds (rounded down).
    pub fn duration_ms(&self) -> i64 {
        (self.samples.len() as u64 * 1000 / u64::from(self.sample_rate.max(1))) as i64
    }
}

/// What we learned about a recording that decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Duration in whole milliseconds.
    pub duration_ms: i64,
    /// Samples per second of the source (and of the normalized WAV).
    pub sample_rate: u32,
    /// Channels in the source; the normalized WAV is always mono.
    pub channels_in: u16,
    /// How the source was encoded.
    pub format: SourceFormat,
    /// Whether the voice-activity check found speech (see [`vad`]).
    pub has_speech: bool,
    /// How much of the recording the check counted as speech, in milliseconds.
    pub speech_ms: i64,
    /// Peak sample level in dBFS (0 = full scale; [`vad::SILENCE_DBFS`] for digital silence).
    pub peak_dbfs: f32,
    /// SHA-256 of the original bytes as received, lowercase hex.
    pub sha256: String,
}

impl Analysis {
    /// Analyses `decoded`; `sha256` is the hex digest of the original bytes ([`sha256_hex`]).
    pub fn of(decoded: &Decoded, sha256: String) -> Analysis {
        let (duration_ms, has_speech, speech_ms, peak_dbfs) = analyse(decoded);
        Analysis {
            duration_ms,
            sample_rate: decoded.sample_rate,
            channels_in: decoded.channels_in,
            format: decoded.format,
            has_speech,
            speech_ms,
            peak_dbfs,
            sha256,
        }
    }
}

/// Why audio could not be decoded or stored.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Not a format we decode, corrupt, truncated, or longer than [`MAX_DURATION_SECS`].
    #[error("unreadable audio: {0}")]
    Unreadable(String),
    /// Reading or writing the files failed.
    #[error("audio file I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// hound could not write the normalized WAV.
    #[error("cannot write the normalized WAV: {0}")]
    Wav(#[from] hound::Error),
    /// A voicemail id is never negative; it names the files.
    #[error("voicemail id {0} is negative")]
    InvalidId(i64),
    /// The blocking task that does the work panicked or was cancelled.
    #[error("the audio task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Decodes a WAV or MP3 recording into 16-bit mono samples. The format is sniffed from the
/// bytes: RIFF/WAVE is parsed here (PCM 8/16/24/32-bit, float, G.711 µ-law and A-law, MP3 in
/// WAV); anything else that carries MPEG audio frames (optionally behind ID3v2 tags) goes to
/// symphonia. Never panics; everything else is [`AudioError::Unreadable`].
pub fn decode(bytes: &[u8]) -> Result<Decoded, AudioError> {
    if decode::is_riff_wave(bytes) {
        decode::decode_wav(bytes)
    } else if let Some(start) = mp3::find_stream(bytes) {
        mp3::decode(&bytes[start..])
    } else {
        Err(AudioError::Unreadable(
            "neither a WAV file nor an MPEG audio stream".into(),
        ))
    }
}

/// The file extension for the original as received, from the bytes: `wav` for RIFF/WAVE,
/// `mp3` for MPEG audio or an ID3v2 tag, otherwise `None` (even when the file is too damaged
/// to decode, a recognizable container keeps its extension).
pub fn sniff_extension(bytes: &[u8]) -> Option<&'static str> {
    if decode::is_riff_wave(bytes) {
        Some("wav")
    } else if bytes.starts_with(b"ID3") || mp3::find_stream(bytes).is_some() {
        Some("mp3")
    } else {
        None
    }
}

/// Duration, speech and level of a decoded recording:
/// `(duration_ms, has_speech, speech_ms, peak_dbfs)`. See [`vad`] for how speech is found; a
/// silent or near-silent recording gives `has_speech == false`.
pub fn analyse(d: &Decoded) -> (i64, bool, i64, f32) {
    let activity = vad::detect(&d.samples, d.sample_rate);
    (
        d.duration_ms(),
        activity.has_speech,
        activity.speech_ms,
        vad::peak_dbfs(&d.samples),
    )
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
