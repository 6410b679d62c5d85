/* What an attempt's outcome means and when to try again.
 *
 * HTTP: 2xx delivered; 410 Gone disables the endpoint; 408, 425, 429 and
 * 5xx are retried (honouring Retry-After); other answers (3xx, 4xx) are
 * permanent failures. SMTP: a completed exchange is delivered; 4xx replies
 * and connection trouble are retried; 5xx replies and a refused STARTTLS
 * or login are permanent. Transport errors (refused, reset, timeout) are
 * retried.
 *
 * The n-th retry waits min(max, initial * 2^(n-1)), with "equal jitter"
 * (half fixed, half random), or Retry-After when the receiver asked for
 * longer. A message is dead-lettered after max_attempts attempts or once
 * the next attempt would fall after max_age from its creation. */
#ifndef CAIRN_NOTIFY_RETRY_H
#define CAIRN_NOTIFY_RETRY_H

#include <stdint.h>

#include "routes.h"
#include "transport.h"

typedef enum {
    CAIRN_OUTCOME_DELIVERED, /* done */
    CAIRN_OUTCOME_RETRY,     /* try again later */
    CAIRN_OUTCOME_PERMANENT, /* dead-letter now */
    CAIRN_OUTCOME_GONE,      /* 410: disable the endpoint */
} cairn_outcome_t;

cairn_outcome_t cairn_retry_classify(cairn_integration_type_t type, const cairn_response_t *r);

/* Delay before attempt number `attempt` + 1, after `attempt` failed.
 * random is any 32-bit random value (jitter). */
int64_t cairn_retry_delay(const cairn_retry_policy_t *p, uint32_t attempt, int64_t retry_after_ms,
                          uint32_t random);

/* True when no further attempt may be made: attempts used up, or the next
 * one (at next_ms) would be later than created_ms + max_age. */
int cairn_retry_exhausted(const cairn_retry_policy_t *p, uint32_t attempt, int64_t created_ms,
                          int64_t next_ms);

/* "delivered", "retry", "dead", "disabled". */
const char *cairn_outcome_name(cairn_outcome_t o);

#endif
