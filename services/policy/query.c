/* The query server (see query.h). Gate queries are answered for `now`, the
 * wall clock here (evidence max_age is real time), while verdicts written to
 * the ledger use their trigger's time; a cached verdict answers only while
 * it is exactly what evaluating now would give. */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "evaluate.h"
#include "partition.h"

struct cairn_query_t {
    zactor_t *actor;              /* the thread serving the ROUTER socket */
    const char *endpoint;         /* bus.policy_query (not owned) */
    cairn_state_t *state;         /* read-only use (not owned) */
    cairn_policy_slot_t *slot;    /* policy in force (not owned) */
    cairn_verdict_cache_t *cache; /* verdicts already computed (not owned; may be NULL) */
    cairn_partition_t partition;  /* the changes this instance holds */
    const char *endpoints;        /* policy.partition_endpoints (not owned) */
    int bind_rc;                  /* result of binding, set by the thread */
};

typedef struct {
    Cairn__V1__PolicyReply reply;   /* what is sent */
    Cairn__V1__ChangeStatus status; /* reply.change when a status was asked */
    char error[1024];               /* reply.error */
    cairn_state_found_t found;      /* the change the query names, as stored */
    cairn_change_t *change;         /* found, decoded */
    cairn_eval_t *eval;             /* the evaluation (owns the verdicts) */
    Cairn__V1__Verdict **all;       /* status answer */
    Cairn__V1__Approval *raw;       /* approvals shown when no verdict lists them */
    Cairn__V1__Approval **raw_p;
    uint8_t *cached; /* the whole reply, from the verdict cache */
    size_t cached_len;
} s_answer_t;

__attribute__((format(printf, 3, 4))) static void s_fail(s_answer_t *a, int status, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof a->error, fmt, ap);
    va_end(ap);
    a->reply.status = status;
    a->reply.error = a->error;
}

static cairn_eval_opts_t s_opts(const cairn_change_t *c, const char *env, int64_t now_ms)
{
    cairn_eval_opts_t o = {.environment = env, .now_ms = now_ms, .trigger_index = 0};
    if (c && c->n_inputs)
        o.trigger_index = c->inputs[c->n_inputs - 1];
    return o;
}

/* Finds the change named by key (its id or a correlation key); a key that
 * names nothing is a change with no events. */
static int s_find(cairn_state_t *state, const char *key, s_answer_t *a)
{
    int rc = cairn_state_find(state, key, &a->found);
    if (rc == 0 && a->found.id)
        rc = cairn_state_decode(a->found.id, a->found.bytes, a->found.len, &a->change);
    if (rc < 0) {
        s_fail(a, rc, "cannot read the policy state: %s", cairn_strerror(rc));
        return rc;
    }
    a->reply.applied_index = a->found.next;
    return 0;
}

static void s_gate(cairn_state_t *state, cairn_policy_t *p, cairn_verdict_cache_t *cache,
                   const Cairn__V1__GateQuery *q, int64_t now_ms, s_answer_t *a)
{
    if (!*q->change_id) {
        s_fail(a, CAIRN_EINVALID, "a gate query needs a change id");
        return;
    }
    int gi = cairn_policy_gate_index(p, q->gate);
    if (gi < 0) {
        char gates[512];
        cairn_policy_gate_list(p, gates, sizeof gates);
        s_fail(a, CAIRN_ENOTFOUND, "unknown gate '%s'; policy %s has gates: %s", q->gate, p->name,
               gates);
        return;
    }
    int rc = cairn_state_find(state, q->change_id, &a->found);
    if (rc < 0) {
        s_fail(a, rc, "cannot read the policy state: %s", cairn_strerror(rc));
        return;
    }
    a->reply.applied_index = a->found.next;
    const cairn_state_found_t *f = &a->found;
    if (cache && f->id &&
        cairn_verdict_cache_reply(cache, p, f->id, f->bytes, f->len, q->environment, (size_t)gi,
                                  now_ms, f->next, &a->cached, &a->cached_len) == 0)
        return;
    if (f->id && (rc = cairn_state_decode(f->id, f->bytes, f->len, &a->change)) < 0) {
        s_fail(a, rc, "cannot read the policy state: %s", cairn_strerror(rc));
        return;
    }
    Cairn__V1__Verdict *v = NULL;
    cairn_eval_opts_t o = s_opts(a->change, q->environment, now_ms);
    if ((rc = cairn_eval_new(p, f->id ? f->id : q->change_id, a->change, &o, false, &a->eval)) <
            0 ||
        (rc = cairn_eval_verdict(a->eval, (size_t)gi, &v)) < 0) {
        s_fail(a, rc, "cannot evaluate the gate: %s", cairn_strerror(rc));
        return;
    }
    a->reply.verdict = v;
    const cairn_change_t *c = a->change;
    if (cache && c && (!*q->environment || strcmp(q->environment, c->environment) == 0)) {
        cairn_cache_basis_t basis = {.policy = p,
                                     .change_id = f->id,
                                     .state = f->bytes,
                                     .state_len = f->len,
                                     .environment = c->environment,
                                     .at_ms = now_ms,
                                     .valid_until_ms = cairn_eval_valid_until(a->eval)};
        if (cairn_verdict_cache_put(cache, &basis, (size_t)gi, v) < 0)
            CAIRN_DEBUG("cannot cache a verdict", "change=%s", cairn_log_quote(f->id));
    }
}

