/* The closed vocabulary of evidence criteria: which evidence types a gate may
 * require, which `require:` keys each type has, and how each key compares the
 * evidence an event carried. The loader validates against this table and
 * gates.c evaluates with it, so adding a key is one line here. */
#include "policy_model.h"

#include <stdio.h>
#include <string.h>

#include "suggest.h"

static const cairn_req_def_t s_defs[] = {
    {"test_report", "failed", CAIRN_REQ_MAX, CAIRN_EV_FAILED, "failed tests"},
    {"test_report", "passed_min", CAIRN_REQ_MIN, CAIRN_EV_PASSED, "passed tests"},
    {"test_report", "skipped_max", CAIRN_REQ_MAX, CAIRN_EV_SKIPPED, "skipped tests"},
    {"scan", "critical", CAIRN_REQ_MAX, CAIRN_EV_CRITICAL, "critical findings"},
    {"scan", "high", CAIRN_REQ_MAX, CAIRN_EV_HIGH, "high findings"},
    {"scan", "medium", CAIRN_REQ_MAX, CAIRN_EV_MEDIUM, "medium findings"},
    {"scan", "low", CAIRN_REQ_MAX, CAIRN_EV_LOW, "low findings"},
    {"coverage", "line_pct_min", CAIRN_REQ_MIN, CAIRN_EV_COVERAGE, "line coverage percent"},
    {"verification", "passed", CAIRN_REQ_TRUE, CAIRN_EV_SUCCESS, "a successful verification"},
    {"build", "passed", CAIRN_REQ_TRUE, CAIRN_EV_SUCCESS, "a successful build"},
    {"deployment", "passed", CAIRN_REQ_TRUE, CAIRN_EV_SUCCESS, "a successful deployment"},
};

#define S_NDEFS (sizeof s_defs / sizeof s_defs[0])

static const char *const s_types[] = {"test_report", "scan",       "coverage", "verification",
                                      "build",       "deployment", NULL};

const cairn_req_def_t *cairn_req_def_find(const char *type, const char *key)
{
    for (size_t i = 0; i < S_NDEFS; i++)
        if (strcmp(s_defs[i].type, type) == 0 && strcmp(s_defs[i].key, key) == 0)
            return &s_defs[i];
    return NULL;
}

bool cairn_evidence_type_known(const char *type)
{
    return cairn_evidence_type_index(type) >= 0;
}

int cairn_evidence_type_index(const char *type)
{
    for (int i = 0; s_types[i]; i++)
        if (strcmp(s_types[i], type) == 0)
            return i;
    return -1;
}

const char *cairn_evidence_type_name(int index)
{
    return index >= 0 && index < CAIRN_EVIDENCE_TYPES ? s_types[index] : "";
}

static void s_join(const char *const *words, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; words[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", words[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void cairn_evidence_types_list(char *buf, size_t len)
{
    s_join(s_types, buf, len);
}

/* Keys of one type, NULL-terminated, into out (room for S_NDEFS + 1). */
static void s_keys(const char *type, const char *out[S_NDEFS + 1])
{
    size_t n = 0;
    for (size_t i = 0; i < S_NDEFS; i++)
        if (strcmp(s_defs[i].type, type) == 0)
            out[n++] = s_defs[i].key;
    out[n] = NULL;
}

void cairn_evidence_keys_list(const char *type, char *buf, size_t len)
{
    const char *keys[S_NDEFS + 1];
    s_keys(type, keys);
    s_join(keys, buf, len);
}

const char *cairn_evidence_key_suggest(const char *type, const char *key)
{
    const char *keys[S_NDEFS + 1];
    s_keys(type, keys);
    return cairn_suggest(key, keys);
}
