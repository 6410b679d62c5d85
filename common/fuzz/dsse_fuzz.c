/* Fuzz target for DSSE envelopes and in-toto Statements (cairn/dsse.h):
 * each input is verified as an envelope with the fixed log key and checked
 * as a Statement; the payload of an envelope that verifies is checked as a
 * Statement too, as the ledger's evidence path does. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/dsse.h"
#include "cairn/error.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_statement(const void *payload, size_t len)
{
    char *predicate = NULL;
    int rc = cairn_intoto_check(payload, len, &predicate);
    if (rc == 0 && (!predicate || !*predicate))
        abort();
    if (rc != 0 && rc != CAIRN_EPARSE && rc != CAIRN_EINVALID && rc != -ENOMEM)
        abort();
    free(predicate);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *type = NULL;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    int rc = cairn_dsse_verify((const char *)data, size, cairn_fuzz_log_verifier(), &type, &payload,
                               &payload_len);
    if (rc == 0) {
        if (!type || !payload || payload[payload_len] != '\0')
            abort();
        s_statement(payload, payload_len);
    } else if (rc != CAIRN_EPARSE && rc != CAIRN_EINTEGRITY && rc != -ENOMEM) {
        abort();
    }
    free(type);
    free(payload);
    s_statement(data, size);
    return 0;
}

const char cairn_fuzz_target_name[] = "DSSE envelope and in-toto Statement parsers";
