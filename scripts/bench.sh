#!/usr/bin/env bash
# Benchmark sluice against haproxy, nginx, squid, tinyproxy and the backend alone: scenarios of
# bench/README.md in three suites, `tcp` (S1-S5: sluice mode tcp vs haproxy mode tcp with and
# without splice), `http` (S1-S5: sluice mode http vs haproxy mode http with and without
# splice-response vs nginx) and `fwd` (F1-F2: sluice as a forward proxy vs squid vs tinyproxy),
# contestants interleaved (A B C D A B C D ...) in every round (in S4 and F2 download by download),
# client on one CPU, backend and a 1-thread proxy on the other. `make bench` runs all three suites.
#
# Environment (defaults in brackets):
#   BENCH_SUITE [all]   tcp, http, fwd or all (tcp, http, then fwd)
#   BENCH_DURATION [8]  seconds per wrk run      BENCH_ROUNDS [3]        rounds per scenario
#   BENCH_DOWNLOADS [10] 64 MiB curl downloads   BENCH_IDLE_CONNS [5000] idle connections (S5)
#   BENCH_SCENARIOS     only these scenarios of each suite's (tcp, http: S1-S5; fwd: F1 F2)
#   BENCH_CONTESTANTS   only these letters of each suite's list (tcp: A B C D; http: A E F G H;
#                       fwd: A I J K)
#   BENCH_QUICK=1       a ~1 minute smoke run (2 s runs, 1 round, 2 downloads, 1000 idle conns)
#   BENCH_OUT [build/bench-results.md]           SLUICE [build/sluice]
#   BENCH_CLIENT_CPU [0] BENCH_SERVER_CPU [1]    BENCH_KEEP=1 keeps the temp dir (raw outputs)
# Traffic goes to 127.0.0.1 only. Every process started here is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_DURATION:=2}" "${BENCH_ROUNDS:=1}" "${BENCH_DOWNLOADS:=2}" "${BENCH_IDLE_CONNS:=1000}"
fi
DURATION=${BENCH_DURATION:-8}
ROUNDS=${BENCH_ROUNDS:-3}
DOWNLOADS=${BENCH_DOWNLOADS:-10}
IDLE=${BENCH_IDLE_CONNS:-5000}
SUITE=${BENCH_SUITE:-all}
case $SUITE in
tcp | http | fwd) SUITES=$SUITE ;;
all) SUITES="tcp http fwd" ;;
*) echo "bench: BENCH_SUITE is tcp, http, fwd or all, not '$SUITE'" >&2; exit 2 ;;
esac
# keep_listed LIST FILTER: the words of LIST that FILTER names (all of them when FILTER is empty).
keep_listed() {
    local w out=""
    for w in $1; do
        if [ -z "$2" ] || [[ " $2 " == *" $w "* ]]; then out="$out $w"; fi
    done
    echo "${out# }"
}
# suite_contestants SUITE: the suite's letters, less those BENCH_CONTESTANTS leaves out.
suite_contestants() {
    local all
    case $1 in tcp) all="A B C D" ;; http) all="A E F G H" ;; fwd) all="A I J K" ;; esac
    keep_listed "$all" "${BENCH_CONTESTANTS:-}"
}
# suite_scenarios SUITE: the suite's scenarios, less those BENCH_SCENARIOS leaves out.
suite_scenarios() {
    local all="S1 S2 S3 S4 S5"
    [ "$1" = fwd ] && all="F1 F2"
    keep_listed "$all" "${BENCH_SCENARIOS:-}"
}
OUT=${BENCH_OUT:-build/bench-results.md}
SLUICE=${SLUICE:-build/sluice}
CCPU=${BENCH_CLIENT_CPU:-0}
SCPU=${BENCH_SERVER_CPU:-1}
HZ=$(getconf CLK_TCK)

for tool in wrk curl taskset python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
make --no-print-directory -s build/backend
# maxconn leaves room for S5's idle connections; haproxy wants 2 fds per connection plus
# 2 per pipe (maxpipes = maxconn / 4), so ulimit -n must exceed 2.5 × maxconn.
MAXCONN=$((IDLE + 1000))
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((5 * MAXCONN / 2 + 100)) ]; then
    echo "bench: ulimit -n is $(ulimit -n); $IDLE idle connections need $((5 * MAXCONN / 2 + 100)) (lower BENCH_IDLE_CONNS)" >&2
    exit 1
