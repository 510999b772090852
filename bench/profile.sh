#!/usr/bin/env bash
# Syscalls and context switches per request of one contestant, for bench/RESULTS.md's profiles.
#
#   bench/profile.sh B|C|D|E|F|G|H S1|S2|S3 [SECONDS]
#   bench/profile.sh I|J|K F1|F2 [SECONDS]
#
# Contestants as in scripts/bench.sh: B sluice mode tcp, C haproxy tcp, D haproxy tcp + splice;
# E sluice mode http, F haproxy http, G haproxy http + splice-response, H nginx (its one worker is
# traced and counted); forward proxies I sluice (option http_proxy), J squid (-N, one process),
# K tinyproxy (all its threads). Starts the backend and the proxy pinned to CPU 1 as
# scripts/bench.sh does, runs wrk (CPU 0; S1 -c64, S2 -c64 with Connection: close, S3 -c8 with
# 1 MiB responses, counted per response; F1 -c64 absolute-URI GETs through the forward proxy) for
# SECONDS (default 3), or for F2 SECONDS sequential 64 MiB downloads through a CONNECT tunnel
# (curl -p -x, counted per download), while `strace -c -f` is attached, then prints per-request
# syscall counts (strace slows the proxy: use the counts, not the speed), and for a second,
# untraced run: req/s, p50/p99, CPU µs/req (user/system), context switches per request (per
# thread, voluntary and involuntary) and the server connections the backend accepted per request
# (connection reuse). Stops what it started, by PID. SLUICE overrides the binary (build/sluice);
# SLUICE_GLOBAL adds a line to sluice's [global] (e.g. SLUICE_GLOBAL='tune.send-batching = off').
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:?contestant B, C, D, E, F, G, H, I, J or K}
S=${2:?scenario S1, S2, S3 (B-H) or F1, F2 (I, J, K)}
SECS=${3:-3}
command -v strace >/dev/null || { echo "profile: strace is missing" >&2; exit 1; }
make --no-print-directory -s build/backend
SLUICE=${SLUICE:-build/sluice}
ulimit -n "$(ulimit -Hn)"
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
B | E)
    ini=bench/sluice-tcp.ini.in
    [ "$C" = E ] && ini=bench/sluice-http.ini.in
    sed "${subst[@]}" "$ini" >"$T/cfg"
    [ -z "${SLUICE_GLOBAL:-}" ] || sed -i "s|^\[global\]\$|[global]\n$SLUICE_GLOBAL|" "$T/cfg"
    taskset -c 1 "$SLUICE" -f "$T/cfg" >"$T/log" 2>&1 &
    ;;
C | D | F | G)
    splice="" cfg=bench/haproxy-tcp.cfg.in
    [ "$C" = D ] && splice='    option splice-request\n    option splice-response'
    [ "$C" = F ] && cfg=bench/haproxy-http.cfg.in
    [ "$C" = G ] && splice='    option splice-response' cfg=bench/haproxy-http.cfg.in
    sed "${subst[@]}" -e "s/@SPLICE@/$splice/" "$cfg" >"$T/cfg"
    taskset -c 1 haproxy -f "$T/cfg" -db >"$T/log" 2>&1 &
    ;;
H)
    sed "${subst[@]}" -e "s|@DIR@|$T|g" -e "s/@WORKER_CONNS@/12000/" -e "s/@NOFILE@/15100/" \
        bench/nginx.conf.in >"$T/cfg"
    taskset -c 1 nginx -c "$T/cfg" -p "$T" >"$T/log" 2>&1 &
    ;;
I) # DNS: a closed loopback port (origins are IP literals; see bench/sluice-fwd.ini.in)
    sed "${subst[@]}" -e "s/@DNSPORT@/$PORT/" bench/sluice-fwd.ini.in >"$T/cfg"
    taskset -c 1 "$SLUICE" -f "$T/cfg" >"$T/log" 2>&1 &
    ;;
J) # squid drops root for its cache_effective_user: it must reach its run directory
    mkdir -p "$T/squid" && chmod o+x "$T" && chmod 777 "$T/squid"
    sed "${subst[@]}" -e "s|@DIR@|$T/squid|g" -e "s/@NOFILE@/15100/" bench/squid.conf.in >"$T/cfg"
    taskset -c 1 squid -N -f "$T/cfg" >"$T/log" 2>&1 &
    ;;
K)
    sed "${subst[@]}" -e "s|@DIR@|$T|g" bench/tinyproxy.conf.in >"$T/cfg"
    taskset -c 1 tinyproxy -d -c "$T/cfg" >"$T/log" 2>&1 &
    ;;
*) echo "profile: contestant is B, C, D, E, F, G, H, I, J or K" >&2; exit 2 ;;
esac
PP=$!
PIDS+=("$PP")
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$PP" 2>/dev/null || { echo "profile: proxy did not start: $(cat "$T/log")" >&2; exit 1; }
    sleep 0.05
done
if [ "$C" = H ] || [ "$C" = B ] || [ "$C" = E ] || [ "$C" = I ]; then
    # nginx, sluice: the master forks the worker that does the work; profile that one
    for _ in $(seq 100); do
        W=$(pgrep -P "$PP" | head -n1 || true)
        [ -n "$W" ] && break
        sleep 0.05
    done
    PP=${W:?no worker process was started}
fi
FWD=0
case $C in I | J | K) FWD=1 ;; esac
# one request first: warm-up, pools filled (a forward proxy is asked as a proxy)
if [ $FWD = 1 ]; then
    curl -s -m 3 -o /dev/null -x "http://127.0.0.1:$PORT" "http://127.0.0.1:$BPORT/"
