#!/usr/bin/env bash
# Checks the proxy half of scripts/cluster.sh without humanline: start-infra (PostgreSQL +
# Kamailio) with two sipp stand-ins on the nodes' SIP ports, then
#   1. 20 calls through the proxy: both stand-ins answer some, all succeed;
#   2. stand-in b killed, 4 calls at once: the proxy has not noticed yet, so calls sent to b
#      time out after 2 s and fail over to a (failure_route); all succeed;
#   3. 3 s later b is inactive (OPTIONS probes); 10 calls: all on a, all succeed;
#   4. b started again; 3 s later it is active again; 10 calls: both answer some;
#   5. a call with both stand-ins gone gets 503 from the proxy;
#   6. stop: no Kamailio, PostgreSQL or sipp process of ours is left.
# Also checks that the database answers as user humanline.
#
# Usage: scripts/cluster/standin-check.sh [DIR]   (DIR defaults to a new mktemp -d directory)
# Uses the same settings as cluster.sh (PROXY_PORT, PG_PORT, NODE_A_SIP, NODE_B_SIP).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER="$HERE/../cluster.sh"
DIR=${1:-$(mktemp -d /tmp/humanline-cluster.XXXXXX)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PROXY_PORT=${PROXY_PORT:-5080}
PG_PORT=${PG_PORT:-55432}
A_PORT=${NODE_A_SIP:-5081}
B_PORT=${NODE_B_SIP:-5082}
CALLER_PORT=${CALLER_PORT:-5099}
export PROXY_PORT PG_PORT NODE_A_SIP=$A_PORT NODE_B_SIP=$B_PORT NODES="a b"

fail() {
  echo "standin-check: FAIL: $*" >&2
  exit 1
}
say() { echo "standin-check: $*"; }

# Stand-in node: sipp answering OPTIONS and calls on the node's port; each answered INVITE is a
# line in DIR/standin-NAME.log. Its own session (setsid), pid in DIR/standin-NAME.pid.
start_standin() {
  local name=$1 port=$2 mp=$3
  # Not `cd DIR && sipp ... &`: that backgrounds a subshell, and $! would be the subshell's pid.
  cd "$DIR"
  setsid sipp -sf "$HERE/standin-node.xml" -i 127.0.0.1 -p "$port" -mp "$mp" -nostdin \
    -trace_logs -log_file "$DIR/standin-$name.log" -trace_err -error_file "$DIR/standin-$name.err" \
    >"$DIR/standin-$name.out" 2>&1 </dev/null &
  echo $! >"$DIR/standin-$name.pid"
  disown # we kill it ourselves; no "Killed" job notice from bash
  sleep 0.5
  alive "$(cat "$DIR/standin-$name.pid")" || fail "stand-in $name did not start: $(cat "$DIR/standin-$name.out")"
}

# True while the process runs (a killed but not yet reaped zombie counts as gone).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

stop_standin() {
  local name=$1 pid
  [ -f "$DIR/standin-$name.pid" ] || return 0
  pid=$(cat "$DIR/standin-$name.pid")
  kill -KILL "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.1; done
  rm -f "$DIR/standin-$name.pid"
}

# Calls answered so far by a stand-in.
answered() { grep -c '^INVITE' "$DIR/standin-$1.log" 2>/dev/null || true; }

# N calls through the proxy at RATE a second; sipp exits 0 only when every call succeeded.
place_calls() {
  local n=$1 rate=$2 tag=$3
  (cd "$DIR" && sipp -sf "$HERE/standin-caller.xml" -s support -i 127.0.0.1 -p "$CALLER_PORT" -mp 16100 \
    -m "$n" -r "$rate" -timeout 60s -timeout_error -nostdin -trace_err -error_file "$DIR/caller-$tag.err" \
    "127.0.0.1:$PROXY_PORT" >"$DIR/caller-$tag.out" 2>&1 </dev/null)
}

# The dispatcher's flags for a port ("AP" active+probing, "IP" inactive+probing).
ds_flags() {
  kamcmd -s "unix:$DIR/kamailio.ctl" dispatcher.list |
    awk -v u="sip:127.0.0.1:$1" '/URI:/ {cur=$2} /FLAGS:/ && cur==u {print $2}'
}

cleanup() {
  stop_standin a
  stop_standin b
  "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "cluster dir $DIR"
"$CLUSTER" start-infra "$DIR"

psql -X -h 127.0.0.1 -p "$PG_PORT" -U humanline humanline -tAc 'select 1' | grep -qx 1 ||
  fail "psql as humanline does not answer select 1"
say "PostgreSQL: select 1 as humanline ok"

start_standin a "$A_PORT" 16000
start_standin b "$B_PORT" 16010
sleep 2.5 # the probes that failed before the stand-ins ran are answered now
[ "$(ds_flags "$A_PORT")" = AP ] && [ "$(ds_flags "$B_PORT")" = AP ] ||
  fail "stand-ins are not both active: a=$(ds_flags "$A_PORT") b=$(ds_flags "$B_PORT")"

# 1. Both up.
place_calls 20 5 both || fail "calls with both nodes up failed; see $DIR/caller-both.*"
a1=$(answered a)
b1=$(answered b)
say "1. 20 calls, both up: a=$a1 b=$b1"
[ $((a1 + b1)) -eq 20 ] && [ "$a1" -gt 0 ] && [ "$b1" -gt 0 ] || fail "expected 20 calls over both"

# 2. b dies; the proxy still thinks it active: failover in failure_route.
stop_standin b
start=$(date +%s.%N)
place_calls 4 10 failover || fail "calls right after b died failed; see $DIR/caller-failover.*"
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
a2=$(answered a)
say "2. 4 calls right after b was killed: a=$((a2 - a1)) (took ${secs}s)"
[ $((a2 - a1)) -eq 4 ] || fail "expected all 4 on a"

# 3. b is inactive now; calls go straight to a.
sleep 3
[ "$(ds_flags "$B_PORT")" = IP ] || fail "b not inactive after 3 s: $(ds_flags "$B_PORT")"
start=$(date +%s.%N)
place_calls 10 5 one || fail "calls with b down failed; see $DIR/caller-one.*"
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
a3=$(answered a)
say "3. 10 calls with b down (dispatcher: b=$(ds_flags "$B_PORT")): a=$((a3 - a2)) (took ${secs}s)"
[ $((a3 - a2)) -eq 10 ] || fail "expected all 10 on a"

# 4. b back.
mv "$DIR/standin-b.log" "$DIR/standin-b-before.log"
start_standin b "$B_PORT" 16010
sleep 3
[ "$(ds_flags "$B_PORT")" = AP ] || fail "b not active again 3 s after restart: $(ds_flags "$B_PORT")"
place_calls 10 5 back || fail "calls after b came back failed; see $DIR/caller-back.*"
a4=$(answered a)
b4=$(answered b)
say "4. 10 calls after b restarted (dispatcher: b=$(ds_flags "$B_PORT")): a=$((a4 - a3)) b=$b4"
[ $((a4 - a3 + b4)) -eq 10 ] && [ "$b4" -gt 0 ] && [ $((a4 - a3)) -gt 0 ] || fail "expected 10 over both"

# 5. Nobody left: the proxy answers 503 itself.
stop_standin a
stop_standin b
sleep 3
if place_calls 1 1 none; then fail "a call with no node up succeeded?"; fi
grep -q '503' "$DIR/caller-none.err" || fail "no 503 with no node up; see $DIR/caller-none.*"
say "5. with both down: $(ds_flags "$A_PORT")/$(ds_flags "$B_PORT"), the call got 503"

# 6. stop leaves nothing.
"$CLUSTER" stop "$DIR"
trap - EXIT
left=$(pgrep -af "kamailio -f $DIR/|$DIR/pg|sipp .*$DIR" || true)
[ -z "$left" ] || fail "processes left after stop: $left"
say "6. stop left no kamailio/postgres/sipp process of $DIR"
say "PASS (logs in $DIR)"
