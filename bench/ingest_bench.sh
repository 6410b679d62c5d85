#!/bin/sh
# ingest_bench: webhooks per second and time-to-202 of the real cairn-ingest
# (in front of the real cairn-ledger, so every 202 is a durable append),
# side by side with trivial_202, an HTTP server on the same library and
# thread pool that only answers 202. Load comes from wrk with
# bench/ingest_bench.lua (signed GitHub webhooks, or CloudEvents), paced at
# 1000/s and 5000/s, then flat out. Each step runs the trivial server and
# ingest back to back; the whole set is repeated --runs times and the
# medians printed. At the end the ledger's size must equal the number of
# 202s ingest gave, or the benchmark fails. See bench/README.md.
#
#   bench/ingest_bench.sh [--bin DIR] [--seconds S] [--runs N] [--mode github|cloudevents]
#                         [--threads T] [--connections C] [--rates "1000 5000 0"] [--dir DIR]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../build-bench/bin"
seconds=10
runs=3
mode=github
threads=4
connections=64
rates="1000 5000 0"
wrk_threads=2
base_dir=${TMPDIR:-/tmp}

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --bin) bin=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --dir) base_dir=$2; shift 2 ;;
    --help | -h) usage ;;
    *) echo "ingest_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$mode" in github | cloudevents) ;; *) echo "ingest_bench: --mode is github or cloudevents" >&2; exit 2 ;; esac
for exe in cairn-ledger cairn-ingest cairn trivial_202; do
    [ -x "$bin/$exe" ] || { echo "ingest_bench: $bin/$exe is missing; build the bench targets (see bench/README.md)" >&2; exit 2; }
done

if ! command -v wrk >/dev/null 2>&1; then
    echo "ingest_bench: installing wrk (Debian package) ..." >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
fi
command -v curl >/dev/null 2>&1 || { echo "ingest_bench: curl is needed" >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || { echo "ingest_bench: openssl is needed (for the webhook signature)" >&2; exit 2; }

tmp=$(mktemp -d "$base_dir/cairn-ingest-bench-XXXXXX")
data="$tmp/data"
results="$tmp/results.txt"
: >"$results"
pids=""
status=1
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    if [ "$status" = 0 ]; then rm -rf "$tmp"; else echo "ingest_bench: kept $tmp (logs: ledger.log, ingest.log, trivial.log)" >&2; fi
}
trap cleanup EXIT INT TERM

# Two free loopback ports.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ingest_port=$(free_port)
trivial_port=$(free_port)
while [ "$trivial_port" = "$ingest_port" ]; do trivial_port=$(free_port); done

secret=bench-webhook-secret
body="$here/../services/ingest/testdata/github/workflow_run.completed.json"
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -r <"$body" | cut -d' ' -f1)"

# (a larger map than the default 1G: a run appends ~10^5 webhooks of ~8 KiB each)
"$bin/cairn-ledger" --data-dir "$data" --set log.level=warn --set ledger.map_size=32G \
    2>"$tmp/ledger.log" &
ledger_pid=$!
pids="$pids $ledger_pid"
for _ in $(seq 1 200); do [ -S "$data/run/ledger-api.sock" ] && break; sleep 0.05; done
"$bin/cairn-ingest" --data-dir "$data" --set log.level=warn --set ingest.http_port="$ingest_port" \
    --set ingest.threads="$threads" --set ingest.github_secret="$secret" 2>"$tmp/ingest.log" &
ingest_pid=$!
pids="$pids $ingest_pid"
"$bin/trivial_202" --port "$trivial_port" --threads "$threads" 2>"$tmp/trivial.log" &
trivial_pid=$!
pids="$pids $trivial_pid"
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$ingest_port/healthz" >/dev/null 2>&1 &&
        curl -sS -o /dev/null "http://127.0.0.1:$trivial_port/healthz" 2>/dev/null && break
    sleep 0.05
done

