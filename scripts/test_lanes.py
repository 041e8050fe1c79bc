#!/usr/bin/env python3
"""Runs the built test binaries in two lanes at once (what `make test` does after building).

Most of the suite waits on real time: calls play prompts at 20 ms a frame, agents ring, a
browser loads a page. The tests that run the speech recogniser are the exception: they keep the
CPU busy. One after another (plain `cargo test`) the whole suite takes about 17 minutes on a
2-core machine; in two lanes, one for the recogniser's tests and one for everything else, the
waits of one lane overlap the work of the other and it takes about half as long.

A test file is in the recogniser's lane when its source calls `model_available(` or
`model_path(` (tests/common/speech.rs: the tests that load the whisper model). Inside a lane the
binaries run one after another, each with the working directory and environment `cargo test`
gives it; each binary's output is printed whole when it ends, so the lanes never interleave.
The doc tests (`cargo test --doc`, mostly compiling) run first in the recogniser's lane, the
shorter one. A lane that runs out of its own binaries takes the other lane's calls tests from
the far end of its list (the recogniser's tests are never run two at once), so both lanes end
at about the same time. The exit status is 1 when any binary failed, and a summary lists every binary with
its lane, its time and its result.

Usage: scripts/test_lanes.py [-- ARGS FOR EVERY TEST BINARY]
"""

import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARGO = os.environ.get("CARGO", "cargo")
RECOGNISER_MARKERS = ("model_available(", "model_path(")
# What `cargo test` gives a test binary it runs. Only the binaries get it: set for cargo itself,
# CARGO_MANIFEST_DIR changes what ring's build script depends on (it declares
# `rerun-if-env-changed=CARGO_MANIFEST_DIR`), and `cargo test --doc` rebuilt ring and everything
# above it (rustls, webrtc…: 77 s on CI) for nothing.
BINARY_ENV = {"CARGO_MANIFEST_DIR": ROOT, **os.environ}


def built_tests():
    """Builds the tests (a no-op after `cargo test --no-run`) and returns (name, path, source)."""
    proc = subprocess.run(
        [CARGO, "test", "--no-run", "--message-format=json-render-diagnostics"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit("test_lanes: building the tests failed")
    tests = []
    for line in proc.stdout.decode().splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        src = target["src_path"]
        kind = target["kind"][0]
        name = target["name"] if kind == "test" else f"unittests {os.path.relpath(src, ROOT)}"
        tests.append((name, msg["executable"], src))
    return sorted(tests)


def lane_of(src):
    """"recogniser" for test files that load the speech model, "calls" for the rest."""
    try:
        with open(src, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return "calls"
    return "recogniser" if any(m in text for m in RECOGNISER_MARKERS) else "calls"


class Report:
    """What each binary did, printed as it ends and summed up at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []

    def finished(self, lane, name, seconds, code, output):
        with self.lock:
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"\n===== {name} [{lane} lane] {status} in {seconds:.1f} s", flush=True)
            sys.stdout.write(output)
            sys.stdout.flush()
            self.rows.append((lane, name, seconds, code))


class Work:
    """Each lane's own binaries, and the calls tests either lane may take."""

    def __init__(self, own, shared):
        self.lock = threading.Lock()
        self.own = own
        self.shared = shared

    def next(self, lane):
        """The next binary for `lane`: its own first, then a calls test (the calls lane from the
        front of the list, the other from the back); `None` when nothing is left."""
        with self.lock:
            if self.own[lane]:
                return self.own[lane].pop(0)
            if not self.shared:
                return None
            return self.shared.pop(0) if lane == "calls" else self.shared.pop()


def run_lane(lane, work, args, report):
    while (test := work.next(lane)) is not None:
        name, exe, _ = test
        start = time.monotonic()
        command = [CARGO, "test", "--doc", "--", *args] if exe is None else [exe, *args]
        proc = subprocess.run(
            command,
            cwd=ROOT,
            env=BINARY_ENV if exe is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
        seconds = time.monotonic() - start
        report.finished(lane, name, seconds, proc.returncode, proc.stdout.decode(errors="replace"))


def main():
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    lanes = {"recogniser": [("doc tests", None, None)], "calls": []}
    for name, exe, src in built_tests():
        lanes[lane_of(src)].append((name, exe, src))
    work = Work({"recogniser": lanes["recogniser"], "calls": []}, lanes["calls"])
    report = Report()
    start = time.monotonic()
    threads = [
        threading.Thread(target=run_lane, args=(lane, work, args, report))
        for lane in lanes
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - start

    print("\n===== summary")
    for lane in ("recogniser", "calls"):
        rows = [r for r in report.rows if r[0] == lane]
        busy = sum(r[2] for r in rows)
        print(f"{lane} lane: {len(rows)} binaries, {busy:.0f} s")
        for _, name, seconds, code in sorted(rows, key=lambda r: -r[2]):
            mark = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"  {seconds:7.1f} s  {name}  {mark}")
    failed = [r[1] for r in report.rows if r[3] != 0]
    print(f"wall time {total:.0f} s; {len(failed)} failed" + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
