/* The checkpoint file: the latest checkpoint the ledger answered with, kept
 * outside its store (ledger.checkpoint_file). The store's own checkpoints go
 * wherever the store goes: a store restored from an older backup, or one a
 * disk lost writes of, carries its own older checkpoint and would open
 * without complaint, then sign new checkpoints at sizes it had signed with
 * other roots before, a fork to anyone who kept a receipt. The file is
 * checked against the store at start (cairn_ledger_store_check_note), and
 * refreshed at most once a second while the log grows, and at stop. It only
 * ever holds a checkpoint whose batch was durable and answered. The writes
 * (two fsyncs each) happen on a thread of their own, named ledger-cpfile,
 * so that a slow disk never holds up the thread that answers requests. */
#ifndef CAIRN_LEDGER_CPFILE_H
#define CAIRN_LEDGER_CPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* How often the file is rewritten at most while the log grows. */
#define CAIRN_LEDGER_CPFILE_EVERY_MS 1000

typedef struct cairn_ledger_cpfile_t cairn_ledger_cpfile_t;

/* A file at path; an empty path keeps none (every call below is then a
 * no-op returning 0). NULL when out of memory. */
cairn_ledger_cpfile_t *cairn_ledger_cpfile_new(const char *path);

/* Stops the writing thread, writes the newest checkpoint offered if it is
 * not written yet, then frees (NULL-safe, sets *self_p to NULL). */
void cairn_ledger_cpfile_destroy(cairn_ledger_cpfile_t **self_p);

/* Checks the file against store at start; logs why it refuses. 0 when it is
 * missing (a new data directory) or agrees with the store; CAIRN_EINTEGRITY
 * when the store lacks entries the file's checkpoint covers or holds another
 * tree; CAIRN_EPARSE when the file holds no checkpoint of this log; -errno
 * when it cannot be read (or the writing thread cannot start). Then writes
 * the store's latest checkpoint (making the file's directory if need be)
 * and starts the thread that writes the ones offered later. */
int cairn_ledger_cpfile_check(cairn_ledger_cpfile_t *self, cairn_ledger_store_t *store);

/* Offers the checkpoint of a batch that is durable and answered; kept when
 * its size is above the last one offered, and written by the thread within
 * CAIRN_LEDGER_CPFILE_EVERY_MS. Copies the note; never waits on the disk. */
void cairn_ledger_cpfile_offer(cairn_ledger_cpfile_t *self, const char *note, size_t len,
                               uint64_t size);

#endif
