/* The derived databases of a ledger checked against its leaves (see
 * verify_index.h): per entry, the rows its leaf implies are looked up; at
 * the end, each database's rows are counted (and each checked for pointing
 * into the log), so that a database holding a row no leaf implies is found
 * too. Naming the entry an extra row belongs to needs a second, slower walk
 * that reads the leaves again; it only runs when the counts differ. */
#include "verify_index.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

struct cairn_ledger_index_check_t {
    const cairn_ledger_view_t *view; /* the read transaction */
    uint64_t size;                   /* entries in the log */
    uint8_t *changes;                /* bit i: entry i names a change */
    uint8_t *prevs;                  /* bit i: a later entry names entry i as its prev */
    MDB_cursor *keys;                /* entry_keys, walked along with the entries */
    bool key_more;                   /* keys is on a row not yet matched */
    MDB_val key_k, key_v;            /* that row */
    uint64_t key_rows;               /* rows of entry_keys matched so far */
    MDB_cursor *times;               /* for row look-ups in times */
    MDB_cursor *lookup;              /* for row look-ups in lookup */
    uint64_t lookup_rows;            /* release and topic rows the leaves imply */
};

static int s_found(cairn_ledger_index_finding_t *why, bool has_index, uint64_t index,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int s_found(cairn_ledger_index_finding_t *why, bool has_index, uint64_t index,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->reason, sizeof why->reason, fmt, ap);
    va_end(ap);
    why->has_index = has_index;
    why->index = index;
    return CAIRN_EINTEGRITY;
}

