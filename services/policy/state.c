/* The policy's LMDB state store (see state.h for the layout).
 *
 * Messages written here borrow the change's strings: they are only packed,
 * never freed as protobuf trees, so only the arrays built around them are
 * released. Messages read back come from the codecs and are freed by them. */
#include "state.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "keys.h"
#include "policy_codec.h"

#define S_MAP_SIZE ((size_t)1 << 30)
#define S_NEXT_KEY "next_index"
#define S_LAYOUT_KEY "layout"
#define S_LAYOUT 4
#define S_KEY_MAX 511 /* LMDB's default maximum key size */

struct cairn_state_t {
    MDB_env *env;    /* the environment at policy.state_path */
    MDB_dbi meta;    /* next_index, layout */
    MDB_dbi changes; /* per-change records */
    bool was_reset;  /* an older layout was found and emptied */
};

/* Empties a store of an older layout (its state is re-derived from the
 * ledger) and stamps the current one. */
static int s_check_layout(cairn_state_t *self, MDB_txn *txn)
{
    uint64_t layout = 0;
    int rc = cairn_lmdb_get_u64(txn, self->meta, S_LAYOUT_KEY, &layout);
    if (rc == 0 && layout == S_LAYOUT)
        return 0;
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return rc;
    uint64_t next = 0;
    rc = cairn_lmdb_get_u64(txn, self->meta, S_NEXT_KEY, &next);
    MDB_stat st;
    if ((rc = cairn_lmdb_code(mdb_stat(txn, self->changes, &st))) < 0)
        return rc;
    if (next > 0 || st.ms_entries > 0) {
        if ((rc = cairn_lmdb_code(mdb_drop(txn, self->changes, 0))) < 0 ||
            (rc = cairn_lmdb_put_u64(txn, self->meta, S_NEXT_KEY, 0)) < 0)
            return rc;
        self->was_reset = true;
    }
    return cairn_lmdb_put_u64(txn, self->meta, S_LAYOUT_KEY, S_LAYOUT);
}

int cairn_state_open(const char *dir, cairn_state_t **out)
{
    cairn_state_t *self = calloc(1, sizeof *self);
    MDB_txn *txn = NULL;
    int rc;
    if (!self)
        return -ENOMEM;
    if ((rc = cairn_lmdb_open(dir, S_MAP_SIZE, 4, &self->env)) < 0)
        goto fail;
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        goto fail;
    if ((rc = cairn_lmdb_code(mdb_dbi_open(txn, "meta", MDB_CREATE, &self->meta))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "changes", MDB_CREATE, &self->changes))) < 0 ||
        (rc = s_check_layout(self, txn)) < 0)
        goto fail;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0)
        goto fail;
    *out = self;
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    cairn_state_destroy(&self);
    return rc;
}

