/* Findings of a gate (see findings.h). */
#include "findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

static const char *const s_names[] = {"pass", "fail", "missing", "void", "skip"};

const char *cairn_result_name(cairn_result_t result)
{
    return (unsigned)result < sizeof s_names / sizeof s_names[0] ? s_names[result] : "fail";
}

void cairn_findings_init(cairn_findings_t *self, cairn_arena_t *arena, bool render)
{
    memset(self, 0, sizeof *self);
    self->arena = arena;
    self->render = render;
}

/* Room for one more item in a doubling array. */
static void *s_room(cairn_arena_t *arena, void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    size_t grown = *cap ? *cap * 2 : 16;
    void *p = cairn_arena_grow(arena, items, *cap * size, grown * size);
    if (p)
        *cap = grown;
    return p;
}

int cairn_findings_reason(cairn_findings_t *self, const char *rule_id, cairn_result_t result,
                          const char *fmt, ...)
{
    cairn_finding_t *items =
        s_room(self->arena, self->reasons, self->n_reasons, &self->cap_reasons, sizeof *items);
    if (!items)
        return -ENOMEM;
    self->reasons = items;
    const char *message = NULL;
    if (self->render) {
        va_list ap;
        va_start(ap, fmt);
        message = cairn_arena_vprintf(self->arena, fmt, ap);
        va_end(ap);
        if (!message)
            return -ENOMEM;
    }
    items[self->n_reasons++] = (cairn_finding_t){rule_id, result, message};
    return 0;
}

int cairn_findings_open(cairn_findings_t *self, const char *kind, const char *rule_id,
                        const cairn_strv_t *roles, uint32_t missing, const char *fmt, ...)
{
    cairn_open_t *items = s_room(self->arena, self->obligations, self->n_obligations,
                                 &self->cap_obligations, sizeof *items);
    if (!items)
        return -ENOMEM;
    self->obligations = items;
    const char *message = NULL;
    if (self->render) {
        va_list ap;
        va_start(ap, fmt);
        message = cairn_arena_vprintf(self->arena, fmt, ap);
        va_end(ap);
        if (!message)
            return -ENOMEM;
    }
    items[self->n_obligations++] = (cairn_open_t){kind, rule_id, roles, missing, message};
    return 0;
}

bool cairn_findings_awaits_approval(const cairn_findings_t *self)
{
    for (size_t i = 0; i < self->n_obligations; i++)
        if (strcmp(self->obligations[i].kind, "approval") == 0)
            return true;
    return false;
}

void cairn_expiry_lower(cairn_expiry_t *self, const cairn_expiry_t *other)
{
    if (other->at_ms <= 0 || (self->at_ms && self->at_ms <= other->at_ms))
        return;
    *self = *other;
}

void cairn_expiry_text(const cairn_expiry_t *self, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    if (self->at_ms <= 0)
        return;
    if (self->user)
        cairn_format(buf, len, "the approval by %s (ledger index %llu)", self->user,
                     (unsigned long long)self->index);
    else
        cairn_format(buf, len, "%s evidence %s (ledger index %llu) reaches its max_age", self->type,
                     self->id, (unsigned long long)self->index);
}
