#!/bin/sh
# `make run`: start two demo backends and sluice in front of them, in the foreground.
# Ctrl-C stops sluice (graceful drain) and the backends this script started.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
"$BUILD/backend" -l 127.0.0.1:9001 -n web1 >/dev/null &
pids="$pids $!"
"$BUILD/backend" -l 127.0.0.1:9002 -n web2 >/dev/null &
pids="$pids $!"
cat <<TXT

  sluice quick-start: 127.0.0.1:8080 -> web1 (127.0.0.1:9001, weight 1)
                                     -> web2 (127.0.0.1:9002, weight 2)
  Try, from another terminal:
    curl -s http://127.0.0.1:8080/name; echo          # which server answered
    for i in 1 2 3 4 5 6; do curl -s http://127.0.0.1:8080/name; echo; done
    curl -s http://127.0.0.1:8080/size/1m | wc -c      # 1 MiB through the relay
    wrk -t1 -c64 -d5s http://127.0.0.1:8080/           # load test
  Kill one backend (kill \$(pgrep -f 'backend -l 127.0.0.1:9002')) and watch it go DOWN.
  Config: examples/quickstart.ini. Ctrl-C to stop.

TXT
"$BUILD/sluice" -f examples/quickstart.ini &
spid=$!
pids="$spid $pids"
wait "$spid"