void cairn_state_destroy(cairn_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_state_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

bool cairn_state_was_reset(const cairn_state_t *self)
{
    return self->was_reset;
}

/* tag 0 id */
static int s_key(char tag, const char *id, uint8_t *buf, size_t *len)
{
    size_t idl = strlen(id), n = 2 + idl;
    if (n > S_KEY_MAX)
        return CAIRN_ETOOLARGE;
    buf[0] = (uint8_t)tag;
    buf[1] = 0;
    memcpy(buf + 2, id, idl);
    *len = n;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct {
    Cairn__V1__PolicyStateChange msg;
    Cairn__V1__PolicyStateApproval *aps;
    Cairn__V1__PolicyStateApproval **app;
    Cairn__V1__PolicyStateEvidence *evs;
    Cairn__V1__PolicyStateEvidence **evp;
    Cairn__V1__PolicyStateGate *gates;
    Cairn__V1__PolicyStateGate **gp;
} s_msg_t;

static void s_msg_clear(s_msg_t *m)
{
    free(m->aps);
    free(m->app);
    free(m->evs);
    free(m->evp);
    free(m->gates);
    free(m->gp);
}

/* The message for c, borrowing its strings. */
static int s_to_msg(const cairn_change_t *c, s_msg_t *m)
{
    memset(m, 0, sizeof *m);
    Cairn__V1__PolicyStateChange *s = &m->msg;
    cairn__v1__policy_state_change__init(s);
    m->aps = calloc(c->n_approvals + 1, sizeof *m->aps);
    m->app = calloc(c->n_approvals + 1, sizeof *m->app);
    m->evs = calloc(c->n_evidence + 1, sizeof *m->evs);
    m->evp = calloc(c->n_evidence + 1, sizeof *m->evp);
    m->gates = calloc(c->n_gates + 1, sizeof *m->gates);
    m->gp = calloc(c->n_gates + 1, sizeof *m->gp);
    if (!m->aps || !m->app || !m->evs || !m->evp || !m->gates || !m->gp)
        return -ENOMEM;
    s->change_id = c->id;
    s->author = c->author;
    s->committers = c->committers;
    s->n_committers = c->n_committers;
    s->commit_sha = c->commit_sha;
    s->merge_sha = c->merge_sha;
    s->environment = c->environment;
    s->service = c->service;
    s->deployer = c->deployer;
    s->verifier = c->verifier;
    s->change_type = c->change_type;
    s->risk = c->risk;
    s->cab = c->cab;
    s->incident_id = c->incident_id;
    s->paths = c->paths;
    s->n_paths = c->n_paths;
    s->data_classes = c->data_classes;
    s->n_data_classes = c->n_data_classes;
    s->labels = c->labels;
    s->n_labels = c->n_labels;
    s->lines_changed = c->lines_changed;
    s->deployed_at_ms = c->deployed_at_ms;
    for (size_t i = 0; i < c->n_approvals; i++) {
        const cairn_change_approval_t *a = &c->approvals[i];
        Cairn__V1__PolicyStateApproval *x = &m->aps[i];
        cairn__v1__policy_state_approval__init(x);
        x->user = a->user;
        x->role = a->role;
        x->commit_sha = a->commit_sha;
        x->index = a->index;
        x->rejected = a->rejected;
        x->at_ms = a->at_ms;
        x->signature = a->signature;
        x->key = a->key;
        x->signed_at = a->signed_at;
        x->via = a->via;
        m->app[i] = x;
    }
    s->approvals = m->app;
    s->n_approvals = c->n_approvals;
    for (size_t i = 0; i < c->n_evidence; i++) {
        const cairn_change_evidence_t *e = &c->evidence[i];
        Cairn__V1__PolicyStateEvidence *x = &m->evs[i];
        cairn__v1__policy_state_evidence__init(x);
        x->kind = e->kind;
        x->index = e->index;
        x->received_at_ms = e->received_at_ms;
        x->commit_sha = e->commit_sha;
        x->outcome = e->outcome;
        x->tests_passed = e->passed;
        x->tests_failed = e->failed;
        x->tests_skipped = e->skipped;
        x->findings_critical = e->critical;
        x->findings_high = e->high;
        x->findings_medium = e->medium;
        x->findings_low = e->low;
        x->coverage_line_pct = e->coverage_line_pct;
        x->has_coverage = e->has_coverage;
        m->evp[i] = x;
    }
    s->evidence = m->evp;
    s->n_evidence = c->n_evidence;
    for (size_t i = 0; i < c->n_gates; i++) {
        Cairn__V1__PolicyStateGate *x = &m->gates[i];
        cairn__v1__policy_state_gate__init(x);
        x->gate = c->gates[i].gate;
        x->decision = c->gates[i].decision;
        x->awaiting_approval = c->gates[i].awaiting_approval;
        m->gp[i] = x;
    }
    s->gates = m->gp;
    s->n_gates = c->n_gates;
    s->input_indexes = c->inputs;
    s->n_input_indexes = c->n_inputs;
    s->last_received_ms = c->last_received_ms;
    s->review_due_ms = c->review_due_ms;
    s->review_overdue_alerted = c->review_overdue_alerted;
    s->expiry_warned_ms = c->expiry_warned_ms;
    return 0;
}

int cairn_state_pack(const cairn_change_t *c, uint8_t **out, size_t *len_out)
{
    s_msg_t m;
    int rc = s_to_msg(c, &m);
    if (rc == 0)
        rc = cairn_codec_pack(&m.msg.base, out, len_out);
    s_msg_clear(&m);
    return rc;
}

static int s_put_change(MDB_txn *txn, MDB_dbi dbi, const cairn_change_t *c)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = s_key('s', c->id, key, &klen);
    if (rc < 0)
        return rc;
    if ((rc = cairn_state_pack(c, &buf, &len)) < 0)
        goto out;
    MDB_val k = {klen, key}, v = {len, buf};
    if ((rc = cairn_lmdb_code(mdb_put(txn, dbi, &k, &v, 0))) < 0)
        goto out;
    /* The overdue-review index. */
    if ((rc = s_key('r', c->id, key, &klen)) < 0)
        goto out;
    k = (MDB_val){klen, key};
    if (c->review_due_ms > 0 && !c->review_overdue_alerted) {
        uint8_t due[8];
        cairn_u64_to_key((uint64_t)c->review_due_ms, due);
        MDB_val dv = {sizeof due, due};
        rc = cairn_lmdb_code(mdb_put(txn, dbi, &k, &dv, 0));
    } else {
        rc = cairn_lmdb_code(mdb_del(txn, dbi, &k, NULL));
        if (rc == CAIRN_ENOTFOUND)
            rc = 0;
    }
out:
    free(buf);
    return rc;
}

/* Points each key at the change. */
static int s_put_keys(MDB_txn *txn, MDB_dbi dbi, const cairn_change_t *c, char *const *keys,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t key[S_KEY_MAX];
        size_t klen;
        if (s_key('k', keys[i], key, &klen) < 0)
            continue; /* too long to index */
        MDB_val k = {klen, key}, v = {strlen(c->id), c->id};
        int rc = cairn_lmdb_code(mdb_put(txn, dbi, &k, &v, 0));
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cairn_state_commit_keys(cairn_state_t *self, const cairn_change_t *change, char *const *keys,
                            size_t n_keys, uint64_t next_index)
{
    MDB_txn *txn = NULL;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    if (change && (rc = s_put_change(txn, self->changes, change)) < 0)
        goto fail;
    if (change && (rc = s_put_keys(txn, self->changes, change, keys, n_keys)) < 0)
        goto fail;
    if ((rc = cairn_lmdb_put_u64(txn, self->meta, S_NEXT_KEY, next_index)) < 0)
        goto fail;
    return cairn_lmdb_code(mdb_txn_commit(txn));
fail:
    mdb_txn_abort(txn);
    return rc;
}

int cairn_state_commit(cairn_state_t *self, const cairn_change_t *change, uint64_t next_index)
{
    return cairn_state_commit_keys(self, change, NULL, 0, next_index);
}

/* ---- reading ------------------------------------------------------------ */

static int s_from_msg(const Cairn__V1__PolicyStateChange *s, cairn_change_t *c)
{
    int rc = 0;
    struct {
        char **field;
        const char *value;
    } strs[] = {{&c->author, s->author},
                {&c->commit_sha, s->commit_sha},
                {&c->merge_sha, s->merge_sha},
                {&c->environment, s->environment},
                {&c->service, s->service},
                {&c->deployer, s->deployer},
                {&c->verifier, s->verifier},
                {&c->change_type, s->change_type},
                {&c->risk, s->risk},
                {&c->cab, s->cab},
                {&c->incident_id, s->incident_id}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if ((rc = cairn_change_set(strs[i].field, strs[i].value)) < 0)
            return rc;
    struct {
        char ***items;
        size_t *count;
        char **src;
        size_t n;
    } lists[] = {{&c->committers, &c->n_committers, s->committers, s->n_committers},
                 {&c->paths, &c->n_paths, s->paths, s->n_paths},
                 {&c->data_classes, &c->n_data_classes, s->data_classes, s->n_data_classes},
                 {&c->labels, &c->n_labels, s->labels, s->n_labels}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; i < lists[l].n; i++)
            if ((rc = cairn_change_add_str(lists[l].items, lists[l].count, lists[l].src[i])) < 0)
                return rc;
    c->lines_changed = s->lines_changed;
    c->deployed_at_ms = s->deployed_at_ms;
    for (size_t i = 0; i < s->n_approvals; i++) {
        const Cairn__V1__PolicyStateApproval *a = s->approvals[i];
        cairn_change_approval_t ap = {a->user,      a->role,  a->commit_sha, a->index,
                                      a->rejected,  a->at_ms, a->signature,  a->key,
                                      a->signed_at, a->via};
        if ((rc = cairn_change_add_approval(c, &ap)) < 0)
            return rc;
    }
    for (size_t i = 0; i < s->n_evidence; i++) {
        const Cairn__V1__PolicyStateEvidence *d = s->evidence[i];
        cairn_change_evidence_t e = {
            .kind = d->kind,
            .index = d->index,
            .received_at_ms = d->received_at_ms,
            .commit_sha = d->commit_sha,
            .outcome = d->outcome,
            .passed = d->tests_passed,
            .failed = d->tests_failed,
            .skipped = d->tests_skipped,
            .critical = d->findings_critical,
            .high = d->findings_high,
            .medium = d->findings_medium,
            .low = d->findings_low,
            .coverage_line_pct = d->coverage_line_pct,
            .has_coverage = d->has_coverage,
        };
        if ((rc = cairn_change_put_evidence(c, &e)) < 0)
            return rc;
    }
    for (size_t i = 0; i < s->n_gates; i++)
        if ((rc = cairn_change_set_gate(c, s->gates[i]->gate, s->gates[i]->decision,
                                        s->gates[i]->awaiting_approval)) < 0)
            return rc;
    for (size_t i = 0; i < s->n_input_indexes; i++)
        if ((rc = cairn_change_add_input(c, s->input_indexes[i])) < 0)
            return rc;
    c->last_received_ms = s->last_received_ms;
    c->review_due_ms = s->review_due_ms;
    c->review_overdue_alerted = s->review_overdue_alerted;
    c->expiry_warned_ms = s->expiry_warned_ms;
    return 0;
}

int cairn_state_decode(const char *id, const uint8_t *bytes, size_t len, cairn_change_t **out)
{
    Cairn__V1__PolicyStateChange *s = NULL;
    cairn_change_t *c = NULL;
    int rc = 0;
    if (cairn_policy_codec_state_change_unpack(bytes, len, &s) < 0 ||
        strcmp(s->change_id, id) != 0) {
        rc = CAIRN_EINTEGRITY;
        goto out;
    }
    if (!(c = cairn_change_new(id))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = s_from_msg(s, c)) < 0)
        goto out;
    *out = c;
    c = NULL;
out:
    CAIRN_CODEC_FREE(&s);
    cairn_change_destroy(&c);
    return rc;
}

static int s_read_change(MDB_txn *txn, MDB_dbi dbi, const char *id, cairn_change_t **out)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    int rc = s_key('s', id, key, &klen);
    if (rc < 0)
        return rc;
    MDB_val k = {klen, key}, v;
    rc = cairn_lmdb_code(mdb_get(txn, dbi, &k, &v));
    if (rc == CAIRN_ENOTFOUND) {
        *out = NULL;
        return 0;
    }
    if (rc < 0)
        return rc;
    return cairn_state_decode(id, v.mv_data, v.mv_size, out);
}

/* The stored bytes of change id (CAIRN_ENOTFOUND: none). */
static int s_get(MDB_txn *txn, MDB_dbi dbi, char tag, const char *id, MDB_val *v)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    int rc = s_key(tag, id, key, &klen);
    if (rc < 0)
        return CAIRN_ENOTFOUND; /* too long to be stored */
    MDB_val k = {klen, key};
    return cairn_lmdb_code(mdb_get(txn, dbi, &k, v));
}

