/* Observing a running stack from the outside (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"

#define S_TIMEOUT_MS 15000

/* One request to the ledger; the reply in *out. */
static int s_call(const e2e_stack_t *s, Cairn__V1__LedgerRequest *req, Cairn__V1__LedgerReply **out)
{
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/ledger-api.sock", s->dir);
    cairn_client_t *client = cairn_client_new(endpoint);
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    int rc = client ? cairn_codec_pack(&req->base, &buf, &len) : -ENOMEM;
    if (rc == 0)
        rc = cairn_client_call(client, buf, len, S_TIMEOUT_MS, &reply, &reply_len);
    if (rc == 0)
        rc = cairn_codec_ledger_reply_unpack(reply, reply_len, out);
    if (rc == 0 && (*out)->status != 0) {
        rc = (*out)->status;
        CAIRN_CODEC_FREE(out);
    }
    free(buf);
    free(reply);
    cairn_client_destroy(&client);
    return rc;
}

int64_t probe_ledger_size(const e2e_stack_t *s)
{
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    req.head = &head;
    Cairn__V1__LedgerReply *reply = NULL;
    if (s_call(s, &req, &reply) < 0)
        return -1;
    int64_t size = (int64_t)reply->size;
    CAIRN_CODEC_FREE(&reply);
    return size;
}

int probe_ledger_read(const e2e_stack_t *s, probe_ledger_t *out)
{
    memset(out, 0, sizeof *out);
    uint64_t from = 0, end = 0;
    size_t cap = 0;
    for (bool first = true;; first = false) {
        Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
        replay.from_index = from;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
        req.replay = &replay;
        Cairn__V1__LedgerReply *reply = NULL;
        int rc = s_call(s, &req, &reply);
        if (rc < 0)
            return rc;
        Cairn__V1__LedgerReply **pages =
            realloc(out->pages, (out->n_pages + 1) * sizeof *out->pages);
        if (!pages) {
            CAIRN_CODEC_FREE(&reply);
            return -ENOMEM;
        }
        out->pages = pages;
        out->pages[out->n_pages++] = reply;
        if (first)
            end = reply->size;
        size_t used = 0;
        for (size_t i = 0; i < reply->n_entries; i++) {
            const Cairn__V1__Entry *e = reply->entries[i];
            if (e->index < from || e->index >= end)
                continue;
            if (e->index != from)
                return CAIRN_EINTEGRITY;
            if (out->n == cap) {
                cap = cap ? cap * 2 : 4096;
                const Cairn__V1__Entry **grown = realloc(out->entries, cap * sizeof *grown);
                if (!grown)
                    return -ENOMEM;
                out->entries = grown;
            }
            out->entries[out->n++] = e;
            from++;
            used++;
        }
        if (from >= end)
            return 0;
        if (!used)
            return CAIRN_EINTEGRITY;
    }
}

void probe_ledger_clear(probe_ledger_t *l)
{
    for (size_t i = 0; i < l->n_pages; i++)
        CAIRN_CODEC_FREE(&l->pages[i]);
    free(l->pages);
    free(l->entries);
    memset(l, 0, sizeof *l);
}

long probe_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

double probe_metric(const e2e_stack_t *s, const char *name)
{
    char *text = NULL;
    double value = -1;
    if (stack_http(s, "GET", "/metrics", NULL, NULL, 0, &text) != 200 || !text) {
        free(text);
        return -1;
    }
    size_t n = strlen(name);
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            value = strtod(line + n + 1, NULL);
        line = next;
    }
    free(text);
    return value;
}

size_t probe_discard(char *ptr, size_t size, size_t nmemb, void *user)
{
    (void)ptr;
    (void)user;
    return size * nmemb;
}

bool probe_retry_after(const char *line, size_t n, long *seconds_out)
{
    static const char name[] = "retry-after:";
    if (n <= sizeof name || strncasecmp(line, name, sizeof name - 1) != 0)
        return false;
    *seconds_out = strtol(line + sizeof name - 1, NULL, 10);
    return true;
}

static size_t s_header(char *ptr, size_t size, size_t nmemb, void *user)
{
    probe_retry_after(ptr, size * nmemb, user);
    return size * nmemb;
}

long probe_post(CURL *c, const char *url, const char *body, long *retry_after)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/cloudevents+json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    *retry_after = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, probe_discard);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, retry_after);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return status;
}
