#!/usr/bin/env bash
# The multi-host test: the daemons on separate (network-namespace) hosts
# over tcp://, with two cairn-ingest and two cairn-policy instances (changes
# partitioned 0/2 and 1/2) against one cairn-ledger, and cairn-notify; the
# same events go to a single-host stack (`cairn up` with its defaults), and
# every change's verdicts — each one recorded in the ledger, and each gate's
# verdict now — must read the same in both runs.
#
#   multihost.sh   (CAIRN_BIN_DIR: the built binaries; ctest sets it)
#
# Needs root and `ip netns`; without them it exits 77 (ctest: skipped).
# Hosts: one namespace each, joined by veth pairs to a bridge in a hub
# namespace, addresses in 10.231.7.0/24 that exist only in those namespaces.
# Namespace names carry the process id, so runs never collide; everything
# is removed on exit, on failure and on interruption.
set -euo pipefail

BIN=${CAIRN_BIN_DIR:?CAIRN_BIN_DIR must name the directory with cairn and the daemons}
NET=10.231.7
RUN="cairn-mh$$"

skip() {
    echo "SKIP: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "the multi-host test creates network namespaces and needs root"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
ip netns add "$RUN-probe" 2>/dev/null || skip "ip netns is not available here"
ip netns del "$RUN-probe"

# A run killed outright (a ctest timeout) cannot clean up after itself: its
# namespaces, and the daemons in them, go when the next run starts.
for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(cairn-mh\([0-9]*\)-[a-z0-9]*\).*/\1 \2/p' |
    while read -r name pid; do kill -0 "$pid" 2>/dev/null || echo "$name"; done); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
done

TMP=$(mktemp -d /tmp/cairn-multihost-XXXXXX)
NAMESPACES=()
PIDS=()
NAMES=()
FAILED=1

