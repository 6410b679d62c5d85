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
#include "policy_codec.h"

#define S_MAP_SIZE ((size_t)1 << 30)
#define S_NEXT_KEY "next_index"
#define S_KEY_MAX 511 /* LMDB's default maximum key size */

struct cairn_state_t {
    MDB_env *env;    /* the environment at policy.state_path */
    MDB_dbi meta;    /* next_index */
    MDB_dbi changes; /* per-change records */
};

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
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "changes", MDB_CREATE, &self->changes))) < 0)
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

/* tag 0 id [0 kind] */
static int s_key(char tag, const char *id, const char *kind, uint8_t *buf, size_t *len)
{
    size_t idl = strlen(id), kl = kind ? strlen(kind) : 0;
    size_t n = 2 + idl + (kind ? 1 + kl : 0);
    if (n > S_KEY_MAX)
        return CAIRN_ETOOLARGE;
    buf[0] = (uint8_t)tag;
    buf[1] = 0;
    memcpy(buf + 2, id, idl);
    if (kind) {
        buf[2 + idl] = 0;
        memcpy(buf + 3 + idl, kind, kl);
    }
    *len = n;
    return 0;
}

static int s_put_msg(MDB_txn *txn, MDB_dbi dbi, const uint8_t *key, size_t klen,
                     const ProtobufCMessage *msg)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cairn_codec_pack(msg, &buf, &len);
    if (rc < 0)
        return rc;
    MDB_val k = {klen, (void *)key}, v = {len, buf};
    rc = cairn_lmdb_code(mdb_put(txn, dbi, &k, &v, 0));
    free(buf);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static int s_put_status(MDB_txn *txn, MDB_dbi dbi, const cairn_change_t *c)
{
    int rc = -ENOMEM;
    uint8_t key[S_KEY_MAX];
    size_t klen;
    Cairn__V1__ChangeStatus st = CAIRN__V1__CHANGE_STATUS__INIT;
    Cairn__V1__Approval *aps = calloc(c->n_approvals + 1, sizeof *aps);
    Cairn__V1__Approval **app = calloc(c->n_approvals + 1, sizeof *app);
    Cairn__V1__Verdict *gates = calloc(c->n_gates + 1, sizeof *gates);
    Cairn__V1__Verdict **gp = calloc(c->n_gates + 1, sizeof *gp);
    Cairn__V1__Obligation awaiting = CAIRN__V1__OBLIGATION__INIT;
    Cairn__V1__Obligation *awaiting_p = &awaiting;
    if (!aps || !app || !gates || !gp)
        goto out;
    if ((rc = s_key('c', c->id, NULL, key, &klen)) < 0)
        goto out;
    st.change_id = c->id;
    st.author = c->author;
    st.committers = c->committers;
    st.n_committers = c->n_committers;
    st.commit_sha = c->commit_sha;
    st.environment = c->environment;
    for (size_t i = 0; i < c->n_approvals; i++) {
        const cairn_change_approval_t *a = &c->approvals[i];
        cairn__v1__approval__init(&aps[i]);
        aps[i].user = a->user;
        aps[i].role = a->role;
        aps[i].commit_sha = a->commit_sha;
        aps[i].index = a->index;
        aps[i].void_ = a->rejected;
        aps[i].void_rule = a->rejected ? "rejected" : "";
        app[i] = &aps[i];
    }
    st.approvals = app;
    st.n_approvals = c->n_approvals;
    awaiting.kind = "approval";
    for (size_t i = 0; i < c->n_gates; i++) {
        cairn__v1__verdict__init(&gates[i]);
        gates[i].change_id = c->id;
        gates[i].gate = c->gates[i].gate;
        gates[i].decision = (Cairn__V1__Decision)c->gates[i].decision;
        if (c->gates[i].awaiting_approval) {
            gates[i].obligations = &awaiting_p;
            gates[i].n_obligations = 1;
        }
        gp[i] = &gates[i];
    }
    st.gates = gp;
    st.n_gates = c->n_gates;
    st.input_indexes = c->inputs;
    st.n_input_indexes = c->n_inputs;
    rc = s_put_msg(txn, dbi, key, klen, &st.base);
out:
    free(aps);
    free(app);
    free(gates);
    free(gp);
    return rc;
}

