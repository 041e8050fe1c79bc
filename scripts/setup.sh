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
  baresip-core      # a real softphone for tests/baresip_call.rs
)

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
echo "setup: ok"