static void s_bit_set(uint8_t *bits, uint64_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool s_bit(const uint8_t *bits, uint64_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

static int s_mdb(int mrc)
{
    return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : cairn_lmdb_code(mrc);
}

int cairn_ledger_index_check_new(const cairn_ledger_view_t *view, uint64_t size,
                                 cairn_ledger_index_check_t **out)
{
    cairn_ledger_index_check_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->view = view;
    self->size = size;
    size_t bytes = (size_t)(size / 8 + 1);
    int rc = 0;
    if (size / 8 + 1 > SIZE_MAX || !(self->changes = calloc(bytes, 1)) ||
        !(self->prevs = calloc(bytes, 1)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_cursor_open(view->txn, view->db->entry_keys, &self->keys));
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_cursor_open(view->txn, view->db->times, &self->times));
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_cursor_open(view->txn, view->db->lookup, &self->lookup));
    if (rc == 0) {
        int mrc = mdb_cursor_get(self->keys, &self->key_k, &self->key_v, MDB_FIRST);
        self->key_more = mrc == 0;
        rc = s_mdb(mrc);
    }
    if (rc < 0) {
        cairn_ledger_index_check_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_ledger_index_check_destroy(cairn_ledger_index_check_t **self_p)
{
    cairn_ledger_index_check_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->keys)
        mdb_cursor_close(self->keys);
    if (self->times)
        mdb_cursor_close(self->times);
    if (self->lookup)
        mdb_cursor_close(self->lookup);
    free(self->changes);
    free(self->prevs);
    free(self);
    *self_p = NULL;
}

/* Reads entry index's leaf again (the slow walks). */
static int s_read_leaf(cairn_ledger_index_check_t *self, uint64_t index, cairn_leaf_t *leaf,
                       cairn_ledger_index_finding_t *why)
{
    cairn_ledger_record_parts_t r;
    int rc = cairn_ledger_record_get(self->view, index, &r);
    if (rc < 0 && rc != CAIRN_ENOTFOUND && rc != CAIRN_EINTEGRITY)
        return rc;
    if (rc < 0 || cairn_leaf_parse(r.leaf, r.leaf_len, leaf) < 0)
        return s_found(why, true, index, "entry %" PRIu64 ": its record cannot be read again",
                       index);
    return 0;
}

/* ---- entry_keys: walked along with the entries ------------------------- */

static int s_check_key(cairn_ledger_index_check_t *self, uint64_t index, const cairn_leaf_t *leaf,
                       cairn_ledger_index_finding_t *why)
{
    uint64_t at = 0;
    if (self->key_more) {
        if (self->key_k.mv_size != 8)
            return s_found(why, false, 0, "entry_keys holds a row whose key is not an index");
        at = cairn_key_to_u64(self->key_k.mv_data);
    }
    bool row = self->key_more && at == index;
    if (self->key_more && at < index)
        return s_found(why, true, at,
                       "entry %" PRIu64 ": entry_keys holds an idempotency key for it, but its "
                       "leaf names none",
                       at);
    if (!leaf->has_key && row)
        return s_found(why, true, index,
                       "entry %" PRIu64 ": entry_keys holds an idempotency key for it, but its "
                       "leaf names none",
                       index);
    if (!leaf->has_key)
        return 0;
    if (!row)
        return s_found(why, true, index,
                       "entry %" PRIu64 ": its idempotency key is missing from entry_keys", index);
    uint8_t digest[CAIRN_HASH_BYTES];
    cairn_sha256(self->key_v.mv_data, self->key_v.mv_size, digest);
    if (sodium_memcmp(digest, leaf->key_sha256, CAIRN_HASH_BYTES) != 0)
        return s_found(why, true, index,
                       "entry %" PRIu64 ": its idempotency key in entry_keys does not hash to "
                       "the key digest in its leaf",
                       index);
    self->key_rows++;
    int mrc = mdb_cursor_get(self->keys, &self->key_k, &self->key_v, MDB_NEXT);
    self->key_more = mrc == 0;
    return s_mdb(mrc);
}

/* ---- per entry ----------------------------------------------------------- */

/* *found: the sorted-duplicates database under cur has the row key -> index. */
static int s_has_row(MDB_cursor *cur, MDB_val key, uint64_t index, bool *found)
{
    uint8_t ib[8];
    cairn_u64_to_key(index, ib);
    MDB_val v = {8, ib};
    int mrc = mdb_cursor_get(cur, &key, &v, MDB_GET_BOTH);
    *found = mrc == 0;
    return s_mdb(mrc);
}

/* The lookup row of kind for text, which entry index's leaf names. */
static int s_check_lookup(cairn_ledger_index_check_t *self, uint64_t index, cairn_ledger_by_t kind,
                          const char *text, cairn_ledger_index_finding_t *why)
{
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    bool found = false;
    int rc = s_has_row(self->lookup, cairn_ledger_lookup_key(self->view->max_key, kind, text, buf),
                       index, &found);
    if (rc < 0)
        return rc;
    if (!found)
        return s_found(why, true, index, "entry %" PRIu64 ": lookup holds no row for its %s", index,
                       kind == CAIRN_LEDGER_BY_RELEASE ? "release" : "topic");
    self->lookup_rows++;
    return 0;
}

int cairn_ledger_index_check_entry(cairn_ledger_index_check_t *self, uint64_t index,
                                   const cairn_leaf_t *leaf, cairn_ledger_index_finding_t *why)
{
    if (index >= self->size)
        return CAIRN_EINTERNAL;
    int rc = s_check_key(self, index, leaf, why);
    if (rc < 0)
        return rc;
    uint8_t tb[8];
    cairn_u64_to_key(leaf->time_ms, tb);
    bool found = false;
    if ((rc = s_has_row(self->times, (MDB_val){8, tb}, index, &found)) < 0)
        return rc;
    if (!found)
        return s_found(why, true, index,
                       "entry %" PRIu64 ": times holds no row for its time %" PRIu64, index,
                       leaf->time_ms);
    if ((rc = s_check_lookup(self, index, CAIRN_LEDGER_BY_TOPIC, leaf->topic, why)) < 0 ||
        (leaf->release &&
         (rc = s_check_lookup(self, index, CAIRN_LEDGER_BY_RELEASE, leaf->release, why)) < 0))
        return rc;
    if (leaf->change) {
        s_bit_set(self->changes, index);
        if (leaf->has_prev && leaf->prev < index)
            s_bit_set(self->prevs, leaf->prev);
    }
    return 0;
}

/* ---- at the end ------------------------------------------------------------ */

/* The index a row's value names: 8 bytes, inside the log. */
static int s_row_index(const cairn_ledger_index_check_t *self, const char *db, const MDB_val *v,
                       uint64_t *out, cairn_ledger_index_finding_t *why)
{
    if (v->mv_size != 8)
        return s_found(why, false, 0, "%s holds a row whose value is not an index", db);
    *out = cairn_key_to_u64(v->mv_data);
    if (*out >= self->size)
        return s_found(why, true, self->size,
                       "%s holds a row for entry %" PRIu64 ", beyond the log's %" PRIu64 " entries",
                       db, *out, self->size);
    return 0;
}

int cairn_ledger_rows_counted(const cairn_ledger_view_t *view, MDB_dbi dbi, const char *db,
                              uint64_t walked, cairn_ledger_index_finding_t *why)
{
    MDB_stat st;
    int rc = cairn_lmdb_code(mdb_stat(view->txn, dbi, &st));
    if (rc < 0)
        return rc;
    if (st.ms_entries != walked)
        return s_found(why, false, 0,
                       "%s: a walk over it finds %" PRIu64 " rows where LMDB counts %zu; the "
                       "database file is damaged",
                       db, walked, st.ms_entries);
    return 0;
}

/* Counts the rows of times, each naming an entry of the log; with slow set,
 * also checks each against the time in its entry's leaf. */
static int s_walk_times(cairn_ledger_index_check_t *self, bool slow, uint64_t *count,
                        cairn_ledger_index_finding_t *why)
{
    MDB_val k, v;
    int rc = 0, mrc;
    *count = 0;
    for (mrc = mdb_cursor_get(self->times, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
         mrc = mdb_cursor_get(self->times, &k, &v, MDB_NEXT)) {
        uint64_t index = 0;
        if (k.mv_size != 8)
            return s_found(why, false, 0, "times holds a row whose key is not a time");
        if ((rc = s_row_index(self, "times", &v, &index, why)) < 0)
            return rc;
        (*count)++;
        if (!slow)
            continue;
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        if ((rc = s_read_leaf(self, index, &leaf, why)) < 0)
            return rc;
        if (leaf.time_ms != cairn_key_to_u64(k.mv_data))
            rc = s_found(why, true, index,
                         "entry %" PRIu64 ": times holds a row for it under time %" PRIu64
                         ", but its leaf says %" PRIu64,
                         index, cairn_key_to_u64(k.mv_data), leaf.time_ms);
        cairn_leaf_clear(&leaf);
    }
    return rc < 0 ? rc : s_mdb(mrc);
}

/* The row key k is the key of kind for text (NULL: no key is). */
static bool s_keyed(const cairn_ledger_index_check_t *self, const MDB_val *k,
                    cairn_ledger_by_t kind, const char *text)
{
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    if (!text)
        return false;
    MDB_val want = cairn_ledger_lookup_key(self->view->max_key, kind, text, buf);
    return want.mv_size == k->mv_size && memcmp(want.mv_data, k->mv_data, k->mv_size) == 0;
}

/* Checks a release or topic row of lookup against its entry's leaf. */
static int s_lookup_row_named(cairn_ledger_index_check_t *self, const MDB_val *k, uint64_t index,
                              cairn_ledger_index_finding_t *why)
{
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    int rc = s_read_leaf(self, index, &leaf, why);
    if (rc < 0)
        return rc;
    cairn_ledger_by_t kind = ((const uint8_t *)k->mv_data)[0];
    if (!s_keyed(self, k, kind, kind == CAIRN_LEDGER_BY_RELEASE ? leaf.release : leaf.topic))
        rc = s_found(why, true, index,
                     "entry %" PRIu64 ": lookup holds a %s row for it that its leaf does not "
                     "name",
                     index, kind == CAIRN_LEDGER_BY_RELEASE ? "release" : "topic");
    cairn_leaf_clear(&leaf);
    return rc;
}

/* Counts the release and topic rows of lookup (slow: checking each against
 * its leaf); every row must be of a known kind and name an entry. */
static int s_walk_lookup(cairn_ledger_index_check_t *self, bool slow, uint64_t *count,
                         uint64_t *total, cairn_ledger_index_finding_t *why)
{
    MDB_val k, v;
    int rc = 0, mrc;
    *count = *total = 0;
    for (mrc = mdb_cursor_get(self->lookup, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
         mrc = mdb_cursor_get(self->lookup, &k, &v, MDB_NEXT)) {
        uint64_t index = 0;
        if ((rc = s_row_index(self, "lookup", &v, &index, why)) < 0)
            return rc;
        (*total)++;
        uint8_t kind = k.mv_size > 1 ? ((const uint8_t *)k.mv_data)[0] : 0;
        if (kind == CAIRN_LEDGER_BY_ACTOR || kind == CAIRN_LEDGER_BY_ENV)
            continue; /* from payloads, which retention deletes: range only */
        if (kind != CAIRN_LEDGER_BY_RELEASE && kind != CAIRN_LEDGER_BY_TOPIC)
            return s_found(why, true, index,
                           "entry %" PRIu64 ": lookup holds a row for it of no known kind", index);
        (*count)++;
        if (slow)
            rc = s_lookup_row_named(self, &k, index, why);
    }
    return rc < 0 ? rc : s_mdb(mrc);
}

/* A row of heads: the newest entry of the change its key names. */
static int s_check_head(cairn_ledger_index_check_t *self, const MDB_val *k, uint64_t index,
                        cairn_ledger_index_finding_t *why)
{
    if (!s_bit(self->changes, index) || s_bit(self->prevs, index))
        return s_found(why, true, index,
                       "entry %" PRIu64 ": heads names it as the newest entry of a change, but "
                       "%s",
                       index,
                       !s_bit(self->changes, index) ? "its leaf names no change"
                                                    : "a later entry names it as its prev");
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    int rc = s_read_leaf(self, index, &leaf, why);
    if (rc < 0)
        return rc;
    if (!s_keyed(self, k, CAIRN_LEDGER_BY_CHANGE, leaf.change))
        rc = s_found(why, true, index,
                     "entry %" PRIu64 ": heads names it as the newest entry of another change "
                     "than its leaf's",
                     index);
    cairn_leaf_clear(&leaf);
    return rc;
}

/* The newest entry of a change (by the leaves) that heads does not name. */
static int s_find_missing_head(cairn_ledger_index_check_t *self, cairn_ledger_index_finding_t *why)
{
    for (uint64_t i = 0; i < self->size; i++) {
        if (!s_bit(self->changes, i) || s_bit(self->prevs, i))
            continue;
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        int rc = s_read_leaf(self, i, &leaf, why);
        if (rc < 0)
            return rc;
        uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
        MDB_val k =
            cairn_ledger_lookup_key(self->view->max_key, CAIRN_LEDGER_BY_CHANGE, leaf.change, buf);
        cairn_leaf_clear(&leaf);
        uint64_t head = 0;
        rc = cairn_ledger_get_u64(self->view->txn, self->view->db->heads, &k, &head);
        if (rc < 0 && rc != CAIRN_ENOTFOUND)
            return rc;
        if (rc == CAIRN_ENOTFOUND || head != i)
            return s_found(why, true, i,
                           "entry %" PRIu64 ": it is the newest entry of its change, but heads "
                           "does not name it",
                           i);
    }
    return s_found(why, false, 0, "heads holds fewer rows than the log has changes");
}

static int s_check_heads(cairn_ledger_index_check_t *self, cairn_ledger_index_finding_t *why)
{
    MDB_cursor *cur = NULL;
    int rc = cairn_lmdb_code(mdb_cursor_open(self->view->txn, self->view->db->heads, &cur));
    if (rc < 0)
        return rc;
    MDB_val k, v;
    uint64_t rows = 0, want = 0;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t index = 0;
        if ((rc = s_row_index(self, "heads", &v, &index, why)) == 0)
            rc = s_check_head(self, &k, index, why);
        rows++;
    }
    mdb_cursor_close(cur);
    if (rc < 0 || (rc = s_mdb(mrc)) < 0)
        return rc;
    if ((rc = cairn_ledger_rows_counted(self->view, self->view->db->heads, "heads", rows, why)) < 0)
        return rc;
    for (uint64_t i = 0; i < self->size; i++)
        want += s_bit(self->changes, i) && !s_bit(self->prevs, i);
    return rows == want ? 0 : s_find_missing_head(self, why);
}

/* Every recorded vkey signed the checkpoint it is recorded with. */
static int s_check_vkeys(cairn_ledger_index_check_t *self, const char *origin,
                         cairn_ledger_index_finding_t *why)
{
    MDB_cursor *cur = NULL;
    int rc = cairn_lmdb_code(mdb_cursor_open(self->view->txn, self->view->db->vkeys, &cur));
    if (rc < 0)
        return rc;
    MDB_val k, v;
    int mrc;
    uint64_t rows = 0;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *text = strndup(k.mv_data, k.mv_size);
        cairn_note_verifier_t *verifier = NULL;
        cairn_checkpoint_t cp;
        memset(&cp, 0, sizeof cp);
        MDB_val note;
        char *canonical = NULL;
        /* Written as the ledger writes it (a vkey's key id also parses in
         * upper case), and the key that signed its checkpoint. */
        bool ok = text && strlen(text) == k.mv_size && v.mv_size == 8 &&
                  cairn_note_verifier_parse(text, &verifier) == 0 &&
                  cairn_note_verifier_format(verifier, &canonical) == 0 &&
                  strcmp(canonical, text) == 0 &&
                  mdb_get(self->view->txn, self->view->db->checkpoints, &v, &note) == 0 &&
                  cairn_checkpoint_open(note.mv_data, note.mv_size, verifier, origin, &cp) == 0 &&
                  cp.size == cairn_key_to_u64(v.mv_data);
        if (!text)
            rc = -ENOMEM;
        else if (!ok)
            rc = s_found(why, false, 0,
                         "vkeys holds a row that is not the key that signed the checkpoint it is "
                         "recorded with");
        cairn_checkpoint_clear(&cp);
        cairn_note_verifier_destroy(&verifier);
        free(canonical);
        free(text);
        rows++;
    }
    mdb_cursor_close(cur);
    if (rc == 0 && (rc = s_mdb(mrc)) == 0)
        rc = cairn_ledger_rows_counted(self->view, self->view->db->vkeys, "vkeys", rows, why);
    return rc;
}

/* Rows of holds and purged name entries of the log; purged names exactly
 * the purged entries (those without a payload), each by a later entry. */
static int s_check_retention(cairn_ledger_index_check_t *self, uint64_t purged,
                             cairn_ledger_index_finding_t *why)
{
    MDB_dbi dbis[2] = {self->view->db->holds, self->view->db->purged};
    const char *names[2] = {"holds", "purged"};
    uint64_t rows = 0;
    int rc = 0;
    for (int d = 0; rc == 0 && d < 2; d++) {
        uint64_t walked = 0;
        MDB_cursor *cur = NULL;
        if ((rc = cairn_lmdb_code(mdb_cursor_open(self->view->txn, dbis[d], &cur))) < 0)
            return rc;
        MDB_val k, v;
        int mrc;
        for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
             mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uint64_t by = 0;
            walked++;
            if ((rc = s_row_index(self, names[d], &v, &by, why)) < 0 || d == 0)
                continue;
            uint64_t index = k.mv_size == 8 ? cairn_key_to_u64(k.mv_data) : UINT64_MAX;
            if (index >= by)
                rc = s_found(why, index < self->size, index,
                             "purged holds a row for entry %" PRIu64 " that no later purge made",
                             index);
            rows++;
        }
        mdb_cursor_close(cur);
        if (rc == 0 && (rc = s_mdb(mrc)) == 0)
            rc = cairn_ledger_rows_counted(self->view, dbis[d], names[d], walked, why);
    }
    if (rc == 0 && rows != purged)
        rc = s_found(why, false, 0,
                     "purged holds %" PRIu64 " rows where %" PRIu64 " entries have no payload",
                     rows, purged);
    return rc;
}

/* meta holds exactly the log's size, origin and layout version. */
static int s_check_meta(cairn_ledger_index_check_t *self, const char *origin,
                        cairn_ledger_index_finding_t *why)
{
    MDB_cursor *cur = NULL;
    int rc = cairn_lmdb_code(mdb_cursor_open(self->view->txn, self->view->db->meta, &cur));
    if (rc < 0)
        return rc;
    MDB_val k, v;
    int mrc, seen = 0;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *name = k.mv_data;
        bool is = false, ok = false;
        if ((is = k.mv_size == strlen(CAIRN_LEDGER_META_SIZE) &&
                  memcmp(name, CAIRN_LEDGER_META_SIZE, k.mv_size) == 0))
            ok = v.mv_size == 8 && cairn_key_to_u64(v.mv_data) == self->size;
        else if ((is = k.mv_size == strlen(CAIRN_LEDGER_META_LAYOUT) &&
                       memcmp(name, CAIRN_LEDGER_META_LAYOUT, k.mv_size) == 0))
            ok = v.mv_size == 8 && cairn_key_to_u64(v.mv_data) == CAIRN_LEDGER_LAYOUT_VERSION;
        else if ((is = k.mv_size == strlen(CAIRN_LEDGER_META_ORIGIN) &&
                       memcmp(name, CAIRN_LEDGER_META_ORIGIN, k.mv_size) == 0))
            ok = v.mv_size == strlen(origin) && memcmp(v.mv_data, origin, v.mv_size) == 0;
        if (!is)
            rc = s_found(why, false, 0,
                         "meta holds a row that is not the log's size, origin "
                         "or layout");
        else if (!ok)
            rc = s_found(why, false, 0, "meta's %.*s row does not hold what was read from it",
                         (int)k.mv_size, name);
        seen++;
    }
    mdb_cursor_close(cur);
    if (rc == 0 && (rc = s_mdb(mrc)) == 0 && seen != 3)
        rc =
            s_found(why, false, 0, "meta holds %d of the log's size, origin and layout rows", seen);
    if (rc == 0)
        rc = cairn_ledger_rows_counted(self->view, self->view->db->meta, "meta", (uint64_t)seen,
                                       why);
    return rc;
}

