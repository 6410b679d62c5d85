-- wrk script for ingest_bench.sh: POSTs one webhook per request, each with
-- its own delivery id so that every request is a new event, optionally paced
-- to a total rate, and prints the latency percentiles at the end.
--
-- Environment (set by ingest_bench.sh):
--   BENCH_MODE     "github" (a signed GitHub workflow_run webhook to
--                  /v1/webhooks/github) or "cloudevents" (a structured
--                  CloudEvent to /v1/events)
--   BENCH_BODY     file holding the GitHub body (sent byte for byte)
--   BENCH_SIG      "sha256=<hex>": its X-Hub-Signature-256
--   BENCH_RATE     total requests per second over all threads; 0 = flat out
--   BENCH_THREADS  wrk's -t (to split the rate)
--   BENCH_RUN      a word that makes ids unique across runs against one ledger
--
-- Pacing: each wrk thread keeps a schedule of send slots 1/rate-per-thread
-- apart and delay() holds a request until its slot; a slot already passed
-- is used at once (so a slow server is not given extra time, but latency
-- is timed by wrk from the actual send).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local mode = os.getenv("BENCH_MODE") or "github"
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local run = os.getenv("BENCH_RUN") or "r"

local threads = {}
local counter = 0
local thread_id = 0
local body = nil
local interval = 0
local next_slot = nil

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid or 0
  if mode == "github" then
    local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
    body = f:read("*a")
    f:close()
  end
  if rate > 0 then
    interval = 1000.0 * nthreads / rate
  end
end

function delay()
  if interval == 0 then
    return 0
  end
  local t = now_ms()
  if next_slot == nil then
    next_slot = t
  end
  local slot = next_slot
  next_slot = next_slot + interval
  if slot <= t then
    return 0
  end
  return math.floor(slot - t + 0.5)
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", run, thread_id, counter)
  if mode == "github" then
    return wrk.format("POST", "/v1/webhooks/github", {
      ["Content-Type"] = "application/json",
      ["X-GitHub-Event"] = "workflow_run",
      ["X-GitHub-Delivery"] = id,
      ["X-GitHub-Hook-ID"] = "423885699",
      ["X-Hub-Signature-256"] = os.getenv("BENCH_SIG"),
      ["User-Agent"] = "GitHub-Hookshot/bench",
    }, body)
  end
  local ce = string.format(
    '{"specversion":"1.0","id":"%s","source":"/ci/acme/payments",' ..
    '"type":"dev.cdevents.testsuiterun.finished.0.3.0","time":"2026-11-25T10:02:00Z",' ..
    '"datacontenttype":"application/json","data":{"context":{"specversion":"0.5.0",' ..
    '"id":"%s","source":"/ci/acme/payments","type":"dev.cdevents.testsuiterun.finished.0.3.0",' ..
    '"timestamp":"2026-11-25T10:02:00Z"},"subject":{"id":"suite-%d","content":' ..
    '{"outcome":"success","environment":{"id":"ci"}}},"customData":{"change":"CHG-%d",' ..
    '"tests_passed":120,"tests_failed":0}}}', id, id, counter, counter % 100)
  return wrk.format("POST", "/v1/events", {
    ["Content-Type"] = "application/cloudevents+json",
  }, ce)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  -- One machine-readable line for ingest_bench.sh.
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write,
    e.status, e.timeout))
end
