/* mh_verdicts: one change's verdicts as lines of text that two runs of the
 * same events can be compared by, whatever ledger indexes the runs gave
 * the events.
 *
 *   mh_verdicts TRAIL.json STATUS.json
 *
 * TRAIL.json is `cairn trail CHANGE --json`, STATUS.json `cairn status
 * CHANGE --json`. Printed: the change's events in log order, then every
 * verdict ("recorded") and alert the policy recorded, in log order (apart
 * from the events, since how the two interleave depends on timing), then
 * the verdict of every gate now ("status"): gate, decision, risk, change
 * type, risk rules, reasons (rule id, result, sentence), obligations and
 * approvals. Ledger indexes, in reasons and
 * elsewhere, are replaced by the id of the event recorded there, so the
 * same facts read the same in both runs; times are left out. Exit status
 * 2 when an input cannot be read. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    json_int_t index; /* ledger index */
    const char *id;   /* the CloudEvent id recorded there */
} s_event_t;

static s_event_t s_events[4096];
static size_t s_n_events;

static const char *s_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static const char *s_event_id(json_int_t index)
{
    for (size_t i = 0; i < s_n_events; i++)
        if (s_events[i].index == index)
            return s_events[i].id;
    return "?";
}

/* text with every "index N" as "event <id>". */
static void s_print_mapped(const char *text)
{
    const char *p = text;
    while (*p) {
        const char *hit = strstr(p, "index ");
        if (!hit || !isdigit((unsigned char)hit[6])) {
            if (!hit) {
                fputs(p, stdout);
                return;
            }
            fwrite(p, 1, (size_t)(hit - p) + 6, stdout);
            p = hit + 6;
            continue;
        }
        fwrite(p, 1, (size_t)(hit - p), stdout);
        char *end = NULL;
        json_int_t idx = strtoll(hit + 6, &end, 10);
        printf("event %s", s_event_id(idx));
        p = end;
    }
}

static void s_verdict(const char *what, const json_t *v)
{
    size_t i;
    json_t *x;
    printf("%s gate=%s decision=%s risk=%s change_type=%s", what, s_str(v, "gate"),
           s_str(v, "decision"), s_str(v, "risk"), s_str(v, "change_type"));
    if (json_is_integer(json_object_get(v, "trigger_index")) &&
        json_integer_value(json_object_get(v, "trigger_index")))
        printf(" trigger=%s", s_event_id(json_integer_value(json_object_get(v, "trigger_index"))));
    printf(" risk_rules=");
    json_array_foreach(json_object_get(v, "risk_rules"), i, x)
        printf("%s%s", i ? "," : "", json_string_value(x));
    printf("\n");
    json_array_foreach(json_object_get(v, "reasons"), i, x)
    {
        printf("  reason %s %s: ", s_str(x, "rule_id"), s_str(x, "result"));
        s_print_mapped(s_str(x, "message"));
        printf("\n");
    }
    json_array_foreach(json_object_get(v, "obligations"), i, x)
    {
        printf("  obligation %s %s missing=%lld: ", s_str(x, "kind"), s_str(x, "rule_id"),
               (long long)json_integer_value(json_object_get(x, "missing")));
        s_print_mapped(s_str(x, "message"));
        printf("\n");
    }
    json_array_foreach(json_object_get(v, "approvals"), i, x)
    {
        printf("  approval %s role=%s event=%s void=%s %s\n", s_str(x, "user"), s_str(x, "role"),
               s_event_id(json_integer_value(json_object_get(x, "index"))),
               json_is_true(json_object_get(x, "void")) ? "true" : "false", s_str(x, "void_rule"));
    }
    json_array_foreach(json_object_get(v, "input_indexes"), i, x)
        printf("  input %s\n", s_event_id(json_integer_value(x)));
}

int main(int argc, char **argv)
{
    json_error_t err;
    if (argc != 3) {
        fprintf(stderr, "usage: mh_verdicts TRAIL.json STATUS.json\n");
        return 2;
    }
    json_t *trail = json_load_file(argv[1], 0, &err);
    json_t *status = trail ? json_load_file(argv[2], 0, &err) : NULL;
    if (!trail || !status || !json_is_array(trail)) {
        fprintf(stderr, "mh_verdicts: %s:%d: %s\n", err.source, err.line, err.text);
        return 2;
    }
    size_t i;
    json_t *e;
    json_array_foreach(trail, i, e)
    {
        const json_t *ev = json_object_get(json_object_get(e, "record"), "event");
        if (ev && s_n_events < sizeof s_events / sizeof *s_events)
            s_events[s_n_events++] =
                (s_event_t){json_integer_value(json_object_get(e, "index")), s_str(ev, "id")};
    }
    /* The events, then what the policy recorded: each writer's entries in
     * log order. How the two interleave depends on timing (a verdict or an
     * alert answers an event while the next one is being sent), not on the
     * facts. */
    json_array_foreach(trail, i, e)
    {
        const json_t *ev = json_object_get(json_object_get(e, "record"), "event");
        if (ev)
            printf("event %s type=%s\n", s_str(ev, "id"), s_str(ev, "type"));
    }
    json_array_foreach(trail, i, e)
    {
        const json_t *rec = json_object_get(e, "record");
        const json_t *v = json_object_get(rec, "verdict");
        const json_t *a = json_object_get(rec, "alert");
        if (v)
            s_verdict("recorded", v);
        if (a)
            printf("alert kind=%s severity=%s\n", s_str(a, "kind"), s_str(a, "severity"));
    }
    printf("status change=%s known=%s\n", s_str(status, "change_id"),
           json_is_true(json_object_get(status, "known")) ? "true" : "false");
    json_array_foreach(json_object_get(status, "gates"), i, e) s_verdict("status", e);
    json_decref(trail);
    json_decref(status);
    return 0;
}
