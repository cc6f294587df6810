//! Where voicemail audio lives on disk and how it gets there. Layout, per Moscow date of the
//! call (the project's "today"):
//!
//! ```text
//! {data_dir}/voicemail/YYYY/MM/DD/<id>.orig.<wav|mp3|…|bin>   the bytes as received
//! {data_dir}/voicemail/YYYY/MM/DD/<id>.wav                    16-bit PCM mono, source rate
//! ```
//!
//! Every file is written to a hidden temporary file in the same directory, flushed
//! (`finalize()` for hound), fsynced, renamed into place, and the directory is fsynced, so a
//! reader sees either the old file or the new one, never a torn one, and a crash leaves at
//! most a `.…tmp` file behind. Both files are complete in their temporaries before either is
//! renamed, so a write that fails (a full disk) changes nothing; an original that does not
//! decode is kept alone.
//! Storing the same id again replaces both files atomically and removes what the new outcome
//! no longer has (a normalized WAV when the new original is unreadable, an original under
//! another extension). Files are 0640 and directories 0750 on unix. The extension of the
//! original comes from the bytes or, only when they say nothing, from a fixed list matched by
//! the caller's hint: no path component but the numeric id comes from outside.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::{Analysis, AudioError, decode, sha256_hex, sniff_extension};
use crate::calendar::MOSCOW;

/// Extensions an original may be stored under when the bytes are not WAV or MP3 and the
/// caller's hint names one of them; anything else is `bin`.
/// (`wav` is not among them: RIFF/WAVE is always recognized from the bytes.)
const HINTED_EXTENSIONS: [&str; 9] = [
    "mp3", "ogg", "opus", "oga", "amr", "flac", "m4a", "aac", "webm",
];
/// Every extension an original can have (for removing a stale one).
const ALL_EXTENSIONS: [&str; 11] = [
    "wav", "mp3", "ogg", "opus", "oga", "amr", "flac", "m4a", "aac", "webm", "bin",
];
/// Samples handed to hound's buffered 16-bit writer at a time.
const WRITE_CHUNK: usize = 1 << 16;

/// What became of a recording; stored in `voicemails.audio_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioStatus {
    /// Decoded: the original and the normalized WAV are on disk.
    Stored,
    /// Not decodable: only the original is on disk (flagged `audio_unreadable`).
    Unreadable,
}

impl AudioStatus {
    /// `"stored"` or `"unreadable"`, as in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioStatus::Stored => "stored",
            AudioStatus::Unreadable => "unreadable",
        }
    }
}

/// The outcome of [`store_recording`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAudio {
    /// The normalized WAV; `None` when the recording is unreadable.
    pub wav_path: Option<PathBuf>,
    /// The original as received.
    pub original_path: PathBuf,
    /// Duration, speech and level; `None` when the recording is unreadable.
    pub analysis: Option<Analysis>,
    /// SHA-256 of the original bytes, lowercase hex.
    pub sha256: String,
    /// Stored or unreadable.
    pub status: AudioStatus,
    /// Why the recording could not be decoded (for logs and the operator), when unreadable.
    pub unreadable_reason: Option<String>,
}

/// `{data_dir}/voicemail/YYYY/MM/DD` for the Moscow date of `received_at`.
pub fn voicemail_dir(data_dir: &Path, received_at: DateTime<Utc>) -> PathBuf {
    let date = received_at.with_timezone(&MOSCOW).date_naive();
    data_dir
        .join("voicemail")
        .join(format!("{:04}", date.year()))
        .join(format!("{:02}", date.month()))
        .join(format!("{:02}", date.day()))
}

/// `<id>.wav`, the normalized copy.
pub fn wav_file_name(voicemail_id: i64) -> String {
    format!("{voicemail_id}.wav")
}

/// `<id>.orig.<ext>`, the original as received.
pub fn original_file_name(voicemail_id: i64, ext: &str) -> String {
    format!("{voicemail_id}.orig.{ext}")
}

/// Keeps `original` and, when it decodes, a normalized WAV next to it (see the module docs).
/// The blocking work runs on tokio's blocking pool. An undecodable recording is not an error:
/// it is kept and reported with [`AudioStatus::Unreadable`]; errors are I/O failures.
pub async fn store_recording(
    data_dir: &Path,
    voicemail_id: i64,
    received_at: DateTime<Utc>,
    original: Vec<u8>,
    original_ext_hint: Option<&str>,
) -> Result<StoredAudio, AudioError> {
    let data_dir = data_dir.to_path_buf();
    let hint = original_ext_hint.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        store_recording_blocking(
            &data_dir,
            voicemail_id,
            received_at,
            &original,
            hint.as_deref(),
        )
    })
    .await?
}

