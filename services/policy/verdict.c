/* Verdict message construction (see verdict.h). */
#include "verdict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Cairn__V1__Verdict *cairn_verdict_new(void)
{
    Cairn__V1__Verdict *v = malloc(sizeof *v);
    if (v)
        cairn__v1__verdict__init(v);
    return v;
}

int cairn_msg_set_str(char **field, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return -ENOMEM;
    /* Fields start out pointing at protobuf-c's shared empty string. */
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return 0;
}

__attribute__((format(printf, 1, 0))) static char *s_vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

/* Appends item to a repeated message field. */
static int s_push(void ***items, size_t *count, void *item)
{
    void **grown = realloc(*items, (*count + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    grown[(*count)++] = item;
    *items = grown;
    return 0;
}

int cairn_verdict_add_reason(Cairn__V1__Verdict *v, const char *rule_id, const char *result,
                             const char *fmt, ...)
{
    Cairn__V1__Reason *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    cairn__v1__reason__init(r);
    va_list ap;
    va_start(ap, fmt);
    char *msg = s_vformat(fmt, ap);
    va_end(ap);
    if (msg)
        r->message = msg;
    if (!msg || cairn_msg_set_str(&r->rule_id, rule_id) < 0 ||
        cairn_msg_set_str(&r->result, result) < 0 ||
        s_push((void ***)&v->reasons, &v->n_reasons, r) < 0) {
        CAIRN_CODEC_FREE(&r);
        return -ENOMEM;
    }
    return 0;
}

int cairn_verdict_add_obligation(Cairn__V1__Verdict *v, const char *kind, const char *rule_id,
                                 const cairn_strv_t *roles, uint32_t missing, const char *fmt, ...)
{
    Cairn__V1__Obligation *o = malloc(sizeof *o);
    if (!o)
        return -ENOMEM;
    cairn__v1__obligation__init(o);
    o->missing = missing;
    va_list ap;
    va_start(ap, fmt);
    char *msg = s_vformat(fmt, ap);
    va_end(ap);
    int rc = -ENOMEM;
    if (!msg)
        goto fail;
    o->message = msg;
    if (cairn_msg_set_str(&o->kind, kind) < 0 || cairn_msg_set_str(&o->rule_id, rule_id) < 0)
        goto fail;
    if (roles && roles->count) {
        if (!(o->roles = calloc(roles->count, sizeof *o->roles)))
            goto fail;
        for (size_t i = 0; i < roles->count; i++) {
            if (!(o->roles[i] = strdup(roles->items[i])))
                goto fail;
            o->n_roles++;
        }
    }
    if (s_push((void ***)&v->obligations, &v->n_obligations, o) < 0)
        goto fail;
    return 0;
fail:
    CAIRN_CODEC_FREE(&o);
    return rc;
}

Cairn__V1__Approval *cairn_approval_msg_new(const char *user, const char *role,
                                            const char *commit_sha, uint64_t index, bool is_void,
                                            const char *void_rule, const char *void_reason)
{
    Cairn__V1__Approval *a = malloc(sizeof *a);
    if (!a)
        return NULL;
    cairn__v1__approval__init(a);
    a->index = index;
    a->void_ = is_void;
    if (cairn_msg_set_str(&a->user, user) < 0 || cairn_msg_set_str(&a->role, role) < 0 ||
        cairn_msg_set_str(&a->commit_sha, commit_sha) < 0 ||
        cairn_msg_set_str(&a->void_rule, void_rule) < 0 ||
        cairn_msg_set_str(&a->void_reason, void_reason) < 0)
        CAIRN_CODEC_FREE(&a);
    return a;
}

int cairn_verdict_add_approval(Cairn__V1__Verdict *v, Cairn__V1__Approval *a)
{
    return s_push((void ***)&v->approvals, &v->n_approvals, a);
}

int cairn_verdict_add_input(Cairn__V1__Verdict *v, uint64_t index)
{
    uint64_t *grown = realloc(v->input_indexes, (v->n_input_indexes + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    grown[v->n_input_indexes++] = index;
    v->input_indexes = grown;
    return 0;
}

bool cairn_verdict_awaits_approval(const Cairn__V1__Verdict *v)
{
    for (size_t i = 0; i < v->n_obligations; i++)
        if (strcmp(v->obligations[i]->kind, "approval") == 0)
            return true;
    return false;
}
