#!/usr/bin/env bash
# A two-node humanline cluster on loopback, for tests and for trying it out:
#
#   PostgreSQL (its own cluster in DIR/pg, port PG_PORT)   <- the store both nodes share
#   Kamailio   (DIR/kamailio.cfg, udp:127.0.0.1:PROXY_PORT) -> node a, node b (dispatcher set 1)
#   humanline  nodes (DIR/node-N.toml, SIP NODE_N_SIP, HTTP NODE_N_HTTP)
#
# Usage (as root: PostgreSQL runs as the `postgres` user, via runuser):
#   scripts/cluster.sh start DIR         start-infra, then start-node for every node of NODES
#   scripts/cluster.sh start-infra DIR   PostgreSQL and Kamailio only (e.g. with stand-in nodes)
#   scripts/cluster.sh start-node DIR N  one humanline node; waits for /healthz
#   scripts/cluster.sh stop-node DIR N   stops that node (SIGTERM: it drains, then exits)
#   scripts/cluster.sh stop DIR          stops everything DIR runs (nodes, Kamailio, PostgreSQL)
#   scripts/cluster.sh status DIR        what DIR runs, and the proxy's view of the nodes
#
# scripts/cluster/standin-check.sh checks the proxy part with sipp stand-ins for the nodes.
#
# Everything lives in DIR (pid files, logs, configs, the database), so several clusters can run
# side by side with other ports, and `stop DIR` finds exactly what `start DIR` started. The
# settings are recorded in DIR/cluster.env by start-infra; later commands on DIR use those.
#
# Settings (environment; all addresses are 127.0.0.1):
#   PROXY_PORT=5080   Kamailio's SIP port (UDP)
#   PG_PORT=55432     PostgreSQL's port (never the system cluster's 5432)
#   NODES="a b"       node names; the dispatcher list is made of these nodes whether or not
#                     humanline runs on their ports (start-infra + stand-ins on those ports)
#   NODE_A_SIP=5081 NODE_B_SIP=5082 NODE_A_HTTP=8081 NODE_B_HTTP=8082
#                     per-node ports (NODE_<NAME>_SIP/HTTP; other names default to 5081+i/8081+i,
#                     i = the node's place in NODES)
#   HUMANLINE_BIN=target/release/humanline   relative to the repository root
#   NODE_CONFIG_EXTRA=""   text appended verbatim to each node's config (read by start-node)
#   QUEUE_AGENTS='"sip:agent@127.0.0.1:5070"'   the agents of both demo queues (TOML list items)
#   QUEUE_SETTINGS=""      more lines for both queue tables (e.g. wrap_up_seconds = 0)
#   SIP_SETTINGS=""        more lines for each node's [sip] table (e.g. overload_late_ratio = 1.0)
#   HEALTH_TIMEOUT=30      seconds a node has to answer /healthz
#   NODE_STOP_TIMEOUT=45   seconds a node has to exit after SIGTERM (it drains calls for up to
#                          [sip] drain_seconds = 30) before it gets SIGKILL
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
TEMPLATES="$REPO/scripts/cluster"

die() {
  echo "cluster: error: $*" >&2
  exit 1
}
say() { echo "cluster: $*"; }

usage() {
  sed -n '/^# Usage/,/^# scripts\/cluster\/standin-check/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Settings

# Upper-cased node name, for the NODE_<NAME>_* variables.
upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# The value of the variable named $1, or $2 when it is unset or empty.
var_or() {
  local v="${!1:-}"
  printf '%s\n' "${v:-$2}"
}

# Fills in every setting from the environment (or the defaults), then, when DIR already has a
# cluster.env from an earlier start-infra, from that: the ports of a running cluster must not
# change under it because a later command was called with another environment.
load_settings() {
  local dir=$1
  PROXY_PORT=${PROXY_PORT:-5080}
  PG_PORT=${PG_PORT:-55432}
  NODES=${NODES-a b}
  NODE_A_SIP=${NODE_A_SIP:-5081}
  NODE_B_SIP=${NODE_B_SIP:-5082}
  NODE_A_HTTP=${NODE_A_HTTP:-8081}
  NODE_B_HTTP=${NODE_B_HTTP:-8082}
  if [ -f "$dir/cluster.env" ]; then
    # shellcheck source=/dev/null
    . "$dir/cluster.env"
  fi
  HUMANLINE_BIN=${HUMANLINE_BIN:-target/release/humanline}
  NODE_CONFIG_EXTRA=${NODE_CONFIG_EXTRA:-}
  QUEUE_AGENTS=${QUEUE_AGENTS:-}
  [ -n "$QUEUE_AGENTS" ] || QUEUE_AGENTS='"sip:agent@127.0.0.1:5070"'
  QUEUE_SETTINGS=${QUEUE_SETTINGS:-}
  SIP_SETTINGS=${SIP_SETTINGS:-}
  HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-30}
  NODE_STOP_TIMEOUT=${NODE_STOP_TIMEOUT:-45}
}

