/* Fuzz target for export bundles and ledger leaves (cairn/bundle.h): each
 * input is verified as a cairn.bundle/v1 JSON bundle with the fixed log key
 * and parsed as a leaf. A report must be consistent (no more verified
 * entries than entries; no findings only when everything verified), and a
 * leaf that parses must format back to exactly the same bytes, since a leaf
 * has only one encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_bundle(const char *json, size_t size)
{
    cairn_bundle_report_t *r = NULL;
    if (cairn_bundle_verify(json, size, cairn_fuzz_log_verifier(), &r) != 0)
        abort(); /* only NULL arguments or memory exhaustion may stop it */
    if (r->entries_ok > r->entry_count || (r->finding_count == 0 && !r->checkpoint_ok) ||
        (r->finding_count == 0 && r->entries_ok != r->entry_count) ||
        (r->checkpoint_ok && (!r->checkpoint.origin ||
                              strcmp(r->checkpoint.origin, CAIRN_FUZZ_LOG_ORIGIN) != 0)))
        abort();
    for (size_t i = 0; i < r->finding_count; i++)
        if (!r->findings[i].reason || !*r->findings[i].reason ||
            !cairn_finding_kind_name(r->findings[i].kind))
            abort();
    cairn_bundle_report_destroy(&r);
}

static void s_leaf(const uint8_t *data, size_t size)
{
    cairn_leaf_t leaf = {0};
    if (cairn_leaf_parse(data, size, &leaf) != 0)
        return;
    char *text = NULL;
    size_t len = 0;
    if (cairn_leaf_format(&leaf, &text, &len) != 0 || len != size || memcmp(text, data, size) != 0)
        abort();
    free(text);
    cairn_leaf_clear(&leaf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_bundle((const char *)data, size);
    s_leaf(data, size);
    return 0;
}

const char cairn_fuzz_target_name[] = "bundle verifier and leaf parser";
