/* The overload test: the whole stack under `cairn up` with small bounds
 * (ingest.max_inflight, bus.high_water_mark, ingest.spool_max,
 * ingest.spool_max_size). It first measures the rate the stack sustains
 * flat out with many requests in flight, then offers ten times that rate
 * open loop for a bounded time while it samples every daemon's VmRSS from
 * /proc/<pid>/status:
 *
 *   - each daemon stays under its memory cap (CAIRN_OVERLOAD_CAP_MB, default
 *     192; the sanitizer build sets more, see CMakeLists.txt);
 *   - ingest sheds what it cannot take with 503 and Retry-After, counted in
 *     cairn_ingest_overload_rejected_total;
 *   - once the load stops, a new event is answered 202 within 5 s (nobody
 *     intervenes), and every event answered 202 (warm-up, overload and
 *     after) is in the ledger exactly once.
 *
 * CAIRN_OVERLOAD_SECONDS (default 8) sets the length of the overload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <czmq.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/util.h"
#include "harness.h"
#include "probe.h"

#define S_WARM_OPEN 128    /* transfers the warm-up keeps in flight (= S_MAX_INFLIGHT) */
#define S_LOAD_OPEN 512    /* most transfers the overload keeps open at once */
#define S_MAX_INFLIGHT 128 /* ingest.max_inflight for this stack */
#define S_WARM_MS 4000     /* length of the warm-up */
#define S_WARM_MAX 200000  /* most requests of the warm-up */
#define S_RECOVER_MS 5000  /* a 202 must come back this soon after the load */

static const char *const s_daemons[] = {"cairn-ledger", "cairn-ingest", "cairn-policy",
                                        "cairn-notify"};

/* The outcome of one request (its event id is "ovl-<phase>-<index>"). */
typedef struct {
    uint16_t status;  /* HTTP status; 0: no answer or not sent */
    bool sent;        /* false: the client had no free transfer when it was due */
    bool retry_after; /* the answer carried Retry-After with a positive value */
} s_req_t;

/* The requests of one phase. */
typedef struct {
    const char *name; /* "warm", "load" or "after" */
    s_req_t *reqs;    /* one per request index */
    size_t n;         /* indexes used */
    size_t cap;       /* room in reqs */
} s_phase_t;

/* One reusable transfer (its connection stays open between requests). */
typedef struct {
    CURL *h;        /* the easy handle */
    char body[640]; /* the request body it sends */
    s_req_t *req;   /* the outcome it fills */
    bool busy;      /* in the multi handle */
} s_slot_t;

static struct {
    e2e_stack_t stack;
    char url[128];
    s_phase_t warm, load, after;
    long peak_kb[4];
} s;

static void s_body(char *out, size_t len, const char *phase, size_t i)
{
    snprintf(out, len,
             "{\"specversion\":\"1.0\",\"id\":\"ovl-%s-%zu\",\"source\":\"/overload/ci\","
             "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"data\":{\"context\":{},"
             "\"subject\":{\"id\":\"unit-%zu\",\"content\":{\"outcome\":\"success\"}},"
             "\"customData\":{\"change\":\"CHG-O%zu\",\"tests_passed\":10,\"tests_failed\":0}}}",
             phase, i, i, i % 200);
}

static void s_sample_rss(void)
{
    for (int i = 0; i < 4; i++) {
        pid_t pid = stack_daemon_pid(&s.stack, s_daemons[i]);
        long kb = pid ? probe_rss_kb(pid) : -1;
        if (kb > s.peak_kb[i])
            s.peak_kb[i] = kb;
    }
}

static size_t s_header(char *p, size_t size, size_t n, void *u)
{
    s_slot_t *slot = u;
    long seconds;
    if (probe_retry_after(p, size * n, &seconds) && seconds > 0)
        slot->req->retry_after = true;
    return size * n;
}

static int s_phase_init(s_phase_t *ph, const char *name, size_t cap)
{
    ph->name = name;
    ph->n = 0;
    ph->cap = cap;
    ph->reqs = calloc(cap ? cap : 1, sizeof *ph->reqs);
    return ph->reqs ? 0 : -1;
}

static int s_setup(void **state)
{
    (void)state;
    memset(&s, 0, sizeof s);
    char ingest[256];
    snprintf(ingest, sizeof ingest,
             "  max_inflight: %d\n  spool_max: 2000\n  spool_max_size: 8M\n"
             "  max_connections: 1024\n",
             S_MAX_INFLIGHT);
    stack_opts_t o = {
        .log_level = "warn",
        .ingest = ingest,
        .bus = "  high_water_mark: 5000\n",
    };
    if (stack_start_with(&s.stack, &o) != 0)
        return -1;
    snprintf(s.url, sizeof s.url, "http://127.0.0.1:%d/v1/events", s.stack.http_port);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    int rc = stack_stop(&s.stack);
    stack_cleanup(&s.stack);
    free(s.warm.reqs);
    free(s.load.reqs);
    free(s.after.reqs);
    return rc == 0 ? 0 : -1;
}