cleanup() {
    local pid ns
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$FAILED" -ne 0 ]; then
        for log in "$TMP"/*.log; do
            [ -f "$log" ] || continue
            echo "---- $(basename "$log") (last 40 lines)"
            tail -n 40 "$log"
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---- the network ------------------------------------------------------------

HUB="$RUN-hub"
ip netns add "$HUB"
NAMESPACES+=("$HUB")
ip -n "$HUB" link set lo up
ip -n "$HUB" link add br0 type bridge
ip -n "$HUB" link set br0 up

# host NAME OCTET: a namespace "$RUN-NAME" at $NET.OCTET on the bridge.
host() {
    local ns="$RUN-$1"
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    ip -n "$HUB" link add "v-$1" type veth peer name eth0 netns "$ns"
    ip -n "$HUB" link set "v-$1" master br0 up
    ip -n "$ns" addr add "$NET.$2/24" dev eth0
    ip -n "$ns" link set eth0 up
}
host ledger 1
host ingest1 2
host ingest2 3
host policy1 4
host policy2 5
host notify 6
host client 10
# The single-host reference gets a namespace too: its defaults (HTTP on
# 127.0.0.1:8080) then collide with nothing.
SINGLE="$RUN-single"
ip netns add "$SINGLE"
NAMESPACES+=("$SINGLE")
ip -n "$SINGLE" link set lo up

in_ns() {
    local ns="$RUN-$1"
    shift
    ip netns exec "$ns" "$@"
}

# ---- keys ------------------------------------------------------------------

# One CURVE key pair per service (the two policy partitions share the
# policy's; the second ingest instance has its own), and per server socket an
# allow-list directory of the clients' public keys.
KEYS="$TMP/keys"
mkdir -p "$KEYS" "$TMP/client"
for k in ledger ingest ingest2 policy notify cli rogue; do
    "$BIN/cairn" keygen --curve -o "$KEYS/$k.key" --name "$k" --data-dir "$TMP/client" >/dev/null
done
allow() { # SOCKET CLIENT...
    local dir="$KEYS/allow-$1"
    shift
    mkdir -p "$dir"
    for c in "$@"; do
        cp "$KEYS/$c.key.pub" "$dir/"
    done
}
allow ledger_api ingest ingest2 policy notify cli
allow ledger_stream policy notify cli
allow ingest_submit cli
allow policy_query cli ingest ingest2
allow notify_api cli
allow notify_feed cli

# ---- configuration ---------------------------------------------------------

LEDGER_API="tcp://$NET.1:7101"
LEDGER_STREAM="tcp://$NET.1:7102"
POLICY1="tcp://$NET.4:7104"
POLICY2="tcp://$NET.5:7104"
CONFIG="$TMP/cairn.yaml"
cat >"$CONFIG" <<YAML
log:
  level: info
bus:
  ledger_api: "$LEDGER_API"
  ledger_stream: "$LEDGER_STREAM"
  ingest_submit: "tcp://$NET.2:7103"
  policy_query: "$POLICY1"
  notify_feed: "tcp://$NET.6:7105"
  notify_api: "tcp://$NET.6:7106"
  request_timeout: 5s
  curve_secret_key: "$KEYS/{service}.key"
  ledger_public_key: "$KEYS/ledger.key.pub"
  ingest_public_key: "$KEYS/ingest.key.pub"
  policy_public_key: "$KEYS/policy.key.pub"
  notify_public_key: "$KEYS/notify.key.pub"
  ledger_api_allow: "$KEYS/allow-ledger_api"
  ledger_stream_allow: "$KEYS/allow-ledger_stream"
  ingest_submit_allow: "$KEYS/allow-ingest_submit"
  policy_query_allow: "$KEYS/allow-policy_query"
  notify_api_allow: "$KEYS/allow-notify_api"
  notify_feed_allow: "$KEYS/allow-notify_feed"
policy:
  partition_endpoints: "$POLICY1,$POLICY2"
YAML

# start NAME HOST BINARY [--set ...]: runs a daemon in its host's namespace.
start() {
    local name=$1 hostname=$2 binary=$3
    shift 3
    mkdir -p "$TMP/$name"
    ip netns exec "$RUN-$hostname" "$BIN/$binary" --config "$CONFIG" --data-dir "$TMP/$name" \
        "$@" 2>"$TMP/$name.log" &
    PIDS+=($!)
    NAMES+=("$name")
}

# cli ARGS...: the cairn CLI on the client host.
cli() {
    ip netns exec "$RUN-client" "$BIN/cairn" "$@" --config "$CONFIG" --data-dir "$TMP/client"
}

# single_cli ARGS...: the cairn CLI beside the single-host stack.
single_cli() {
    ip netns exec "$SINGLE" "$BIN/cairn" "$@" --data-dir "$TMP/single"
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    local i
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $what"
        for i in "${!NAMES[@]}"; do
            kill -0 "${PIDS[$i]}" 2>/dev/null || fail "${NAMES[$i]} exited (waiting for $what)"
        done
        sleep 0.2
    done
}

# ---- the stacks ------------------------------------------------------------

mkdir -p "$TMP/single"
start ledger ledger cairn-ledger
wait_for 30 "cairn-ledger on $LEDGER_API" cli log checkpoint
start ingest1 ingest1 cairn-ingest --set "ingest.http_address=$NET.2" --set ingest.http_port=8080
start ingest2 ingest2 cairn-ingest --set "ingest.http_address=$NET.3" --set ingest.http_port=8080 \
    --set "bus.ingest_submit=tcp://$NET.3:7103" --set "bus.curve_secret_key=$KEYS/ingest2.key" \
    --set "bus.ingest_public_key=$KEYS/ingest2.key.pub"
start policy1 policy1 cairn-policy --set policy.partition=0/2 --set "bus.policy_query=$POLICY1"
start policy2 policy2 cairn-policy --set policy.partition=1/2 --set "bus.policy_query=$POLICY2"
start notify notify cairn-notify

ip netns exec "$SINGLE" "$BIN/cairn" up --data-dir "$TMP/single" 2>"$TMP/single.log" &
PIDS+=($!)
NAMES+=("cairn up (single host)")

for h in 2 3; do
    wait_for 30 "cairn-ingest at $NET.$h" \
        ip netns exec "$RUN-client" curl -sf "http://$NET.$h:8080/healthz"
done
wait_for 30 "cairn-policy partition 0/2" cli status CHG-2 --set "bus.policy_query=$POLICY1" \
    --set policy.partition_endpoints=
wait_for 30 "cairn-policy partition 1/2" cli status CHG-1 --set "bus.policy_query=$POLICY2" \
    --set policy.partition_endpoints=
wait_for 30 "cairn-notify" grep -q "notify started" "$TMP/notify.log"
wait_for 60 "the single-host stack" ip netns exec "$SINGLE" curl -sf http://127.0.0.1:8080/healthz
wait_for 30 "the single-host policy" single_cli status CHG-1

# ---- the events ------------------------------------------------------------

# Change N's commit is $SHA$N. Each commit hashes to the other partition than
# its change, so a query by commit exercises the CLI's search of the others.
SHA=4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a2
N_SENT=0

# post_both ID JSON: the event to the single-host stack and to one of the two
# ingest instances (alternating), each answered 202 before the next is sent.
post_both() {
    local id=$1 json=$2 status
    local host=$((2 + N_SENT % 2))
    N_SENT=$((N_SENT + 1))
    status=$(ip netns exec "$SINGLE" curl -s -o "$TMP/resp.json" -w '%{http_code}' \
        -H 'Content-Type: application/cloudevents+json' --data-binary "$json" \
        http://127.0.0.1:8080/v1/events)
    [ "$status" = 202 ] || fail "single host answered $status for $id: $(cat "$TMP/resp.json")"
    status=$(ip netns exec "$RUN-client" curl -s -o "$TMP/resp.json" -w '%{http_code}' \
        -H 'Content-Type: application/cloudevents+json' --data-binary "$json" \
        "http://$NET.$host:8080/v1/events")
    [ "$status" = 202 ] || fail "ingest at $NET.$host answered $status for $id: $(cat "$TMP/resp.json")"
}

event() { # ID SOURCE TYPE DATA
    printf '{"specversion":"1.0","id":"%s","source":"%s","type":"%s","data":%s}' "$1" "$2" "$3" "$4"
}

created() { # CHANGE N AUTHOR
    post_both "$1-created" "$(event "$1-created" /ci/acme/payments dev.cdevents.change.created.0.4.0 \
        "{\"context\":{},\"subject\":{\"id\":\"$1\",\"content\":{\"repository\":{\"id\":\"acme/payments\"}}},\"customData\":{\"author\":\"$3\",\"committers\":[\"$3\"],\"commit\":\"$SHA$2\",\"environment\":\"prod\",\"service\":\"payments\"}}")"
}
built() { # CHANGE N
    post_both "$1-build" "$(event "$1-build" /ci/acme/payments dev.cdevents.build.finished.0.3.0 \
        "{\"context\":{},\"subject\":{\"id\":\"build-$2\",\"content\":{}},\"customData\":{\"change\":\"$1\",\"commit\":\"$SHA$2\",\"outcome\":\"success\"}}")"
}
tested() { # CHANGE N FAILED
    local outcome=success
    [ "$3" -eq 0 ] || outcome=failure
    post_both "$1-tests" "$(event "$1-tests" /ci/acme/payments dev.cdevents.testsuiterun.finished.0.3.0 \
        "{\"context\":{},\"subject\":{\"id\":\"unit-$2\",\"content\":{\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"$outcome\"}},\"customData\":{\"change\":\"$1\",\"commit\":\"$SHA$2\",\"tests_passed\":120,\"tests_failed\":$3}}")"
}
approved() { # CHANGE USER ROLE
    post_both "$1-approval-$2" "$(event "$1-approval-$2" /cairn/cli dev.cdeventsx.cairn-approval.granted.0.1.0 \
        "{\"change\":\"$1\",\"approver\":\"$2\",\"role\":\"$3\"}")"
}
deployed() { # CHANGE N (CHANGE "" for a deployment naming no change)
    local named=""
    [ -z "$1" ] || named="\"change\":\"$1\","
    post_both "deploy-${1:-none}-$2" "$(event "deploy-${1:-none}-$2" /cd/acme/payments dev.cdevents.service.deployed.0.3.0 \
        "{\"context\":{},\"subject\":{\"id\":\"payments\",\"content\":{\"environment\":{\"id\":\"prod\"}}},\"customData\":{${named}\"commit\":\"$SHA$2\",\"deployer\":\"ci-bot\"}}")"
}

# Partitions (FNV-1a 64 mod 2): CHG-2, CHG-4, CHG-6 -> 0; CHG-1, CHG-3, CHG-5 -> 1.
CHANGES="CHG-1 CHG-2 CHG-3 CHG-4 CHG-5 CHG-6"
created CHG-1 1 dana
created CHG-2 2 erin
built CHG-1 1
created CHG-3 3 dana
tested CHG-1 1 0
built CHG-2 2
tested CHG-2 2 0
approved CHG-1 erin dev        # a peer approves: allowed
created CHG-4 4 lee
tested CHG-3 3 4               # failing tests
built CHG-4 4
approved CHG-2 erin dev        # the author approves: separation of duties
tested CHG-4 4 0
approved CHG-4 dana tech_lead
created CHG-5 5 dana
built CHG-5 5
tested CHG-5 5 0
approved CHG-3 lee tech_lead
created CHG-6 6 erin
tested CHG-6 6 0
deployed CHG-1 1               # allowed: no drift
deployed CHG-6 6               # not allowed: drift
deployed "" 7                  # names no change: drift
approved CHG-5 lee tech_lead

# A redelivery to the other ingest instance: the ledger's idempotency key
# ("ce:<source>\n<id>") answers it as a duplicate.
status=$(ip netns exec "$RUN-client" curl -s -o "$TMP/resp.json" -w '%{http_code}' \
    -H 'Content-Type: application/cloudevents+json' \
    --data-binary "$(event CHG-1-created /ci/acme/payments dev.cdevents.change.created.0.4.0 \
        "{\"context\":{},\"subject\":{\"id\":\"CHG-1\",\"content\":{}},\"customData\":{\"author\":\"dana\"}}")" \
    "http://$NET.3:8080/v1/events")
[ "$status" = 200 ] && grep -q '"duplicate":true' "$TMP/resp.json" ||
    fail "a redelivery to the second ingest instance was answered $status: $(cat "$TMP/resp.json")"

# ---- settling --------------------------------------------------------------

# ledger_size CLI-FUNCTION: the tree size in the latest checkpoint.
ledger_size() {
    "$@" log checkpoint 2>/dev/null | sed -n 2p
}

# applied CLI-FUNCTION CHANGE [--set ...]: the policy's applied_index.
applied() {
    local fn=$1 change=$2
    shift 2
    "$fn" status "$change" --json "$@" 2>/dev/null |
        sed -n 's/^ *"applied_index": *\([0-9]*\).*/\1/p' | tail -n 1
}

