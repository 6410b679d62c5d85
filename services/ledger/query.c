/* Secondary-index queries: collect the matching indexes from one index
 * database, order them, filter by time from the leaf, serve the entries. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"

static bool s_set(const char *s)
{
    return s && *s;
}

/* Every index of a topic starting with prefix, at or above from. Topics
 * longer than LMDB's key limit are keyed by digest and not found by prefix. */
static int s_collect_topics(const cairn_ledger_view_t *v, const char *prefix, uint64_t from,
                            cairn_ledger_indexes_t *out)
{
    int rc = 0;
    MDB_cursor *cur = NULL;
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    MDB_val p = cairn_ledger_lookup_key(v->max_key, CAIRN_LEDGER_BY_TOPIC, prefix, buf);
    if (p.mv_size != 1 + strlen(prefix))
        return 0; /* longer than any literal topic key */
    if ((rc = cairn_lmdb_code(mdb_cursor_open(v->txn, v->db->lookup, &cur))) < 0)
        return rc;
    size_t plen = p.mv_size;
    MDB_val k = p, val;
    int mrc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size >= plen && memcmp(k.mv_data, buf, plen) == 0) {
        if (val.mv_size != 8) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        uint64_t index = cairn_key_to_u64(val.mv_data);
        if (index >= from && (rc = cairn_ledger_indexes_push(out, index)) < 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
    }
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc;
}

/* Every index whose time lies in [from_ms, to_ms) (0 = unbounded). */
static int s_collect_times(const cairn_ledger_view_t *v, int64_t from_ms, int64_t to_ms,
                           uint64_t from, cairn_ledger_indexes_t *out)
{
    int rc = 0;
    MDB_cursor *cur = NULL;
    uint8_t kb[8];
    if ((rc = cairn_lmdb_code(mdb_cursor_open(v->txn, v->db->times, &cur))) < 0)
        return rc;
    cairn_u64_to_key(from_ms > 0 ? (uint64_t)from_ms : 0, kb);
    MDB_val k = {8, kb}, val;
    int mrc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    while (mrc == 0) {
        if (k.mv_size != 8 || val.mv_size != 8) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        if (to_ms > 0 && cairn_key_to_u64(k.mv_data) >= (uint64_t)to_ms)
            break;
        uint64_t index = cairn_key_to_u64(val.mv_data);
        if (index >= from && (rc = cairn_ledger_indexes_push(out, index)) < 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
    }
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc;
}

/* True when the entry's leaf time lies in the query's range and, with
 * by_topic, its topic starts with the query's prefix. */
static int s_narrowed(const cairn_ledger_view_t *v, uint64_t index, const cairn_ledger_query_t *q,
                      bool by_topic, bool *in_out)
{
    MDB_val lv;
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    int rc = cairn_ledger_leaf_get(v, index, &lv);
    if (rc < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    if (cairn_leaf_parse(lv.mv_data, lv.mv_size, &leaf) < 0)
        return CAIRN_EINTEGRITY;
    *in_out = (q->from_ms <= 0 || leaf.time_ms >= (uint64_t)q->from_ms) &&
              (q->to_ms <= 0 || leaf.time_ms < (uint64_t)q->to_ms) &&
              (!by_topic || strncmp(leaf.topic ? leaf.topic : "", q->topic_prefix,
                                    strlen(q->topic_prefix)) == 0);
    cairn_leaf_clear(&leaf);
    return 0;
}

int cairn_ledger_query(cairn_ledger_store_t *store, const cairn_ledger_query_t *q,
                       cairn_ledger_entry_fn fn, void *arg)
{
    int selectors =
        s_set(q->change_id) + s_set(q->release_id) + s_set(q->actor) + s_set(q->environment);
    bool timed = q->from_ms > 0 || q->to_ms > 0;
    /* A topic prefix selects alone, or narrows another selector. */
    bool by_topic = selectors == 1 && s_set(q->topic_prefix);
    bool by_time_alone = selectors == 0 && !s_set(q->topic_prefix);
    if (selectors > 1 || (by_time_alone && !timed))
        return CAIRN_EINVALID;
    /* Every selection but the time index's own is narrowed entry by entry. */
    bool narrow = by_topic || (timed && !by_time_alone);
    cairn_ledger_view_t v;
    cairn_ledger_indexes_t found = {0};
    int rc = cairn_ledger_store_begin_read(store, &v);
    if (rc < 0)
        return rc;
    if (s_set(q->change_id))
        rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_CHANGE, q->change_id, q->from_index,
                                          &found);
    else if (s_set(q->release_id))
        rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_RELEASE, q->release_id, q->from_index,
                                          &found);
    else if (s_set(q->actor))
        rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_ACTOR, q->actor, q->from_index,
                                          &found);
    else if (s_set(q->environment))
        rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_ENV, q->environment, q->from_index,
                                          &found);
    else if (s_set(q->topic_prefix))
        rc = s_collect_topics(&v, q->topic_prefix, q->from_index, &found);
    else
        rc = s_collect_times(&v, q->from_ms, q->to_ms, q->from_index, &found);
    if (rc < 0)
        goto out;
    cairn_ledger_indexes_sort(&found);
    uint64_t served = 0;
    for (size_t i = 0; i < found.n && (q->limit == 0 || served < q->limit); i++) {
        uint64_t index = found.items[i];
        if (index >= cairn_ledger_store_size(store))
            break; /* committed after this txn's snapshot? never: one thread */
        bool in = true;
        if (narrow && (rc = s_narrowed(&v, index, q, by_topic, &in)) < 0)
            goto out;
        if (!in)
            continue;
        uint8_t *entry = NULL;
        size_t len = 0;
        if ((rc = cairn_ledger_entry_build(&v, index, &entry, &len)) < 0)
            goto out;
        rc = fn(arg, index, entry, len);
        free(entry);
        if (rc != 0)
            goto out;
        served++;
    }
out:
    cairn_ledger_indexes_free(&found);
    cairn_ledger_store_end_read(&v);
    return rc < 0 ? rc : 0;
}
