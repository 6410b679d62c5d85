/* GitHub custom deployment protection rules: Cairn as the gate behind a
 * GitHub environment. When a `deployment_protection_rule` webhook has been
 * accepted (recorded like any event), ingest asks the policy
 * (GateQuery on bus.policy_query, or, when policy.partition_endpoints lists
 * partitioned policy instances, on the one holding the change: see
 * cairn/partition.h) whether the change the deployment belongs
 * to may pass the gate (ingest.github_gate, "deployment") in the
 * environment GitHub deploys to, and answers GitHub's callback
 * (github_api.h):
 *   allow            -> "approved"
 *   deny             -> "rejected", the reasons in the comment
 *   pending, manual  -> no answer yet: it waits for the gate's verdicts on
 *                       the ledger stream (verdict.<gate>) and asks again
 *                       whenever one for the change is recorded (and every
 *                       few seconds), until allow or deny, or until
 *                       ingest.github_protection_timeout has passed, which
 *                       is "rejected"
 *   no change named, policy error -> "rejected" (fail closed)
 * Each answer GitHub received (or the last failed attempt) is recorded in the
 * ledger as an event of type dev.cdeventsx.cairn-github-protection.answered.0.1.0
 * (docs/events.md). Requests not answered yet are kept on disk
 * (protection_store.h) and resumed after a restart.
 *
 * One worker thread does all of it; submit() may be called from any thread. */
#ifndef CAIRN_INGEST_PROTECTION_H
#define CAIRN_INGEST_PROTECTION_H

#include <stdint.h>
#include <stdio.h>

#include "cairn/v1/event.pb-c.h"
#include "recorder.h"

/* The type of a protection rule request as normalize_github.c names it. */
#define CAIRN_PROTECTION_REQUEST_TYPE "com.github.deployment_protection_rule.requested"
/* The type of the event that records an answer. */
#define CAIRN_PROTECTION_ANSWER_TYPE "dev.cdeventsx.cairn-github-protection.answered.0.1.0"

typedef struct {
    const char *state_dir;             /* {data_dir}/ingest/protection */
    const char *policy_endpoint;       /* bus.policy_query */
    const char *policy_partitions;     /* policy.partition_endpoints (may be NULL) */
    const char *ledger_stream;         /* bus.ledger_stream */
    int request_timeout_ms;            /* bus.request_timeout: one policy query */
    const char *gate;                  /* ingest.github_gate */
    int64_t timeout_ms;                /* ingest.github_protection_timeout */
    const char *api_url;               /* ingest.github_api_url */
    const char *token_spec;            /* ingest.github_token (literal, file:, env:) */
    cairn_ingest_recorder_t *recorder; /* records the answers (borrowed, outlives this) */
} cairn_ingest_protection_settings_t;

typedef struct cairn_ingest_protection_t cairn_ingest_protection_t;

/* Opens the store, connects to the stream and starts the worker (which
 * resumes the requests left pending). Returns 0 or a negative code. */
int cairn_ingest_protection_new(const cairn_ingest_protection_settings_t *settings,
                                cairn_ingest_protection_t **out);

/* Stops the worker and frees (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_protection_destroy(cairn_ingest_protection_t **self_p);

/* Takes a recorded protection rule request (type CAIRN_PROTECTION_REQUEST_TYPE;
 * any other event is ignored). A request already known (a redelivery) is
 * ignored too. Returns 0, or a negative code when it cannot be kept (logged). */
int cairn_ingest_protection_submit(cairn_ingest_protection_t *self, const Cairn__V1__Event *ev);

/* Writes the counters in Prometheus text format. */
void cairn_ingest_protection_metrics(cairn_ingest_protection_t *self, FILE *out);

#endif