# settled: the ledger stopped growing and every policy applied all of it.
settled_multi() {
    local size a1 a2
    size=$(ledger_size cli)
    a1=$(applied cli CHG-2 --set "bus.policy_query=$POLICY1" --set policy.partition_endpoints=)
    a2=$(applied cli CHG-1 --set "bus.policy_query=$POLICY2" --set policy.partition_endpoints=)
    [ -n "$size" ] && [ "$size" = "$a1" ] && [ "$size" = "$a2" ] || return 1
    sleep 1
    [ "$(ledger_size cli)" = "$size" ]
}
settled_single() {
    local size a
    size=$(ledger_size single_cli)
    a=$(applied single_cli CHG-1)
    [ -n "$size" ] && [ "$size" = "$a" ] || return 1
    sleep 1
    [ "$(ledger_size single_cli)" = "$size" ]
}
wait_for 90 "the multi-host policies to apply the whole ledger" settled_multi
wait_for 90 "the single-host policy to apply the whole ledger" settled_single

# ---- the comparison --------------------------------------------------------

mkdir -p "$TMP/cmp"
for c in $CHANGES; do
    cli trail "$c" --json >"$TMP/cmp/$c.multi.trail.json" || fail "cairn trail $c (multi-host)"
    cli status "$c" --json >"$TMP/cmp/$c.multi.status.json" || fail "cairn status $c (multi-host)"
    single_cli trail "$c" --json >"$TMP/cmp/$c.single.trail.json" || fail "cairn trail $c (single host)"
    single_cli status "$c" --json >"$TMP/cmp/$c.single.status.json" || fail "cairn status $c (single host)"
    for run in multi single; do
        "$BIN/mh_verdicts" "$TMP/cmp/$c.$run.trail.json" "$TMP/cmp/$c.$run.status.json" \
            >"$TMP/cmp/$c.$run.txt" || fail "cannot read the $run verdicts of $c"
    done
    grep -q '^recorded gate=' "$TMP/cmp/$c.multi.txt" || fail "no verdict recorded for $c (multi-host)"
    if ! diff -u "$TMP/cmp/$c.single.txt" "$TMP/cmp/$c.multi.txt"; then
        fail "the verdicts for $c differ between the single-host and the multi-host run"
    fi
    echo "$c: $(grep -c '^recorded' "$TMP/cmp/$c.multi.txt") recorded verdicts and" \
        "$(grep -c '^status gate=' "$TMP/cmp/$c.multi.txt") gates agree;" \
        "$(grep '^status gate=' "$TMP/cmp/$c.multi.txt" | sed 's/.*gate=\([^ ]*\) decision=\([^ ]*\).*/\1=\2/' | tr '\n' ' ')"