static void s_status(cairn_state_t *state, const cairn_policy_t *p, const Cairn__V1__StatusQuery *q,
                     int64_t now_ms, s_answer_t *a)
{
    if (!*q->change_id) {
        s_fail(a, CAIRN_EINVALID, "a status query needs a change id");
        return;
    }
    if (s_find(state, q->change_id, a) < 0)
        return;
    const char *id = a->found.id ? a->found.id : q->change_id;
    cairn_eval_opts_t o = s_opts(a->change, NULL, now_ms);
    int rc = cairn_eval_new(p, id, a->change, &o, false, &a->eval);
    if (rc == 0 && !(a->all = calloc(p->n_gates ? p->n_gates : 1, sizeof *a->all)))
        rc = -ENOMEM;
    for (size_t gi = 0; gi < p->n_gates && rc == 0; gi++)
        rc = cairn_eval_verdict(a->eval, gi, &a->all[gi]);
    if (rc < 0) {
        s_fail(a, rc, "cannot evaluate the change: %s", cairn_strerror(rc));
        return;
    }
    Cairn__V1__ChangeStatus *st = &a->status;
    const cairn_change_t *c = a->change;
    st->change_id = (char *)id;
    st->gates = a->all;
    st->n_gates = p->n_gates;
    if (c) {
        st->author = c->author;
        st->committers = c->committers;
        st->n_committers = c->n_committers;
        st->commit_sha = c->commit_sha;
        st->environment = c->environment;
        st->input_indexes = c->inputs;
        st->n_input_indexes = c->n_inputs;
        /* Approvals as evaluated (void flags set) by the first gate that
         * counts them; otherwise as stored. */
        for (size_t i = 0; i < p->n_gates && !st->n_approvals; i++)
            if (a->all[i]->n_approvals) {
                st->approvals = a->all[i]->approvals;
                st->n_approvals = a->all[i]->n_approvals;
            }
        if (!st->n_approvals && c->n_approvals) {
            a->raw = calloc(c->n_approvals, sizeof *a->raw);
            a->raw_p = calloc(c->n_approvals, sizeof *a->raw_p);
            if (!a->raw || !a->raw_p) {
                s_fail(a, -ENOMEM, "%s", cairn_strerror(-ENOMEM));
                return;
            }
            for (size_t i = 0; i < c->n_approvals; i++) {
                cairn__v1__approval__init(&a->raw[i]);
                a->raw[i].user = c->approvals[i].user;
                a->raw[i].role = c->approvals[i].role;
                a->raw[i].commit_sha = c->approvals[i].commit_sha;
                a->raw[i].index = c->approvals[i].index;
                a->raw_p[i] = &a->raw[i];
            }
            st->approvals = a->raw_p;
            st->n_approvals = c->n_approvals;
        }
    }
    a->reply.change = st;
}

