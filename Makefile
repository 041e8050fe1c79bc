# humanline — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh) and are safe to run again.

CARGO ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all setup build model run simulate test fuzz lint check-plans prompts bench eval turn-eval clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release

# The speech model: converts the wheels setup downloaded into models/ggml-base.bin (f16, what the
# tests load) and quantises it into models/ggml-base-q8_0.bin (what humanline.toml loads); once,
# a second run checks and returns. Other formats: humanline model install --format f16|q8_0|q5_1.
model: build
	./target/release/humanline model install --format q8_0

# Serves the demo support line on the defaults of humanline.toml: SIP on 127.0.0.1:5060 (UDP and
# TCP), sip:support@ (English) and sip:support_zh@ (Mandarin); REST API and metrics on :8080.
run: build model
	./target/release/humanline serve --config humanline.toml

# The interactive simulator on the demo plan: type what a caller says or presses.
simulate: build
	./target/release/humanline simulate dialplans/support.toml

# Everything: format, lint, the dialplan checker on the demo plans, and the whole test suite
# (with the speech model required: the tests run real recognition). `cargo test --no-run` builds
# the binary and the tests together: a separate `cargo build` would compile every dependency a
# second time (the tests' dev-dependencies change some crates' features), about 8 minutes on CI.
# The test binaries then run in two lanes at once (scripts/test_lanes.py): the tests that run the
# speech recogniser keep the CPU busy while the others mostly wait on real time (calls, rings,
# browsers). `cargo test` alone runs the same tests one binary after another.
test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --no-run
	./target/debug/humanline model install --format q8_0
	./target/debug/humanline check dialplans/support.toml dialplans/support_zh.toml
	HUMANLINE_REQUIRE_MODEL=1 HUMANLINE_REQUIRE_POSTGRES=1 HUMANLINE_REQUIRE_CLUSTER=1 CARGO=$(CARGO) python3 scripts/test_lanes.py

# The fuzz targets (proptest tests named fuzz_*: SIP, SDP, RTP/RTCP, RFC 4733, jitter buffer,
# dialplan TOML, console WebSocket frames, WebRTC SDP, the server's refusals) for a long run: 20 000 cases each in a
# release build, about as long as a coffee. `make test` runs the same targets with 256 cases each.
# A failing case is shrunk and saved under proptest-regressions/ (commit it with the fix).
fuzz: setup
	HUMANLINE_FUZZ_CASES=$${HUMANLINE_FUZZ_CASES:-20000} $(CARGO) test --release --lib fuzz_

lint: setup
	$(CARGO) fmt --all
	$(CARGO) clippy --all-targets -- -D warnings

check-plans: build
	./target/release/humanline check dialplans/*.toml

# Benchmarks against the release build, on a quiet machine: load and latency (a ramp of
# concurrent IVR calls under sipp with probe callers until a step has late RTP or failed calls,
# time to human for DTMF 0 and for a spoken request, first RTP after 200 OK, CPU and RSS per
# call; target/bench/sip_load.json), speech_load (callers who speak, EN and ZH clips made with
# espeak-ng: spoken request → agent INVITE, decision → INVITE per escalation reason, a ramp of
# speaking callers for speaking calls per core; target/bench/speech_load.json, at most about
# 6 minutes), speech (whisper real-time factor per window, VAD cost per call;
# target/bench/speech.json), then one report of all against DESIGN.md section 8 and the issue 14
# targets (target/bench/report.txt, report.json, latency_vs_load.svg). About 16 minutes on 2 cores.
bench: model
	$(CARGO) bench --bench sip_load
	$(CARGO) bench --bench speech_load
	$(CARGO) bench --bench speech
	$(CARGO) bench --bench report

# Understanding, measured: the spoken corpus eval/corpus.toml (EN and ZH: requests for a person,
# negated and reported mentions, ordinary answers, hesitant callers), made into phone-band clips
# by espeak-ng and sox (several voices, rates, pitches, some with line noise) and said over real
# SIP to the release server, 12 calls at a time. Prints per language first-ask recall, false
# escalation, mentions escalated, routing accuracy, hesitant callers reaching a person, and the
# confusion list; writes target/eval/report.txt and report.json. About 12 minutes on 2 cores.
# A quick look: EVAL_LIMIT=20 make eval (or EVAL_ONLY=zh-request). Exits 0 whatever the figures.
# The release server is built by cargo bench itself (`make build` first would compile every
# dependency a second time: the benches' dev-dependencies change some crates' features).
eval: setup
	$(CARGO) bench --bench eval --no-run
	./target/release/humanline model install --format q8_0
	$(CARGO) bench --bench eval

# The end-of-turn model Smart Turn v3.2 and the voice detector Silero VAD (from pinned PyPI
# wheels, with ONNX Runtime's library from the onnxruntime wheel: scripts/turn-models.sh),
# measured against the product's voice detector and endpointing on the clips of the last
# `make eval` (run that first). Prints the figures the README quotes; target/turn_eval/report.json.
turn-eval: setup
	bash scripts/turn-models.sh
	$(CARGO) run --release --features turn-models --example turn_models

# Regenerates prompts/<lang>/*.wav from their text (needs espeak-ng and sox; installs them).
prompts:
	bash scripts/make-prompts.sh

clean:
	$(CARGO) clean