else
    curl -s -m 3 -o /dev/null "http://127.0.0.1:$PORT/"
fi

# wrk's options (the connections first): S1 keep-alive -c64, S2 Connection: close, S3 1 MiB -c8;
# F1: -c64 with the absolute URI of the backend in the request line (wrk sends wrk.path verbatim)
printf 'wrk.path = "http://127.0.0.1:%s/"\nwrk.headers["Host"] = "127.0.0.1:%s"\n' "$BPORT" "$BPORT" \
    >"$T/abs.lua"
case $S in
S1) wargs=(-c64) url="http://127.0.0.1:$PORT/" ;;
S2) wargs=(-c64 -H 'Connection: close') url="http://127.0.0.1:$PORT/" ;;
S3) wargs=(-c8) url="http://127.0.0.1:$PORT/size/1m" ;;
F1) wargs=(-c64 -s "$T/abs.lua") url="http://127.0.0.1:$PORT/" ;;
F2) wargs=() url="" ;;
*) echo "profile: scenario is S1, S2, S3, F1 or F2" >&2; exit 2 ;;
esac
case $S in F*) [ $FWD = 1 ] || { echo "profile: F1/F2 are for I, J, K" >&2; exit 2; } ;; esac
requests() { awk '/requests in/ {print $1}' "$1"; }
# load OUT [--latency]: the scenario's load for SECS seconds (F2: SECS downloads), into OUT
load() {
    if [ "$S" = F2 ]; then
        local i
        : >"$1"
        for i in $(seq "$SECS"); do
            timeout 130 taskset -c 0 curl -s -o /dev/null --max-time 120 -p -x "http://127.0.0.1:$PORT" \
                -w '%{size_download} %{time_total} %{http_code}\n' "http://127.0.0.1:$BPORT/size/64m" >>"$1" || true
        done
        awk '$3 == 200 {n++; b += $1; t += $2; if ($1 != 67108864) short++}
            END {printf "%d requests in %.3fs, %.0f MB/s, short downloads %d\n", n, t, t ? b / t / 1e6 : 0, short}' \
            "$1" >"$1.sum"
        cat "$1.sum" >>"$1"
    else
        timeout $((SECS + 20)) taskset -c 0 wrk -t1 -d"${SECS}s" "${@:2}" "${wargs[@]}" "$url" >"$1"
    fi
}
# ctx: one line per thread: tid name voluntary involuntary
ctx() {
    local t
    for t in /proc/"$PP"/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(tr -d ' ' <"$t/comm")" \
            "$(awk '/^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2}
                   END {print v, n}' "$t/status")"
    done
}
# accepts: the backend's accept count; the /stats connection asking for it is one of them
accepts() { curl -s -m 3 "http://127.0.0.1:$BPORT/stats" | sed 's/.*accepts=\([0-9]*\).*/\1/'; }

strace -c -f -p "$PP" -o "$T/strace" 2>/dev/null &
SP=$!
sleep 0.5
load "$T/wrk1"
kill -INT "$SP"
wait "$SP" || true
n=$(requests "$T/wrk1")
echo "$C $S: $(ls /proc/"$PP"/task | wc -l) threads; under strace: $n requests"
# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v r="$n" 'NR > 2 && $4 ~ /^[0-9]+$/ && $NF != "total" {
        sum += $4; if ($4 / r >= 0.005) printf "  %-16s %6.2f\n", $NF, $4 / r }
    END {printf "  %-16s %6.2f\n", "syscalls/req", sum / r}' "$T/strace"

# cpu: utime and stime of the whole process, in clock ticks
cpu() { sed 's/.*) //' "/proc/$PP/stat" | awk '{print $12, $13}'; }
HZ=$(getconf CLK_TCK)

ctx >"$T/ctx0"
a0=$(accepts)
read -r u0 s0 < <(cpu)
load "$T/wrk2" --latency
read -r u1 s1 < <(cpu)
ctx >"$T/ctx1"
a1=$(accepts)
n=$(requests "$T/wrk2")
[ "$S" != F2 ] || echo "  untraced run: $(tail -n1 "$T/wrk2")"
[ "$S" = F2 ] || echo "  untraced run: $n requests, $(awk '/Requests\/sec/ {print $2}' "$T/wrk2") req/s, p50 $(awk '$1 == "50%" {print $2}' "$T/wrk2"), p99 $(awk '$1 == "99%" {print $2}' "$T/wrk2"), errors: $(grep -E 'Socket errors|Non-2xx' "$T/wrk2" | tr -s ' ' | tr '\n' ' ' || true)"
awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$HZ" -v r="$n" 'BEGIN {
    printf "  CPU µs/req %.1f: user %.1f, system %.1f\n", (u + s) * 1e6 / hz / r, u * 1e6 / hz / r, s * 1e6 / hz / r}'
awk -v r="$n" 'NR == FNR {v[$1] = $3; n[$1] = $4; next}
    {dv = $3 - v[$1]; dn = $4 - n[$1]; tv += dv; tn += dn
     if (dv + dn > 0) printf "    thread %-8s %-14s voluntary %.3f involuntary %.3f /req\n", $1, $2, dv / r, dn / r}
    END {printf "  context switches/req %.2f (voluntary %.2f, involuntary %.2f)\n", (tv + tn) / r, tv / r, tn / r}' \
    "$T/ctx0" "$T/ctx1"
awk -v d=$((a1 - a0 - 1)) -v r="$n" 'BEGIN {printf "  backend accepts/req %.3f (server connections opened per client request)\n", d / r}'