void cairn_state_found_clear(cairn_state_found_t *self)
{
    free(self->id);
    free(self->bytes);
    memset(self, 0, sizeof *self);
}

int cairn_state_find(cairn_state_t *self, const char *key, cairn_state_found_t *out)
{
    MDB_txn *txn = NULL;
    cairn_keys_t cands = {0};
    cairn_state_found_t f = {0};
    MDB_val v;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_get_u64(txn, self->meta, S_NEXT_KEY, &f.next);
    if (rc == CAIRN_ENOTFOUND) {
        f.next = 0;
        rc = 0;
    }
    if (rc < 0)
        goto out;
    rc = s_get(txn, self->changes, 's', key, &v);
    if (rc == 0) {
        if (!(f.id = strdup(key))) {
            rc = -ENOMEM;
            goto out;
        }
    } else if (rc == CAIRN_ENOTFOUND) {
        if ((rc = cairn_keys_candidates(key, &cands)) < 0)
            goto out;
        for (size_t i = 0; i < cands.n && !f.id; i++) {
            MDB_val idv;
            if ((rc = s_get(txn, self->changes, 'k', cands.items[i], &idv)) == CAIRN_ENOTFOUND)
                continue;
            if (rc < 0)
                goto out;
            char id[CAIRN_CHANGE_ID_MAX + 1];
            if (idv.mv_size == 0 || idv.mv_size > CAIRN_CHANGE_ID_MAX)
                continue;
            memcpy(id, idv.mv_data, idv.mv_size);
            id[idv.mv_size] = '\0';
            if ((rc = s_get(txn, self->changes, 's', id, &v)) == CAIRN_ENOTFOUND)
                continue;
            if (rc < 0)
                goto out;
            if (!(f.id = strdup(id))) {
                rc = -ENOMEM;
                goto out;
            }
            f.by_key = true;
        }
        rc = 0;
    } else {
        goto out;
    }
    if (f.id) {
        f.bytes = malloc(v.mv_size ? v.mv_size : 1);
        if (!f.bytes) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(f.bytes, v.mv_data, v.mv_size);
        f.len = v.mv_size;
    }
    *out = f;
    memset(&f, 0, sizeof f);
out:
    mdb_txn_abort(txn);
    cairn_keys_clear(&cands);
    cairn_state_found_clear(&f);
    return rc;
}

