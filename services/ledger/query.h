/* Queries over the ledger's secondary indexes: entries by change, release,
 * actor, topic prefix, environment or time range, in log order, optionally
 * paged. */
#ifndef CAIRN_LEDGER_QUERY_H
#define CAIRN_LEDGER_QUERY_H

#include <stdint.h>

#include "store.h"

/* What to look for. At most one of change_id, release_id, actor and
 * environment may be set (NULL or "" = unset); topic_prefix narrows it to
 * entries of topics with that prefix, or selects alone; from_ms/to_ms
 * narrow by the entry's time, or select alone. */
typedef struct {
    const char *change_id;    /* entries of this change */
    const char *release_id;   /* entries naming this release */
    const char *actor;        /* entries whose event's actor or approver is this */
    const char *topic_prefix; /* entries whose topic starts with this */
    const char *environment;  /* entries whose event, verdict or alert names this */
    int64_t from_ms;          /* time at or after (0 = unbounded) */
    int64_t to_ms;            /* time before (0 = unbounded) */
    uint64_t from_index;      /* skip entries below this index */
    uint64_t limit;           /* at most this many entries (0 = all) */
} cairn_ledger_query_t;

/* Calls fn for every committed entry that matches, in log order.
 * CAIRN_EINVALID when nothing is set, or two of change_id, release_id,
 * actor, environment. */
int cairn_ledger_query(cairn_ledger_store_t *store, const cairn_ledger_query_t *q,
                       cairn_ledger_entry_fn fn, void *arg);

#endif
