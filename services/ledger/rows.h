/* The index rows of one batch, gathered while it appends and written once
 * at its end, grouped by key: every index a batch adds under one key of a
 * sorted-duplicates database (lookup, times) goes in with one LMDB call,
 * and a plain database (heads) gets one row per key, the key's last index.
 * What is stored is the same as with one put per row; there are fewer
 * B-tree searches.
 *
 * Rows of a batch are visible only through cairn_ledger_rows_last until
 * cairn_ledger_rows_write puts them in the batch's transaction. */
#ifndef CAIRN_LEDGER_ROWS_H
#define CAIRN_LEDGER_ROWS_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cairn_ledger_rows_t cairn_ledger_rows_t;

/* How the rows of one database are written. */
typedef enum {
    CAIRN_LEDGER_ROWS_DUPS, /* every index, as sorted duplicates (MDB_DUPFIXED, 8-byte values) */
    CAIRN_LEDGER_ROWS_LAST, /* the key's last index only, replacing the stored one */
} cairn_ledger_rows_kind_t;

cairn_ledger_rows_t *cairn_ledger_rows_new(void);
void cairn_ledger_rows_destroy(cairn_ledger_rows_t **self_p);

/* Adds index under key in dbi. Indexes of one key must grow. */
int cairn_ledger_rows_add(cairn_ledger_rows_t *self, MDB_dbi dbi, cairn_ledger_rows_kind_t kind,
                          const MDB_val *key, uint64_t index);

/* The last index added under key in dbi; false when none was. */
bool cairn_ledger_rows_last(const cairn_ledger_rows_t *self, MDB_dbi dbi, const MDB_val *key,
                            uint64_t *index_out);

/* Number of rows added since the last write or clear. */
size_t cairn_ledger_rows_count(const cairn_ledger_rows_t *self);

/* Puts every row in txn, then forgets them. On failure returns the LMDB
 * code (the caller abandons the transaction). */
int cairn_ledger_rows_write(cairn_ledger_rows_t *self, MDB_txn *txn);

/* Forgets every row (an abandoned batch). */
void cairn_ledger_rows_clear(cairn_ledger_rows_t *self);

#endif