int cairn_ledger_index_check_finish(cairn_ledger_index_check_t *self, const char *origin,
                                    uint64_t purged, cairn_ledger_index_finding_t *why)
{
    if (self->key_more) {
        if (self->key_k.mv_size != 8)
            return s_found(why, false, 0, "entry_keys holds a row whose key is not an index");
        uint64_t at = cairn_key_to_u64(self->key_k.mv_data);
        return s_found(why, true, self->size,
                       "entry_keys holds a key for entry %" PRIu64 ", beyond the log's %" PRIu64
                       " entries",
                       at, self->size);
    }
    uint64_t rows = 0, total = 0;
    int rc = cairn_ledger_rows_counted(self->view, self->view->db->entry_keys, "entry_keys",
                                       self->key_rows, why);
    if (rc == 0 && (rc = s_walk_times(self, false, &rows, why)) == 0)
        rc = cairn_ledger_rows_counted(self->view, self->view->db->times, "times", rows, why);
    if (rc == 0 && rows != self->size && (rc = s_walk_times(self, true, &rows, why)) == 0)
        rc = s_found(why, false, 0, "times holds %" PRIu64 " rows for %" PRIu64 " entries", rows,
                     self->size);
    if (rc == 0 && (rc = s_walk_lookup(self, false, &rows, &total, why)) == 0)
        rc = cairn_ledger_rows_counted(self->view, self->view->db->lookup, "lookup", total, why);
    if (rc == 0 && rows != self->lookup_rows &&
        (rc = s_walk_lookup(self, true, &rows, &total, why)) == 0)
        rc = s_found(why, false, 0,
                     "lookup holds %" PRIu64 " release and topic rows where the leaves name "
                     "%" PRIu64,
                     rows, self->lookup_rows);
    if (rc == 0)
        rc = s_check_heads(self, why);
    if (rc == 0)
        rc = s_check_vkeys(self, origin, why);
    if (rc == 0)
        rc = s_check_retention(self, purged, why);
    if (rc == 0)
        rc = s_check_meta(self, origin, why);
    return rc;
}
