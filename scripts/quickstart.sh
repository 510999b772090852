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
"$BUILD/backend" -l 127.0.0.1:9003 -n api1 >/dev/null &
pids="$pids $!"
cat <<TXT

  sluice quick-start
    http://127.0.0.1:8080  mode http: /api/* -> api1 (127.0.0.1:9003)
                                      else   -> web1 (127.0.0.1:9001, weight 1)
                                                web2 (127.0.0.1:9002, weight 2)
    127.0.0.1:8081         mode tcp:  -> web1, web2
    127.0.0.1:3128         forward proxy (absolute-URI requests and CONNECT)
    http://127.0.0.1:8404/stats    statistics page (;csv and ;json too)
    http://127.0.0.1:8404/metrics  Prometheus metrics
    echo "show stat" | socat stdio unix-connect:/tmp/sluice-quickstart.sock     # runtime API
    echo "set server web/web2 state drain" | socat stdio unix-connect:/tmp/sluice-quickstart.sock
  Try, from another terminal:
    for i in 1 2 3 4 5 6; do curl -s http://127.0.0.1:8080/name; echo; done   # balancing
    curl -s http://127.0.0.1:8080/api/name; echo                               # routing
    for i in \$(seq 12); do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/api/name; done; echo  # 429 after 10
    curl -si http://127.0.0.1:9001/ | grep -i x-server                          # direct: X-Server shown
    curl -si http://127.0.0.1:8080/ | grep -ci x-server                         # via sluice: hidden (0)
    curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8080/admin        # denied: 403
    curl -s http://127.0.0.1:8081/size/1m | wc -c                               # 1 MiB over L4
    wrk -t1 -c64 -d5s http://127.0.0.1:8080/                                    # load test
    curl -s -x http://127.0.0.1:3128 http://127.0.0.1:9001/name; echo           # forward proxy
    http_proxy=http://127.0.0.1:3128 curl -s http://127.0.0.1:9002/name; echo   # same, by env
    https_proxy=http://127.0.0.1:3128 curl -sI https://SOME-HOST/               # CONNECT (443)
  Stop web2 (kill its pid) and watch it go DOWN in the log below.
  Config: examples/quickstart.ini. Ctrl-C to stop.

TXT
"$BUILD/sluice" -f examples/quickstart.ini &
spid=$!
pids="$spid $pids"
wait "$spid"
