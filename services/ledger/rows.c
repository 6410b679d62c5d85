/* A batch's index rows, grouped by database and key (open addressing over
 * FNV-1a; a batch holds at most a few thousand keys, so even keys chosen to
 * collide cost a bounded amount of probing). */
#include "rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

/* The databases one write handles at most (cursors kept for the write). */
#define S_MAX_DBIS 8

typedef struct {
    uint64_t hash;                 /* of dbi and key */
    MDB_dbi dbi;                   /* the database */
    cairn_ledger_rows_kind_t kind; /* how its rows are written */
    size_t key_off, key_len;       /* the key, in keys */
    size_t first, last;            /* its rows, linked through s_row_t.next */
    size_t count;                  /* how many */
    uint64_t last_index;           /* the last one's index */
} s_group_t;

typedef struct {
    uint64_t index; /* the entry the row points to */
    size_t next;    /* the group's next row (SIZE_MAX: none) */
} s_row_t;

struct cairn_ledger_rows_t {
    s_group_t *groups; /* in the order their keys first came */
    size_t n_groups, cap_groups;
    size_t *table;    /* open addressing: group number + 1, 0 when free */
    size_t table_cap; /* a power of two, at least twice n_groups */
    s_row_t *rows;    /* every row */
    size_t n_rows, cap_rows;
    uint8_t *keys; /* the groups' key bytes */
    size_t keys_len, keys_cap;
    uint8_t *vals;   /* one group's indexes, big-endian, for the write */
    size_t vals_cap; /* in indexes */
};

cairn_ledger_rows_t *cairn_ledger_rows_new(void)
{
    return calloc(1, sizeof(cairn_ledger_rows_t));
}

void cairn_ledger_rows_destroy(cairn_ledger_rows_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_rows_t *self = *self_p;
    free(self->groups);
    free(self->table);
    free(self->rows);
    free(self->keys);
    free(self->vals);
    free(self);
    *self_p = NULL;
}

/* Grows *buf to hold at least need items of size bytes. */
static int s_reserve(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*buf, n * size);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

static uint64_t s_hash(MDB_dbi dbi, const MDB_val *key)
{
    uint32_t d = (uint32_t)dbi;
    return cairn_fnv1a64(cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, &d, sizeof d), key->mv_data,
                         key->mv_size);
}

/* The slot of dbi/key in the table: its group's, or the free one it takes. */
static size_t s_slot(const cairn_ledger_rows_t *self, uint64_t hash, MDB_dbi dbi,
                     const MDB_val *key)
{
    size_t mask = self->table_cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        size_t g = self->table[i];
        if (g == 0)
            return i;
        const s_group_t *gr = &self->groups[g - 1];
        if (gr->hash == hash && gr->dbi == dbi && gr->key_len == key->mv_size &&
            memcmp(self->keys + gr->key_off, key->mv_data, key->mv_size) == 0)
            return i;
    }
}

/* Doubles the table and places every group again. */
static int s_grow_table(cairn_ledger_rows_t *self)
{
    size_t cap = self->table_cap ? self->table_cap * 2 : 256;
    size_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -ENOMEM;
    free(self->table);
    self->table = t;
    self->table_cap = cap;
    for (size_t g = 0; g < self->n_groups; g++) {
        size_t i = (size_t)self->groups[g].hash & (cap - 1);
        while (self->table[i] != 0)
            i = (i + 1) & (cap - 1);
        self->table[i] = g + 1;
    }
    return 0;
}

int cairn_ledger_rows_add(cairn_ledger_rows_t *self, MDB_dbi dbi, cairn_ledger_rows_kind_t kind,
                          const MDB_val *key, uint64_t index)
{
    int rc = 0;
    if ((self->n_groups + 1) * 2 > self->table_cap && (rc = s_grow_table(self)) < 0)
        return rc;
    if ((rc = s_reserve((void **)&self->rows, &self->cap_rows, self->n_rows + 1,
                        sizeof *self->rows)) < 0)
        return rc;
    uint64_t hash = s_hash(dbi, key);
    size_t slot = s_slot(self, hash, dbi, key);
    s_group_t *g = NULL;
    if (self->table[slot] == 0) {
        if ((rc = s_reserve((void **)&self->groups, &self->cap_groups, self->n_groups + 1,
                            sizeof *self->groups)) < 0 ||
            (rc = s_reserve((void **)&self->keys, &self->keys_cap, self->keys_len + key->mv_size,
                            1)) < 0)
            return rc;
        g = &self->groups[self->n_groups];
        *g = (s_group_t){.hash = hash,
                         .dbi = dbi,
                         .kind = kind,
                         .key_off = self->keys_len,
                         .key_len = key->mv_size,
                         .first = self->n_rows};
        memcpy(self->keys + self->keys_len, key->mv_data, key->mv_size);
        self->keys_len += key->mv_size;
        self->table[slot] = ++self->n_groups;
    } else {
        g = &self->groups[self->table[slot] - 1];
        if (index <= g->last_index)
            return CAIRN_EINTERNAL; /* indexes of a key only grow */
        self->rows[g->last].next = self->n_rows;
    }
    self->rows[self->n_rows] = (s_row_t){.index = index, .next = SIZE_MAX};
    g->last = self->n_rows++;
    g->last_index = index;
    g->count++;
    return 0;
}