/* Starts request ph->n on slot. */
static void s_send(CURLM *m, s_slot_t *slot, s_phase_t *ph)
{
    size_t i = ph->n++;
    slot->req = &ph->reqs[i];
    slot->req->sent = true;
    s_body(slot->body, sizeof slot->body, ph->name, i);
    curl_easy_setopt(slot->h, CURLOPT_POSTFIELDS, slot->body);
    curl_easy_setopt(slot->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(slot->body));
    slot->busy = true;
    curl_multi_add_handle(m, slot->h);
}

/* Sends ph's requests for ms through at most open_max transfers at once.
 * rate > 0: open loop, request i is due at start + i / rate seconds, and a
 * due request that finds every transfer busy is not sent (counted as such);
 * rate == 0: flat out, every transfer always busy. Then waits for the
 * transfers still open. Returns the milliseconds it took. */
static int64_t s_run(s_phase_t *ph, double rate, size_t open_max, int ms)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)open_max);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/cloudevents+json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    s_slot_t *slots = calloc(open_max, sizeof *slots);
    assert_non_null(slots);
    for (size_t k = 0; k < open_max; k++) {
        CURL *h = slots[k].h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, s.url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, probe_discard);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &slots[k]);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &slots[k]);
    }
    size_t open = 0, free_hint = 0;
    int64_t start = cairn_mono_ms(), last_sample = 0;
    for (;;) {
        int64_t now = cairn_mono_ms();
        bool offering = now - start < ms && ph->n < ph->cap;
        if (!offering && open == 0)
            break;
        while (offering && ph->n < ph->cap &&
               (rate > 0 ? start + (int64_t)((double)ph->n * 1000.0 / rate) <= now
                         : open < open_max)) {
            if (open == open_max) {
                ph->reqs[ph->n++].sent = false; /* the client is saturated */
                continue;
            }
            while (slots[free_hint].busy)
                free_hint = (free_hint + 1) % open_max;
            s_send(m, &slots[free_hint], ph);
            open++;
        }
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_slot_t *slot = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
            long status = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            slot->req->status = (uint16_t)status;
            curl_multi_remove_handle(m, msg->easy_handle);
            slot->busy = false;
            open--;
        }
        if (now - last_sample >= 200) {
            s_sample_rss();
            last_sample = now;
        }
        curl_multi_poll(m, NULL, 0, rate > 0 ? 1 : 20, NULL);
    }
    int64_t took = cairn_mono_ms() - start;
    for (size_t k = 0; k < open_max; k++)
        curl_easy_cleanup(slots[k].h);
    free(slots);
    curl_slist_free_all(hdrs);
    curl_multi_cleanup(m);
    return took;
}

/* Counts ph's outcomes; prints them. */
static void s_tally(const s_phase_t *ph, size_t *n202, size_t *n503, size_t *n503_ra, size_t *other,
                    size_t *unsent)
{
    *n202 = *n503 = *n503_ra = *other = *unsent = 0;
    for (size_t i = 0; i < ph->n; i++) {
        const s_req_t *r = &ph->reqs[i];
        if (!r->sent) {
            (*unsent)++;
        } else if (r->status == 202) {
            (*n202)++;
        } else if (r->status == 503) {
            (*n503)++;
            *n503_ra += r->retry_after;
        } else {
            (*other)++;
        }
    }
    fprintf(stderr,
            "overload: %s: %zu requests, 202 %zu, 503 %zu (%zu with Retry-After), other %zu,"
            " not sent (client saturated) %zu\n",
            ph->name, ph->n, *n202, *n503, *n503_ra, *other, *unsent);
}

/* Counts the 202s of ph whose event is not in the ledger, or more than once. */
static void s_check_ledger(const s_phase_t *ph, zhashx_t *keys, size_t *lost, size_t *dup)
{
    for (size_t i = 0; i < ph->n; i++) {
        if (ph->reqs[i].status != 202)
            continue;
        char key[96];
        snprintf(key, sizeof key, "ce:/overload/ci\novl-%s-%zu", ph->name, i);
        uintptr_t n = (uintptr_t)zhashx_lookup(keys, key);
        *lost += n == 0;
        *dup += n > 1;
    }
}