fi

T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
mkdir -p "$T/out"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: raw outputs kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: waits up to 5 s for PORT to accept while PID lives; 0 when it does.
wait_port() {
    local i
    for i in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

# stop PID: SIGTERM, then SIGKILL after 5 s; reaps it and drops it from PIDS.
stop() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- the backend, shared by every contestant ---
taskset -c "$SCPU" build/backend -l 127.0.0.1:0 -n bench --ready-file "$T/backend.ready" \
    >"$T/backend.log" 2>&1 &
BPID=$!
PIDS+=("$BPID")
for _ in $(seq 100); do [ -s "$T/backend.ready" ] && break; sleep 0.05; done
BPORT=$(head -n1 "$T/backend.ready" 2>/dev/null || true)
[ -n "$BPORT" ] || { log "bench: the backend did not start: $(cat "$T/backend.log")"; exit 1; }

SLUICE_NA=""
[ -x "$SLUICE" ] || SLUICE_NA="$SLUICE not built"
HAPROXY_NA=""
command -v haproxy >/dev/null || HAPROXY_NA="haproxy not installed"
declare -A START_FAILED=()
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
NGINX_NA=""
[ -x "$NGINX" ] || NGINX_NA="nginx not installed (scripts/deps.sh installs it)"
SQUID=$(command -v squid || echo /usr/sbin/squid)
SQUID_NA=""
[ -x "$SQUID" ] || SQUID_NA="squid not installed (scripts/deps.sh installs it)"
TINYPROXY=$(command -v tinyproxy || echo /usr/bin/tinyproxy)
TINYPROXY_NA=""
[ -x "$TINYPROXY" ] || TINYPROXY_NA="tinyproxy not installed (scripts/deps.sh installs it)"
# The fwd suite: requests name the backend by IP literal, so no proxy needs DNS. sluice's
# [resolvers] points at a closed loopback port, squid's dns_nameservers at 127.0.0.1: a query
# that should not happen fails on this machine instead of reaching /etc/resolv.conf's server.
DNSPORT=$(free_port)
# F1: wrk through a proxy sends the absolute URI (wrk writes wrk.path verbatim in the request
# line) with the origin's Host, to the proxy's address given on the command line.
printf 'wrk.path = "http://127.0.0.1:%s/"\nwrk.headers["Host"] = "127.0.0.1:%s"\n' "$BPORT" "$BPORT" \
    >"$T/abs.lua"

# start_contestant C: sets PPORT, PPID_ (the process whose CPU and memory are measured) and
# PSTOP (the process to stop: nginx's master, whose worker is measured), or returns 1 with the
# reason in NA_WHY.
start_contestant() {
    local c=$1 cfg log_
    NA_WHY=""
    if [ "$c" = A ]; then
        PPORT=$BPORT PPID_=$BPID PSTOP=""
        return 0
    fi
    if [ -n "${START_FAILED[$c]:-}" ]; then NA_WHY=${START_FAILED[$c]}; return 1; fi
    PPORT=$(free_port)
    log_="$T/$c.log"
    case $c in
    B | E)
        if [ -n "$SLUICE_NA" ]; then NA_WHY=$SLUICE_NA; return 1; fi
        local mode=tcp
        [ "$c" = E ] && mode=http
        cfg="$T/sluice-$mode.ini"
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s/@MAXCONN@/$MAXCONN/" \
            "bench/sluice-$mode.ini.in" >"$cfg"
        taskset -c "$SCPU" "$SLUICE" -f "$cfg" >"$log_" 2>&1 &
        ;;
    C | D | F | G)
        if [ -n "$HAPROXY_NA" ]; then NA_WHY=$HAPROXY_NA; return 1; fi
        cfg="$T/haproxy-$c.cfg"
        # C, F: no splicing; D: both directions (mode tcp); G: responses (mode http)
        local splice="" tmpl=bench/haproxy-tcp.cfg.in
        case $c in
        D) splice='    option splice-request\n    option splice-response' ;;
        G) splice='    option splice-response' ;;
        esac
        case $c in F | G) tmpl=bench/haproxy-http.cfg.in ;; esac
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s/@SPLICE@/$splice/" \
            -e "s/@MAXCONN@/$MAXCONN/" "$tmpl" >"$cfg"
        taskset -c "$SCPU" haproxy -f "$cfg" -db >"$log_" 2>&1 &
        ;;
    H)
        if [ -n "$NGINX_NA" ]; then NA_WHY=$NGINX_NA; return 1; fi
        local dir="$T/nginx-run"
        rm -rf "$dir" && mkdir -p "$dir"
        cfg="$dir/nginx.conf"
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s|@DIR@|$dir|g" \
            -e "s/@WORKER_CONNS@/$((2 * MAXCONN))/" -e "s/@NOFILE@/$((5 * MAXCONN / 2 + 100))/" \
            bench/nginx.conf.in >"$cfg"
        taskset -c "$SCPU" "$NGINX" -c "$cfg" -p "$dir" >"$log_" 2>&1 &
        ;;
    I)
        if [ -n "$SLUICE_NA" ]; then NA_WHY=$SLUICE_NA; return 1; fi
        cfg="$T/sluice-fwd.ini"
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s/@MAXCONN@/$MAXCONN/" \
            -e "s/@DNSPORT@/$DNSPORT/" bench/sluice-fwd.ini.in >"$cfg"
        taskset -c "$SCPU" "$SLUICE" -f "$cfg" >"$log_" 2>&1 &
        ;;
    J)
        if [ -n "$SQUID_NA" ]; then NA_WHY=$SQUID_NA; return 1; fi
        # Started as root, squid runs as its cache_effective_user (Debian: proxy), which must
        # reach its own directory: o+x on the temp dir, a world-writable run directory.
        local dir="$T/squid-run"
        rm -rf "$dir" && mkdir -p "$dir" && chmod o+x "$T" && chmod 777 "$dir"
        cfg="$dir/squid.conf"
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s|@DIR@|$dir|g" \
            -e "s/@NOFILE@/$((5 * MAXCONN / 2 + 100))/" bench/squid.conf.in >"$cfg"
        taskset -c "$SCPU" "$SQUID" -N -f "$cfg" >"$log_" 2>&1 &
        ;;
    K)
        if [ -n "$TINYPROXY_NA" ]; then NA_WHY=$TINYPROXY_NA; return 1; fi
        local dir="$T/tinyproxy-run"
        rm -rf "$dir" && mkdir -p "$dir"
        cfg="$dir/tinyproxy.conf"
        sed -e "s/@PORT@/$PPORT/" -e "s/@BACKEND@/$BPORT/" -e "s|@DIR@|$dir|g" \
            -e "s/@MAXCONN@/$MAXCONN/" bench/tinyproxy.conf.in >"$cfg"
        taskset -c "$SCPU" "$TINYPROXY" -d -c "$cfg" >"$log_" 2>&1 &
        ;;
    esac
    PPID_=$! PSTOP=$!
    PIDS+=("$PPID_")
    if ! wait_port "$PPORT" "$PPID_"; then
        NA_WHY="did not start: $(tr '\n' ' ' <"$log_" | cut -c1-200)"
        stop "$PPID_"
        # A sluice, nginx, squid or tinyproxy that does not start will not start in the next
        # round either.
        case $c in B | E | H | I | J | K) START_FAILED[$c]=$NA_WHY ;; esac
        return 1
    fi
    if [ "$c" = H ] || [ "$c" = B ] || [ "$c" = E ] || [ "$c" = I ]; then
        # nginx's and sluice's masters fork the one worker that does the work: measure that one.
        local w=""
        for _ in $(seq 100); do
            w=$(pgrep -P "$PSTOP" | head -n1 || true)
            [ -n "$w" ] && break
            sleep 0.05
        done
        if [ -z "$w" ]; then
            NA_WHY="no worker process was started"
            stop "$PSTOP"
            return 1
        fi
        PPID_=$w
    fi
    # One request through it must work before it is measured (a forward proxy: as a proxy).
    local probe=("http://127.0.0.1:$PPORT/")
    case $c in I | J | K) probe=(-x "http://127.0.0.1:$PPORT" "http://127.0.0.1:$BPORT/") ;; esac
    if [ "$(curl -s -m 3 "${probe[@]}")" != "hello, world" ]; then
        NA_WHY="a request through it failed"
        stop "$PSTOP"
        return 1
    fi
    return 0
}