done

# Each policy instance evaluated its own partition's changes and none other.
for c in CHG-1 CHG-3 CHG-5; do
    ! grep "evaluated change" "$TMP/policy1.log" | grep -q "change=$c " ||
        fail "partition 0/2 evaluated $c, a change of partition 1/2"
    grep "evaluated change" "$TMP/policy2.log" | grep -q "change=$c " ||
        fail "partition 1/2 did not evaluate $c"
done
for c in CHG-2 CHG-4 CHG-6; do
    ! grep "evaluated change" "$TMP/policy2.log" | grep -q "change=$c " ||
        fail "partition 1/2 evaluated $c, a change of partition 0/2"
done

# A change found by its commit, which hashes to the other partition.
cli status "${SHA}1" --json >"$TMP/by-sha.json" || fail "cairn status ${SHA}1"
grep -q '"change_id": *"CHG-1"' "$TMP/by-sha.json" ||
    fail "cairn status by CHG-1's commit did not find CHG-1: $(cat "$TMP/by-sha.json")"
cli gate "${SHA}2" --gate deployment >"$TMP/gate-sha.out" 2>&1 && fail "CHG-2 passed its deployment gate"
grep -q "^CHG-2 gate deployment" "$TMP/gate-sha.out" ||
    fail "cairn gate by CHG-2's commit did not answer for CHG-2: $(cat "$TMP/gate-sha.out")"

