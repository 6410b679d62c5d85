/* The offline verifier's check of the databases the ledger derives from its
 * entries, against the leaves (verify.h walks the leaves and calls this for
 * each one, in index order):
 *
 *   entry_keys  a row for exactly the entries whose leaf names a key, each
 *               hashing to the `key sha256:` digest of its leaf;
 *   times       exactly one row per entry: its leaf's time -> its index;
 *   lookup      exactly one release row per leaf naming a release and one
 *               topic row per leaf, under the strings the leaf names; actor
 *               and environment rows (both from payloads, which retention
 *               purges) are checked only for pointing at an entry of the log;
 *   heads       one row per change, naming the change's newest entry: an
 *               entry that names the change and that no later entry names
 *               as its `prev`;
 *   vkeys       every key is written as the ledger writes it and signed the
 *               checkpoint it is recorded with;
 *   holds       every row names an entry of the log;
 *   purged      a row for exactly the entries without a payload, each
 *               naming a later entry (the purge).
 *
 * Rows are looked up per entry (O(log n) each) and counted at the end, so a
 * missing row, an extra one and a changed one are all found, and named by
 * the index of the first entry they belong to. Memory: two bits per entry. */
#ifndef CAIRN_LEDGER_VERIFY_INDEX_H
#define CAIRN_LEDGER_VERIFY_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/bundle.h"
#include "cairn/note.h"
#include "layout.h"

/* What the check found wrong. */
typedef struct {
    bool has_index;   /* the finding belongs to an entry */
    uint64_t index;   /* with has_index: that entry */
    char reason[256]; /* for people */
} cairn_ledger_index_finding_t;

typedef struct cairn_ledger_index_check_t cairn_ledger_index_check_t;

/* A check of the derived databases of a log of size entries, read through
 * view (kept, not owned). */
int cairn_ledger_index_check_new(const cairn_ledger_view_t *view, uint64_t size,
                                 cairn_ledger_index_check_t **out);
void cairn_ledger_index_check_destroy(cairn_ledger_index_check_t **self_p);

/* Checks the rows of entry index (whose leaf is leaf), the entries being
 * given in index order. Returns 0, CAIRN_EINTEGRITY with *why written, or
 * another negative code when the store cannot be read. */
int cairn_ledger_index_check_entry(cairn_ledger_index_check_t *self, uint64_t index,
                                   const cairn_leaf_t *leaf, cairn_ledger_index_finding_t *why);

/* After the last entry: no database holds a row the leaves do not imply,
 * every vkey signed its checkpoint (origin: the log's), and purged names
 * exactly the purged entries (purged: how many had no payload).
 * Same returns. */
int cairn_ledger_index_check_finish(cairn_ledger_index_check_t *self, const char *origin,
                                    uint64_t purged, cairn_ledger_index_finding_t *why);

/* The walk over dbi (named db) found walked rows: as many as LMDB counts
 * for it? A page damaged so that a walk skips rows is found this way.
 * Same returns. */
int cairn_ledger_rows_counted(const cairn_ledger_view_t *view, MDB_dbi dbi, const char *db,
                              uint64_t walked, cairn_ledger_index_finding_t *why);

#endif