stop_contestant() {
    [ "$1" = A ] || stop "$PSTOP"
}

# record SCEN C ROUND KIND FILE CPU_TICKS NOTE (the suite being run is the last column)
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$HZ" "$7" "$SUITE_NOW" \
        >>"$T/runs.tsv"
}

# after_run C: a note when the contestant died during the run.
died_note() {
    if [ "$1" != A ] && ! kill -0 "$PPID_" 2>/dev/null; then echo "process exited during the run"; fi
}

# download S C PORT: one 64 MiB download through contestant C, as "bytes seconds status" (F2:
# through a CONNECT tunnel to the backend; direct: the backend itself).
download() {
    local s=$1 c=$2 url="http://127.0.0.1:$3" args=("http://127.0.0.1:$3/size/64m")
    [ "$s" = F2 ] && [ "$c" != A ] && args=(-p -x "$url" "http://127.0.0.1:$BPORT/size/64m")
    timeout 130 taskset -c "$CCPU" curl -s -o /dev/null --max-time 120 \
        -w '%{size_download} %{time_total} %{http_code}\n' "${args[@]}" || echo "0 0 000"
}

# run_interleaved S ROUND: S4 and F2 time one ~50 ms download after another, and this machine's
# speed drifts over seconds (the other tenants of the host), so a contestant timed in one block
# of downloads can be lucky or unlucky as a whole (per-block medians moved by a third between
# rounds). Here every contestant of the suite runs at once, idle but for its turn, and the
# downloads alternate one by one (A E F G H A E F G H ...): drift reaches all of them alike. CPU
# is counted around each contestant's own downloads only (the backend serves all of them).
run_interleaved() {
    local s=$1 r=$2 c i t0 t1
    local -A port pid stopp ticks file
    local started=()
    for c in $(suite_contestants "$SUITE_NOW"); do
        if start_contestant "$c"; then
            port[$c]=$PPORT pid[$c]=$PPID_ stopp[$c]=$PSTOP ticks[$c]=0
            file[$c]="$T/out/$SUITE_NOW-$s-$c-$r.txt"
            : >"${file[$c]}"
            started+=("$c")
        else
            record "$s" "$c" "$r" na "" "" "$NA_WHY"
            log "  $s $c round $r: n/a ($NA_WHY)"
        fi
    done
    for i in $(seq "$DOWNLOADS"); do
        for c in "${started[@]}"; do
            t0=$(cpu_ticks "${pid[$c]}" 2>/dev/null || echo 0)
            download "$s" "$c" "${port[$c]}" >>"${file[$c]}"
            t1=$(cpu_ticks "${pid[$c]}" 2>/dev/null || echo "$t0")
            ticks[$c]=$((ticks[$c] + t1 - t0))
        done
    done
    for c in "${started[@]}"; do
        PPID_=${pid[$c]}
        record "$s" "$c" "$r" curl "${file[$c]}" "${ticks[$c]}" "$(died_note "$c")"
        log "  $s $c round $r: $(awk '{b+=$1; t+=$2} END {if (t) printf "%.0f MB/s", b/t/1e6}' "${file[$c]}")"
        [ "$c" = A ] || stop "${stopp[$c]}"
    done
}

