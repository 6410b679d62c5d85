/* Fuzz target for the CloudEvents parser. Each input is parsed as a
 * structured event, as a batch, and as binary-mode data; every event that is
 * accepted must hold its required attributes and pack as a protobuf.
 *
 * With -DCAIRN_LIBFUZZER (clang, -fsanitize=fuzzer) this is a libFuzzer
 * target. Otherwise it is a plain driver that runs every file named on the
 * command line (directories are walked one level) through the same code, so
 * ctest exercises the seed corpus on every build. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/util.h"
#include "cloudevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted event must be complete and packable; anything else is a bug. */
static void s_check(const Cairn__V1__Event *ev)
{
    if (!ev || !*ev->id || !*ev->source || !*ev->type || strcmp(ev->spec_version, "1.0") != 0 ||
        !ev->correlation || !ev->governance || !ev->evidence)
        abort();
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cairn_codec_pack(&ev->base, &buf, &len) != 0)
        abort();
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    Cairn__V1__Event *ev = NULL;
    if (cairn_cloudevent_parse(data, size, &ev, err, sizeof err) == 0)
        s_check(ev);
    else if (!err[0])
        abort(); /* every error must say something */
    cairn_cloudevent_free(&ev);

    Cairn__V1__Event **events = NULL;
    size_t n = 0;
    if (cairn_cloudevent_parse_batch(data, size, &events, &n, err, sizeof err) == 0)
        for (size_t i = 0; i < n; i++)
            s_check(events[i]);
    cairn_cloudevent_free_all(&events, n);

    static const cairn_ingest_header_t headers[] = {
        {"ce-specversion", "1.0"},
        {"ce-id", "fuzz-1"},
        {"ce-source", "/fuzz"},
        {"ce-type", "dev.cdevents.testsuiterun.finished.0.3.0"},
    };
    if (cairn_cloudevent_parse_binary(headers, 4, "application/json", data, size, &ev, err,
                                      sizeof err) == 0)
        s_check(ev);
    cairn_cloudevent_free(&ev);
    return 0;
}

const char cairn_fuzz_target_name[] = "CloudEvents parser";