int cairn_query_answer(cairn_state_t *state, cairn_policy_slot_t *slot,
                       cairn_verdict_cache_t *cache, const uint8_t *req, size_t len, int64_t now_ms,
                       uint8_t **reply_out, size_t *reply_len)
{
    s_answer_t a;
    memset(&a, 0, sizeof a);
    cairn__v1__policy_reply__init(&a.reply);
    cairn__v1__change_status__init(&a.status);
    Cairn__V1__PolicyRequest *rq = NULL;
    cairn_policy_t *p = cairn_policy_slot_get(slot);
    int rc = 0;

    if (cairn_codec_policy_request_unpack(req, len, &rq) < 0) {
        s_fail(&a, CAIRN_EPROTO, "the request is not a PolicyRequest");
    } else if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_GATE) {
        s_gate(state, p, cache, rq->gate, now_ms, &a);
    } else if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_STATUS) {
        s_status(state, p, rq->status, now_ms, &a);
    } else {
        s_fail(&a, CAIRN_EINVALID, "the request names no query: set gate or status");
    }
    if (a.cached) {
        *reply_out = a.cached;
        *reply_len = a.cached_len;
        a.cached = NULL;
    } else {
        if (!a.reply.applied_index)
            cairn_state_read(state, NULL, NULL, &a.reply.applied_index);
        rc = cairn_codec_pack(&a.reply.base, reply_out, reply_len);
    }

    free(a.raw);
    free(a.raw_p);
    free(a.all);
    cairn_eval_destroy(&a.eval);
    cairn_change_destroy(&a.change);
    cairn_state_found_clear(&a.found);
    CAIRN_CODEC_FREE(&rq);
    cairn_policy_unref(&p);
    return rc;
}

static void s_serve_one(cairn_query_t *self, zsock_t *router)
{
    zframe_t *peer = NULL;
    uint8_t *payload = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    int rc = cairn_bus_server_recv(router, &peer, &payload, &len);
    if (rc < 0) {
        if (rc == CAIRN_EPROTO)
            CAIRN_WARN("dropped a malformed query message", NULL);
        return;
    }
    rc = cairn_partition_redirect(&self->partition, self->endpoints, self->state, payload, len,
                                  &reply, &reply_len);
    if (rc == 0)
        rc = cairn_query_answer(self->state, self->slot, self->cache, payload, len, cairn_now_ms(),
                                &reply, &reply_len);
    free(payload);
    if (rc < 0) {
        CAIRN_ERROR("cannot answer a query", "error=%s", cairn_log_quote(cairn_strerror(rc)));
        zframe_destroy(&peer);
        return;
    }
    if ((rc = cairn_bus_server_reply(router, &peer, reply, reply_len)) < 0)
        CAIRN_WARN("cannot send a query reply", "error=%s", cairn_log_quote(cairn_strerror(rc)));
    free(reply);
}

static void s_actor(zsock_t *pipe, void *arg)
{
    cairn_query_t *self = arg;
    zsock_t *router = NULL;
    self->bind_rc = cairn_bus_bind(ZMQ_ROUTER, self->endpoint, &router);
    zsock_signal(pipe, 0);
    if (self->bind_rc < 0)
        return;
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (which == router) {
            s_serve_one(self, router);
        } else if (which == pipe) {
            zmsg_t *msg = zmsg_recv(pipe);
            char *cmd = msg ? zmsg_popstr(msg) : NULL;
            bool term = !cmd || strcmp(cmd, "$TERM") == 0;
            free(cmd);
            zmsg_destroy(&msg);
            if (term)
                break;
        } else if (zpoller_terminated(poller)) {
            break;
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

int cairn_query_new(const char *endpoint, cairn_state_t *state, cairn_policy_slot_t *slot,
                    cairn_verdict_cache_t *cache, const cairn_partition_t *partition,
                    const char *endpoints, cairn_query_t **out)
{
    cairn_query_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->endpoint = endpoint;
    self->partition = partition ? *partition : (cairn_partition_t){0, 1};
    self->endpoints = endpoints ? endpoints : "";
    self->state = state;
    self->slot = slot;
    self->cache = cache;
    self->actor = zactor_new(s_actor, self);
    int rc = self->actor ? self->bind_rc : -ENOMEM;
    if (rc < 0) {
        cairn_query_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_query_destroy(cairn_query_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy(&(*self_p)->actor);
    free(*self_p);
    *self_p = NULL;
}
