#!/usr/bin/env bash
# Regenerates the audio fixtures of `tests/audio.rs` and the unit tests of `src/audio/`.
#
# Requirements (installs nothing itself; on Debian, as root):
#     apt-get install -y espeak-ng sox libsox-fmt-mp3 lame
#
# Usage: tests/data/audio/make-fixtures.sh   (from anywhere; writes next to this script)
#
# The fixtures are committed, so the tests never need these tools. They are tiny on purpose
# (a few seconds at 8 kHz, each under 100 KB). The speech is espeak-ng's Russian voice; the
# tones, silence and noise come from sox (`-R`: repeatable dither and noise). garbage.bin and
# truncated.wav are deliberately unreadable. Regenerating changes the bytes of the speech
# and noise files (espeak/sox versions), so tests check properties, never checksums.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
for tool in espeak-ng sox lame; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install -y espeak-ng sox libsox-fmt-mp3 lame" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Speech: a short voicemail-like phrase, 8 kHz mono, 0.3 s of silence before and after.
espeak-ng -v ru -s 150 -w "$work/raw.wav" "Здравствуйте, перезвоните мне, пожалуйста."
sox -R "$work/raw.wav" -r 8000 -c 1 -b 16 "$work/speech.wav" \
    silence 1 0.05 0.1% reverse silence 1 0.05 0.1% reverse gain -n -3 pad 0.3 0.3

sox -R "$work/speech.wav" -e signed-integer -b 16 speech-8k-s16.wav
sox -R "$work/speech.wav" -e u-law -b 8 speech-8k-ulaw.wav
sox -R "$work/speech.wav" -e a-law -b 8 speech-8k-alaw.wav
sox -R "$work/speech.wav" -e unsigned-integer -b 8 speech-8k-u8.wav
# MP3 as the other providers send it: lame writes the Xing/LAME tag (encoder delay, padding).
lame --quiet -b 32 -m m "$work/speech.wav" speech-8k.mp3

# MPEG-1 stereo MP3 at 44.1 kHz: 1 s, 440 Hz left and 660 Hz right.
sox -R -n -r 44100 -c 2 -b 16 "$work/tone.wav" synth 1 sine 440 sine 660 gain -6
lame --quiet -b 96 -m j --resample 44.1 "$work/tone.wav" tone-44k-stereo.mp3

# Stereo WAV: 1 s, 440 Hz at -6 dBFS on the left, digital silence on the right, so the
# mono downmix peaks near -12 dBFS.
sox -R -D -n -r 8000 -c 1 -b 16 "$work/left.wav" synth 1 sine 440 gain -6
sox -R -D -n -r 8000 -c 1 -b 16 "$work/right.wav" trim 0 1
sox -R -D -M "$work/left.wav" "$work/right.wav" -b 16 tone-8k-stereo.wav

# Wider sample formats (sox writes WAVE_FORMAT_EXTENSIBLE for these): 0.5 s of 440 Hz.
sox -R -n -r 8000 -c 1 -b 24 tone-8k-s24.wav synth 0.5 sine 440 gain -6
sox -R -n -r 8000 -c 1 -e floating-point -b 32 tone-8k-f32.wav synth 0.5 sine 440 gain -6

# Silence: 2 s of digital zeros; and 2 s of low white noise (about -65 dBFS RMS) with a
# faint 50 Hz hum, like an open line nobody speaks on.
sox -R -D -n -r 8000 -c 1 -b 16 silence-8k.wav trim 0 2
sox -R -D -n -r 8000 -c 1 -b 16 "$work/white.wav" synth 2 whitenoise vol 0.001
sox -R -D -n -r 8000 -c 1 -b 16 "$work/hum.wav" synth 2 sine 50 vol 0.0005
sox -R -D -m "$work/white.wav" "$work/hum.wav" -b 16 noise-8k.wav

# Unreadable: random bytes, and the speech WAV cut in the middle of its data chunk.
head -c 2048 /dev/urandom > garbage.bin
head -c 3000 speech-8k-s16.wav > truncated.wav

ls -l "$here"
