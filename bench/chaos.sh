#!/bin/sh
# The long chaos run: tens of thousands of events over HTTP while every
# daemon in turn is SIGKILLed many times (tests/chaos/chaos_test.c, the
# same program ctest runs in its short form). Prints the seed and a RESULT
# line; exits non-zero on any lost or duplicated event, verdict that a
# fresh replay would change, failed `cairn log verify`, duplicate
# notification or crash.
#
#   bench/chaos.sh [BUILD_DIR]      (default: build; a Release build)
#
# About 10 minutes on a 2-core machine: ~2 for the load, 5-8 for the stack
# to settle (mostly cairn-notify delivering ~26000 notifications), ~1.5 for
# the checks. Results: bench/README.md, section "chaos".
#
# Environment: CAIRN_CHAOS_EVENTS (30000), CAIRN_CHAOS_KILLS (40),
# CAIRN_CHAOS_KILL_MS (1500), CAIRN_CHAOS_CLIENTS (4), CAIRN_CHAOS_SEED
# (random) to rerun a seed.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
case "$build" in /*) ;; *) build="$here/$build" ;; esac
if [ ! -x "$build/bin/chaos_test" ]; then
    echo "chaos.sh: $build/bin/chaos_test is missing; build it first:" >&2
    echo "  cmake --build $build -j2 --target chaos_test" >&2
    exit 2
fi
export CAIRN_SOURCE_DIR="$here" CAIRN_BIN_DIR="$build/bin"
export CAIRN_CHAOS_EVENTS="${CAIRN_CHAOS_EVENTS:-30000}"
export CAIRN_CHAOS_KILLS="${CAIRN_CHAOS_KILLS:-40}"
export CAIRN_CHAOS_KILL_MS="${CAIRN_CHAOS_KILL_MS:-1500}"
export CAIRN_CHAOS_QUIET_S="${CAIRN_CHAOS_QUIET_S:-900}"
exec "$build/bin/chaos_test"
