/* What the chaos and overload tests observe of a running stack from the
 * outside: the whole ledger read over bus.ledger_api, a daemon's resident
 * memory from /proc, a sample of ingest's /metrics, and a keep-alive HTTP
 * client that also reads Retry-After. */
#ifndef CAIRN_TEST_CHAOS_PROBE_H
#define CAIRN_TEST_CHAOS_PROBE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn/v1/ledger.pb-c.h"
#include "harness.h"

/* The ledger's entries, in log order. */
typedef struct {
    Cairn__V1__LedgerReply **pages; /* the replay answers holding them */
    size_t n_pages;
    const Cairn__V1__Entry **entries; /* borrowed from pages */
    size_t n;
} probe_ledger_t;

/* Reads every entry (replay from 0 up to the size at the first answer). 0, or
 * a negative code when the ledger did not answer or skipped an index. */
int probe_ledger_read(const e2e_stack_t *s, probe_ledger_t *out);

/* The ledger's size (head), or -1 when it did not answer. */
int64_t probe_ledger_size(const e2e_stack_t *s);

void probe_ledger_clear(probe_ledger_t *l);

/* VmRSS of pid in KiB, or -1 when it cannot be read. */
long probe_rss_kb(pid_t pid);

/* The value of one metric line of ingest's GET /metrics ("name" or
 * "name{labels}"), or -1 when absent or ingest did not answer. */
double probe_metric(const e2e_stack_t *s, const char *name);

/* A libcurl write callback that drops the body. */
size_t probe_discard(char *ptr, size_t size, size_t nmemb, void *user);

/* For a libcurl header callback: true when the header line (n bytes, with
 * its CRLF) is Retry-After; *seconds_out gets its value. */
bool probe_retry_after(const char *line, size_t n, long *seconds_out);

/* POSTs body as application/cloudevents+json to url with a reused handle.
 * Returns the status (0: no answer); *retry_after gets the Retry-After
 * header's seconds (-1 when absent). */
long probe_post(CURL *c, const char *url, const char *body, long *retry_after);

#endif