static int s_put_facts(MDB_txn *txn, MDB_dbi dbi, const cairn_change_t *c)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    int rc = s_key('x', c->id, NULL, key, &klen);
    if (rc < 0)
        return rc;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    corr.change_id = c->id;
    corr.service = c->service;
    gov.deployer = c->deployer;
    gov.verifier = c->verifier;
    gov.change_type = c->change_type;
    gov.paths = c->paths;
    gov.n_paths = c->n_paths;
    gov.data_classes = c->data_classes;
    gov.n_data_classes = c->n_data_classes;
    gov.lines_changed = c->lines_changed;
    ev.correlation = &corr;
    ev.governance = &gov;
    ev.received_at_ms = c->last_received_ms;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    return s_put_msg(txn, dbi, key, klen, &rec.base);
}

static int s_put_evidence(MDB_txn *txn, MDB_dbi dbi, const cairn_change_t *c,
                          const cairn_change_evidence_t *e)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    int rc = s_key('e', c->id, e->kind, key, &klen);
    if (rc < 0)
        return rc;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Evidence evd = CAIRN__V1__EVIDENCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    corr.change_id = c->id;
    corr.commit_sha = e->commit_sha;
    evd.kind = e->kind;
    evd.outcome = e->outcome;
    evd.tests_passed = e->passed;
    evd.tests_failed = e->failed;
    evd.tests_skipped = e->skipped;
    evd.findings_critical = e->critical;
    evd.findings_high = e->high;
    evd.findings_medium = e->medium;
    evd.findings_low = e->low;
    evd.coverage_line_pct = e->coverage_line_pct;
    evd.has_coverage = e->has_coverage;
    ev.correlation = &corr;
    ev.evidence = &evd;
    ev.received_at_ms = e->received_at_ms;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    uint8_t *rbuf = NULL;
    size_t rlen = 0;
    if ((rc = cairn_codec_pack(&rec.base, &rbuf, &rlen)) < 0)
        return rc;
    entry.index = e->index;
    entry.change_id = c->id;
    entry.record.data = rbuf;
    entry.record.len = rlen;
    rc = s_put_msg(txn, dbi, key, klen, &entry.base);
    free(rbuf);
    return rc;
}