/// [`store_recording`] on the current thread, for callers already off the async runtime.
pub fn store_recording_blocking(
    data_dir: &Path,
    voicemail_id: i64,
    received_at: DateTime<Utc>,
    original: &[u8],
    original_ext_hint: Option<&str>,
) -> Result<StoredAudio, AudioError> {
    if voicemail_id < 0 {
        return Err(AudioError::InvalidId(voicemail_id));
    }
    let dir = voicemail_dir(data_dir, received_at);
    ensure_dir(&dir)?;
    let sha256 = sha256_hex(original);
    let ext = original_extension(original, original_ext_hint);
    let original_path = dir.join(original_file_name(voicemail_id, ext));
    let wav_path = dir.join(wav_file_name(voicemail_id));
    // Both files are complete in their temporaries before either is renamed into place: a write
    // that fails (a full disk) leaves the directory as it was, without a half-stored recording.
    let original_tmp = write_temp(&original_path, |w| Ok(w.write_all(original)?))?;
    let decoded = match decode(original) {
        Ok(decoded) => decoded,
        Err(AudioError::Unreadable(reason)) => {
            tracing::warn!(voicemail_id, %reason, "voicemail audio is unreadable; original kept");
            original_tmp.commit(&original_path)?;
            remove_other_originals(&dir, voicemail_id, ext)?;
            remove_if_present(&wav_path)?;
            sync_dir(&dir)?;
            return Ok(StoredAudio {
                wav_path: None,
                original_path,
                analysis: None,
                sha256,
                status: AudioStatus::Unreadable,
                unreadable_reason: Some(reason),
            });
        }
        Err(other) => return Err(other),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: decoded.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wav_tmp = write_temp(&wav_path, |w| {
        let mut wav = hound::WavWriter::new(w, spec)?;
        for chunk in decoded.samples.chunks(WRITE_CHUNK) {
            let mut block = wav.get_i16_writer(chunk.len() as u32);
            for &s in chunk {
                block.write_sample(s);
            }
            block.flush()?;
        }
        Ok(wav.finalize()?)
    })?;
    original_tmp.commit(&original_path)?;
    remove_other_originals(&dir, voicemail_id, ext)?;
    wav_tmp.commit(&wav_path)?;
    sync_dir(&dir)?;
    let analysis = super::Analysis::of(&decoded, sha256.clone());
    tracing::info!(
        voicemail_id,
        format = %analysis.format,
        duration_ms = analysis.duration_ms,
        has_speech = analysis.has_speech,
        "voicemail audio stored"
    );
    Ok(StoredAudio {
        wav_path: Some(wav_path),
        original_path,
        analysis: Some(analysis),
        sha256,
        status: AudioStatus::Stored,
        unreadable_reason: None,
    })
}

/// The extension for the original: sniffed, else a listed hint, else `bin`.
fn original_extension(bytes: &[u8], hint: Option<&str>) -> &'static str {
    if let Some(ext) = sniff_extension(bytes) {
        return ext;
    }
    let hint = hint.map(|h| h.trim().trim_start_matches('.').to_ascii_lowercase());
    HINTED_EXTENSIONS
        .iter()
        .find(|e| hint.as_deref() == Some(**e))
        .copied()
        .unwrap_or("bin")
}

/// A complete, fsynced temporary file next to its final name; removed when dropped unless
/// [`Temp::commit`] renamed it into place.
struct Temp(Option<PathBuf>);

impl Temp {
    /// Renames the file to `path` (atomically replacing what was there).
    fn commit(mut self, path: &Path) -> Result<(), AudioError> {
        if let Some(tmp) = self.0.take()
            && let Err(e) = fs::rename(&tmp, path)
        {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(tmp) = self.0.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Writes a hidden temporary file next to `path`: `fill`, flush, fsync. The temporary file is
/// removed if anything fails (or if it is never committed).
fn write_temp(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), AudioError>,
) -> Result<Temp, AudioError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("audio");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    let file = options.open(&tmp)?;
    let guard = Temp(Some(tmp));
    let mut writer = BufWriter::new(file);
    fill(&mut writer)?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(guard)
}

/// Creates `dir` and its missing parents (0750 on unix), fsyncing each new directory's parent
/// so the new entry itself is durable.
fn ensure_dir(dir: &Path) -> Result<(), AudioError> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .collect();
    for d in missing.into_iter().rev() {
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o750);
        match builder.create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => continue,
            Err(e) => return Err(e.into()),
        }
        match d.parent() {
            Some(parent) if parent.as_os_str().is_empty() => sync_dir(Path::new("."))?,
            Some(parent) => sync_dir(parent)?,
            None => {}
        }
    }
    Ok(())
}

/// Makes renames and removals in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> Result<(), AudioError> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the voicemail's originals stored under another extension than `keep`.
fn remove_other_originals(dir: &Path, voicemail_id: i64, keep: &str) -> Result<(), AudioError> {
    for stale in ALL_EXTENSIONS.iter().filter(|e| **e != keep) {
        remove_if_present(&dir.join(original_file_name(voicemail_id, stale)))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), AudioError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