# A node's place in NODES (0, 1...); a and b keep 0 and 1 so that their defaults match the
# documented ones whatever the order.
node_slot() {
  local want=$1 n i=0
  case $want in a) echo 0; return ;; b) echo 1; return ;; esac
  for n in $NODES; do
    [ "$n" = "$want" ] && { echo "$i"; return; }
    i=$((i + 1))
  done
  die "node '$want' is not in NODES ($NODES)"
}
node_sip_port() { var_or "NODE_$(upper "$1")_SIP" $((5081 + $(node_slot "$1"))); }
node_http_port() { var_or "NODE_$(upper "$1")_HTTP" $((8081 + $(node_slot "$1"))); }
# Each node gets its own 999-port RTP range: 30000-30998 for a, 31000-31998 for b...
node_rtp_min() { echo $((30000 + 1000 * $(node_slot "$1"))); }

# Checks names and ports before anything starts, so a mistake fails at once and clearly.
validate_settings() {
  local n p seen=" "
  for n in $NODES; do
    [[ $n =~ ^[a-z0-9]+$ ]] || die "node name '$n' in NODES: use lower-case letters and digits"
  done
  for p in "$PROXY_PORT" "$PG_PORT" $(for n in $NODES; do node_sip_port "$n"; node_http_port "$n"; done); do
    [[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "'$p' is not a port number"
    [[ $seen == *" $p "* ]] && die "port $p is used twice in the settings"
    seen+="$p "
  done
  [ "$PG_PORT" != 5432 ] || die "PG_PORT=5432 is the system PostgreSQL's port; pick another"
}

# Records the settings in DIR/cluster.env (shell syntax, values quoted with %q).
save_settings() {
  local dir=$1 n u
  {
    echo "# written by scripts/cluster.sh start-infra; read by its later commands on this DIR"
    printf 'PROXY_PORT=%q\nPG_PORT=%q\nNODES=%q\n' "$PROXY_PORT" "$PG_PORT" "$NODES"
    for n in $NODES; do
      u=$(upper "$n")
      printf 'NODE_%s_SIP=%q\nNODE_%s_HTTP=%q\n' "$u" "$(node_sip_port "$n")" "$u" "$(node_http_port "$n")"
    done
  } >"$dir/cluster.env"
}

# ---------------------------------------------------------------------------------------------
# Processes

# True while the process runs. A process that exited but was not reaped yet (a zombie: our
# daemons' parent is init once this script exits, and init may reap late) counts as gone.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# The pid in a pid file, if that process still runs (pid files may outlive their process).
live_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 1
  pid=$(head -n1 "$file" 2>/dev/null | tr -dc '0-9')
  [ -n "$pid" ] && alive "$pid" || return 1
  echo "$pid"
}

# Stops the process of a pid file: SIGTERM to its process group (we start each one in a session
# of its own, with setsid, so its children go with it), SIGKILL after `timeout` seconds. `mark`
# must appear in the process's command line (its config file in DIR): a pid that now belongs to
# some other program (pid files can outlive a reboot) is left alone.
stop_pidfile() {
  local file=$1 what=$2 mark=$3 timeout=$4 pid target i cmdline
  if ! pid=$(live_pid "$file"); then
    rm -f "$file"
    return 0
  fi
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  if [[ $cmdline != *"$mark"* ]]; then
    say "$what: pid $pid in $file is not ours (no $mark in its command line); not touching it"
    rm -f "$file"
    return 0
  fi
  target=$pid
  [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] && target=-$pid
  say "stopping $what (pid $pid)"
  kill -TERM -- "$target" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "$what did not exit within ${timeout}s; SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    sleep 0.2
  fi
  # A group member that outlived its leader (e.g. a Kamailio worker after SIGKILL).
  [ "$target" != "$pid" ] && kill -KILL -- "$target" 2>/dev/null || true
  rm -f "$file"
}

# True when something listens on 127.0.0.1:port (or any address) for udp/tcp.
port_busy() {
  local proto=$1 port=$2 flag=-lnt
  [ "$proto" = udp ] && flag=-lnu
  [ -n "$(ss -H "$flag" "sport = :$port" 2>/dev/null)" ]
}

require_free() {
  local proto=$1 port=$2 what=$3 flag=-lntp
  [ "$proto" = udp ] && flag=-lnup
  ! port_busy "$proto" "$port" ||
    die "$proto port $port ($what) is already in use: $(ss -H "$flag" "sport = :$port" 2>/dev/null | head -n1)"
}

tail_log() {
  echo "---- last 30 lines of $1 ----" >&2
  tail -n 30 "$1" >&2 || true
  echo "----" >&2
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a cluster of our own in DIR/pg, run as the postgres user (the server refuses to
# run as root), listening on 127.0.0.1:PG_PORT and a socket in DIR/pgsock only.

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$d"
}

as_postgres() { runuser -u postgres -- "$@"; }

pg_psql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

start_postgres() {
  local dir=$1 bin
  bin=$(pg_bindir)
  id postgres >/dev/null 2>&1 || die "no 'postgres' user (install the postgresql package)"
  require_free tcp "$PG_PORT" "PG_PORT"
  mkdir -p "$dir/pg" "$dir/pgsock"
  chown postgres: "$dir/pg" "$dir/pgsock"
  chmod 700 "$dir/pg"
  as_postgres test -w "$dir/pgsock" ||
    die "the postgres user cannot reach $dir (every directory above it needs o+x)"
  # An existing data directory (from an earlier start on this DIR) is reused: the data stays.
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    say "initdb $dir/pg ($bin)"
    # -A trust: no passwords on this loopback-only test cluster; --no-sync: it is throw-away.
    as_postgres "$bin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { tail_log "$dir/initdb.log"; die "initdb failed"; }
  fi
  touch "$dir/pg.log"
  chown postgres: "$dir/pg.log"
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_postgres "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 30 \
    -o "-p $PG_PORT -k $dir/pgsock -c listen_addresses=127.0.0.1" start >/dev/null ||
    { tail_log "$dir/pg.log"; die "PostgreSQL did not start"; }
  # The role and database humanline's [store] connects to; created once.
  if [ -z "$(pg_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'humanline'")" ]; then
    pg_psql -c "CREATE ROLE humanline LOGIN"
  fi
  if [ -z "$(pg_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'humanline'")" ]; then
    pg_psql -c "CREATE DATABASE humanline OWNER humanline"
  fi
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U humanline humanline -tAc "SELECT 1" >/dev/null ||
    die "cannot connect to database humanline as humanline"
}

postgres_running() { [ -f "$1/pg/postmaster.pid" ] && as_postgres "$(pg_bindir)/pg_ctl" -D "$1/pg" status >/dev/null 2>&1; }

stop_postgres() {
  local dir=$1 pid
  [ -d "$dir/pg" ] || return 0
  if postgres_running "$dir"; then
    say "stopping PostgreSQL"
    as_postgres "$(pg_bindir)/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >/dev/null && return 0
  fi
  # pg_ctl could not do it (or is missing): the postmaster's pid is the first line of its file.
  if pid=$(live_pid "$dir/pg/postmaster.pid") && [ "$(ps -o comm= -p "$pid")" = postgres ]; then
    say "PostgreSQL (pid $pid) still runs; SIGQUIT then SIGKILL"
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 2
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------------------------------------
# Kamailio: DIR/kamailio.cfg from the template, DIR/dispatcher.list from NODES.

# The text with sed's special characters (\ & and our delimiter |) escaped, for a replacement.
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

write_kamailio_files() {
  local dir=$1 n
  {
    echo "# set 1: the humanline nodes (written by scripts/cluster.sh)"
    echo "# setid destination flags priority attrs"
    for n in $NODES; do
      echo "1 sip:127.0.0.1:$(node_sip_port "$n") 0 0 name=node-$n"
    done
  } >"$dir/dispatcher.list"
  sed -e "s|@PROXY_PORT@|$(sed_escape "$PROXY_PORT")|g" -e "s|@DIR@|$(sed_escape "$dir")|g" \
    "$TEMPLATES/kamailio.cfg" >"$dir/kamailio.cfg"
}

# One OPTIONS to the proxy itself; Kamailio answers 200 once it routes SIP.
probe_proxy() {
  local dir=$1
  (cd "$dir" && timeout 10 sipp -sf "$TEMPLATES/options-probe.xml" -m 1 -i 127.0.0.1 \
    -timeout 2s -timeout_error -nostdin "127.0.0.1:$PROXY_PORT" >"$dir/probe.log" 2>&1 </dev/null)
}

start_kamailio() {
  local dir=$1 pid i
  command -v kamailio >/dev/null || die "kamailio is not installed (apt-get install kamailio)"
  command -v sipp >/dev/null || die "sipp is not installed (apt-get install sip-tester)"
  [ -n "$NODES" ] || die "NODES is empty: the proxy needs at least one node to dispatch to"
  require_free udp "$PROXY_PORT" "PROXY_PORT"
  write_kamailio_files "$dir"
  kamailio -c -f "$dir/kamailio.cfg" >"$dir/kamailio-check.log" 2>&1 ||
    { tail_log "$dir/kamailio-check.log"; die "$dir/kamailio.cfg does not pass kamailio -c"; }
  say "starting Kamailio on udp:127.0.0.1:$PROXY_PORT ->$(for n in $NODES; do printf ' %s:%s' "$n" "$(node_sip_port "$n")"; done)"
  # -DD: the main process stays in the foreground (its pid, $!, is ours to stop; it takes its
  # workers down with it); -E: log to stderr, i.e. DIR/kamailio.log; setsid: its own process
  # group, so that stop can signal the workers too if the main process is gone. No -P: we write
  # the pid file ourselves, at once, and Kamailio 5.6 refuses to start when the -P file already
  # names a running process (which would be itself).
  setsid kamailio -f "$dir/kamailio.cfg" -w "$dir" -DD -E \
    >"$dir/kamailio.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/kamailio.pid"
  for ((i = 0; i < 20; i++)); do
    alive "$pid" || { tail_log "$dir/kamailio.log"; die "Kamailio exited at start-up"; }
    if probe_proxy "$dir"; then
      say "Kamailio is up (pid $pid; log $dir/kamailio.log)"
      return 0
    fi
    sleep 0.5
  done
  tail_log "$dir/kamailio.log"
  tail_log "$dir/probe.log"
  die "Kamailio runs but does not answer OPTIONS on 127.0.0.1:$PROXY_PORT"
}

stop_kamailio() { stop_pidfile "$1/kamailio.pid" Kamailio "$1/kamailio.cfg" 10; }

# ---------------------------------------------------------------------------------------------
# humanline nodes

write_node_config() {
  local dir=$1 n=$2 rtp
  rtp=$(node_rtp_min "$n")
  cat >"$dir/node-$n.toml" <<EOF
# node $n of the cluster in $dir (written by scripts/cluster.sh start-node)
[sip]
bind = "127.0.0.1:$(node_sip_port "$n")"
# Every request comes through the proxy, from 127.0.0.1: the per-source flood limit must not
# count all callers as one source.
trusted_peers = ["127.0.0.1"]
$SIP_SETTINGS

[http]
bind = "127.0.0.1:$(node_http_port "$n")"
api_token = "cluster-test-token"

[paths]
dialplans = "$REPO/dialplans"
prompts = "$REPO/prompts"
database = "$dir/node-$n.db"          # unused when [store] postgres is set
recordings = "$dir/recordings-$n"

[media]
rtp_port_min = $rtp
rtp_port_max = $((rtp + 998))

[store]
postgres = "host=127.0.0.1 port=$PG_PORT user=humanline dbname=humanline"
node = "node-$n"

[asr]
model = "$REPO/models/ggml-base.bin"
workers = 1
threads = 1

[queues.support]
agents = [$QUEUE_AGENTS]
$QUEUE_SETTINGS

[queues.support_zh]
agents = [$QUEUE_AGENTS]
$QUEUE_SETTINGS
EOF
  if [ -n "$NODE_CONFIG_EXTRA" ]; then
    printf '\n%s\n' "$NODE_CONFIG_EXTRA" >>"$dir/node-$n.toml"
  fi
}

start_node() {
  local dir=$1 n=$2 pid sip http bin i body
  node_slot "$n" >/dev/null
  pid=$(live_pid "$dir/node-$n.pid") && die "node $n already runs (pid $pid); stop-node it first"
  bin=$HUMANLINE_BIN
  [ -x "$bin" ] || die "HUMANLINE_BIN=$bin is not an executable (build it: cargo build --release)"
  postgres_running "$dir" || die "PostgreSQL of $dir is not running; start-infra first"
  sip=$(node_sip_port "$n")
  http=$(node_http_port "$n")
  require_free udp "$sip" "node $n SIP"
  require_free tcp "$sip" "node $n SIP"
  require_free tcp "$http" "node $n HTTP"
  mkdir -p "$dir/recordings-$n"
  write_node_config "$dir" "$n"
  say "starting node $n (SIP 127.0.0.1:$sip, HTTP 127.0.0.1:$http)"
  # Appends, so the log of an earlier run of this node (e.g. before a stop-node) stays readable.
  echo "==== cluster.sh start-node $n at $(date -Is)" >>"$dir/node-$n.log"
  setsid "$bin" serve --config "$dir/node-$n.toml" >>"$dir/node-$n.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/node-$n.pid"
  for ((i = 0; i < HEALTH_TIMEOUT * 4; i++)); do
    if ! alive "$pid"; then
      rm -f "$dir/node-$n.pid"
      tail_log "$dir/node-$n.log"
      die "node $n exited at start-up (config $dir/node-$n.toml)"
    fi
    body=$(curl -fsS --max-time 1 "http://127.0.0.1:$http/healthz" 2>/dev/null || true)
    if [ "$body" = ok ]; then
      say "node $n is up (pid $pid; log $dir/node-$n.log)"
      return 0
    fi
    sleep 0.25
  done
  tail_log "$dir/node-$n.log"
  stop_pidfile "$dir/node-$n.pid" "node $n" "$dir/node-$n.toml" 5
  die "node $n did not answer http://127.0.0.1:$http/healthz within ${HEALTH_TIMEOUT}s"
}

stop_node() {
  local dir=$1 n=$2
  stop_pidfile "$dir/node-$n.pid" "node $n" "$dir/node-$n.toml" "$NODE_STOP_TIMEOUT"
}

# ---------------------------------------------------------------------------------------------
# Commands

# DIR as an absolute path, created when missing. The postgres user must be able to traverse it
# (mktemp -d makes 0700 directories).
prepare_dir() {
  [ -n "${1:-}" ] || usage
  case $2 in
    create) mkdir -p "$1" ;;
    *) [ -d "$1" ] || die "no such directory: $1" ;;
  esac
  DIR=$(cd "$1" && pwd)
  [[ $DIR != *[\"\\]* ]] || die "DIR must not contain quotes or backslashes (it goes into TOML)"
  chmod 755 "$DIR"
  load_settings "$DIR"
}

# What DIR runs now, as words; empty when nothing.
running_parts() {
  local dir=$1 f parts=""
  for f in "$dir"/node-*.pid; do
    [ -e "$f" ] && live_pid "$f" >/dev/null && parts+="$(basename "$f" .pid) "
  done
  live_pid "$dir/kamailio.pid" >/dev/null && parts+="kamailio "
  [ -d "$dir/pg" ] && postgres_running "$dir" && parts+="postgres "
  printf '%s' "${parts% }"
}

# A failed start stops what it started, so that no process is left behind.
ROLLBACK_DIR=""
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$ROLLBACK_DIR" ]; then
    say "start failed; stopping what it started"
    ROLLBACK_DIR_NOW=$ROLLBACK_DIR
    ROLLBACK_DIR=""
    cmd_stop "$ROLLBACK_DIR_NOW" || true
  fi
  exit "$rc"
}
trap on_exit EXIT

cmd_start_infra() {
  local dir=$1 busy
  busy=$(running_parts "$dir")
  [ -z "$busy" ] || die "$dir already runs: $busy (scripts/cluster.sh stop $dir first)"
  [ "$(id -u)" -eq 0 ] || die "run as root (PostgreSQL is started as the postgres user via runuser)"
  validate_settings
  # Both ports up front, so that a busy one fails before anything starts.
  require_free tcp "$PG_PORT" "PG_PORT"
  require_free udp "$PROXY_PORT" "PROXY_PORT"
  save_settings "$dir"
  ROLLBACK_DIR=$dir
  start_postgres "$dir"
  start_kamailio "$dir"
}

cmd_stop() {
  local dir=$1 f n
  # Nodes first: on SIGTERM they drain and store their calls, which needs PostgreSQL.
  for f in "$dir"/node-*.pid; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .pid)
    stop_node "$dir" "${n#node-}"
  done
  stop_kamailio "$dir"
  stop_postgres "$dir"
  local left
  left=$(running_parts "$dir")
  [ -z "$left" ] || die "still running after stop: $left"
  say "stopped everything in $dir"
}

cmd_status() {
  local dir=$1 n pid health
  printf 'cluster %s (proxy udp:127.0.0.1:%s, postgres 127.0.0.1:%s)\n' "$dir" "$PROXY_PORT" "$PG_PORT"
  if [ -d "$dir/pg" ] && postgres_running "$dir"; then
    printf '  postgres   running (pid %s)\n' "$(head -n1 "$dir/pg/postmaster.pid")"
  else
    printf '  postgres   stopped\n'
  fi
  if pid=$(live_pid "$dir/kamailio.pid"); then
    printf '  kamailio   running (pid %s)\n' "$pid"
    # The dispatcher's view: FLAGS A = active, I = inactive, P = probing, T = trying.
    kamcmd -s "unix:$dir/kamailio.ctl" dispatcher.list 2>/dev/null |
      awk '/URI:/ {u=$2} /FLAGS:/ {printf "    dispatcher %s %s\n", u, $2}' || true
  else
    printf '  kamailio   stopped\n'
  fi
  for n in $NODES; do
    if pid=$(live_pid "$dir/node-$n.pid"); then
      health=$(curl -fsS --max-time 1 "http://127.0.0.1:$(node_http_port "$n")/healthz" 2>/dev/null || echo "no answer")
      printf '  node-%-5s running (pid %s, sip %s, healthz: %s)\n' "$n" "$pid" "$(node_sip_port "$n")" "$health"
    else
      printf '  node-%-5s stopped (sip %s)\n' "$n" "$(node_sip_port "$n")"
    fi
  done
}

main() {
  local cmd=${1:-}
  [ $# -ge 2 ] || usage
  case $cmd in
    start | start-infra | start-node) prepare_dir "$2" create ;;
    stop | stop-node | status) prepare_dir "$2" existing ;;
    *) usage ;;
  esac
  case $cmd in
    start)
      cmd_start_infra "$DIR"
      local n
      for n in $NODES; do start_node "$DIR" "$n"; done
      ROLLBACK_DIR=""
      say "cluster up: SIP via udp:127.0.0.1:$PROXY_PORT"
      ;;
    start-infra)
      [ $# -eq 2 ] || usage
      cmd_start_infra "$DIR"
      ROLLBACK_DIR=""
      ;;
    start-node)
      [ $# -eq 3 ] || usage
      start_node "$DIR" "$3"
      ;;
    stop-node)
      [ $# -eq 3 ] || usage
      node_slot "$3" >/dev/null
      stop_node "$DIR" "$3"
      ;;
    stop)
      [ $# -eq 2 ] || usage
      cmd_stop "$DIR"
      ;;
    status)
      [ $# -eq 2 ] || usage
      cmd_status "$DIR"
      ;;
    *) usage ;;
  esac
}

main "$@"
