#!/usr/bin/env bash
# Syscalls and context switches per request of one contestant, for bench/RESULTS.md's profiles.
#
#   bench/profile.sh B|C|D S1|S2 [SECONDS]     (B sluice, C haproxy tcp, D haproxy tcp + splice)
#
# Starts the backend and the proxy pinned to CPU 1 as scripts/bench.sh does, runs wrk (CPU 0,
# -c64, S2 with Connection: close) for SECONDS (default 3) while `strace -c -f` is attached,
# then prints per-request syscall counts (strace slows the proxy: use the counts, not the speed)
# and a second, untraced run's context switches per request. Stops what it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:?contestant B, C or D}
S=${2:?scenario S1 or S2}
SECS=${3:-3}
command -v strace >/dev/null || { echo "profile: strace is missing" >&2; exit 1; }
make --no-print-directory -s build/backend
T=$(mktemp -d /tmp/sluice-profile.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

taskset -c 1 build/backend -l 127.0.0.1:0 --ready-file "$T/ready" >/dev/null &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
BPORT=$(cat "$T/ready")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
subst=(-e "s/@PORT@/$PORT/" -e "s/@BACKEND@/$BPORT/" -e "s/@MAXCONN@/6000/")
case $C in
B)
    sed "${subst[@]}" bench/sluice-tcp.ini.in >"$T/cfg"
    taskset -c 1 build/sluice -f "$T/cfg" >"$T/log" 2>&1 &
    ;;
C | D)
    splice=""
    [ "$C" = D ] && splice='    option splice-request\n    option splice-response'
    sed "${subst[@]}" -e "s/@SPLICE@/$splice/" bench/haproxy-tcp.cfg.in >"$T/cfg"
    taskset -c 1 haproxy -f "$T/cfg" -db >"$T/log" 2>&1 &
    ;;
*) echo "profile: contestant is B, C or D" >&2; exit 2 ;;
esac
PP=$!
PIDS+=("$PP")
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$PP" 2>/dev/null || { echo "profile: proxy did not start: $(cat "$T/log")" >&2; exit 1; }
    sleep 0.05
done

hdr=()
[ "$S" = S2 ] && hdr=(-H 'Connection: close')
url="http://127.0.0.1:$PORT/"
requests() { awk '/requests in/ {print $1}' "$1"; }
ctx() { cat /proc/"$PP"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }

strace -c -f -p "$PP" -o "$T/strace" 2>/dev/null &
SP=$!
sleep 0.5
timeout $((SECS + 20)) taskset -c 0 wrk -t1 -c64 -d"${SECS}s" "${hdr[@]}" "$url" >"$T/wrk1"
kill -INT "$SP"
wait "$SP" || true
n=$(requests "$T/wrk1")
echo "$C $S: $(ls /proc/"$PP"/task | wc -l) threads; under strace: $n requests"
# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v r="$n" 'NR > 2 && $4 ~ /^[0-9]+$/ && $NF != "total" {
        sum += $4; if ($4 / r >= 0.005) printf "  %-16s %6.2f\n", $NF, $4 / r }
    END {printf "  %-16s %6.2f\n", "syscalls/req", sum / r}' "$T/strace"

c0=$(ctx)
timeout $((SECS + 20)) taskset -c 0 wrk -t1 -c64 -d"${SECS}s" "${hdr[@]}" "$url" >"$T/wrk2"
c1=$(ctx)
n=$(requests "$T/wrk2")
awk -v d=$((c1 - c0)) -v r="$n" 'BEGIN {printf "  context switches/req %.2f (untraced run, %d requests)\n", d / r, r}'
