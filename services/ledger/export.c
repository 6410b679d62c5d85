/* Export bundles: gathers the entries of a change or release (completing
 * each change's prev chain), proves each against the latest checkpoint in
 * one read transaction, and encodes them with the bundle library. */
#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/error.h"

/* The release's entries plus every entry of each change they name. */
static int s_release_indexes(const cairn_ledger_view_t *v, const char *release,
                             cairn_ledger_indexes_t *out)
{
    cairn_ledger_indexes_t direct = {0};
    int rc = cairn_ledger_indexes_collect(v, CAIRN_LEDGER_BY_RELEASE, release, 0, &direct);
    for (size_t i = 0; rc == 0 && i < direct.n; i++) {
        MDB_val lv;
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        if ((rc = cairn_ledger_indexes_push(out, direct.items[i])) < 0)
            break;
        if ((rc = cairn_ledger_leaf_get(v, direct.items[i], &lv)) < 0) {
            rc = rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
            break;
        }
        if (cairn_leaf_parse(lv.mv_data, lv.mv_size, &leaf) < 0) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        if (leaf.change)
            rc = cairn_ledger_indexes_collect(v, CAIRN_LEDGER_BY_CHANGE, leaf.change, 0, out);
        cairn_leaf_clear(&leaf);
    }
    cairn_ledger_indexes_free(&direct);
    return rc;
}

/* Adds the verifier key as the bundle's last member, so the bundle names the
 * key it verifies with. The bundle is a compact JSON object, so the member
 * is spliced in before its closing brace rather than parsing it again. */
static int s_add_vkey(char **json, size_t *len, const char *vkey)
{
    json_t *str = json_string(vkey);
    char *quoted = str ? json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(str);
    if (!quoted)
        return -ENOMEM;
    int rc = 0;
    size_t n = *len;
    char *out = NULL;
    if (n < 2 || (*json)[0] != '{' || (*json)[n - 1] != '}') {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    const char *member = n > 2 ? ",\"vkey\":" : "\"vkey\":";
    size_t mlen = strlen(member), qlen = strlen(quoted);
    if (!(out = malloc(n - 1 + mlen + qlen + 2))) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(out, *json, n - 1);
    memcpy(out + n - 1, member, mlen);
    memcpy(out + n - 1 + mlen, quoted, qlen);
    memcpy(out + n - 1 + mlen + qlen, "}", 2);
    free(*json);
    *json = out;
    *len = n - 1 + mlen + qlen + 1;
out:
    free(quoted);
    return rc;
}

int cairn_ledger_export(cairn_ledger_store_t *store, const char *change_id, const char *release_id,
                        char **json_out, size_t *len_out, uint64_t *size_out, size_t *entries_out)
{
    bool by_change = change_id && *change_id, by_release = release_id && *release_id;
    if (by_change == by_release)
        return CAIRN_EINVALID;
    int rc = 0;
    cairn_ledger_view_t v;
    cairn_ledger_indexes_t found = {0};
    cairn_bundle_t *bundle = NULL;
    char *json = NULL;
    size_t json_len = 0;
    cairn_ledger_head_t head;
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    cairn_ledger_store_head(store, &head);
    if ((rc = cairn_ledger_store_begin_read(store, &v)) < 0)
        return rc;
    if (by_change)
        rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_CHANGE, change_id, 0, &found);
    else
        rc = s_release_indexes(&v, release_id, &found);
    if (rc < 0)
        goto out;
    cairn_ledger_indexes_sort(&found);
    if (found.n == 0) {
        rc = CAIRN_ENOTFOUND;
        goto out;
    }
    if ((rc = cairn_bundle_new(head.note, head.note_len, &bundle)) < 0)
        goto out;
    for (size_t i = 0; i < found.n; i++) {
        uint64_t index = found.items[i];
        MDB_val lv, pv = {0, NULL};
        size_t count = 0;
        if (index >= head.size) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
        if ((rc = cairn_ledger_leaf_get(&v, index, &lv)) < 0) {
            rc = rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
            goto out;
        }
        rc = cairn_ledger_payload_get(&v, index, &pv);
        if (rc == CAIRN_ENOTFOUND) /* purged: the leaf and its proof still verify */
            pv = (MDB_val){0, NULL};
        else if (rc < 0)
            goto out;
        rc = cairn_merkle_inclusion_proof(cairn_ledger_node_get, &v, index, head.size, proof,
                                          CAIRN_MERKLE_MAX_PROOF, &count);
        if (rc < 0) {
            rc = rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
            goto out;
        }
        if ((rc = cairn_bundle_add(bundle, index, lv.mv_data, lv.mv_size, proof, count, pv.mv_data,
                                   pv.mv_size)) < 0)
            goto out;
    }
    if ((rc = cairn_bundle_encode(bundle, &json, &json_len)) < 0 ||
        (rc = s_add_vkey(&json, &json_len, cairn_ledger_store_vkey(store))) < 0)
        goto out;
    *json_out = json;
    *len_out = json_len;
    *size_out = head.size;
    *entries_out = found.n;
    json = NULL;
out:
    free(json);
    cairn_bundle_destroy(&bundle);
    cairn_ledger_indexes_free(&found);
    cairn_ledger_store_end_read(&v);
    return rc;
}
