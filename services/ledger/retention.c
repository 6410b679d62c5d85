/* Retention: legal holds in `holds`, and purges that delete old payloads
 * (walking `times` from the oldest entry) while keeping leaves and hashes. */
#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"

/* "change:<id>" or "release:<id>", malloc'd. */
static char *s_hold_name(const char *change, const char *release)
{
    bool c = change && *change;
    const char *id = c ? change : release;
    size_t len = strlen(id) + 16;
    char *name = malloc(len);
    if (name)
        snprintf(name, len, "%s:%s", c ? "change" : "release", id);
    return name;
}

int cairn_ledger_hold_find(cairn_ledger_store_t *store, const char *change, const char *release,
                           uint64_t *index_out)
{
    cairn_ledger_view_t v;
    uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES];
    int rc = cairn_ledger_store_batch_view(store, &v);
    if (rc < 0)
        return rc;
    char *name = s_hold_name(change, release);
    if (!name)
        return -ENOMEM;
    MDB_val k = cairn_ledger_index_key(v.max_key, name, buf);
    rc = cairn_ledger_get_u64(v.txn, v.db->holds, &k, index_out);
    free(name);
    return rc;
}

int cairn_ledger_hold_set(cairn_ledger_store_t *store, const char *change, const char *release,
                          bool on, uint64_t index)
{
    cairn_ledger_view_t v;
    uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES], ib[8];
    int rc = cairn_ledger_store_batch_view(store, &v);
    if (rc < 0)
        return rc;
    char *name = s_hold_name(change, release);
    if (!name)
        return -ENOMEM;
    cairn_u64_to_key(index, ib);
    MDB_val k = cairn_ledger_index_key(v.max_key, name, buf), val = {8, ib};
    int mrc = on ? mdb_put(v.txn, v.db->holds, &k, &val, 0) : mdb_del(v.txn, v.db->holds, &k, NULL);
    free(name);
    if (mrc != 0 && !(mrc == MDB_NOTFOUND && !on))
        return cairn_ledger_store_fail(store, cairn_lmdb_code(mrc));
    return 0;
}

/* True when the change or the release of the leaf is under hold. */
static int s_held(const cairn_ledger_view_t *v, const cairn_leaf_t *leaf, bool *held_out)
{
    const char *ids[2][2] = {{leaf->change, NULL}, {NULL, leaf->release}};
    *held_out = false;
    for (int i = 0; i < 2 && !*held_out; i++) {
        if (!ids[i][0] && !ids[i][1])
            continue;
        uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES];
        char *name = s_hold_name(ids[i][0], ids[i][1]);
        if (!name)
            return -ENOMEM;
        MDB_val k = cairn_ledger_index_key(v->max_key, name, buf), val;
        int mrc = mdb_get(v->txn, v->db->holds, &k, &val);
        free(name);
        if (mrc == 0)
            *held_out = true;
        else if (mrc != MDB_NOTFOUND)
            return cairn_lmdb_code(mrc);
    }
    return 0;
}

/* Looks at the entry at index and plans its payload when it may go: the
 * entry is older than the cutoff, its change and release are not held, and
 * its payload is still there. */