bool cairn_ledger_rows_last(const cairn_ledger_rows_t *self, MDB_dbi dbi, const MDB_val *key,
                            uint64_t *index_out)
{
    if (self->n_groups == 0)
        return false;
    size_t g = self->table[s_slot(self, s_hash(dbi, key), dbi, key)];
    if (g == 0)
        return false;
    *index_out = self->groups[g - 1].last_index;
    return true;
}

size_t cairn_ledger_rows_count(const cairn_ledger_rows_t *self)
{
    return self->n_rows;
}

void cairn_ledger_rows_clear(cairn_ledger_rows_t *self)
{
    if (self->n_groups > 0)
        memset(self->table, 0, self->table_cap * sizeof *self->table);
    self->n_groups = self->n_rows = self->keys_len = 0;
}

/* A write cursor on dbi, opened on first use. */
static int s_cursor(MDB_txn *txn, MDB_dbi dbi, MDB_dbi *dbis, MDB_cursor **curs, size_t *n,
                    MDB_cursor **out)
{
    for (size_t i = 0; i < *n; i++)
        if (dbis[i] == dbi) {
            *out = curs[i];
            return 0;
        }
    if (*n == S_MAX_DBIS)
        return EINVAL;
    int mrc = mdb_cursor_open(txn, dbi, &curs[*n]);
    if (mrc != 0)
        return mrc;
    dbis[*n] = dbi;
    *out = curs[(*n)++];
    return 0;
}

/* Puts group g: its indexes as duplicates in one call, or its last index. */
static int s_write_group(cairn_ledger_rows_t *self, const s_group_t *g, MDB_cursor *cur)
{
    MDB_val key = {g->key_len, self->keys + g->key_off};
    if (g->kind == CAIRN_LEDGER_ROWS_LAST) {
        uint8_t vb[8];
        cairn_u64_to_key(g->last_index, vb);
        MDB_val v = {8, vb};
        return mdb_cursor_put(cur, &key, &v, 0);
    }
    if (s_reserve((void **)&self->vals, &self->vals_cap, g->count, 8) < 0)
        return ENOMEM;
    size_t n = 0;
    for (size_t r = g->first; r != SIZE_MAX; r = self->rows[r].next)
        cairn_u64_to_key(self->rows[r].index, self->vals + 8 * n++);
    /* The batch's indexes follow every stored one: they go at the end of
     * the key's duplicates (MDB_APPENDDUP also refuses anything else). */
    MDB_val data[2] = {{8, self->vals}, {n, NULL}};
    int mrc = mdb_cursor_put(cur, &key, data, MDB_MULTIPLE | MDB_APPENDDUP);
    if (mrc == 0 && data[1].mv_size != n)
        mrc = EIO; /* LMDB stored fewer than asked without saying why */
    return mrc;
}

int cairn_ledger_rows_write(cairn_ledger_rows_t *self, MDB_txn *txn)
{
    MDB_dbi dbis[S_MAX_DBIS];
    MDB_cursor *curs[S_MAX_DBIS];
    size_t n_curs = 0;
    int mrc = 0;
    for (size_t i = 0; mrc == 0 && i < self->n_groups; i++) {
        MDB_cursor *cur = NULL;
        if ((mrc = s_cursor(txn, self->groups[i].dbi, dbis, curs, &n_curs, &cur)) == 0)
            mrc = s_write_group(self, &self->groups[i], cur);
    }
    for (size_t i = 0; i < n_curs; i++)
        mdb_cursor_close(curs[i]);
    if (mrc == 0)
        cairn_ledger_rows_clear(self);
    return mrc;
}
