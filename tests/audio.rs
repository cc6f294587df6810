//! The file-system side of voicemail audio: `store_recording` keeps the original, writes the
//! normalized WAV (re-read with hound), lays files out under the Moscow date, leaves no
//! temporary files, replaces atomically on a second store, and keeps undecodable files.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use perezvon::audio::{
    AudioError, AudioStatus, SourceFormat, decode, sha256_hex, store_recording, voicemail_dir,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/audio")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("valid instant")
}

/// File names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("the directory exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).expect("the WAV opens with hound");
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .expect("samples");
    (reader.spec(), samples)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn a_wav_is_kept_and_normalized_under_the_moscow_date() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let original = fixture("speech-8k-ulaw.wav");
    // 22:30 UTC on 14 March is 01:30 on 15 March in Moscow.
    let received = at(2025, 3, 14, 22, 30);
    let stored = store_recording(tmp.path(), 42, received, original.clone(), Some("wav"))
        .await
        .expect("stored");
    let dir = tmp.path().join("voicemail/2025/03/15");
    assert_eq!(voicemail_dir(tmp.path(), received), dir);
    assert_eq!(stored.status, AudioStatus::Stored);
    assert_eq!(stored.status.as_str(), "stored");
    assert_eq!(stored.original_path, dir.join("42.orig.wav"));
    assert_eq!(
        stored.wav_path.as_deref(),
        Some(dir.join("42.wav").as_path())
    );
    assert_eq!(
        names(&dir),
        ["42.orig.wav", "42.wav"],
        "no temporary files left"
    );
    assert_eq!(fs::read(&stored.original_path).expect("original"), original);
    assert_eq!(stored.sha256, sha256_hex(&original));
    assert_eq!(stored.unreadable_reason, None);

    let analysis = stored.analysis.expect("analysis");
    assert_eq!(analysis.format, SourceFormat::MuLaw);
    assert_eq!((analysis.sample_rate, analysis.channels_in), (8000, 1));
    assert_eq!(analysis.duration_ms, 3469);
    assert!(analysis.has_speech);
    assert_eq!(analysis.sha256, stored.sha256);

    let (spec, samples) = read_wav(&dir.join("42.wav"));
    assert_eq!(
        (spec.channels, spec.bits_per_sample, spec.sample_rate),
        (1, 16, 8000)
    );
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    assert_eq!(samples, decode(&original).expect("decodes").samples);

    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join("42.wav")) & !0o640, 0, "not wider than 0640");
        assert_eq!(mode(&stored.original_path) & !0o640, 0);
        assert_eq!(mode(&dir) & !0o750, 0);
    }
}

#[tokio::test]
async fn mp3_and_stereo_are_stored_as_mono_16_bit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let received = at(2025, 6, 1, 9, 0);
    for (id, name, ext, rate) in [
        (1, "speech-8k.mp3", "mp3", 8000),
        (2, "tone-44k-stereo.mp3", "mp3", 44100),
        (3, "tone-8k-stereo.wav", "wav", 8000),
        (4, "tone-8k-f32.wav", "wav", 8000),
    ] {
        // A misleading hint changes nothing: the bytes decide.
        let stored = store_recording(tmp.path(), id, received, fixture(name), Some("ogg"))
            .await
            .expect("stored");
        assert_eq!(stored.status, AudioStatus::Stored, "{name}");
        assert!(
            stored.original_path.ends_with(format!("{id}.orig.{ext}")),
            "{name}"
        );
        let analysis = stored.analysis.expect("analysis");
        let (spec, samples) = read_wav(stored.wav_path.as_deref().expect("wav"));
        assert_eq!(
            (spec.channels, spec.bits_per_sample, spec.sample_rate),
            (1, 16, rate)
        );
        assert_eq!(
            samples.len() as i64 * 1000 / i64::from(rate),
            analysis.duration_ms,
            "{name}"
        );
    }
    assert_eq!(names(&tmp.path().join("voicemail/2025/06/01")).len(), 8);
}

