/* The notify daemon's durable delivery state, kept in LMDB at notify.state_path.
 *
 * It holds the next ledger index to apply ("next") and, per receiver and
 * subject index, how far a delivery got:
 *   "written:<receiver>:<index>"  the receiver's side effect is done (e.g. the
 *                                 file line is on disk) but its receipt is not
 *                                 yet acknowledged by the ledger;
 *   "sent:<receiver>:<index>"     delivered and receipted; committed in the same
 *                                 transaction as "next", so a restart never
 *                                 delivers the same index twice. */
#ifndef CAIRN_NOTIFY_OUTBOX_H
#define CAIRN_NOTIFY_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cairn_notify_outbox_t cairn_notify_outbox_t;

/* How far a delivery of one subject index to one receiver got. */
typedef enum {
    CAIRN_NOTIFY_MARK_NONE = 0,    /* nothing done yet */
    CAIRN_NOTIFY_MARK_WRITTEN = 1, /* side effect done, receipt not yet acknowledged */
    CAIRN_NOTIFY_MARK_SENT = 2,    /* delivered and receipted */
} cairn_notify_mark_t;

/* Opens (creating dir with mode 0700 if needed) the state environment. */
int cairn_notify_outbox_open(const char *dir, cairn_notify_outbox_t **out);
void cairn_notify_outbox_destroy(cairn_notify_outbox_t **self_p);

/* The next ledger index to apply (0 when nothing was applied yet). */
int cairn_notify_outbox_next(cairn_notify_outbox_t *self, uint64_t *out);

/* Persists next on its own, for entries that needed no delivery. */
int cairn_notify_outbox_set_next(cairn_notify_outbox_t *self, uint64_t next);

/* How far the delivery of index to receiver got. */
int cairn_notify_outbox_mark(cairn_notify_outbox_t *self, const char *receiver, uint64_t index,
                             cairn_notify_mark_t *out);

/* Records, in its own transaction, that the receiver's side effect for index is
 * done and only the receipt is outstanding. */
int cairn_notify_outbox_mark_written(cairn_notify_outbox_t *self, const char *receiver,
                                     uint64_t index);

/* In one transaction: marks index sent to receiver (clearing its "written"
 * mark) and, when advance is true, sets next = index + 1. */
int cairn_notify_outbox_commit_sent(cairn_notify_outbox_t *self, const char *receiver,
                                    uint64_t index, bool advance);

#endif