# CPU ticks (user + system) of a process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo "ingest_bench: mode=$mode seconds=$seconds runs=$runs ingest.threads=$threads (same pool for trivial_202) wrk -t$wrk_threads -c$connections"
echo "ingest_bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
printf '%-4s %-7s %-8s %9s %8s %8s %8s %7s %10s %10s\n' run rate server '2xx/s' 'p50 ms' 'p90 ms' 'p99 ms' errors 'cpu us/req' 'of it ledger'

# Warm-up: a second of each, not counted (ingest's ledger clients, page cache).
for port in "$trivial_port" "$ingest_port"; do
    BENCH_MODE=$mode BENCH_BODY=$body BENCH_SIG=$sig BENCH_RATE=0 BENCH_THREADS=$wrk_threads \
        BENCH_RUN="warm-$port" wrk -t"$wrk_threads" -c"$connections" -d1s -s "$here/ingest_bench.lua" \
        "http://127.0.0.1:$port" >/dev/null
done

status_errors=0
for run in $(seq 1 "$runs"); do
    for rate in $rates; do
        for server in trivial ingest; do
            if [ $server = trivial ]; then port=$trivial_port; procs=$trivial_pid; else port=$ingest_port; procs="$ingest_pid $ledger_pid"; fi
            before=0
            for p in $procs; do before=$((before + $(ticks "$p"))); done
            ledger_before=$(ticks "$ledger_pid")
            line=$(BENCH_MODE=$mode BENCH_BODY=$body BENCH_SIG=$sig BENCH_RATE=$rate \
                BENCH_THREADS=$wrk_threads BENCH_RUN="r$run-$rate-$server" \
                wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout 10s \
                -s "$here/ingest_bench.lua" "http://127.0.0.1:$port" | grep '^BENCH ')
            after=0
            for p in $procs; do after=$((after + $(ticks "$p"))); done
            ledger_ticks=$(($(ticks "$ledger_pid") - ledger_before))
            [ $server = trivial ] && ledger_ticks=0
            eval "$(echo "$line" | tr ' ' '\n' | grep '=' | sed 's/^/w_/')"
            errors=$((w_errors_connect + w_errors_read + w_errors_write + w_errors_status + w_errors_timeout))
            ok_rps=$(awk -v n="$w_requests" -v e="$errors" -v s="$w_seconds" 'BEGIN { printf "%.1f", (n - e) / s }')
            if [ "$errors" != 0 ]; then
                echo "  errors: connect $w_errors_connect, read $w_errors_read, write $w_errors_write, non-2xx status $w_errors_status, timeout $w_errors_timeout" >&2
                [ "$w_errors_status" != 0 ] && [ $server = ingest ] && status_errors=$((status_errors + w_errors_status))
            fi
            cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$w_requests" 'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }')
            ledger_cpu=$(awk -v t="$ledger_ticks" -v hz="$hz" -v n="$w_requests" 'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }')
            label=$rate; [ "$rate" = 0 ] && label=max
            printf '%-4s %-7s %-8s %9.0f %8.2f %8.2f %8.2f %7d %10s %10s\n' "$run" "$label" "$server" "$ok_rps" \
                "$(awk -v u="$w_p50_us" 'BEGIN{print u/1000}')" "$(awk -v u="$w_p90_us" 'BEGIN{print u/1000}')" \
                "$(awk -v u="$w_p99_us" 'BEGIN{print u/1000}')" "$errors" "$cpu" "$ledger_cpu"
            echo "$label $server $run $ok_rps $w_p50_us $w_p90_us $w_p99_us $errors $cpu $w_requests $ledger_cpu" >>"$results"
        done
    done
done

