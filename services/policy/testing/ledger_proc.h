/* The real ledger for the policy's tests: cairn-ledger started from the
 * build's bin directory (CAIRN_BIN_DIR) on a temporary data directory, with
 * helpers to append CloudEvents through the real ingest parser and to read
 * the log back. The lifecycle tests run the policy engine in-process
 * against it, as the daemon runs against the ledger in production. */
#ifndef CAIRN_POLICY_TESTING_LEDGER_PROC_H
#define CAIRN_POLICY_TESTING_LEDGER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn/codec.h"
#include "cairn/config.h"
#include "ledger_link.h"

typedef struct {
    char dir[64];              /* temporary data directory */
    char api[160];             /* bus.ledger_api */
    char log[160];             /* the daemon's stderr */
    pid_t pid;                 /* the daemon */
    pid_t policy_pid;          /* cairn-policy, when started */
    char policy_log[160];      /* its stderr */
    cairn_ledger_link_t *link; /* appends and replays */
    int64_t clock_ms;          /* received time of the last tl_append_eventf event */
} tl_ledger_t;

typedef struct cairn_policy_engine_t cairn_policy_engine_t; /* engine.h */

/* Makes the directory, starts cairn-ledger and waits until it answers.
 * prefix names the directory (/tmp/<prefix>-XXXXXX). 0 on success. */
int tl_ledger_start(tl_ledger_t *l, const char *prefix);

/* Stops the daemons, prints its log when it did not exit 0, and removes the directory. */
void tl_ledger_stop(tl_ledger_t *l);

/* Starts the real cairn-policy daemon on the same data directory (built-in
 * policy when policy_file is NULL) and waits until it answers queries. */
int tl_policy_start(tl_ledger_t *l, const char *policy_file);

/* Waits until cairn-policy applied every entry and the log stopped growing. */
int tl_policy_settle(tl_ledger_t *l);

/* A configuration for a policy engine on this ledger's data directory
 * (policy.file set when policy_file is not NULL). */
cairn_config_t *tl_policy_config(const tl_ledger_t *l, const char *policy_file);

/* Parses one structured CloudEvent, sets its received time, and appends it
 * under "ce:<source>\n<id>". *index_out (may be NULL) gets its index. */
int tl_append_event(tl_ledger_t *l, const char *json, int64_t received_ms, uint64_t *index_out);

/* tl_append_event of the event printf formats, received one second after
 * the previous one appended this way (the first at 2026-11-25T10:00:01Z). */
int tl_append_eventf(tl_ledger_t *l, uint64_t *index_out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A change as CI reports it: "<change>-created" by dana for prod at commit,
 * then "<change>-tests" (3 unit tests passed), each with tl_append_eventf. */
int tl_append_change(tl_ledger_t *l, const char *change, const char *commit);

/* "<change>-lee": lee grants the change as tech_lead (tl_append_eventf). */
int tl_append_lee_approval(tl_ledger_t *l, const char *change);

/* Runs engine until it applied every entry and the log stopped growing
 * (30 s at most): 0, or CAIRN_ETIMEOUT when it did not catch up. */
int tl_engine_settle(tl_ledger_t *l, cairn_policy_engine_t *engine);

/* Number of entries in the log. */
int tl_size(tl_ledger_t *l, uint64_t *size_out);

/* Every entry from index from on (an array of *n_out; free with tl_entries_free). */
int tl_entries(tl_ledger_t *l, uint64_t from, Cairn__V1__Entry ***out, size_t *n_out);
void tl_entries_free(Cairn__V1__Entry ***entries_p, size_t n);

/* Entries whose topic is exactly topic. */
size_t tl_count_topic(Cairn__V1__Entry *const *entries, size_t n, const char *topic);

#endif
