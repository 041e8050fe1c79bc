#!/usr/bin/env bash
# Builds the voice prompts of the demo support line with espeak-ng + sox.
#
#   prompts/en/<name>.txt     English text           -> prompts/en/<name>.wav
#   prompts/zh/<name>.pinyin  Mandarin, tone-number  -> prompts/zh/<name>.wav
#   prompts/zh/<name>.txt     Mandarin in Hanzi (shown in transcripts; not synthesised)
#   A text with placeholders ("{balance:money}") is spoken at run time with the call's values
#   (README "Spoken variables"): it has no WAV and no .pinyin.
#
# Every WAV is 8000 Hz, mono, 16-bit signed PCM, silence trimmed to ~150 ms at each end and
# normalised to -3 dBFS peak. The WAVs are committed, so running the server needs no espeak.
#
# Usage: scripts/make-prompts.sh [--force] [--check]
#   (no option)  regenerate a WAV only where it is missing or older than its text source
#   --force      regenerate every WAV
#   --check      generate nothing; exit 1 if a .txt has no .wav or a .wav is not 8 kHz mono 16-bit
#
# Pinyin input (voice cmn-latn-pinyin): syllables separated by spaces, tone digit 1-4 after
# each syllable, 5 for the neutral tone (a syllable without a digit is read as tone 1); ü is
# written v after n/l (nv3, lv4), u after j/q/x/y. Third-tone sandhi (3+3) is applied by espeak;
# 一/不 sandhi is not, so it is written out (yi2 wei4, bu2 yao4). Numbers are written as words.
# Clause breaks: "," ";" "?" "!". A "." only ends a sentence when the next word starts with a
# capital letter (". xie4" is read as an abbreviation, with no pause), so sentences are
# capitalised. Latin words that are not pinyin (Example Telecom) are read by the English voice.
set -euo pipefail

cd "$(dirname "$0")/.."

EN_VOICE=en                 # British English (the dialplan's words include "telly")
EN_SPEED=155                # words per minute: slow and clear for elderly callers
ZH_VOICE=cmn-latn-pinyin    # plain "cmn" reads Hanzi/Latin with the wrong voice
ZH_SPEED=175                # one "word" = one syllable: ~3.5 syllables/s with pauses
PAD=0.15                    # seconds of silence kept at each end
PEAK=-3                     # dBFS

force=0
check=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        --check) check=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "make-prompts: unknown option '$arg' (use --force or --check)" >&2; exit 2 ;;
    esac
done

# --- check -------------------------------------------------------------------------------
wav_ok() { # prints why a WAV is wrong, or nothing
    local f=$1 info
    if ! info=$(LC_ALL=C soxi "$f" 2>/dev/null); then
        echo "is not a readable WAV"; return
    fi
    local rate chans bits enc samples
    rate=$(soxi -r "$f"); chans=$(soxi -c "$f"); bits=$(soxi -b "$f"); samples=$(soxi -s "$f")
    enc=$(printf '%s\n' "$info" | sed -n 's/^Sample Encoding *: *//p')
    if [[ $rate != 8000 || $chans != 1 || $bits != 16 || $enc != "16-bit Signed Integer PCM" ]]; then
        echo "is $rate Hz, $chans channel(s), $bits-bit ($enc); it must be 8000 Hz, mono, 16-bit signed PCM"
    elif [[ $samples == 0 ]]; then
        echo "has no audio"
    fi
}

if (( check )); then
    command -v soxi >/dev/null || { echo "make-prompts --check: soxi (package sox) is needed" >&2; exit 1; }
    bad=0
    shopt -s nullglob
    for txt in prompts/*/*.txt; do
        # A text with placeholders ({balance:money}) is spoken at run time: no WAV.
        grep -q '{' "$txt" && continue
        [[ -f ${txt%.txt}.wav ]] || { echo "missing: ${txt%.txt}.wav (for $txt)" >&2; bad=1; }
    done
    for src in prompts/zh/*.pinyin; do
        [[ -f ${src%.pinyin}.txt ]] || { echo "missing: ${src%.pinyin}.txt (Hanzi text for $src)" >&2; bad=1; }
    done
    for txt in prompts/zh/*.txt; do
        grep -q '{' "$txt" && continue
        [[ -f ${txt%.txt}.pinyin ]] || { echo "missing: ${txt%.txt}.pinyin (synthesis source for $txt)" >&2; bad=1; }
    done
    for wav in prompts/*/*.wav; do
        why=$(wav_ok "$wav")
        [[ -z $why ]] || { echo "bad format: $wav $why" >&2; bad=1; }
    done
    if (( bad )); then
        echo "make-prompts --check: FAILED (run scripts/make-prompts.sh to rebuild)" >&2
        exit 1
    fi
    echo "make-prompts --check: all prompts present, 8000 Hz mono 16-bit"
    exit 0
fi

# --- build -------------------------------------------------------------------------------
tools_ready=0
ensure_tools() {
    (( tools_ready )) && return
    if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
        echo "make-prompts: installing espeak-ng and sox"
        local sudo=""
        [[ $(id -u) == 0 ]] || sudo=sudo
        $sudo apt-get update
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng sox
    fi
    tools_ready=1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render VOICE SPEED SRC OUT
render() {
    local voice=$1 speed=$2 src=$3 out=$4
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" -f "$src"
    # -D: no dither (deterministic output, clean silence). silence+reverse twice trims both
    # ends; pad puts back PAD seconds; gain -n normalises the peak.
    sox -D "$tmp/raw.wav" -r 8000 -c 1 -e signed -b 16 "$tmp/out.wav" \
        silence 1 0.02 0.1% reverse silence 1 0.02 0.1% reverse \
        pad "$PAD" "$PAD" gain -n "$PEAK"
    mv "$tmp/out.wav" "$out"
}

made=0
kept=0
shopt -s nullglob
build() { # LANG EXT VOICE SPEED
    local lang=$1 ext=$2 voice=$3 speed=$4 src wav
    for src in prompts/"$lang"/*."$ext"; do
        grep -q '{' "$src" && continue   # spoken at run time, with the call's values
        wav=${src%."$ext"}.wav
        if (( force )) || [[ ! -f $wav || $src -nt $wav ]]; then
            ensure_tools
            render "$voice" "$speed" "$src" "$wav"
            printf '  %-36s %5.2f s\n' "$wav" "$(soxi -D "$wav")"
            made=$((made + 1))
        else
            kept=$((kept + 1))
        fi
    done
}

build en txt "$EN_VOICE" "$EN_SPEED"
build zh pinyin "$ZH_VOICE" "$ZH_SPEED"
echo "make-prompts: $made generated, $kept up to date"