# Asked directly for another partition's change, an instance names the right one.
set +e
cli gate CHG-1 --gate deployment --set "bus.policy_query=$POLICY1" --set policy.partition_endpoints= \
    >"$TMP/gate.out" 2>&1
code=$?
set -e
[ "$code" -eq 2 ] && grep -q "belongs to partition 1/2 at $POLICY2" "$TMP/gate.out" ||
    fail "partition 0/2 answered a gate query for CHG-1 with exit $code: $(cat "$TMP/gate.out")"

# A process whose key is on no allow-list is not heard: the ledger refuses it
# (and logs the refusal).
! cli log checkpoint --set "bus.curve_secret_key=$KEYS/rogue.key" --set bus.request_timeout=2s \
    >/dev/null 2>&1 || fail "the ledger answered a client whose key is on no allow-list"
wait_for 10 "the ledger to log the refused client" grep -q "bus connection refused" "$TMP/ledger.log"

# Drift alerts reached cairn-notify across the network.
wait_for 30 "cairn-notify to deliver the drift alerts" grep -q '"drift"' "$TMP/notify/notifications.jsonl"

SIZE=$(ledger_size cli)

# Every daemon stops cleanly on SIGTERM (under the sanitizers: without a
# leak or error report).
for i in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
done
for i in "${!PIDS[@]}"; do
    for _ in $(seq 150); do
        kill -0 "${PIDS[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "${PIDS[$i]}" 2>/dev/null && fail "${NAMES[$i]} did not stop within 15s of SIGTERM"
    code=0
    wait "${PIDS[$i]}" || code=$?
    [ "$code" -eq 0 ] || fail "${NAMES[$i]} exited with status $code on SIGTERM"
done
PIDS=()
NAMES=()

echo "multi-host run: ledger of $SIZE entries, verdicts equal to the single-host run"
FAILED=0
