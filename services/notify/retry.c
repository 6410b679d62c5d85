/* Outcomes and backoff (see retry.h). */
#include "retry.h"

#include <curl/curl.h>

cairn_outcome_t cairn_retry_classify(cairn_integration_type_t type, const cairn_response_t *r)
{
    if (type == CAIRN_INTEGRATION_EMAIL) {
        if (r->curl_code == CURLE_OK)
            return CAIRN_OUTCOME_DELIVERED;
        if (r->curl_code == CURLE_USE_SSL_FAILED || r->curl_code == CURLE_LOGIN_DENIED ||
            r->curl_code == CURLE_URL_MALFORMAT || r->curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            return CAIRN_OUTCOME_PERMANENT;
        if (r->status >= 500 && r->status < 600)
            return CAIRN_OUTCOME_PERMANENT;
        return CAIRN_OUTCOME_RETRY;
    }
    if (r->curl_code != CURLE_OK) {
        if (r->curl_code == CURLE_URL_MALFORMAT || r->curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            return CAIRN_OUTCOME_PERMANENT;
        return CAIRN_OUTCOME_RETRY;
    }
    long s = r->status;
    if (s >= 200 && s < 300)
        return CAIRN_OUTCOME_DELIVERED;
    if (s == 410)
        return CAIRN_OUTCOME_GONE;
    if (s == 408 || s == 425 || s == 429 || (s >= 500 && s < 600))
        return CAIRN_OUTCOME_RETRY;
    return CAIRN_OUTCOME_PERMANENT;
}

int64_t cairn_retry_delay(const cairn_retry_policy_t *p, uint32_t attempt, int64_t retry_after_ms,
                          uint32_t random)
{
    int64_t d = p->initial_ms > 0 ? p->initial_ms : 1000;
    for (uint32_t i = 1; i < attempt && d < p->max_ms; i++)
        d *= 2;
    if (p->max_ms > 0 && d > p->max_ms)
        d = p->max_ms;
    int64_t half = d / 2;
    d = half + (half > 0 ? (int64_t)(random % (uint64_t)(half + 1)) : 0);
    if (retry_after_ms > d)
        d = retry_after_ms;
    return d;
}

int cairn_retry_exhausted(const cairn_retry_policy_t *p, uint32_t attempt, int64_t created_ms,
                          int64_t next_ms)
{
    if (attempt >= p->max_attempts)
        return 1;
    if (p->max_age_ms > 0 && next_ms > created_ms + p->max_age_ms)
        return 1;
    return 0;
}

const char *cairn_outcome_name(cairn_outcome_t o)
{
    switch (o) {
    case CAIRN_OUTCOME_DELIVERED: return "delivered";
    case CAIRN_OUTCOME_RETRY: return "retry";
    case CAIRN_OUTCOME_PERMANENT: return "dead";
    case CAIRN_OUTCOME_GONE: return "disabled";
    }
    return "unknown";
}
