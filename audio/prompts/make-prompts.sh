#!/usr/bin/env bash
# Regenerates the Russian voice-prompt clips under audio/prompts/ from the clip catalogue
# of the `speech` module (src/speech/clips.rs), using espeak-ng's Russian voice and sox.
#
# Requirements (installs nothing itself; on Debian/Ubuntu, as root):
#     apt-get install -y espeak-ng sox
#
# Usage, from anywhere inside the repository:
#     audio/prompts/make-prompts.sh            # synthesize new or changed clips only
#     audio/prompts/make-prompts.sh --force    # resynthesize every clip
#
# The catalogue (TSV, `path<TAB>text`) comes from
#     cargo run --quiet --example prompt_catalogue
# run at the repository root; set CATALOGUE_TSV=/path/to/file.tsv to use a saved copy
# instead (for example when the crate does not build at the moment).
#
# Each clip: espeak-ng -v ru -s 140 → sox → 8 kHz mono 16-bit signed PCM WAV, leading and
# trailing silence trimmed, 20 ms of silence before and 80 ms after (so that concatenated
# fragments sound like one phrase), peak-normalized to -3 dBFS (-G guards against clipping
# in the resampler, -R makes the dither repeatable: the same text gives the same bytes).
#
# Idempotent: catalogue.tsv next to this script records the text each clip was made from;
# a clip is synthesized again only if it is missing, its text changed, or --force is given
# (use --force after changing the voice or the sox settings below).
# Clips under ru/ that are no longer in the catalogue are removed. Professionally recorded
# clips can replace the synthesized ones at the same paths: this script leaves a clip alone
# as long as its text in the catalogue does not change (see README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
manifest="$here/catalogue.tsv"
force=0

case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install -y espeak-ng sox" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ -n "${CATALOGUE_TSV:-}" ]]; then
    cp "$CATALOGUE_TSV" "$work/catalogue.tsv"
else
    (cd "$root" && cargo run --quiet --example prompt_catalogue) >"$work/catalogue.tsv"
fi
[[ -s "$work/catalogue.tsv" ]] || { echo "the catalogue is empty" >&2; exit 1; }

# What each existing clip was made from (previous run).
declare -A made_from=()
if [[ -f "$manifest" ]]; then
    while IFS=$'\t' read -r path text; do
        made_from["$path"]="$text"
    done <"$manifest"
fi

declare -A wanted=()
made=0
kept=0
while IFS=$'\t' read -r path text; do
    [[ "$path" =~ ^ru/[a-z]+/[a-z0-9_]+\.wav$ ]] || { echo "bad clip path: $path" >&2; exit 1; }
    [[ -n "$text" ]] || { echo "no text for $path" >&2; exit 1; }
    wanted["$path"]=1
    out="$here/$path"
    if [[ $force -eq 0 && -f "$out" && "${made_from[$path]-}" == "$text" ]]; then
        kept=$((kept + 1))
        continue
    fi
    mkdir -p "$(dirname "$out")"
    espeak-ng -v ru -s 140 -w "$work/tts.wav" "$text"
    sox -R -G "$work/tts.wav" -r 8000 -c 1 -b 16 -e signed-integer "$work/clip.wav" \
        silence 1 0.02 -50d reverse silence 1 0.02 -50d reverse \
        rate 8000 pad 0.02 0.08 gain -n -3
    mv "$work/clip.wav" "$out"
    made=$((made + 1))
    echo "made $path"
done <"$work/catalogue.tsv"

# Remove clips that are no longer in the catalogue, then empty directories.
removed=0
if [[ -d "$here/ru" ]]; then
    while IFS= read -r -d '' file; do
        rel="${file#"$here"/}"
        if [[ -z "${wanted[$rel]-}" ]]; then
            rm -f "$file"
            removed=$((removed + 1))
            echo "removed $rel"
        fi
    done < <(find "$here/ru" -type f -name '*.wav' -print0)
    find "$here/ru" -mindepth 1 -type d -empty -delete
fi

cp "$work/catalogue.tsv" "$manifest"
echo "clips: $made made, $kept unchanged, $removed removed; $(wc -l <"$manifest") in the catalogue"