run_scenario() {
    local s=$1 c=$2 r=$3 f="$T/out/$SUITE_NOW-$1-$2-$3.txt" c0 c1 url="http://127.0.0.1:$PPORT"
    case $s in
    S1 | S2 | S3)
        local args=(-t1 -c64 -d"${DURATION}s" --latency)
        [ "$s" = S2 ] && args+=(-H 'Connection: close')
        [ "$s" = S3 ] && args=(-t1 -c8 -d"${DURATION}s" --latency)
        local path=/
        [ "$s" = S3 ] && path=/size/1m
        c0=$(cpu_ticks "$PPID_")
        timeout $((DURATION + 30)) taskset -c "$CCPU" wrk "${args[@]}" "$url$path" >"$f" 2>&1 || true
        c1=$(cpu_ticks "$PPID_" 2>/dev/null || echo "$c0")
        record "$s" "$c" "$r" wrk "$f" $((c1 - c0)) "$(died_note "$c")"
        log "  $s $c round $r: $(grep -E 'Requests/sec' "$f" | tr -s ' ') $(grep -E 'Transfer/sec' "$f" | tr -s ' ')"
        ;;
    F1)
        local wargs=(-t1 -c64 -d"${DURATION}s" --latency)
        # direct: origin-form to the backend; a proxy: absolute-form to the proxy's address
        [ "$c" = A ] || wargs+=(-s "$T/abs.lua")
        c0=$(cpu_ticks "$PPID_")
        timeout $((DURATION + 30)) taskset -c "$CCPU" wrk "${wargs[@]}" "$url/" >"$f" 2>&1 || true
        c1=$(cpu_ticks "$PPID_" 2>/dev/null || echo "$c0")
        record "$s" "$c" "$r" wrk "$f" $((c1 - c0)) "$(died_note "$c")"
        log "  $s $c round $r: $(grep -E 'Requests/sec' "$f" | tr -s ' ') $(grep -E 'Socket errors|Non-2xx' "$f" | tr -s ' ' | tr '\n' ' ')"
        ;;
    S5)
        local before after ok hold="$T/hold" cpid
        sleep 0.2
        before=$(rss_kib "$PPID_")
        rm -f "$hold" && mkfifo "$hold"
        exec 7<>"$hold"
        taskset -c "$CCPU" python3 bench/idle_conns.py --port "$PPORT" -n "$IDLE" \
            <"$hold" >"$T/idle.out" 2>"$T/idle.err" 7>&- &
        cpid=$!
        PIDS+=("$cpid")
        for _ in $(seq 1200); do
            grep -q '^ready' "$T/idle.out" 2>/dev/null && break
            kill -0 "$cpid" 2>/dev/null || break
            sleep 0.1
        done
        sleep 0.5
        after=$(rss_kib "$PPID_" 2>/dev/null || echo "$before")
        ok=$(awk '/^ready/ {print $2}' "$T/idle.out")
        exec 7>&-
        stop "$cpid"
        echo "$before $after ${ok:-0} $IDLE" >"$f"
        record "$s" "$c" "$r" mem "$f" "" "$(died_note "$c")$(head -c 200 "$T/idle.err" | tr '\n' ' ')"
        log "  $s $c round $r: RSS $before -> $after KiB for ${ok:-0} connections"
        ;;
    esac
}