static int s_consider(const cairn_ledger_view_t *v, uint64_t index, int64_t cutoff_ms,
                      cairn_ledger_purge_t *plan)
{
    MDB_val lv, pv;
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    int rc = cairn_ledger_payload_get(v, index, &pv);
    if (rc == CAIRN_ENOTFOUND)
        return 0; /* already purged */
    if (rc < 0)
        return rc;
    if ((rc = cairn_ledger_leaf_get(v, index, &lv)) < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    if (cairn_leaf_parse(lv.mv_data, lv.mv_size, &leaf) < 0)
        return CAIRN_EINTEGRITY;
    bool held = false;
    if ((rc = s_held(v, &leaf, &held)) == 0) {
        if (held) {
            plan->held++;
        } else if (cutoff_ms > 0 && leaf.time_ms < (uint64_t)cutoff_ms) {
            plan->indexes[plan->n] = index;
            memcpy(plan->digests[plan->n++], leaf.payload_sha256, CAIRN_HASH_BYTES);
        }
    }
    cairn_leaf_clear(&leaf);
    return rc;
}

int cairn_ledger_purge_plan(cairn_ledger_store_t *store, int64_t cutoff_ms, size_t max,
                            cairn_ledger_purge_t *out)
{
    cairn_ledger_view_t v;
    MDB_cursor *cur = NULL;
    cairn_ledger_purge_t plan = {0};
    int rc = cairn_ledger_store_batch_view(store, &v);
    if (rc < 0)
        return rc;
    if (max == 0)
        return CAIRN_EINVALID;
    if (!(plan.digests = calloc(max, sizeof *plan.digests)) ||
        !(plan.indexes = calloc(max, sizeof *plan.indexes))) {
        cairn_ledger_purge_clear(&plan);
        return -ENOMEM;
    }
    if ((rc = cairn_lmdb_code(mdb_cursor_open(v.txn, v.db->times, &cur))) < 0)
        goto out;
    MDB_val k, val;
    int mrc = mdb_cursor_get(cur, &k, &val, MDB_FIRST);
    while (mrc == 0) {
        if (k.mv_size != 8 || val.mv_size != 8) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
        if (cutoff_ms <= 0 || cairn_key_to_u64(k.mv_data) >= (uint64_t)cutoff_ms)
            break;
        if (plan.n == max) {
            plan.more = true;
            break;
        }
        if ((rc = s_consider(&v, cairn_key_to_u64(val.mv_data), cutoff_ms, &plan)) < 0)
            goto out;
        mrc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
out:
    mdb_cursor_close(cur);
    if (rc < 0)
        cairn_ledger_purge_clear(&plan);
    else
        *out = plan;
    return rc;
}

/* Rewrites the record of entry index without its payload: the record's
 * header, hashes and leaf, copied out first (LMDB may reuse the old bytes). */
static int s_cut_payload(const cairn_ledger_view_t *v, uint64_t index)
{
    cairn_ledger_record_parts_t r;
    uint8_t kb[8];
    cairn_u64_to_key(index, kb);
    MDB_val k = {8, kb}, val;
    int rc = cairn_lmdb_code(mdb_get(v->txn, v->db->entries, &k, &val));
    if (rc < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    if ((rc = cairn_ledger_record_parse(index, &val, &r)) < 0)
        return rc;
    if (!r.payload)
        return 0;
    MDB_val cut = {cairn_ledger_record_size(r.n_hashes, r.leaf_len, 0), NULL};
    if (!(cut.mv_data = malloc(cut.mv_size)))
        return -ENOMEM;
    memcpy(cut.mv_data, val.mv_data, cut.mv_size);
    rc = cairn_lmdb_code(mdb_put(v->txn, v->db->entries, &k, &cut, 0));
    free(cut.mv_data);
    return rc;
}

int cairn_ledger_purge_apply(cairn_ledger_store_t *store, const cairn_ledger_purge_t *plan,
                             uint64_t index)
{
    cairn_ledger_view_t v;
    uint8_t ib[8];
    int rc = cairn_ledger_store_batch_view(store, &v);
    if (rc < 0)
        return rc;
    cairn_u64_to_key(index, ib);
    for (size_t i = 0; i < plan->n; i++) {
        uint8_t kb[8];
        cairn_u64_to_key(plan->indexes[i], kb);
        MDB_val k = {8, kb}, val = {8, ib};
        if ((rc = s_cut_payload(&v, plan->indexes[i])) < 0)
            return cairn_ledger_store_fail(store, rc);
        int mrc = mdb_put(v.txn, v.db->purged, &k, &val, 0);
        if (mrc != 0)
            return cairn_ledger_store_fail(store, cairn_lmdb_code(mrc));
    }
    return 0;
}

void cairn_ledger_purge_clear(cairn_ledger_purge_t *plan)
{
    free(plan->indexes);
    free(plan->digests);
    memset(plan, 0, sizeof *plan);
}
