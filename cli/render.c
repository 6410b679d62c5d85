/* Sentences for decisions, reasons, obligations and approvals, so that
 * `cairn status` and `cairn gate` word them the same way. */
#include "render.h"

#include <stdarg.h>
#include <string.h>

#include "options.h"

int cli_decision_exit(Cairn__V1__Decision decision)
{
    switch (decision) {
    case CAIRN__V1__DECISION__DECISION_ALLOW: return CLI_EXIT_OK;
    case CAIRN__V1__DECISION__DECISION_DENY: return CLI_EXIT_DENIED;
    default: return CLI_EXIT_PENDING;
    }
}

/* Appends formatted text at *pos, never past buflen. */
static void s_append(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_append(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
{
    if (*pos >= buflen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, buflen - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = (size_t)n >= buflen - *pos ? buflen : *pos + (size_t)n;
}

static int s_set(const char *s)
{
    return s && *s;
}

void cli_obligation_text(const Cairn__V1__Obligation *ob, char *buf, size_t buflen)
{
    size_t pos = 0;
    buf[0] = '\0';
    if (s_set(ob->kind) && strcmp(ob->kind, "approval") == 0 && ob->missing > 0 &&
        ob->n_roles > 0) {
        s_append(buf, buflen, &pos, "needs %u more approval%s from ", ob->missing,
                 ob->missing == 1 ? "" : "s");
        for (size_t i = 0; i < ob->n_roles; i++) {
            const char *sep = i == 0 ? "" : (i + 1 == ob->n_roles ? " or " : ", ");
            s_append(buf, buflen, &pos, "%s%s", sep, ob->roles[i]);
        }
        if (s_set(ob->rule_id))
            s_append(buf, buflen, &pos, " (rule %s)", ob->rule_id);
        return;
    }
    if (s_set(ob->message)) {
        s_append(buf, buflen, &pos, "%s", ob->message);
        if (s_set(ob->rule_id) && !strstr(ob->message, ob->rule_id))
            s_append(buf, buflen, &pos, " (rule %s)", ob->rule_id);
        return;
    }
    s_append(buf, buflen, &pos, "needs %s %s", s_set(ob->kind) ? ob->kind : "something for",
             s_set(ob->rule_id) ? ob->rule_id : "an unnamed rule");
}

void cli_reason_text(const Cairn__V1__Reason *reason, char *buf, size_t buflen)
{
    size_t pos = 0;
    buf[0] = '\0';
    s_append(buf, buflen, &pos, "%-7s %s", s_set(reason->result) ? reason->result : "-",
             s_set(reason->rule_id) ? reason->rule_id : "(no rule)");
    if (s_set(reason->message))
        s_append(buf, buflen, &pos, ": %s", reason->message);
}

void cli_approval_text(const Cairn__V1__Approval *ap, char *buf, size_t buflen)
{
    size_t pos = 0;
    buf[0] = '\0';
    s_append(buf, buflen, &pos, "%s", s_set(ap->user) ? ap->user : "(unknown)");
    if (s_set(ap->role))
        s_append(buf, buflen, &pos, " as %s", ap->role);
    s_append(buf, buflen, &pos, ", index %llu", (unsigned long long)ap->index);
    if (s_set(ap->commit_sha))
        s_append(buf, buflen, &pos, ", commit %.12s", ap->commit_sha);
    if (ap->void_) {
        s_append(buf, buflen, &pos, ", VOID");
        if (s_set(ap->void_rule))
            s_append(buf, buflen, &pos, " by %s", ap->void_rule);
        if (s_set(ap->void_reason))
            s_append(buf, buflen, &pos, ": %s", ap->void_reason);
    }
}

void cli_render_verdict_body(FILE *out, const Cairn__V1__Verdict *v, const char *indent)
{
    char line[1024];
    for (size_t i = 0; i < v->n_reasons; i++) {
        cli_reason_text(v->reasons[i], line, sizeof line);
        fprintf(out, "%s%s\n", indent, line);
    }
    for (size_t i = 0; i < v->n_obligations; i++) {
        cli_obligation_text(v->obligations[i], line, sizeof line);
        fprintf(out, "%sopen    %s\n", indent, line);
    }
}