int cairn_state_commit(cairn_state_t *self, const cairn_change_t *change, uint64_t next_index)
{
    MDB_txn *txn = NULL;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    if (change) {
        if ((rc = s_put_status(txn, self->changes, change)) < 0 ||
            (rc = s_put_facts(txn, self->changes, change)) < 0)
            goto fail;
        for (size_t i = 0; i < change->n_evidence; i++)
            if ((rc = s_put_evidence(txn, self->changes, change, &change->evidence[i])) < 0)
                goto fail;
    }
    if ((rc = cairn_lmdb_put_u64(txn, self->meta, S_NEXT_KEY, next_index)) < 0)
        goto fail;
    return cairn_lmdb_code(mdb_txn_commit(txn));
fail:
    mdb_txn_abort(txn);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

static int s_from_status(const Cairn__V1__ChangeStatus *st, cairn_change_t *c)
{
    int rc = 0;
    if ((rc = cairn_change_set(&c->author, st->author)) < 0 ||
        (rc = cairn_change_set(&c->commit_sha, st->commit_sha)) < 0 ||
        (rc = cairn_change_set(&c->environment, st->environment)) < 0)
        return rc;
    for (size_t i = 0; i < st->n_committers; i++)
        if ((rc = cairn_change_add_str(&c->committers, &c->n_committers, st->committers[i])) < 0)
            return rc;
    for (size_t i = 0; i < st->n_approvals; i++) {
        const Cairn__V1__Approval *a = st->approvals[i];
        cairn_change_approval_t ap = {a->user, a->role, a->commit_sha, a->index, a->void_};
        if ((rc = cairn_change_add_approval(c, &ap)) < 0)
            return rc;
    }
    for (size_t i = 0; i < st->n_gates; i++) {
        const Cairn__V1__Verdict *g = st->gates[i];
        bool awaiting = false;
        for (size_t j = 0; j < g->n_obligations; j++)
            awaiting = awaiting || strcmp(g->obligations[j]->kind, "approval") == 0;
        if ((rc = cairn_change_set_gate(c, g->gate, g->decision, awaiting)) < 0)
            return rc;
    }
    for (size_t i = 0; i < st->n_input_indexes; i++)
        if ((rc = cairn_change_add_input(c, st->input_indexes[i])) < 0)
            return rc;
    return 0;
}

static int s_from_facts(const MDB_val *v, cairn_change_t *c)
{
    Cairn__V1__Record *rec = NULL;
    int rc = cairn_codec_record_unpack(v->mv_data, v->mv_size, &rec);
    if (rc < 0)
        return CAIRN_EINTEGRITY;
    const Cairn__V1__Event *ev =
        rec->body_case == CAIRN__V1__RECORD__BODY_EVENT ? rec->event : NULL;
    if (!ev || !ev->correlation || !ev->governance) {
        rc = CAIRN_EINTEGRITY;
        goto out;
    }
    const Cairn__V1__Governance *g = ev->governance;
    if ((rc = cairn_change_set(&c->service, ev->correlation->service)) < 0 ||
        (rc = cairn_change_set(&c->deployer, g->deployer)) < 0 ||
        (rc = cairn_change_set(&c->verifier, g->verifier)) < 0 ||
        (rc = cairn_change_set(&c->change_type, g->change_type)) < 0)
        goto out;
    for (size_t i = 0; i < g->n_paths; i++)
        if ((rc = cairn_change_add_str(&c->paths, &c->n_paths, g->paths[i])) < 0)
            goto out;
    for (size_t i = 0; i < g->n_data_classes; i++)
        if ((rc = cairn_change_add_str(&c->data_classes, &c->n_data_classes, g->data_classes[i])) <
            0)
            goto out;
    c->lines_changed = g->lines_changed;
    c->last_received_ms = ev->received_at_ms;
out:
    CAIRN_CODEC_FREE(&rec);
    return rc;
}

static int s_from_evidence(const MDB_val *v, cairn_change_t *c)
{
    Cairn__V1__Entry *entry = NULL;
    Cairn__V1__Record *rec = NULL;
    int rc = CAIRN_EINTEGRITY;
    if (cairn_codec_entry_unpack(v->mv_data, v->mv_size, &entry) < 0 ||
        cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0)
        goto out;
    const Cairn__V1__Event *ev =
        rec->body_case == CAIRN__V1__RECORD__BODY_EVENT ? rec->event : NULL;
    if (!ev || !ev->evidence || !ev->correlation)
        goto out;
    const Cairn__V1__Evidence *d = ev->evidence;
    cairn_change_evidence_t e = {
        .kind = d->kind,
        .index = entry->index,
        .received_at_ms = ev->received_at_ms,
        .commit_sha = ev->correlation->commit_sha,
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
    rc = cairn_change_put_evidence(c, &e);
out:
    CAIRN_CODEC_FREE(&rec);
    CAIRN_CODEC_FREE(&entry);
    return rc;
}

static int s_read_change(MDB_txn *txn, MDB_dbi dbi, const char *id, cairn_change_t **out)
{
    uint8_t key[S_KEY_MAX];
    size_t klen;
    MDB_cursor *cur = NULL;
    Cairn__V1__ChangeStatus *st = NULL;
    cairn_change_t *c = NULL;
    int rc = s_key('c', id, NULL, key, &klen);
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
    if (cairn_policy_codec_change_status_unpack(v.mv_data, v.mv_size, &st) < 0 ||
        strcmp(st->change_id, id) != 0) {
        rc = CAIRN_EINTEGRITY;
        goto out;
    }
    if (!(c = cairn_change_new(id))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = s_from_status(st, c)) < 0)
        goto out;

    if ((rc = s_key('x', id, NULL, key, &klen)) < 0)
        goto out;
    k = (MDB_val){klen, key};
    rc = cairn_lmdb_code(mdb_get(txn, dbi, &k, &v));
    if (rc == 0)
        rc = s_from_facts(&v, c);
    else if (rc == CAIRN_ENOTFOUND)
        rc = 0;
    if (rc < 0)
        goto out;

    /* Every "e" 0 id 0 * key: the evidence kinds. */
    uint8_t prefix[S_KEY_MAX];
    size_t plen;
    if ((rc = s_key('e', id, "", prefix, &plen)) < 0)
        goto out;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, dbi, &cur))) < 0)
        goto out;
    k = (MDB_val){plen, prefix};
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
        if ((rc = s_from_evidence(&v, c)) < 0)
            goto out;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND) {
        rc = cairn_lmdb_code(mrc);
        goto out;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    CAIRN_CODEC_FREE(&st);
    cairn_change_destroy(&c);
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