static void the_stack_stays_bounded_and_recovers_at_ten_times_its_rate(void **state)
{
    (void)state;
    const char *cap_env = getenv("CAIRN_OVERLOAD_CAP_MB");
    const char *sec_env = getenv("CAIRN_OVERLOAD_SECONDS");
    long cap_kb = (cap_env ? atol(cap_env) : 192) * 1024;
    int seconds = sec_env ? atoi(sec_env) : 8;
    size_t n202, n503, n503_ra, other, unsent;

    /* The sustainable rate: flat out with many requests in flight. */
    assert_int_equal(s_phase_init(&s.warm, "warm", S_WARM_MAX), 0);
    int64_t took = s_run(&s.warm, 0, S_WARM_OPEN, S_WARM_MS);
    s_tally(&s.warm, &n202, &n503, &n503_ra, &other, &unsent);
    double rate = (double)n202 * 1000.0 / (double)took;
    fprintf(stderr, "overload: sustained %.0f events/s (%d in flight); offering %.0f/s for %ds\n",
            rate, S_WARM_OPEN, rate * 10, seconds);
    assert_true(rate > 0);

    /* Ten times that, open loop. */
    assert_int_equal(s_phase_init(&s.load, "load", (size_t)(rate * 10 * seconds) + 1), 0);
    took = s_run(&s.load, rate * 10, S_LOAD_OPEN, seconds * 1000);
    int64_t stop = cairn_mono_ms();
    s_tally(&s.load, &n202, &n503, &n503_ra, &other, &unsent);
    fprintf(stderr, "overload: offered for %ds, last answer after %.1fs; %.0f sent/s, %.0f 202/s\n",
            seconds, (double)took / 1000.0, (double)(s.load.n - unsent) * 1000.0 / (double)took,
            (double)n202 * 1000.0 / (double)took);
    double shed = probe_metric(&s.stack, "cairn_ingest_overload_rejected_total");
    fprintf(stderr, "overload: cairn_ingest_overload_rejected_total %.0f\n", shed);
    for (int i = 0; i < 4; i++)
        fprintf(stderr, "overload: %s peak VmRSS %ld KiB (cap %ld KiB)\n", s_daemons[i],
                s.peak_kb[i], cap_kb);

    /* Recovery: a new event is accepted soon, without intervention. */
    assert_int_equal(s_phase_init(&s.after, "after", 1000), 0);
    CURL *c = curl_easy_init();
    long status = 0;
    while (status != 202 && s.after.n < s.after.cap && cairn_mono_ms() - stop < S_RECOVER_MS) {
        char body[640];
        s_req_t *r = &s.after.reqs[s.after.n];
        s_body(body, sizeof body, "after", s.after.n++);
        long ra;
        status = probe_post(c, s.url, body, &ra);
        r->sent = true;
        r->status = (uint16_t)status;
        if (status != 202)
            sleep_ms(100);
    }
    curl_easy_cleanup(c);
    fprintf(stderr, "overload: 202 again %.2fs after the load stopped\n",
            (double)(cairn_mono_ms() - stop) / 1000.0);
    assert_int_equal(status, 202);

    /* Every 202 is in the ledger once, after the spool drained. */
    for (int i = 0; i < 600 && probe_metric(&s.stack, "cairn_ingest_spool_depth") != 0; i++)
        sleep_ms(100);
    probe_ledger_t l;
    assert_int_equal(probe_ledger_read(&s.stack, &l), 0);
    zhashx_t *keys = zhashx_new();
    for (size_t i = 0; i < l.n; i++) {
        uintptr_t n = (uintptr_t)zhashx_lookup(keys, l.entries[i]->key);
        zhashx_update(keys, l.entries[i]->key, (void *)(n + 1));
    }
    size_t lost = 0, dup = 0;
    s_check_ledger(&s.warm, keys, &lost, &dup);
    s_check_ledger(&s.load, keys, &lost, &dup);
    s_check_ledger(&s.after, keys, &lost, &dup);
    fprintf(stderr, "overload: ledger %zu entries; of the 202s %zu lost, %zu duplicated\n", l.n,
            lost, dup);
    zhashx_destroy(&keys);
    probe_ledger_clear(&l);
    s_sample_rss();

    for (int i = 0; i < 4; i++) {
        assert_true(s.peak_kb[i] > 0);
        assert_true(s.peak_kb[i] < cap_kb);
    }
    assert_true(n503 > 0);
    assert_int_equal(n503_ra, n503);
    assert_true(shed > 0);
    assert_true(n202 > 0);
    assert_int_equal(lost, 0);
    assert_int_equal(dup, 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_stack_stays_bounded_and_recovers_at_ten_times_its_rate),
    };
    int rc = cmocka_run_group_tests(tests, s_setup, s_teardown);
    curl_global_cleanup();
    return rc;
}
