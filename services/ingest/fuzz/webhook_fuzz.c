/* Fuzz target for one webhook normalizer, chosen at build time with
 * -DCAIRN_FUZZ_SOURCE="github" (gitlab, jenkins, servicenow, jira,
 * pagerduty), or "tekton" for the Tekton pass over binary-mode CloudEvents.
 *
 * An input is the source's event name on the first line (the X-GitHub-Event
 * or X-Gitlab-Event header, the X-ServiceNow-Table header, or for Tekton the
 * end of the type after "dev.tekton.event."), then the body. Every event a
 * normalizer accepts must be complete (id, source, type, an idempotency
 * key) and pack as a protobuf; every refusal must say why; and a normalizer
 * must never leave an event without its type or source.
 *
 * Like cloudevent_fuzz.c: with -DCAIRN_LIBFUZZER (clang, -fsanitize=fuzzer)
 * a libFuzzer target, otherwise a plain driver run by ctest over the seed
 * corpus fuzz/corpus-<source>/. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cloudevent.h"
#include "webhook.h"

#ifndef CAIRN_FUZZ_SOURCE
#error "define CAIRN_FUZZ_SOURCE, e.g. -DCAIRN_FUZZ_SOURCE=\"github\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check(const Cairn__V1__Event *ev, const char *key)
{
    if (!ev || !*ev->id || !*ev->source || !*ev->type || strcmp(ev->spec_version, "1.0") != 0 ||
        !ev->correlation || !ev->governance || !ev->evidence || (key && !*key))
        abort();
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cairn_codec_pack(&ev->base, &buf, &len) != 0)
        abort();
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t name_len = nl ? (size_t)(nl - data) : 0;
    char event[256];
    if (name_len >= sizeof event)
        name_len = sizeof event - 1;
    memcpy(event, data, name_len);
    event[name_len] = '\0';
    if (strlen(event) != name_len)
        return 0; /* a header value never holds a NUL */
    const uint8_t *body = nl ? nl + 1 : data;
    size_t len = size - (size_t)(body - data);
    char err[512] = "", key[640] = "";
    Cairn__V1__Event *ev = NULL;

    if (strcmp(CAIRN_FUZZ_SOURCE, "tekton") == 0) {
        char type[300];
        snprintf(type, sizeof type, "dev.tekton.event.%s", event);
        const cairn_ingest_header_t headers[] = {
            {"ce-specversion", "1.0"},
            {"ce-id", "fuzz-1"},
            {"ce-source", "/tekton/fuzz"},
            {"ce-type", type},
        };
        if (cairn_cloudevent_parse_binary(headers, 4, "application/json", body, len, &ev, err,
                                          sizeof err) == 0)
            s_check(ev, NULL);
        else if (!err[0])
            abort();
        cairn_cloudevent_free(&ev);
        return 0;
    }

    const cairn_ingest_header_t headers[] = {
        {"Content-Type", "application/json"},
        {"X-GitHub-Event", event},
        {"X-GitHub-Delivery", "fuzz-delivery"},
        {"X-GitHub-Hook-ID", "1"},
        {"X-Gitlab-Event", event},
        {"Idempotency-Key", "fuzz-key"},
        {"X-ServiceNow-Table", event},
        {"X-Atlassian-Webhook-Identifier", "fuzz-id"},
        {"X-Webhook-Id", "fuzz-id"},
    };
    uint8_t sha[32];
    char sha_hex[65];
    cairn_sha256(body, len, sha);
    cairn_hex(sha, sizeof sha, sha_hex);
    int rc = cairn_webhook_build(CAIRN_FUZZ_SOURCE, headers, sizeof headers / sizeof headers[0],
                                 "application/json", body, len, sha_hex, &ev, key, sizeof key, err,
                                 sizeof err);
    if (rc == 0)
        s_check(ev, key);
    else if (rc == CAIRN_EINTERNAL || (rc != -ENOMEM && !err[0]))
        abort();
    cairn_cloudevent_free(&ev);
    return 0;
}

const char cairn_fuzz_target_name[] = CAIRN_FUZZ_SOURCE " normalizer";
