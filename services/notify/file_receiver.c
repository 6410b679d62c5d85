/* The "file" receiver (see file_receiver.h): formats a verdict or an alert as
 * one JSON line with a sentence for people, and appends it durably. */
#include "file_receiver.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define S_EM_DASH "\xe2\x80\x94"

struct cairn_file_receiver_t {
    char *path; /* the notifications file (notify.file) */
    int fd;     /* opened O_APPEND */
};

int cairn_file_receiver_open(const char *path, cairn_file_receiver_t **out)
{
    cairn_file_receiver_t *self = NULL;
    char *dir = NULL;
    int rc = 0;

    if (!path || !*path)
        return CAIRN_ECONFIG;
    self = calloc(1, sizeof(*self));
    if (!self)
        return -ENOMEM;
    self->fd = -1;
    self->path = strdup(path);
    dir = strdup(path);
    if (!self->path || !dir) {
        rc = -ENOMEM;
        goto out;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if ((rc = cairn_mkdir_p(dir, 0700)) < 0)
            goto out;
    }
    self->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0) {
        rc = -errno;
        goto out;
    }
    *out = self;
    self = NULL;
out:
    free(dir);
    cairn_file_receiver_destroy(&self);
    return rc;
}

void cairn_file_receiver_destroy(cairn_file_receiver_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_file_receiver_t *self = *self_p;
    if (self->fd >= 0)
        close(self->fd);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int cairn_file_receiver_write(cairn_file_receiver_t *self, const char *line)
{
    struct stat st;
    size_t len = strlen(line);
    size_t done = 0;
    int rc = 0;

    if (fstat(self->fd, &st) != 0)
        return -errno;
    while (done <= len) {
        /* The line, then its newline, in as few writes as the kernel allows. */
        const char *p = done < len ? line + done : "\n";
        size_t n = done < len ? len - done : 1;
        ssize_t w = write(self->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(self->fd) != 0)
        rc = -errno;
out:
    /* Cut a torn line back so a retry leaves exactly one copy. */
    if (rc < 0 && ftruncate(self->fd, st.st_size) != 0)
        rc = -errno;
    return rc;
}

/* Length of the well-formed UTF-8 sequence at p, or 0 if there is none. */
static size_t s_utf8_len(const unsigned char *p)
{
    size_t n;
    unsigned min;
    unsigned cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string for text from the bus; bytes that are not UTF-8 become '?'
 * rather than failing the whole notification. */
static json_t *s_str(const char *text)
{
    if (!text)
        text = "";
    json_t *s = json_string(text);
    if (s)
        return s;
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    for (unsigned char *p = (unsigned char *)copy; *p;) {
        size_t n = s_utf8_len(p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    s = json_string(copy);
    free(copy);
    return s;
}

/* A malloc'd printf, or NULL when out of memory. */
static char *s_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *s_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *out = malloc((size_t)n + 1);
    if (!out)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static bool s_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* The reason a person should read first: a failed rule, then a voided
 * approval, then something missing. NULL when nothing is notable. */
static const Cairn__V1__Reason *s_headline(const Cairn__V1__Verdict *v)
{
    static const char *const order[] = {"fail", "void", "missing"};
    for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
        for (size_t i = 0; i < v->n_reasons; i++)
            if (s_is(v->reasons[i]->result, order[o]))
                return v->reasons[i];
    return NULL;
}

/* "CHG-1 deployment: deny — SOD1: dana is the author of CHG-1 and cannot approve it" */
static char *s_verdict_summary(const Cairn__V1__Verdict *v)
{
    const char *decision = cairn_decision_name(v->decision);
    const char *gate = v->gate && *v->gate ? v->gate : "gate";
    const char *change = v->change_id ? v->change_id : "";
    const char *rule = NULL, *message = NULL;

    if (v->decision != CAIRN__V1__DECISION__DECISION_ALLOW) {
        const Cairn__V1__Reason *r = s_headline(v);
        if (r) {
            rule = r->rule_id;
            message = r->message && *r->message ? r->message : r->result;
        } else if (v->n_obligations > 0) {
            rule = v->obligations[0]->rule_id;
            message = v->obligations[0]->message;
        }
    }
    if (message && *message)
        return s_format("%s%s%s: %s " S_EM_DASH " %s%s%s", change, *change ? " " : "", gate,
                        decision, rule && *rule ? rule : "", rule && *rule ? ": " : "", message);
    return s_format("%s%s%s: %s", change, *change ? " " : "", gate, decision);
}

/* "CHG-1 gate_denied: high — Deployment of CHG-1 was denied" */
static char *s_alert_summary(const Cairn__V1__Alert *a)
{
    const char *change = a->change_id ? a->change_id : "";
    const char *kind = a->kind && *a->kind ? a->kind : "alert";
    const char *severity = a->severity && *a->severity ? a->severity : "info";
    if (a->summary && *a->summary)
        return s_format("%s%s%s: %s " S_EM_DASH " %s", change, *change ? " " : "", kind, severity,
                        a->summary);
    return s_format("%s%s%s: %s", change, *change ? " " : "", kind, severity);
}

/* Sets key to a new value; a NULL value (out of memory) fails the caller. */
static int s_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return -ENOMEM;
    return json_object_set_new(obj, key, value) == 0 ? 0 : -ENOMEM;
}

static int s_reasons(const Cairn__V1__Verdict *v, json_t **out)
{
    json_t *arr = json_array();
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < v->n_reasons; i++) {
        const Cairn__V1__Reason *r = v->reasons[i];
        json_t *o = json_object();
        if (!o || s_set(o, "rule_id", s_str(r->rule_id)) < 0 ||
            s_set(o, "result", s_str(r->result)) < 0 ||
            s_set(o, "message", s_str(r->message)) < 0 || json_array_append_new(arr, o) != 0) {
            json_decref(o);
            json_decref(arr);
            return -ENOMEM;
        }
    }
    *out = arr;
    return 0;
}

static int s_labels(const Cairn__V1__Alert *a, json_t **out)
{
    json_t *obj = json_object();
    if (!obj)
        return -ENOMEM;
    for (size_t i = 0; i < a->n_labels; i++) {
        const Cairn__V1__Alert__LabelsEntry *l = a->labels[i];
        json_t *value = s_str(l->value);
        if (!value)
            goto oom;
        if (json_object_set_new(obj, l->key ? l->key : "", value) == 0)
            continue;
        /* The key is not UTF-8: keep the label under a readable key. */
        json_t *key = s_str(l->key);
        int rc = key ? json_object_set_new(obj, json_string_value(key), s_str(l->value)) : -1;
        json_decref(key);
        if (rc != 0)
            goto oom;
    }
    *out = obj;
    return 0;
oom:
    json_decref(obj);
    return -ENOMEM;
}

json_t *cairn_notify_json_string(const char *text)
{
    return s_str(text);
}

int cairn_file_receiver_format(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec,
                               char **line_out)
{
    json_t *root = NULL;
    int rc = cairn_file_receiver_object(entry, rec, &root);
    if (rc < 0)
        return rc;
    char *line = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!line)
        return -ENOMEM;
    *line_out = line;
    return 0;
}

int cairn_file_receiver_object(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec,
                               json_t **out)
{
    json_t *root = NULL, *reasons = NULL, *labels = NULL;
    char *summary = NULL;
    int64_t at_ms = 0;
    int rc = 0;

    if (rec->body_case != CAIRN__V1__RECORD__BODY_VERDICT &&
        rec->body_case != CAIRN__V1__RECORD__BODY_ALERT)
        return CAIRN_EINVALID;
    root = json_object();
    if (!root)
        return -ENOMEM;
    if ((rc = s_set(root, "index", json_integer((json_int_t)entry->index))) < 0 ||
        (rc = s_set(root, "topic", s_str(entry->topic))) < 0 ||
        (rc = s_set(root, "change", s_str(cairn_codec_record_change(rec)))) < 0)
        goto out;

    if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT) {
        const Cairn__V1__Verdict *v = rec->verdict;
        summary = s_verdict_summary(v);
        if (!summary) {
            rc = -ENOMEM;
            goto out;
        }
        if ((rc = s_reasons(v, &reasons)) < 0)
            goto out;
        if ((rc = s_set(root, "kind", json_string("verdict"))) < 0 ||
            (rc = s_set(root, "gate", s_str(v->gate))) < 0 ||
            (rc = s_set(root, "decision", json_string(cairn_decision_name(v->decision)))) < 0 ||
            (rc = s_set(root, "summary", s_str(summary))) < 0)
            goto out;
        at_ms = v->evaluated_at_ms;
    } else {
        const Cairn__V1__Alert *a = rec->alert;
        summary = s_alert_summary(a);
        if (!summary) {
            rc = -ENOMEM;
            goto out;
        }
        if ((reasons = json_array()) == NULL || (rc = s_labels(a, &labels)) < 0) {
            rc = rc < 0 ? rc : -ENOMEM;
            goto out;
        }
        if ((rc = s_set(root, "kind", json_string("alert"))) < 0 ||
            (rc = s_set(root, "alert", s_str(a->kind))) < 0 ||
            (rc = s_set(root, "severity", s_str(a->severity))) < 0 ||
            (rc = s_set(root, "summary", s_str(summary))) < 0)
            goto out;
        at_ms = a->created_at_ms;
    }
    rc = s_set(root, "reasons", reasons);
    reasons = NULL;
    if (rc < 0)
        goto out;
    if (labels) {
        rc = s_set(root, "labels", labels);
        labels = NULL;
        if (rc < 0)
            goto out;
    }
    if (at_ms <= 0)
        at_ms = entry->appended_at_ms;
    if (at_ms > 0) {
        char when[32];
        cairn_format_time(at_ms, when);
        rc = s_set(root, "time", json_string(when));
    } else {
        rc = s_set(root, "time", json_null());
    }
    if (rc < 0)
        goto out;

    *out = root;
    root = NULL;
out:
    json_decref(reasons);
    json_decref(labels);
    json_decref(root);
    free(summary);
    return rc;
}
