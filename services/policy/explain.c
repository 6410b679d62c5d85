/* Verdicts in words (see explain.h). */
#include "explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "cairn/util.h"

static bool s_set(const char *s)
{
    return s && *s;
}

/* Appends formatted text at *pos, never past len. */
__attribute__((format(printf, 4, 5))) static void s_add(char *buf, size_t len, size_t *pos,
                                                        const char *fmt, ...)
{
    if (*pos >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = (size_t)n >= len - *pos ? len : *pos + (size_t)n;
}

const char *cairn_explain_result(const char *result)
{
    static const struct {
        const char *result, *words;
    } map[] = {
        {"pass", "passed"},         {"fail", "FAILED"},         {"missing", "missing"},
        {"void", "void (ignored)"}, {"skip", "does not apply"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (result && strcmp(result, map[i].result) == 0)
            return map[i].words;
    return s_set(result) ? result : "(no result)";
}

/* "a", "a and b", "a, b and c" of the reasons with this result. */
static size_t s_rules_with(const Cairn__V1__Verdict *v, const char *result, char *buf, size_t len)
{
    size_t n = 0, total = 0, pos = 0;
    for (size_t i = 0; i < v->n_reasons; i++)
        total += strcmp(v->reasons[i]->result, result) == 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (strcmp(v->reasons[i]->result, result) != 0)
            continue;
        const char *sep = n == 0 ? "" : (n + 1 == total ? " and " : ", ");
        s_add(buf, len, &pos, "%s%s", sep, v->reasons[i]->rule_id);
        n++;
    }
    return n;
}

void cairn_explain_because(const Cairn__V1__Verdict *v, char *buf, size_t len)
{
    char failed[512], missing[512];
    size_t nf = s_rules_with(v, "fail", failed, sizeof failed);
    size_t nm = s_rules_with(v, "missing", missing, sizeof missing);
    size_t pos = 0;
    buf[0] = '\0';
    switch (v->decision) {
    case CAIRN__V1__DECISION__DECISION_ALLOW:
        s_add(buf, len, &pos, "%s", v->n_reasons ? "every rule passed" : "no rule applies");
        break;
    case CAIRN__V1__DECISION__DECISION_DENY:
        if (nf)
            s_add(buf, len, &pos, "because %s failed", failed);
        else
            s_add(buf, len, &pos, "because the policy cannot allow it");
        break;
    case CAIRN__V1__DECISION__DECISION_MANUAL:
        s_add(buf, len, &pos, "because %s failed and a person must decide", nf ? failed : "a rule");
        break;
    case CAIRN__V1__DECISION__DECISION_PENDING:
        if (nm)
            s_add(buf, len, &pos, "because %s %s missing", missing, nm == 1 ? "is" : "are");
        else
            s_add(buf, len, &pos, "because something is still open");
        break;
    default: s_add(buf, len, &pos, "(no decision)"); break;
    }
}

void cairn_explain_obligation(const Cairn__V1__Obligation *ob, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    if (s_set(ob->kind) && strcmp(ob->kind, "approval") == 0 && ob->missing && ob->n_roles) {
        s_add(buf, len, &pos, "%u more approval%s from ", ob->missing, ob->missing == 1 ? "" : "s");
        for (size_t i = 0; i < ob->n_roles; i++)
            s_add(buf, len, &pos, "%s%s", i == 0 ? "" : (i + 1 == ob->n_roles ? " or " : ", "),
                  ob->roles[i]);
    } else if (s_set(ob->message)) {
        s_add(buf, len, &pos, "%s", ob->message);
    } else {
        s_add(buf, len, &pos, "%s still open", s_set(ob->kind) ? ob->kind : "something");
    }
    if (s_set(ob->rule_id) && !(s_set(ob->message) && strstr(buf, ob->rule_id)))
        s_add(buf, len, &pos, " (rule %s)", ob->rule_id);
}

static void s_approval(const Cairn__V1__Approval *a, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    s_add(buf, len, &pos, "%s", s_set(a->user) ? a->user : "(unknown)");
    if (s_set(a->role))
        s_add(buf, len, &pos, " as %s", a->role);
    s_add(buf, len, &pos, " (ledger index %" PRIu64, a->index);
    if (s_set(a->commit_sha))
        s_add(buf, len, &pos, ", commit %.12s", a->commit_sha);
    s_add(buf, len, &pos, ")");
    if (a->void_) {
        s_add(buf, len, &pos, ": void");
        if (s_set(a->void_rule))
            s_add(buf, len, &pos, " by %s", a->void_rule);
        if (s_set(a->void_reason))
            s_add(buf, len, &pos, " (%s)", a->void_reason);
    } else {
        s_add(buf, len, &pos, ": valid");
    }
}

static const char *s_upper(Cairn__V1__Decision d)
{
    switch (d) {
    case CAIRN__V1__DECISION__DECISION_ALLOW: return "ALLOW";
    case CAIRN__V1__DECISION__DECISION_DENY: return "DENY";
    case CAIRN__V1__DECISION__DECISION_PENDING: return "PENDING";
    case CAIRN__V1__DECISION__DECISION_MANUAL: return "MANUAL";
    default: return "UNDECIDED";
    }
}

void cairn_explain_verdict(FILE *out, const Cairn__V1__Verdict *v, const char *indent)
{
    char because[1024], line[1024];
    int width = 12;
    for (size_t i = 0; i < v->n_reasons; i++) {
        int w = (int)strlen(v->reasons[i]->rule_id);
        if (w > width && w <= 32)
            width = w;
    }
    cairn_explain_because(v, because, sizeof because);
    fprintf(out, "%sgate %s: %s, %s\n", indent, s_set(v->gate) ? v->gate : "(unnamed)",
            s_upper(v->decision), because);
    for (size_t i = 0; i < v->n_reasons; i++) {
        const Cairn__V1__Reason *r = v->reasons[i];
        fprintf(out, "%s  %-*s  %-15s %s\n", indent, width,
                s_set(r->rule_id) ? r->rule_id : "(no rule)", cairn_explain_result(r->result),
                s_set(r->message) ? r->message : "");
    }
    for (size_t i = 0; i < v->n_obligations; i++) {
        cairn_explain_obligation(v->obligations[i], line, sizeof line);
        fprintf(out, "%s  still open: %s\n", indent, line);
    }
    for (size_t i = 0; i < v->n_approvals; i++) {
        s_approval(v->approvals[i], line, sizeof line);
        fprintf(out, "%s  approval:   %s\n", indent, line);
    }
}

void cairn_explain_subject(FILE *out, const Cairn__V1__Verdict *v)
{
    fprintf(out, "change %s", s_set(v->change_id) ? v->change_id : "(unknown)");
    if (s_set(v->environment))
        fprintf(out, " in %s", v->environment);
    if (s_set(v->commit_sha))
        fprintf(out, " at commit %.12s", v->commit_sha);
    fprintf(out, "\n");
    fprintf(out, "policy %s revision %s (%s)", s_set(v->policy_name) ? v->policy_name : "-",
            s_set(v->policy_revision) ? v->policy_revision : "-",
            s_set(v->policy_digest) ? v->policy_digest : "no digest");
    if (s_set(v->risk))
        fprintf(out, ", risk %s", v->risk);
    if (s_set(v->change_type))
        fprintf(out, ", change type %s", v->change_type);
    fprintf(out, "\n");
    if (v->n_input_indexes) {
        fprintf(out, "decided from %zu recorded fact%s (ledger index%s", v->n_input_indexes,
                v->n_input_indexes == 1 ? "" : "s", v->n_input_indexes == 1 ? "" : "es");
        for (size_t i = 0; i < v->n_input_indexes && i < 16; i++)
            fprintf(out, "%s%" PRIu64, i ? ", " : " ", v->input_indexes[i]);
        if (v->n_input_indexes > 16)
            fprintf(out, ", ...");
        fprintf(out, ")");
        if (v->evaluated_at_ms) {
            char when[32];
            cairn_format_time(v->evaluated_at_ms, when);
            fprintf(out, ", evaluated at %s", when);
        }
        fprintf(out, "\n");
    }
}

json_t *cairn_explain_json(const Cairn__V1__Verdict *v)
{
    char buf[1024];
    json_t *rules = json_array(), *open = json_array(), *approvals = json_array();
    for (size_t i = 0; rules && i < v->n_reasons; i++) {
        const Cairn__V1__Reason *r = v->reasons[i];
        json_array_append_new(
            rules, json_pack("{s:s, s:s, s:s, s:s}", "rule", r->rule_id, "result", r->result,
                             "meaning", cairn_explain_result(r->result), "message", r->message));
    }
    for (size_t i = 0; open && i < v->n_obligations; i++) {
        cairn_explain_obligation(v->obligations[i], buf, sizeof buf);
        json_array_append_new(open, json_string(buf));
    }
    for (size_t i = 0; approvals && i < v->n_approvals; i++) {
        s_approval(v->approvals[i], buf, sizeof buf);
        json_array_append_new(approvals, json_string(buf));
    }
    cairn_explain_because(v, buf, sizeof buf);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "gate", v->gate, "decision",
                     cairn_decision_name(v->decision), "because", buf, "rules", rules, "open", open,
                     "approvals", approvals);
}
