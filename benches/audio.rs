//! Voicemail audio: decode + analyse + store of a 60 s recording, per provider format.
//! The goal is < 20 ms of CPU time per recording (the fetch is measured elsewhere).
//!
//! Inputs are built from the committed fixtures (`tests/data/audio/`): a 60 s 8 kHz µ-law WAV
//! (Twilio's voicemail), a 60 s 8 kHz 16-bit WAV, a 60 s 8 kHz mono 32 kbps MP3 and a 60 s
//! 44.1 kHz stereo 96 kbps MP3 (the heavy case), by repeating the fixtures' audio.
//!
//! Groups: `cpu_store` is the whole `store_recording_blocking` (decode, analyse, write the
//! original and the WAV with fsyncs and renames) in **process CPU time** (Linux
//! `CLOCK_PROCESS_CPUTIME_ID`; elsewhere wall time), so disk latency does not count;
//! `cpu_decode_analyse` is the same without the files; `wall_store` is the async
//! `store_recording` through `spawn_blocking` in wall-clock time, fsyncs included.
//!
//! Run: `cargo bench --bench audio`.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use perezvon::audio::{analyse, decode, store_recording, store_recording_blocking};

/// CPU time consumed by the whole process so far.
#[cfg(target_os = "linux")]
fn cpu_now() -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        safe fn clock_gettime(clock_id: i32, tp: &mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    assert_eq!(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts), 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn cpu_now() -> Duration {
    use std::sync::LazyLock;
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    START.elapsed()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/audio")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The contents of the `data` chunk of a canonical WAV fixture.
fn wav_data(wav: &[u8]) -> &[u8] {
    let at = wav
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk");
    let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
    &wav[at + 8..at + 8 + len]
}

/// A WAV of `seconds` of 8 kHz mono: the fixture's audio repeated.
fn wav_60s(fixture_name: &str, tag: u16, bits: u16, seconds: usize) -> Vec<u8> {
    let source = fixture(fixture_name);
    let bytes_per_second = 8000 * usize::from(bits / 8);
    let data: Vec<u8> = wav_data(&source)
        .iter()
        .copied()
        .cycle()
        .take(seconds * bytes_per_second)
        .collect();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&(bytes_per_second as u32).to_le_bytes());
    out.extend_from_slice(&(bits / 8).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// An MP3 of about `seconds` (whole copies, so within ±2 s): the fixture's frames without its Xing/Info frame (whose frame
/// count would cut the stream short), repeated.
fn mp3_60s(fixture_name: &str, seconds: f64) -> Vec<u8> {
    let source = fixture(fixture_name);
    let second_frame = 4 + source[4..]
        .windows(2)
        .position(|w| w == &source[..2])
        .expect("frames");
    let frames = &source[second_frame..];
    let copy = decode(frames).expect("the fixture decodes");
    let copy_s = copy.samples.len() as f64 / f64::from(copy.sample_rate);
    let copies = (seconds / copy_s).round() as usize;
    frames.repeat(copies)
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let inputs = vec![
        ("ulaw_8k", wav_60s("speech-8k-ulaw.wav", 7, 8, 60)),
        ("pcm16_8k", wav_60s("speech-8k-s16.wav", 1, 16, 60)),
        ("mp3_8k_mono_32k", mp3_60s("speech-8k.mp3", 60.0)),
        ("mp3_44k_stereo_96k", mp3_60s("tone-44k-stereo.mp3", 60.0)),
    ];
    for (name, bytes) in &inputs {
        let d = decode(bytes).expect("the bench input decodes");
        let (duration_ms, has_speech, _, _) = analyse(&d);
        assert!(
            (57_000..=63_000).contains(&duration_ms),
            "{name}: {duration_ms} ms"
        );
        eprintln!(
            "{name}: {} bytes, {duration_ms} ms, {} Hz, speech {has_speech}",
            bytes.len(),
            d.sample_rate
        );
    }
    inputs
}

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    let received = Utc
        .with_ymd_and_hms(2025, 3, 14, 22, 30, 0)
        .single()
        .expect("instant");
    let tmp = tempfile::tempdir().expect("tempdir");

    let mut group = c.benchmark_group("cpu_store");
    for (name, bytes) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter_custom(|iters| {
                let start = cpu_now();
                for _ in 0..iters {
                    store_recording_blocking(tmp.path(), 1, received, bytes, None).expect("stored");
                }
                cpu_now() - start
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("cpu_decode_analyse");
    for (name, bytes) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter_custom(|iters| {
                let start = cpu_now();
                for _ in 0..iters {
                    let d = decode(bytes).expect("decodes");
                    std::hint::black_box(analyse(&d));
                }
                cpu_now() - start
            })
        });
    }
    group.finish();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("wall_store");
    for (name, bytes) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let owned = bytes.clone();
                    runtime
                        .block_on(store_recording(tmp.path(), 2, received, owned, None))
                        .expect("stored");
                }
                start.elapsed()
            })
        });
    }
    group.finish();

    // The whole job as the worker runs it: fetch from a local HTTP server standing in for Twilio's
    // media API (the Twilio client with Basic auth), then decode, analyse and store. CPU time is the
    // process's, so it also counts the in-process server's work: an upper bound.
    let mut group = c.benchmark_group("cpu_fetch_store");
    for (name, bytes) in inputs.iter().filter(|(n, _)| !n.starts_with("mp3_44k")) {
        let body = bytes.clone();
        let addr = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let app = axum::Router::new().route(
                "/2010-04-01/Accounts/{ac}/Recordings/{re}",
                axum::routing::get(move || {
                    let body = body.clone();
                    async move { body }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        let client = perezvon::telephony::twilio::TwilioClient::new(
            &format!("http://{addr}"),
            "AC0123456789abcdef0123456789abcdef",
            "token",
        )
        .expect("client");
        let url = format!(
            "http://{addr}/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1"
        );
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let start = cpu_now();
                for _ in 0..iters {
                    runtime.block_on(async {
                        let data = client
                            .fetch_recording(&url, 64 << 20)
                            .await
                            .expect("fetched");
                        store_recording(tmp.path(), 3, received, data, None)
                            .await
                            .expect("stored");
                    });
                }
                cpu_now() - start
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
