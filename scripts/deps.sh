#!/bin/sh
# Install the Debian packages sluice needs to build, test and benchmark; apt-get runs only when one
# is missing, and `apt-get update` only once in that case.
set -eu
PKGS="gcc make clang-format pkg-config libjemalloc-dev libinih-dev liburing-dev libcunit1-dev clang libclang-rt-14-dev libpcre2-dev libcrypt-dev python3 curl wrk haproxy nginx socat strace iproute2 libc-ares-dev dnsmasq-base apache2-utils squid tinyproxy chromium prometheus"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# A policy-rc.d that refuses every action keeps the haproxy, nginx, squid, tinyproxy and prometheus packages
# from starting their services: we only use the binaries, with our own configurations and
# processes (scripts/bench.sh). An existing policy-rc.d is left as it is.
POLICY=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# sluice scripts/deps.sh: no services during install\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ours=1
fi
status=0
$SUDO apt-get install -y -q --no-install-recommends $missing || status=$?
[ "$ours" = 0 ] || $SUDO rm -f "$POLICY"
exit "$status"