#[tokio::test]
async fn undecodable_files_are_kept_and_flagged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let received = at(2025, 1, 10, 12, 0);
    let dir = voicemail_dir(tmp.path(), received);
    let cases: [(i64, &str, Option<&str>, &str); 4] = [
        (7, "garbage.bin", None, "7.orig.bin"),
        (8, "garbage.bin", Some(".OGG"), "8.orig.ogg"),
        (9, "garbage.bin", Some("../../etc/passwd"), "9.orig.bin"),
        (10, "truncated.wav", Some("mp3"), "10.orig.wav"),
    ];
    for (id, name, hint, file) in cases {
        let original = fixture(name);
        let stored = store_recording(tmp.path(), id, received, original.clone(), hint)
            .await
            .expect("an unreadable file is not an error");
        assert_eq!(stored.status, AudioStatus::Unreadable, "{name}");
        assert_eq!(stored.status.as_str(), "unreadable");
        assert_eq!((stored.wav_path, stored.analysis), (None, None));
        assert!(stored.unreadable_reason.is_some());
        assert_eq!(stored.original_path, dir.join(file));
        assert_eq!(fs::read(dir.join(file)).expect("kept"), original);
        assert_eq!(stored.sha256, sha256_hex(&original));
    }
    assert_eq!(
        names(&dir),
        ["10.orig.wav", "7.orig.bin", "8.orig.ogg", "9.orig.bin"]
    );
}

#[tokio::test]
async fn silence_is_stored_and_flagged_without_speech() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (id, name) in [(1, "silence-8k.wav"), (2, "noise-8k.wav")] {
        let stored = store_recording(tmp.path(), id, at(2025, 2, 2, 2, 2), fixture(name), None)
            .await
            .expect("stored");
        assert_eq!(stored.status, AudioStatus::Stored);
        let analysis = stored.analysis.expect("analysis");
        assert!(!analysis.has_speech, "{name}");
        assert_eq!(analysis.duration_ms, 2000);
    }
}

#[tokio::test]
async fn storing_again_replaces_atomically_and_removes_what_no_longer_applies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let received = at(2024, 12, 31, 20, 59); // 23:59 in Moscow: still the 31st
    let dir = tmp.path().join("voicemail/2024/12/31");
    let store = |bytes: Vec<u8>| store_recording(tmp.path(), 5, received, bytes, None);

    let first = store(fixture("speech-8k-s16.wav")).await.expect("first");
    let second = store(fixture("speech-8k-s16.wav"))
        .await
        .expect("same again");
    assert_eq!(first, second);
    assert_eq!(names(&dir), ["5.orig.wav", "5.wav"]);

    let mp3 = store(fixture("speech-8k.mp3")).await.expect("now an MP3");
    assert_eq!(names(&dir), ["5.orig.mp3", "5.wav"]);
    assert_eq!(mp3.analysis.expect("analysis").format, SourceFormat::Mp3);

    let garbage = store(fixture("garbage.bin")).await.expect("now garbage");
    assert_eq!(garbage.status, AudioStatus::Unreadable);
    assert_eq!(
        names(&dir),
        ["5.orig.bin"],
        "the stale WAV and MP3 are gone"
    );
}

#[tokio::test]
async fn concurrent_stores_share_new_directories() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let received = at(2026, 1, 1, 0, 0);
    let tasks: Vec<_> = (0..8)
        .map(|id| {
            let dir: PathBuf = tmp.path().to_path_buf();
            let bytes = fixture("speech-8k-alaw.wav");
            tokio::spawn(async move { store_recording(&dir, id, received, bytes, None).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.expect("joined").expect("stored").status,
            AudioStatus::Stored
        );
    }
    assert_eq!(names(&voicemail_dir(tmp.path(), received)).len(), 16);
}

#[tokio::test]
async fn a_negative_id_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = store_recording(tmp.path(), -1, at(2025, 1, 1, 0, 0), vec![1, 2, 3], None)
        .await
        .expect_err("negative id");
    assert!(matches!(err, AudioError::InvalidId(-1)));
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn the_directory_follows_the_moscow_date() {
    let root = Path::new("/data");
    assert_eq!(
        voicemail_dir(root, at(2025, 3, 14, 20, 59)),
        Path::new("/data/voicemail/2025/03/14")
    );
    assert_eq!(
        voicemail_dir(root, at(2025, 3, 14, 21, 0)),
        Path::new("/data/voicemail/2025/03/15")
    );
    assert_eq!(
        voicemail_dir(root, at(2025, 12, 31, 22, 30)),
        Path::new("/data/voicemail/2026/01/01")
    );
}