# --- machine, versions, commands ---
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Untracked sources count too: the Makefile compiles every .c file of the module folders.
[ -z "$(git status --porcelain -- Makefile core net balancer config bench 2>/dev/null)" ] ||
    commit="$commit (working tree has uncommitted changes)"
{
    echo "## Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
    echo "- commit: $commit"
    [ ! -x "$SLUICE" ] || echo "- sluice binary: $SLUICE (built $(date -u -r "$SLUICE" '+%Y-%m-%d %H:%M UTC'), sha1 $(sha1sum "$SLUICE" | cut -c1-12))"
    echo "- versions: $(haproxy -v 2>/dev/null | head -n1 | cut -d' ' -f1-3); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); $(curl --version | head -n1 | cut -d' ' -f1-2); sluice: $("$SLUICE" -v 2>/dev/null | head -n1 || echo n/a)"
    [[ " $SUITES " != *" http "* ]] || echo "- versions (http suite): $("$NGINX" -v 2>&1 | head -n1 | sed 's/^nginx version: //' || echo 'nginx n/a')"
    [[ " $SUITES " != *" fwd "* ]] || echo "- versions (fwd suite): $("$SQUID" -v 2>/dev/null | head -n1 || echo 'squid n/a'); $("$TINYPROXY" -v 2>/dev/null | head -n1 || echo 'tinyproxy n/a')"
    echo "- pinning: client (wrk, curl, idle_conns.py) on CPU $CCPU; backend and the 1-thread proxy on CPU $SCPU"
    echo "- suites: $SUITES; ${DURATION}s per wrk run, rounds: $ROUNDS, contestants interleaved in each round ($(for su in $SUITES; do printf '%s: %s in %s; ' "$su" "$(suite_contestants "$su")" "$(suite_scenarios "$su")"; done | sed 's/; $//')), $DOWNLOADS downloads in S4/F2$([[ " $SUITES " != *" tcp "* && " $SUITES " != *" http "* ]] || echo ", $IDLE idle connections in S5")"
    echo "- backend: \`taskset -c $SCPU build/backend -l 127.0.0.1:0 -n bench\`"
    [[ " $SUITES " != *" tcp "* ]] || echo "- tcp proxies: \`taskset -c $SCPU $SLUICE -f bench/sluice-tcp.ini.in\`, \`taskset -c $SCPU haproxy -f bench/haproxy-tcp.cfg.in -db\` (ports filled in; D adds \`option splice-request\` + \`option splice-response\`); all \`nbthread 1\`"
    [[ " $SUITES " != *" http "* ]] || echo "- http proxies: \`taskset -c $SCPU $SLUICE -f bench/sluice-http.ini.in\`, \`taskset -c $SCPU haproxy -f bench/haproxy-http.cfg.in -db\` (G adds \`option splice-response\`), \`taskset -c $SCPU nginx -c bench/nginx.conf.in\` (master + 1 worker; the worker is measured); all one thread/worker"
    [[ " $SUITES " != *" fwd "* ]] || echo "- fwd proxies: \`taskset -c $SCPU $SLUICE -f bench/sluice-fwd.ini.in\` (1 thread), \`taskset -c $SCPU squid -N -f bench/squid.conf.in\` (one process, \`cache deny all\`, access log on), \`taskset -c $SCPU tinyproxy -d -c bench/tinyproxy.conf.in\` (its model: one thread per client connection, MaxClients $MAXCONN); origins by IP literal, DNS only to loopback"
    if [[ " $SUITES " == *" tcp "* || " $SUITES " == *" http "* ]]; then
        echo "- S1: \`taskset -c $CCPU wrk -t1 -c64 -d${DURATION}s --latency http://127.0.0.1:PORT/\`"
        echo "- S2: \`taskset -c $CCPU wrk -t1 -c64 -d${DURATION}s --latency -H 'Connection: close' http://127.0.0.1:PORT/\`"
        echo "- S3: \`taskset -c $CCPU wrk -t1 -c8 -d${DURATION}s --latency http://127.0.0.1:PORT/size/1m\`"
        echo "- S4: $DOWNLOADS × \`taskset -c $CCPU curl -s -o /dev/null -w '%{size_download} %{time_total} %{http_code}' http://127.0.0.1:PORT/size/64m\` per contestant and round, all contestants running and the downloads alternating one by one between them (MB/s = bytes / total time; CPU counted around each one's own downloads)"
        echo "- S5: \`taskset -c $CCPU python3 bench/idle_conns.py --port PORT -n $IDLE\` on a fresh proxy; (VmRSS after − before) ÷ connections"
    fi
    [[ " $SUITES " != *" fwd "* ]] || echo "- F1: \`taskset -c $CCPU wrk -t1 -c64 -d${DURATION}s --latency -s abs.lua http://127.0.0.1:PROXYPORT/\`, abs.lua: \`wrk.path = \"http://127.0.0.1:BACKEND/\"\` and \`wrk.headers[\"Host\"] = \"127.0.0.1:BACKEND\"\` (absolute-form request line); direct: \`wrk -t1 -c64 -d${DURATION}s --latency http://127.0.0.1:BACKEND/\`"
    [[ " $SUITES " != *" fwd "* ]] || echo "- F2: $DOWNLOADS × \`taskset -c $CCPU curl -s -o /dev/null -w '%{size_download} %{time_total} %{http_code}' -p -x http://127.0.0.1:PROXYPORT http://127.0.0.1:BACKEND/size/64m\` (a CONNECT tunnel per download), alternating one by one between the contestants as in S4; direct: the same without \`-p -x\`"
    echo "- CPU µs/req: the measured process's utime+stime (/proc/PID/stat) over the run ÷ completed requests (S3: per 1 MiB response, S4/F2: per 64 MiB download); for \"direct\" it is the backend's own CPU"
    echo "- MB/s = 10^6 bytes/s of response data as counted by the client; medians over the rounds"
} >"$T/meta.md"
cat "$T/meta.md" >&2
echo >&2

for SUITE_NOW in $SUITES; do
    for s in $(suite_scenarios "$SUITE_NOW"); do
        log "== $SUITE_NOW $s"
        for r in $(seq "$ROUNDS"); do
            if [ "$s" = S4 ] || [ "$s" = F2 ]; then
                run_interleaved "$s" "$r"
                continue
            fi
            for c in $(suite_contestants "$SUITE_NOW"); do
                if start_contestant "$c"; then
                    run_scenario "$s" "$c" "$r"
                    stop_contestant "$c"
                else
                    record "$s" "$c" "$r" na "" "" "$NA_WHY"
                    log "  $s $c round $r: n/a ($NA_WHY)"
                fi
            done
        done
    done
done

mkdir -p "$(dirname "$OUT")"
echo >&2
python3 bench/report.py "$T/runs.tsv" "$T/meta.md" "$OUT"
echo
echo "bench: table written to $OUT"