int cairn_state_read(cairn_state_t *self, const char *change_id, cairn_change_t **change_out,
                     uint64_t *next_out)
{
    MDB_txn *txn = NULL;
    cairn_change_t *c = NULL;
    uint64_t next = 0;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_get_u64(txn, self->meta, S_NEXT_KEY, &next);
    if (rc == CAIRN_ENOTFOUND) {
        next = 0;
        rc = 0;
    }
    if (rc == 0 && change_out)
        rc = s_read_change(txn, self->changes, change_id, &c);
    mdb_txn_abort(txn);
    if (rc < 0)
        return rc;
    if (change_out)
        *change_out = c;
    if (next_out)
        *next_out = next;
    return 0;
}

void cairn_state_ids_free(char ***ids_p, size_t n)
{
    if (!ids_p || !*ids_p)
        return;
    for (size_t i = 0; i < n; i++)
        free((*ids_p)[i]);
    free(*ids_p);
    *ids_p = NULL;
}

int cairn_state_due_reviews(cairn_state_t *self, int64_t at_ms, char ***ids_out, size_t *n_out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    char **ids = NULL;
    size_t n = 0;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->changes, &cur))) < 0)
        goto out;
    uint8_t prefix[2] = {'r', 0};
    MDB_val k = {sizeof prefix, prefix}, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size >= 2 && memcmp(k.mv_data, prefix, 2) == 0) {
        if (v.mv_size == 8 && (int64_t)cairn_key_to_u64(v.mv_data) <= at_ms) {
            char **grown = realloc(ids, (n + 1) * sizeof *grown);
            char *id = grown ? strndup((const char *)k.mv_data + 2, k.mv_size - 2) : NULL;
            if (grown)
                ids = grown;
            if (!id) {
                rc = -ENOMEM;
                goto out;
            }
            ids[n++] = id;
        }
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND) {
        rc = cairn_lmdb_code(mrc);
        goto out;
    }
    *ids_out = ids;
    *n_out = n;
    ids = NULL;
    n = 0;
    rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    cairn_state_ids_free(&ids, n);
    return rc;
}
