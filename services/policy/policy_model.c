/* The policy model's lifetime and lookups (see policy_model.h). */
#include "policy_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/note.h"

bool cairn_strv_contains(const cairn_strv_t *v, const char *s)
{
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i], s) == 0)
            return true;
    return false;
}

static const char *const s_risk_names[CAIRN_RISK_LEVELS] = {"low", "medium", "high", "critical"};

const char *cairn_risk_name(cairn_risk_t risk)
{
    if (risk < 0 || risk >= CAIRN_RISK_LEVELS)
        return "unset";
    return s_risk_names[risk];
}

cairn_risk_t cairn_risk_parse(const char *name)
{
    for (int i = 0; i < CAIRN_RISK_LEVELS; i++)
        if (strcmp(name, s_risk_names[i]) == 0)
            return (cairn_risk_t)i;
    return CAIRN_RISK_UNSET;
}

cairn_policy_t *cairn_policy_new(void)
{
    cairn_policy_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->arena = cairn_arena_new();
    if (!self->arena) {
        free(self);
        return NULL;
    }
    atomic_init(&self->refs, 1);
    self->classify_default = CAIRN_RISK_LOW;
    self->source = self->name = self->revision = self->digest = "";
    self->timezone = "UTC";
    self->expiry_warning_ms = 4 * 3600 * 1000LL;
    return self;
}

cairn_policy_t *cairn_policy_ref(cairn_policy_t *self)
{
    atomic_fetch_add(&self->refs, 1);
    return self;
}

void cairn_policy_unref(cairn_policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_policy_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) != 1)
        return;
    cairn_tz_destroy(&self->tz);
    for (size_t i = 0; i < self->n_approver_keys; i++)
        cairn_note_verifier_destroy(&self->approver_keys[i].verifier);
    free(self->approver_keys);
    cairn_arena_destroy(&self->arena);
    free(self);
}

bool cairn_policy_user_has_key(const cairn_policy_t *self, const char *user)
{
    for (size_t i = 0; i < self->n_approver_keys; i++)
        if (strcmp(self->approver_keys[i].user, user) == 0)
            return true;
    return false;
}

const cairn_role_t *cairn_policy_role(const cairn_policy_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_roles; i++)
        if (strcmp(self->roles[i].name, name) == 0)
            return &self->roles[i];
    return NULL;
}

int cairn_policy_gate_index(const cairn_policy_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_gates; i++)
        if (strcmp(self->gates[i].name, name) == 0)
            return (int)i;
    return -1;
}

const cairn_gate_t *cairn_policy_gate(const cairn_policy_t *self, const char *name)
{
    int i = cairn_policy_gate_index(self, name);
    return i < 0 ? NULL : &self->gates[i];
}

bool cairn_policy_user_in_role(const cairn_policy_t *self, const char *user, const char *role)
{
    const cairn_role_t *r = cairn_policy_role(self, role);
    return r && cairn_strv_contains(&r->users, user);
}

bool cairn_policy_user_is_service_account(const cairn_policy_t *self, const char *user)
{
    for (size_t i = 0; i < self->n_roles; i++)
        if (self->roles[i].service_account && cairn_strv_contains(&self->roles[i].users, user))
            return true;
    return false;
}

static int s_strptrcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool cairn_policy_user_known(const cairn_policy_t *self, const char *user)
{
    if (self->known_users)
        return bsearch(&user, self->known_users, self->n_known_users, sizeof *self->known_users,
                       s_strptrcmp) != NULL;
    for (size_t i = 0; i < self->n_roles; i++) {
        if (cairn_strv_contains(&self->roles[i].users, user))
            return true;
        for (size_t d = 0; d < self->roles[i].n_delegations; d++)
            if (strcmp(self->roles[i].delegations[d].to, user) == 0)
                return true;
    }
    return false;
}

const cairn_change_type_t *cairn_policy_change_type(const cairn_policy_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->n_change_types; i++)
        if (strcmp(self->change_types[i].name, name) == 0)
            return &self->change_types[i];
    return NULL;
}

int64_t cairn_policy_expiry_ms(const cairn_policy_t *self, cairn_risk_t risk)
{
    for (int r = (int)risk; r >= 0 && r < CAIRN_RISK_LEVELS; r--)
        if (self->expiry_ms[r] > 0)
            return self->expiry_ms[r];
    return 0;
}

void cairn_policy_gate_list(const cairn_policy_t *self, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < self->n_gates && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", self->gates[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int cairn_policy_prepare(cairn_policy_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_roles; i++)
        n += self->roles[i].users.count + self->roles[i].n_delegations;
    const char **users = cairn_arena_alloc(self->arena, (n + 1) * sizeof *users);
    if (!users)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < self->n_roles; i++) {
        for (size_t u = 0; u < self->roles[i].users.count; u++)
            users[k++] = self->roles[i].users.items[u];
        for (size_t d = 0; d < self->roles[i].n_delegations; d++)
            users[k++] = self->roles[i].delegations[d].to;
    }
    qsort(users, k, sizeof *users, s_strptrcmp);
    self->known_users = users;
    self->n_known_users = k;

    for (size_t gi = 0; gi < self->n_gates; gi++) {
        cairn_gate_t *g = &self->gates[gi];
        g->after_index = cairn_arena_alloc(self->arena, (g->after.count + 1) * sizeof(int));
        if (!g->after_index)
            return -ENOMEM;
        for (size_t i = 0; i < g->after.count; i++)
            g->after_index[i] = cairn_policy_gate_index(self, g->after.items[i]);
        g->reads_verification = false;
        for (size_t i = 0; i < g->n_evidence; i++) {
            cairn_evidence_rule_t *r = &g->evidence[i];
            r->type_index = cairn_evidence_type_index(r->type);
            if (strcmp(r->type, "verification") == 0)
                g->reads_verification = true;
        }
    }
    return 0;
}
