#!/bin/sh
# Runs notify_bench: cairn-notify against Prometheus Alertmanager on the same
# 100-route tree, alert stream and webhook sink (see bench/README.md).
# Installs the Debian package prometheus-alertmanager when it is missing,
# builds a Release tree in build-bench, and passes its arguments on, e.g.
#   bench/notify_bench.sh --alerts 20000
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${CAIRN_BENCH_BUILD:-$root/build-bench}

if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
    echo "notify_bench: installing prometheus-alertmanager (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q prometheus-alertmanager
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target notify_bench cairn-ledger cairn-notify >/dev/null
exec "$build/bin/notify_bench" --alertmanager "$(command -v prometheus-alertmanager)" "$@"