# Every 202 must be in the ledger: wait for the spool to drain, then compare
# ingest's count of 202 answers with the ledger's size.
metric() { curl -fsS "http://127.0.0.1:$ingest_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# (wrk stops at its deadline without waiting for the answers in flight, so
# ingest may still be finishing some: wait until the count stops moving.)
accepted=$(metric 'cairn_ingest_requests_total{code="202"}')
for _ in $(seq 1 600); do
    sleep 0.5
    now=$(metric 'cairn_ingest_requests_total{code="202"}')
    [ "$now" = "$accepted" ] && [ "$(metric cairn_ingest_spool_depth)" = 0 ] && break
    accepted=$now
done
spooled=$(metric cairn_ingest_spooled_total)
size=$("$bin/cairn" log checkpoint --json --data-dir "$data" | sed -n 's/.*"size": *\([0-9]*\).*/\1/p')

echo
echo "medians over $runs runs (2xx answers/s, p50/p90/p99 ms, CPU us per request of the server processes):"
printf '%-7s %-8s %9s %8s %8s %8s %10s %10s\n' rate server '2xx/s' 'p50 ms' 'p90 ms' 'p99 ms' 'cpu us/req' 'of it ledger'
median() { sort -n | awk '{a[NR]=$1} END { if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
for rate in $rates; do
    label=$rate; [ "$rate" = 0 ] && label=max
    for server in trivial ingest; do
        col() { awk -v r="$label" -v s="$server" -v c="$1" '$1 == r && $2 == s { print $c }' "$results" | median; }
        printf '%-7s %-8s %9.0f %8.2f %8.2f %8.2f %10.0f %10.0f\n' "$label" "$server" "$(col 4)" \
            "$(awk -v u="$(col 5)" 'BEGIN{print u/1000}')" "$(awk -v u="$(col 6)" 'BEGIN{print u/1000}')" \
            "$(awk -v u="$(col 7)" 'BEGIN{print u/1000}')" "$(col 9)" "$(col 11)"
    done
    t=$(awk -v r="$label" '$1 == r && $2 == "trivial" { print $4 }' "$results" | median)
    i=$(awk -v r="$label" '$1 == r && $2 == "ingest" { print $4 }' "$results" | median)
    echo "$label: ingest/trivial throughput $(awk -v i="$i" -v t="$t" 'BEGIN { printf "%.2f", t ? i / t : 0 }')"
done

# The floor: the raw building blocks of one durable webhook (HMAC, SHA-256,
# JSON parse, pack, a ZeroMQ hop, a share of a durable LMDB commit and its
# signature), measured in-process, added to what the trivial server's
# requests cost the whole machine flat out (wrk included).
case " $rates " in *" 0 "*) max_measured=1 ;; *) max_measured=0 ;; esac
if [ -x "$bin/ingest_blocks" ] && [ "$max_measured" = 1 ]; then
    echo
    "$bin/ingest_blocks" --body "$body" --dir "$tmp" | tee "$tmp/blocks.txt" | grep -v '^BLOCKS'
    floor=$(sed -n 's/^BLOCKS floor_us=//p' "$tmp/blocks.txt")
    t=$(awk '$1 == "max" && $2 == "trivial" { print $4 }' "$results" | median)
    awk -v f="$floor" -v t="$t" -v n="$(nproc)" 'BEGIN {
        m = n * 1e6 / t
        printf "best case: the trivial server cost the machine %.1f us per request flat out (%d CPUs / %.0f/s);\n", m, n, t
        printf "  with the %.1f us floor added, a receiver doing nothing but these blocks reaches at most %.2f of its throughput\n", f, m / (m + f)
    }'
elif [ "$max_measured" = 1 ]; then
    echo "(ingest_blocks is not built: no floor; build the bench targets)"
fi
echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ingest answered 202 $accepted times ($spooled of them through the spool); the ledger holds $size entries"
if [ "$status_errors" != 0 ]; then
    echo "FAILED: ingest answered $status_errors requests with an error status (see $tmp/ingest.log)" >&2
    status=1
elif [ -n "$accepted" ] && [ "$accepted" = "$size" ]; then
    echo "OK: every accepted event is in the ledger"
    status=0
else
    echo "FAILED: 202 answers and ledger entries differ" >&2
    status=1
fi
exit $status
