/* The policy loader: walks the libfyaml document tree of a policy file and
 * builds the policy model (policy_model.h), checking every key against the
 * closed vocabulary of POLICY-FORMAT.md.
 *
 * The walk never stops at the first problem: each one is recorded with its
 * line and column, the walk goes on, and at the end every problem is handed
 * back sorted by position. Unknown keys get a "did you mean" from the keys
 * that are allowed at that place. Cross references (roles named by approval
 * rules, gates named by `after`, approval rules named by change types) are
 * checked too, and `after` must not form a cycle. */
#include "policy_load.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "glob.h"
#include "suggest.h"

#define S_PATH 256
#define S_MSG 512

/* One problem found, kept until the walk ends so they can be sorted. */
typedef struct {
    int line, col; /* 1-based position (0 when unknown) */
    char *text;    /* the sentence, without the position */
} s_problem_t;

typedef struct {
    const char *file;      /* name used in messages */
    cairn_policy_t *p;     /* the policy being built */
    s_problem_t *problems; /* what was found so far */
    size_t n_problems, cap;
    int oom; /* an allocation failed */
} s_ctx_t;

/* ---- positions and problems ------------------------------------------- */

/* Position of a node; for nodes without a token (empty values, empty
 * collections) the position of the key they hang under. */
static int s_pos(struct fy_node *n, int *line, int *col)
{
    for (int depth = 0; n && depth < 64; depth++) {
        enum fy_node_type t = fy_node_get_type(n);
        if (t == FYNT_SCALAR) {
            struct fy_token *tok = fy_node_get_scalar_token(n);
            const struct fy_mark *m = tok ? fy_token_start_mark(tok) : NULL;
            if (m) {
                *line = m->line + 1;
                *col = m->column + 1;
                return 1;
            }
        } else if (t == FYNT_MAPPING) {
            void *it = NULL;
            struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
            if (pr && fy_node_pair_key(pr)) {
                n = fy_node_pair_key(pr);
                continue;
            }
        } else if (t == FYNT_SEQUENCE) {
            void *it = NULL;
            struct fy_node *item = fy_node_sequence_iterate(n, &it);
            if (item) {
                n = item;
                continue;
            }
        }
        struct fy_node *parent = fy_node_get_parent(n);
        if (parent && fy_node_is_mapping(parent)) {
            void *it = NULL;
            struct fy_node_pair *pr;
            struct fy_node *key = NULL;
            while ((pr = fy_node_mapping_iterate(parent, &it)) != NULL)
                if (fy_node_pair_value(pr) == n)
                    key = fy_node_pair_key(pr);
            n = key ? key : parent;
        } else {
            n = parent;
        }
    }
    return 0;
}

static void s_add(s_ctx_t *c, int line, int col, const char *text)
{
    if (c->n_problems == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        s_problem_t *pr = realloc(c->problems, cap * sizeof *pr);
        if (!pr) {
            c->oom = 1;
            return;
        }
        c->problems = pr;
        c->cap = cap;
    }
    char *copy = strdup(text);
    if (!copy) {
        c->oom = 1;
        return;
    }
    c->problems[c->n_problems++] = (s_problem_t){line, col, copy};
}

__attribute__((format(printf, 3, 4))) static void s_err(s_ctx_t *c, struct fy_node *at,
                                                        const char *fmt, ...)
{
    char msg[S_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 0, col = 0;
    if (at)
        s_pos(at, &line, &col);
    s_add(c, line, col, msg);
}

static void s_oom(s_ctx_t *c)
{
    c->oom = 1;
}

/* "in gates.build" or "at the top level". */
static const char *s_where(const char *path, char *buf, size_t len)
{
    if (!*path)
        snprintf(buf, len, "at the top level");
    else
        snprintf(buf, len, "in %s", path);
    return buf;
}

static void s_join(const char *const *words, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; words[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", words[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* "<path>.<key>" (or "<key>" at the top), "<path>[i]". */
/* Paths deeper than S_PATH end in "..." rather than being cut silently. */
static void s_fit(char *out, int n)
{
    if (n < 0 || n >= S_PATH)
        memcpy(out + S_PATH - 4, "...", 4);
}

static void s_sub(char *out, const char *path, const char *key)
{
    s_fit(out, snprintf(out, S_PATH, "%s%s%s", path, *path ? "." : "", key));
}

static void s_idx(char *out, const char *path, int i)
{
    s_fit(out, snprintf(out, S_PATH, "%s[%d]", path, i));
}

/* ---- scalars ------------------------------------------------------------ */

static int s_is_null(struct fy_node *n)
{
    if (!n)
        return 1;
    if (!fy_node_is_scalar(n))
        return 0;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (fy_node_get_style(n) != FYNS_PLAIN)
        return 0;
    return !s || len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 &&
            (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0));
}

/* The scalar text of n copied into buf, or NULL (with a problem) if n is not
 * a non-empty scalar. */
static const char *s_text(s_ctx_t *c, struct fy_node *n, const char *path, char *buf, size_t len)
{
    size_t l = 0;
    const char *s = NULL;
    if (n && fy_node_is_scalar(n) && !s_is_null(n))
        s = fy_node_get_scalar(n, &l);
    if (!s || l == 0) {
        s_err(c, n, "%s must be a non-empty text value", path);
        return NULL;
    }
    if (l >= len || memchr(s, '\0', l)) {
        s_err(c, n, "%s is too long", path);
        return NULL;
    }
    memcpy(buf, s, l);
    buf[l] = '\0';
    return buf;
}

/* A string owned by the policy, or NULL after reporting. */
static const char *s_str(s_ctx_t *c, struct fy_node *n, const char *path)
{
    char buf[1024];
    if (!s_text(c, n, path, buf, sizeof buf))
        return NULL;
    const char *out = cairn_arena_strdup(c->p->arena, buf);
    if (!out)
        s_oom(c);
    return out;
}

static int s_bool(s_ctx_t *c, struct fy_node *n, const char *path, bool *out)
{
    char buf[16];
    if (n && fy_node_is_scalar(n) && !s_is_null(n)) {
        size_t l = 0;
        const char *s = fy_node_get_scalar(n, &l);
        if (s && l < sizeof buf) {
            memcpy(buf, s, l);
            buf[l] = '\0';
            if (!strcmp(buf, "true") || !strcmp(buf, "True") || !strcmp(buf, "TRUE")) {
                *out = true;
                return 0;
            }
            if (!strcmp(buf, "false") || !strcmp(buf, "False") || !strcmp(buf, "FALSE")) {
                *out = false;
                return 0;
            }
        }
    }
    s_err(c, n, "%s must be true or false", path);
    return -1;
}

static int s_uint(s_ctx_t *c, struct fy_node *n, const char *path, uint32_t min, uint32_t *out)
{
    char buf[32];
    if (n && fy_node_is_scalar(n) && !s_is_null(n)) {
        size_t l = 0;
        const char *s = fy_node_get_scalar(n, &l);
        if (s && l > 0 && l < sizeof buf) {
            memcpy(buf, s, l);
            buf[l] = '\0';
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(buf, &end, 10);
            if (buf[0] >= '0' && buf[0] <= '9' && *end == '\0' && errno == 0 && v >= min &&
                v <= UINT32_MAX) {
                *out = (uint32_t)v;
                return 0;
            }
        }
    }
    s_err(c, n, "%s must be a whole number of at least %u", path, min);
    return -1;
}

static int s_number(s_ctx_t *c, struct fy_node *n, const char *path, double *out)
{
    char buf[64];
    if (n && fy_node_is_scalar(n) && !s_is_null(n)) {
        size_t l = 0;
        const char *s = fy_node_get_scalar(n, &l);
        if (s && l > 0 && l < sizeof buf) {
            memcpy(buf, s, l);
            buf[l] = '\0';
            char *end = NULL;
            errno = 0;
            double v = strtod(buf, &end);
            if (*end == '\0' && errno == 0 && isfinite(v) && v >= 0) {
                *out = v;
                return 0;
            }
        }
    }
    s_err(c, n, "%s must be a number of at least 0", path);
    return -1;
}

static int s_duration(s_ctx_t *c, struct fy_node *n, const char *path, int64_t *out)
{
    char buf[64];
    int64_t ms = 0;
    if (n && fy_node_is_scalar(n) && !s_is_null(n)) {
        size_t l = 0;
        const char *s = fy_node_get_scalar(n, &l);
        if (s && l > 0 && l < sizeof buf) {
            memcpy(buf, s, l);
            buf[l] = '\0';
            if (cairn_parse_duration_ms(buf, &ms) == 0 && ms > 0) {
                *out = ms;
                return 0;
            }
        }
    }
    s_err(c, n, "%s must be a duration such as 30m, 72h or 7d", path);
    return -1;
}

static cairn_risk_t s_risk(s_ctx_t *c, struct fy_node *n, const char *path)
{
    char buf[32];
    size_t l = 0;
    const char *s = NULL;
    if (n && fy_node_is_scalar(n) && !s_is_null(n))
        s = fy_node_get_scalar(n, &l);
    if (s && l < sizeof buf) {
        memcpy(buf, s, l);
        buf[l] = '\0';
        cairn_risk_t r = cairn_risk_parse(buf);
        if (r != CAIRN_RISK_UNSET)
            return r;
    }
    s_err(c, n, "%s must be one of low, medium, high, critical", path);
    return CAIRN_RISK_UNSET;
}

/* One of a fixed set of words; reports with a suggestion otherwise. */
static const char *s_enum(s_ctx_t *c, struct fy_node *n, const char *path, const char *const *words)
{
    char buf[128];
    if (!s_text(c, n, path, buf, sizeof buf))
        return NULL;
    for (size_t i = 0; words[i]; i++)
        if (strcmp(buf, words[i]) == 0)
            return words[i];
    char list[256];
    s_join(words, list, sizeof list);
    const char *sugg = cairn_suggest(buf, words);
    if (sugg)
        s_err(c, n, "%s: unknown value '%s' — did you mean '%s'?", path, buf, sugg);
    else
        s_err(c, n, "%s: unknown value '%s' (expected one of %s)", path, buf, list);
    return NULL;
}

/* A list of strings. */
static int s_strv(s_ctx_t *c, struct fy_node *n, const char *path, cairn_strv_t *out)
{
    if (!n || !fy_node_is_sequence(n)) {
        s_err(c, n, "%s must be a list, e.g. [a, b]", path);
        return -1;
    }
    int count = fy_node_sequence_item_count(n);
    if (count < 0)
        count = 0;
    const char **items = cairn_arena_alloc(c->p->arena, ((size_t)count + 1) * sizeof *items);
    if (!items) {
        s_oom(c);
        return -1;
    }
    size_t k = 0;
    void *it = NULL;
    struct fy_node *item;
    int i = 0, bad = 0;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        char sub[S_PATH];
        s_idx(sub, path, i++);
        const char *s = s_str(c, item, sub);
        if (s)
            items[k++] = s;
        else
            bad = 1;
    }
    out->items = items;
    out->count = k;
    return bad ? -1 : 0;
}

/* ---- mappings ----------------------------------------------------------- */

static struct fy_node *s_get(struct fy_node *map, const char *key)
{
    return fy_node_mapping_lookup_by_string(map, key, strlen(key));
}

static int s_expect_map(s_ctx_t *c, struct fy_node *n, const char *path)
{
    if (n && fy_node_is_mapping(n))
        return 0;
    s_err(c, n, "%s must be a mapping of keys to values", path);
    return -1;
}

static int s_expect_seq(s_ctx_t *c, struct fy_node *n, const char *path)
{
    if (n && fy_node_is_sequence(n))
        return 0;
    s_err(c, n, "%s must be a list", path);
    return -1;
}

/* The text of a mapping key, or NULL (with a problem). */
static const char *s_key(s_ctx_t *c, struct fy_node *key, const char *path, char *buf, size_t len)
{
    char where[S_PATH + 32];
    size_t l = 0;
    const char *s = NULL;
    if (key && fy_node_is_scalar(key))
        s = fy_node_get_scalar(key, &l);
    if (!s || l == 0 || l >= len || memchr(s, '\0', l)) {
        s_err(c, key, "keys %s must be short plain names", s_where(path, where, sizeof where));
        return NULL;
    }
    memcpy(buf, s, l);
    buf[l] = '\0';
    return buf;
}

/* Reports every key of map that is not in allowed (NULL-terminated). */
static void s_check_keys(s_ctx_t *c, struct fy_node *map, const char *path,
                         const char *const *allowed)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(map, &it)) != NULL) {
        char kbuf[128], where[S_PATH + 32];
        struct fy_node *key = fy_node_pair_key(pr);
        const char *k = s_key(c, key, path, kbuf, sizeof kbuf);
        if (!k)
            continue;
        int known = 0;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(k, allowed[i]) == 0;
        if (known)
            continue;
        const char *sugg = cairn_suggest(k, allowed);
        s_where(path, where, sizeof where);
        if (sugg) {
            s_err(c, key, "unknown key '%s' %s — did you mean '%s'?", k, where, sugg);
        } else {
            char list[512];
            s_join(allowed, list, sizeof list);
            s_err(c, key, "unknown key '%s' %s (allowed: %s)", k, where, list);
        }
    }
}

/* Number of pairs (0 for non-mappings). */
static size_t s_map_count(struct fy_node *map)
{
    int n = map && fy_node_is_mapping(map) ? fy_node_mapping_item_count(map) : 0;
    return n > 0 ? (size_t)n : 0;
}

static size_t s_seq_count(struct fy_node *seq)
{
    int n = seq && fy_node_is_sequence(seq) ? fy_node_sequence_item_count(seq) : 0;
    return n > 0 ? (size_t)n : 0;
}

static void *s_alloc(s_ctx_t *c, size_t n, size_t size)
{
    void *p = cairn_arena_alloc(c->p->arena, (n ? n : 1) * size);
    if (!p)
        s_oom(c);
    return p;
}

/* ---- sections ----------------------------------------------------------- */

static const char *const s_top_keys[] = {
    "apiVersion", "kind",         "metadata",     "defaults",  "roles",
    "classify",   "data_classes", "change_types", "approvals", "separation_of_duties",
    "gates",      "windows",      "tests",        NULL};

static void s_header(s_ctx_t *c, struct fy_node *root)
{
    char buf[128];
    struct fy_node *n = s_get(root, "apiVersion");
    if (!n)
        s_err(c, root, "missing key 'apiVersion' at the top level (expected 'cairn/v1')");
    else if (s_text(c, n, "apiVersion", buf, sizeof buf) && strcmp(buf, "cairn/v1") != 0)
        s_err(c, n, "apiVersion '%s' is not supported (expected 'cairn/v1')", buf);

    n = s_get(root, "kind");
    if (!n)
        s_err(c, root, "missing key 'kind' at the top level (expected 'ReleasePolicy')");
    else if (s_text(c, n, "kind", buf, sizeof buf) && strcmp(buf, "ReleasePolicy") != 0)
        s_err(c, n, "kind '%s' is not supported (expected 'ReleasePolicy')", buf);

    n = s_get(root, "metadata");
    if (!n) {
        s_err(c, root, "missing key 'metadata' at the top level (it names the policy)");
        return;
    }
    if (s_expect_map(c, n, "metadata") < 0)
        return;
    static const char *const keys[] = {"name", "revision", "description", NULL};
    s_check_keys(c, n, "metadata", keys);
    struct fy_node *v = s_get(n, "name");
    if (!v)
        s_err(c, n, "missing key 'name' in metadata");
    else if ((c->p->name = s_str(c, v, "metadata.name")) == NULL)
        c->p->name = "";
    if ((v = s_get(n, "revision")) != NULL &&
        (c->p->revision = s_str(c, v, "metadata.revision")) == NULL)
        c->p->revision = "";
}

static void s_defaults(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "defaults") < 0)
        return;
    static const char *const keys[] = {"timezone", "expiry_warning", NULL};
    s_check_keys(c, n, "defaults", keys);
    struct fy_node *v = s_get(n, "timezone");
    const char *tz;
    if (v && (tz = s_str(c, v, "defaults.timezone")) != NULL) {
        int rc = cairn_tz_load(tz, &c->p->tz);
        if (rc == 0)
            c->p->timezone = tz;
        else if (rc == -ENOMEM)
            s_oom(c);
        else if (rc == CAIRN_ENOTFOUND)
            s_err(c, v,
                  "defaults.timezone: unknown time zone '%s' (not in the system time zone "
                  "database; use a name such as Europe/Berlin or UTC)",
                  tz);
        else
            s_err(c, v, "defaults.timezone: '%s' is not a readable time zone", tz);
    }
    if ((v = s_get(n, "expiry_warning")) != NULL)
        s_duration(c, v, "defaults.expiry_warning", &c->p->expiry_warning_ms);
}

/* The policy's zone; UTC until defaults.timezone is read (or when it is bad). */
static const cairn_tz_t *s_tz(s_ctx_t *c)
{
    if (!c->p->tz && cairn_tz_load("UTC", &c->p->tz) < 0)
        s_oom(c);
    return c->p->tz;
}

/* A time in the policy's zone ("2026-12-19T00:00", or with an offset). */
static int s_time(s_ctx_t *c, struct fy_node *n, const char *path, int64_t *out_ms,
                  const char **text_out)
{
    char buf[64];
    const cairn_tz_t *tz = s_tz(c);
    if (!s_text(c, n, path, buf, sizeof buf) || !tz)
        return -1;
    if (cairn_tz_parse_time(tz, buf, out_ms) < 0) {
        s_err(c, n,
              "%s: '%s' is not a time such as 2026-12-19T00:00 (in defaults.timezone) or "
              "2026-12-19T00:00:00Z",
              path, buf);
        return -1;
    }
    if (text_out && !(*text_out = cairn_arena_strdup(c->p->arena, buf)))
        s_oom(c);
    return 0;
}

/* roles.<name>.delegate: one {from, to, until} or a list of them. */
static void s_delegations(s_ctx_t *c, struct fy_node *n, const char *path, cairn_role_t *r)
{
    static const char *const keys[] = {"from", "to", "until", "description", NULL};
    size_t count = fy_node_is_sequence(n) ? s_seq_count(n) : 1;
    if (!fy_node_is_sequence(n) && s_expect_map(c, n, path) < 0)
        return;
    r->delegations = s_alloc(c, count, sizeof *r->delegations);
    if (!r->delegations)
        return;
    for (size_t i = 0; i < count; i++) {
        struct fy_node *item =
            fy_node_is_sequence(n) ? fy_node_sequence_get_by_index(n, (int)i) : n;
        char ipath[S_PATH], sub[S_PATH];
        if (fy_node_is_sequence(n))
            s_idx(ipath, path, (int)i);
        else
            snprintf(ipath, sizeof ipath, "%s", path);
        if (s_expect_map(c, item, ipath) < 0)
            continue;
        s_check_keys(c, item, ipath, keys);
        cairn_delegation_t d = {0};
        struct fy_node *v;
        int ok = 1;
        s_sub(sub, ipath, "from");
        if ((v = s_get(item, "from")) == NULL) {
            s_err(c, item, "missing key 'from' in %s (the member who delegates)", ipath);
            ok = 0;
        } else if (!(d.from = s_str(c, v, sub))) {
            ok = 0;
        } else if (!cairn_strv_contains(&r->users, d.from)) {
            s_err(c, v, "%s: '%s' is not a member of role %s and cannot delegate it", sub, d.from,
                  r->name);
            ok = 0;
        }
        s_sub(sub, ipath, "to");
        if ((v = s_get(item, "to")) == NULL) {
            s_err(c, item, "missing key 'to' in %s (the person who stands in)", ipath);
            ok = 0;
        } else if (!(d.to = s_str(c, v, sub))) {
            ok = 0;
        } else if (d.from && strcmp(d.from, d.to) == 0) {
            s_err(c, v, "%s: '%s' cannot delegate to themselves", sub, d.to);
            ok = 0;
        }
        s_sub(sub, ipath, "until");
        if ((v = s_get(item, "until")) == NULL) {
            s_err(c, item, "missing key 'until' in %s (a delegation must end)", ipath);
            ok = 0;
        } else if (s_time(c, v, sub, &d.until_ms, &d.until) < 0) {
            ok = 0;
        }
        if (ok)
            r->delegations[r->n_delegations++] = d;
    }
}

/* An approver key of user written at n; added to the policy's keys. */
static void s_member_key(s_ctx_t *c, struct fy_node *n, const char *path, const char *user)
{
    char buf[512], err[S_MSG];
    cairn_note_verifier_t *v = NULL;
    if (!s_text(c, n, path, buf, sizeof buf))
        return;
    if (cairn_approval_key_parse(user, buf, &v, err, sizeof err) < 0) {
        s_err(c, n, "%s: %s", path, err);
        return;
    }
    cairn_policy_t *p = c->p;
    for (size_t i = 0; i < p->n_approver_keys; i++)
        if (strcmp(p->approver_keys[i].user, user) == 0 &&
            cairn_note_verifier_keyid(p->approver_keys[i].verifier) ==
                cairn_note_verifier_keyid(v)) {
            cairn_note_verifier_destroy(&v); /* the same key listed in another role */
            return;
        }
    cairn_approver_key_t *grown =
        realloc(p->approver_keys, (p->n_approver_keys + 1) * sizeof *grown);
    const char *u = cairn_arena_strdup(p->arena, user);
    const char *t = cairn_arena_strdup(p->arena, buf);
    if (grown)
        p->approver_keys = grown;
    if (!grown || !u || !t) {
        cairn_note_verifier_destroy(&v);
        s_oom(c);
        return;
    }
    grown[p->n_approver_keys++] = (cairn_approver_key_t){u, t, v};
}

/* roles.<name>.users: names, or {name, key} for a member with a signing key
 * (key: one key or a list, for rotation). */
static void s_members(s_ctx_t *c, struct fy_node *n, const char *path, cairn_strv_t *out)
{
    static const char *const keys[] = {"name", "key", "description", NULL};
    if (!n || !fy_node_is_sequence(n)) {
        s_err(c, n, "%s must be a list, e.g. [dana, {name: erin, key: \"erin+...\"}]", path);
        return;
    }
    size_t count = s_seq_count(n);
    const char **items = s_alloc(c, count + 1, sizeof *items);
    if (!items)
        return;
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        struct fy_node *item = fy_node_sequence_get_by_index(n, (int)i);
        char ipath[S_PATH], sub[S_PATH];
        s_idx(ipath, path, (int)i);
        if (!item || !fy_node_is_mapping(item)) {
            const char *name = s_str(c, item, ipath);
            if (name)
                items[k++] = name;
            continue;
        }
        s_check_keys(c, item, ipath, keys);
        struct fy_node *nm = s_get(item, "name");
        s_sub(sub, ipath, "name");
        const char *name = NULL;
        if (!nm)
            s_err(c, item, "missing key 'name' in %s (the member's user name)", ipath);
        else
            name = s_str(c, nm, sub);
        if (!name)
            continue;
        items[k++] = name;
        struct fy_node *key = s_get(item, "key");
        s_sub(sub, ipath, "key");
        if (key && fy_node_is_sequence(key)) {
            for (size_t j = 0; j < s_seq_count(key); j++) {
                char kpath[S_PATH];
                s_idx(kpath, sub, (int)j);
                s_member_key(c, fy_node_sequence_get_by_index(key, (int)j), kpath, name);
            }
        } else if (key) {
            s_member_key(c, key, sub, name);
        }
    }
    out->items = items;
    out->count = k;
}

static void s_roles(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "roles") < 0)
        return;
    size_t count = s_map_count(n);
    cairn_role_t *roles = s_alloc(c, count, sizeof *roles);
    if (!roles)
        return;
    static const char *const keys[] = {"users", "kind", "delegate", "description", NULL};
    static const char *const kinds[] = {"person", "service_account", NULL};
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char name[128], path[S_PATH];
        if (!s_key(c, fy_node_pair_key(pr), "roles", name, sizeof name))
            continue;
        s_sub(path, "roles", name);
        struct fy_node *v = fy_node_pair_value(pr);
        if (s_expect_map(c, v, path) < 0)
            continue;
        s_check_keys(c, v, path, keys);
        cairn_role_t *r = &roles[k++];
        r->name = cairn_arena_strdup(c->p->arena, name);
        if (!r->name)
            s_oom(c);
        struct fy_node *u = s_get(v, "users");
        char sub[S_PATH];
        if (u) {
            s_sub(sub, path, "users");
            s_members(c, u, sub, &r->users);
        }
        struct fy_node *kind = s_get(v, "kind");
        if (kind) {
            s_sub(sub, path, "kind");
            const char *kd = s_enum(c, kind, sub, kinds);
            r->service_account = kd && strcmp(kd, "service_account") == 0;
        }
        struct fy_node *del = s_get(v, "delegate");
        if (del) {
            s_sub(sub, path, "delegate");
            s_delegations(c, del, sub, r);
        }
    }
    c->p->roles = roles;
    c->p->n_roles = k;
}

static void s_when(s_ctx_t *c, struct fy_node *n, const char *path, cairn_when_t *w)
{
    w->risk_min = w->risk_max = CAIRN_RISK_UNSET;
    if (s_expect_map(c, n, path) < 0)
        return;
    static const char *const keys[] = {
        "env",         "service",  "paths_any", "data_class_any",   "tags_any",
        "change_type", "risk_min", "risk_max",  "lines_changed_gt", NULL};
    s_check_keys(c, n, path, keys);
    struct {
        const char *key;
        cairn_strv_t *out;
    } lists[] = {{"env", &w->env},
                 {"service", &w->service},
                 {"paths_any", &w->paths_any},
                 {"data_class_any", &w->data_class_any},
                 {"tags_any", &w->tags_any},
                 {"change_type", &w->change_type}};
    char sub[S_PATH];
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct fy_node *v = s_get(n, lists[i].key);
        if (v) {
            s_sub(sub, path, lists[i].key);
            s_strv(c, v, sub, lists[i].out);
        }
    }
    static const char *const types[] = {"standard", "normal", "emergency", NULL};
    for (size_t i = 0; i < w->change_type.count; i++) {
        char sub2[S_PATH];
        s_sub(sub, path, "change_type");
        s_idx(sub2, sub, (int)i);
        s_enum(c, fy_node_sequence_get_by_index(s_get(n, "change_type"), (int)i), sub2, types);
    }
    for (size_t i = 0; i < w->paths_any.count; i++)
        if (!cairn_glob_valid(w->paths_any.items[i]))
            s_err(c, fy_node_sequence_get_by_index(s_get(n, "paths_any"), (int)i),
                  "%s.paths_any: '%s' is not a valid glob (unclosed '[' or trailing '\\')", path,
                  w->paths_any.items[i]);
    struct fy_node *v;
    if ((v = s_get(n, "risk_min")) != NULL) {
        s_sub(sub, path, "risk_min");
        w->risk_min = s_risk(c, v, sub);
    }
    if ((v = s_get(n, "risk_max")) != NULL) {
        s_sub(sub, path, "risk_max");
        w->risk_max = s_risk(c, v, sub);
    }
    if ((v = s_get(n, "lines_changed_gt")) != NULL) {
        uint32_t lines = 0;
        s_sub(sub, path, "lines_changed_gt");
        if (s_uint(c, v, sub, 0, &lines) == 0) {
            w->has_lines_changed_gt = true;
            w->lines_changed_gt = lines;
        }
    }
}

/* Reports a duplicate id within one list. */
static int s_dup_id(s_ctx_t *c, struct fy_node *at, const char *path, const char *id,
                    const char *const *seen, size_t n_seen)
{
    for (size_t i = 0; i < n_seen; i++)
        if (seen[i] && strcmp(seen[i], id) == 0) {
            s_err(c, at, "%s: id '%s' is used twice", path, id);
            return 1;
        }
    return 0;
}

static void s_classify(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "classify") < 0)
        return;
    static const char *const keys[] = {"default", "rules", NULL};
    s_check_keys(c, n, "classify", keys);
    struct fy_node *v = s_get(n, "default");
    if (v) {
        cairn_risk_t r = s_risk(c, v, "classify.default");
        if (r != CAIRN_RISK_UNSET)
            c->p->classify_default = r;
    }
    struct fy_node *rules = s_get(n, "rules");
    if (!rules || s_expect_seq(c, rules, "classify.rules") < 0)
        return;
    size_t count = s_seq_count(rules);
    cairn_classify_rule_t *out = s_alloc(c, count, sizeof *out);
    const char **ids = s_alloc(c, count, sizeof *ids);
    if (!out || !ids)
        return;
    static const char *const rkeys[] = {"id", "when", "risk", "tags", "description", NULL};
    size_t k = 0;
    int i = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(rules, &it)) != NULL) {
        char path[S_PATH], sub[S_PATH];
        s_idx(path, "classify.rules", i++);
        if (s_expect_map(c, item, path) < 0)
            continue;
        s_check_keys(c, item, path, rkeys);
        cairn_classify_rule_t *r = &out[k];
        *r = (cairn_classify_rule_t){0}; /* a failed item before may have left parts */
        r->when.risk_min = r->when.risk_max = CAIRN_RISK_UNSET;
        struct fy_node *id = s_get(item, "id");
        s_sub(sub, path, "id");
        if (!id)
            s_err(c, item, "missing key 'id' in %s", path);
        else if ((r->id = s_str(c, id, sub)) != NULL &&
                 s_dup_id(c, id, "classify.rules", r->id, ids, k))
            r->id = NULL;
        if ((v = s_get(item, "when")) != NULL) {
            s_sub(sub, path, "when");
            s_when(c, v, sub, &r->when);
        }
        s_sub(sub, path, "risk");
        if ((v = s_get(item, "risk")) == NULL) {
            s_err(c, item, "missing key 'risk' in %s", path);
            r->risk = CAIRN_RISK_UNSET;
        } else {
            r->risk = s_risk(c, v, sub);
        }
        if ((v = s_get(item, "tags")) != NULL) {
            s_sub(sub, path, "tags");
            s_strv(c, v, sub, &r->tags);
        }
        if (r->id) {
            ids[k] = r->id;
            k++;
        }
    }
    c->p->classify = out;
    c->p->n_classify = k;
}

/* data_classes (extension): class name -> { paths: [globs] }. */
static void s_data_classes(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "data_classes") < 0)
        return;
    size_t count = s_map_count(n);
    cairn_data_class_t *out = s_alloc(c, count, sizeof *out);
    if (!out)
        return;
    static const char *const keys[] = {"paths", "description", NULL};
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char name[128], path[S_PATH], sub[S_PATH];
        if (!s_key(c, fy_node_pair_key(pr), "data_classes", name, sizeof name))
            continue;
        s_sub(path, "data_classes", name);
        struct fy_node *v = fy_node_pair_value(pr);
        if (s_expect_map(c, v, path) < 0)
            continue;
        s_check_keys(c, v, path, keys);
        cairn_data_class_t *dc = &out[k];
        if (!(dc->name = cairn_arena_strdup(c->p->arena, name))) {
            s_oom(c);
            continue;
        }
        struct fy_node *paths = s_get(v, "paths");
        s_sub(sub, path, "paths");
        if (!paths) {
            s_err(c, v, "missing key 'paths' in %s (globs of the paths that hold %s data)", path,
                  name);
            continue;
        }
        if (s_strv(c, paths, sub, &dc->paths) < 0)
            continue;
        for (size_t i = 0; i < dc->paths.count; i++)
            if (!cairn_glob_valid(dc->paths.items[i]))
                s_err(c, fy_node_sequence_get_by_index(paths, (int)i),
                      "%s: '%s' is not a valid glob", sub, dc->paths.items[i]);
        k++;
    }
    c->p->data_classes = out;
    c->p->n_data_classes = k;
}

/* Role names NULL-terminated, for suggestions. */
static const char **s_role_names(s_ctx_t *c)
{
    const char **names = s_alloc(c, c->p->n_roles + 1, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < c->p->n_roles; i++)
        names[i] = c->p->roles[i].name;
    return names;
}

/* Checks that every name in v is a role. */
static void s_check_roles(s_ctx_t *c, struct fy_node *list, const char *path, const cairn_strv_t *v)
{
    const char **names = s_role_names(c);
    if (!names)
        return;
    for (size_t i = 0; i < v->count; i++) {
        if (cairn_policy_role(c->p, v->items[i]))
            continue;
        struct fy_node *at = fy_node_sequence_get_by_index(list, (int)i);
        const char *sugg = cairn_suggest(v->items[i], names);
        if (sugg)
            s_err(c, at ? at : list, "%s: unknown role '%s' — did you mean '%s'?", path,
                  v->items[i], sugg);
        else
            s_err(c, at ? at : list, "%s: unknown role '%s' (define it under roles)", path,
                  v->items[i]);
    }
}

/* {from, count} of an approval rule or one all_of entry. */
static void s_slot(s_ctx_t *c, struct fy_node *n, const char *path, cairn_approval_slot_t *slot)
{
    char sub[S_PATH];
    struct fy_node *from = s_get(n, "from");
    s_sub(sub, path, "from");
    if (!from) {
        s_err(c, n, "missing key 'from' in %s (the roles that may approve)", path);
    } else if (s_strv(c, from, sub, &slot->from) == 0) {
        if (slot->from.count == 0)
            s_err(c, from, "%s must name at least one role", sub);
        s_check_roles(c, from, sub, &slot->from);
    }
    slot->count = 1;
    struct fy_node *count = s_get(n, "count");
    if (count) {
        s_sub(sub, path, "count");
        s_uint(c, count, sub, 1, &slot->count);
    }
}

static void s_approval_rules(s_ctx_t *c, struct fy_node *rules)
{
    if (s_expect_seq(c, rules, "approvals.rules") < 0)
        return;
    size_t count = s_seq_count(rules);
    cairn_approval_rule_t *out = s_alloc(c, count, sizeof *out);
    const char **ids = s_alloc(c, count, sizeof *ids);
    if (!out || !ids)
        return;
    static const char *const keys[] = {"id",     "when",        "from", "count",
                                       "all_of", "description", NULL};
    static const char *const slot_keys[] = {"from", "count", NULL};
    size_t k = 0;
    int i = 0;
    void *it = NULL;
    struct fy_node *item, *v;
    while ((item = fy_node_sequence_iterate(rules, &it)) != NULL) {
        char path[S_PATH], sub[S_PATH];
        s_idx(path, "approvals.rules", i++);
        if (s_expect_map(c, item, path) < 0)
            continue;
        s_check_keys(c, item, path, keys);
        cairn_approval_rule_t *r = &out[k];
        *r = (cairn_approval_rule_t){0}; /* a failed item before may have left parts */
        r->when.risk_min = r->when.risk_max = CAIRN_RISK_UNSET;
        struct fy_node *id = s_get(item, "id");
        s_sub(sub, path, "id");
        if (!id)
            s_err(c, item, "missing key 'id' in %s", path);
        else if ((r->id = s_str(c, id, sub)) != NULL &&
                 s_dup_id(c, id, "approvals.rules", r->id, ids, k))
            r->id = NULL;
        if ((v = s_get(item, "when")) != NULL) {
            s_sub(sub, path, "when");
            s_when(c, v, sub, &r->when);
        }
        struct fy_node *all_of = s_get(item, "all_of");
        if (all_of) {
            if (s_get(item, "from") || s_get(item, "count"))
                s_err(c, all_of, "%s: use either from/count or all_of, not both", path);
            s_sub(sub, path, "all_of");
            if (s_expect_seq(c, all_of, sub) == 0) {
                size_t ns = s_seq_count(all_of);
                if (ns == 0)
                    s_err(c, all_of, "%s must list at least one {from, count}", sub);
                r->slots = s_alloc(c, ns, sizeof *r->slots);
                void *sit = NULL;
                struct fy_node *s;
                int j = 0;
                while (r->slots && (s = fy_node_sequence_iterate(all_of, &sit)) != NULL) {
                    char spath[S_PATH];
                    s_idx(spath, sub, j++);
                    if (s_expect_map(c, s, spath) < 0)
                        continue;
                    s_check_keys(c, s, spath, slot_keys);
                    s_slot(c, s, spath, &r->slots[r->n_slots++]);
                }
            }
        } else {
            r->slots = s_alloc(c, 1, sizeof *r->slots);
            if (r->slots) {
                s_slot(c, item, path, &r->slots[0]);
                r->n_slots = 1;
            }
        }
        if (r->id) {
            ids[k] = r->id;
            k++;
        }
    }
    c->p->approval_rules = out;
    c->p->n_approval_rules = k;
}

static void s_approvals(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "approvals") < 0)
        return;
    static const char *const keys[] = {"distinct_persons", "invalidate_on", "expiry", "rules",
                                       "require_signed",   NULL};
    static const char *const invalidators[] = {"new_commit", NULL};
    s_check_keys(c, n, "approvals", keys);
    struct fy_node *v;
    if ((v = s_get(n, "distinct_persons")) != NULL)
        s_bool(c, v, "approvals.distinct_persons", &c->p->distinct_persons);
    if ((v = s_get(n, "invalidate_on")) != NULL &&
        s_expect_seq(c, v, "approvals.invalidate_on") == 0) {
        void *it = NULL;
        struct fy_node *item;
        int i = 0;
        while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
            char sub[S_PATH];
            s_idx(sub, "approvals.invalidate_on", i++);
            const char *w = s_enum(c, item, sub, invalidators);
            if (w && strcmp(w, "new_commit") == 0)
                c->p->invalidate_on_new_commit = true;
        }
    }
    if ((v = s_get(n, "expiry")) != NULL && s_expect_map(c, v, "approvals.expiry") == 0) {
        static const char *const levels[] = {"low", "medium", "high", "critical", NULL};
        s_check_keys(c, v, "approvals.expiry", levels);
        for (int r = 0; r < CAIRN_RISK_LEVELS; r++) {
            struct fy_node *d = s_get(v, levels[r]);
            char sub[S_PATH];
            s_sub(sub, "approvals.expiry", levels[r]);
            if (d)
                s_duration(c, d, sub, &c->p->expiry_ms[r]);
        }
    }
    if ((v = s_get(n, "rules")) != NULL)
        s_approval_rules(c, v);
    /* require_signed (extension): true, or the `when:` of the changes whose
     * approvals must be signed, e.g. { risk_min: high }. */
    c->p->require_signed_when.risk_min = c->p->require_signed_when.risk_max = CAIRN_RISK_UNSET;
    if ((v = s_get(n, "require_signed")) != NULL) {
        if (fy_node_is_mapping(v)) {
            s_when(c, v, "approvals.require_signed", &c->p->require_signed_when);
            c->p->require_signed = true;
        } else if (fy_node_is_scalar(v) && !s_is_null(v)) {
            s_bool(c, v, "approvals.require_signed", &c->p->require_signed);
        } else {
            s_err(c, v,
                  "approvals.require_signed must be true, false, or the changes it covers as "
                  "a when: mapping, e.g. { risk_min: high }");
        }
    }
}

static const cairn_approval_rule_t *s_approval_rule(const cairn_policy_t *p, const char *id)
{
    for (size_t i = 0; i < p->n_approval_rules; i++)
        if (strcmp(p->approval_rules[i].id, id) == 0)
            return &p->approval_rules[i];
    return NULL;
}

static const char *const s_window_groups[] = {"freeze", "maintenance", NULL};

static void s_change_types(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "change_types") < 0)
        return;
    static const char *const names[] = {"standard", "normal", "emergency", NULL};
    static const char *const keys[] = {"require",     "approvals",   "exempt",
                                       "post_review", "description", NULL};
    static const char *const req_keys[] = {"risk_max", "incident_ref", NULL};
    static const char *const pr_keys[] = {"within", "from", "count", NULL};
    s_check_keys(c, n, "change_types", names);
    size_t count = s_map_count(n);
    cairn_change_type_t *out = s_alloc(c, count, sizeof *out);
    if (!out)
        return;
    size_t k = 0;
    for (size_t t = 0; names[t]; t++) {
        struct fy_node *ct = s_get(n, names[t]);
        if (!ct)
            continue;
        char path[S_PATH], sub[S_PATH];
        s_sub(path, "change_types", names[t]);
        cairn_change_type_t *x = &out[k++];
        x->name = names[t];
        x->risk_max = CAIRN_RISK_UNSET;
        if (s_is_null(ct))
            continue; /* `normal: {}` or `normal:` — nothing special */
        if (s_expect_map(c, ct, path) < 0)
            continue;
        s_check_keys(c, ct, path, keys);
        struct fy_node *v;
        if ((v = s_get(ct, "require")) != NULL) {
            s_sub(sub, path, "require");
            if (s_expect_map(c, v, sub) == 0) {
                s_check_keys(c, v, sub, req_keys);
                struct fy_node *w;
                char sub2[S_PATH];
                if ((w = s_get(v, "risk_max")) != NULL) {
                    s_sub(sub2, sub, "risk_max");
                    x->risk_max = s_risk(c, w, sub2);
                }
                if ((w = s_get(v, "incident_ref")) != NULL) {
                    s_sub(sub2, sub, "incident_ref");
                    s_bool(c, w, sub2, &x->incident_ref);
                }
            }
        }
        if ((v = s_get(ct, "approvals")) != NULL) {
            s_sub(sub, path, "approvals");
            x->has_approvals = true;
            if (s_strv(c, v, sub, &x->approvals) == 0) {
                for (size_t i = 0; i < x->approvals.count; i++) {
                    cairn_approval_rule_t *r =
                        (cairn_approval_rule_t *)s_approval_rule(c->p, x->approvals.items[i]);
                    if (r)
                        r->change_type_only = true;
                    else
                        s_err(c, fy_node_sequence_get_by_index(v, (int)i),
                              "%s: unknown approval rule '%s' (define it under approvals.rules)",
                              sub, x->approvals.items[i]);
                }
            }
        }
        if ((v = s_get(ct, "exempt")) != NULL) {
            s_sub(sub, path, "exempt");
            if (s_strv(c, v, sub, &x->exempt) == 0)
                for (size_t i = 0; i < x->exempt.count; i++) {
                    int known = 0;
                    for (size_t g = 0; s_window_groups[g]; g++)
                        known |= strcmp(x->exempt.items[i], s_window_groups[g]) == 0;
                    if (!known)
                        s_err(c, fy_node_sequence_get_by_index(v, (int)i),
                              "%s: unknown window group '%s' (expected freeze or maintenance)", sub,
                              x->exempt.items[i]);
                }
        }
        if ((v = s_get(ct, "post_review")) != NULL) {
            s_sub(sub, path, "post_review");
            if (s_expect_map(c, v, sub) == 0) {
                x->has_post_review = true;
                s_check_keys(c, v, sub, pr_keys);
                struct fy_node *w;
                char sub2[S_PATH];
                s_sub(sub2, sub, "within");
                if ((w = s_get(v, "within")) == NULL)
                    s_err(c, v, "missing key 'within' in %s", sub);
                else
                    s_duration(c, w, sub2, &x->post_review_within_ms);
                cairn_approval_slot_t slot = {{0}, 1};
                s_slot(c, v, sub, &slot);
                x->post_review_from = slot.from;
                x->post_review_count = slot.count;
            }
        }
    }
    c->p->change_types = out;
    c->p->n_change_types = k;
}

static void s_sod(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_seq(c, n, "separation_of_duties") < 0)
        return;
    static const char *const keys[] = {"id", "role", "not", "not_kind", "description", NULL};
    static const char *const duties[] = {"approver", "verifier", NULL};
    static const char *const facts[] = {"author", "committers", "deployer", "verifier", NULL};
    static const char *const kinds[] = {"service_account", NULL};
    size_t count = s_seq_count(n);
    cairn_sod_rule_t *out = s_alloc(c, count, sizeof *out);
    const char **ids = s_alloc(c, count, sizeof *ids);
    if (!out || !ids)
        return;
    size_t k = 0;
    int i = 0;
    void *it = NULL;
    struct fy_node *item, *v;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        char path[S_PATH], sub[S_PATH];
        s_idx(path, "separation_of_duties", i++);
        if (s_expect_map(c, item, path) < 0)
            continue;
        s_check_keys(c, item, path, keys);
        cairn_sod_rule_t *r = &out[k];
        *r = (cairn_sod_rule_t){0}; /* a failed item before may have left parts */
        struct fy_node *id = s_get(item, "id");
        s_sub(sub, path, "id");
        if (!id)
            s_err(c, item, "missing key 'id' in %s", path);
        else if ((r->id = s_str(c, id, sub)) != NULL &&
                 s_dup_id(c, id, "separation_of_duties", r->id, ids, k))
            r->id = NULL;
        s_sub(sub, path, "role");
        if ((v = s_get(item, "role")) == NULL)
            s_err(c, item, "missing key 'role' in %s (approver or verifier)", path);
        else
            r->role = s_enum(c, v, sub, duties);
        struct fy_node *not_ = s_get(item, "not"), *not_kind = s_get(item, "not_kind");
        if (!not_ && !not_kind)
            s_err(c, item, "%s needs 'not' or 'not_kind'", path);
        if (not_) {
            s_sub(sub, path, "not");
            if (s_strv(c, not_, sub, &r->not_facts) == 0)
                for (size_t j = 0; j < r->not_facts.count; j++) {
                    char sub2[S_PATH];
                    s_idx(sub2, sub, (int)j);
                    s_enum(c, fy_node_sequence_get_by_index(not_, (int)j), sub2, facts);
                }
        }
        if (not_kind) {
            s_sub(sub, path, "not_kind");
            if (s_strv(c, not_kind, sub, &r->not_kinds) == 0)
                for (size_t j = 0; j < r->not_kinds.count; j++) {
                    char sub2[S_PATH];
                    s_idx(sub2, sub, (int)j);
                    s_enum(c, fy_node_sequence_get_by_index(not_kind, (int)j), sub2, kinds);
                }
        }
        if (r->id && r->role) {
            ids[k] = r->id;
            k++;
        }
    }
    c->p->sod = out;
    c->p->n_sod = k;
}

static void s_evidence_require(s_ctx_t *c, struct fy_node *n, const char *path,
                               cairn_evidence_rule_t *e)
{
    if (s_expect_map(c, n, path) < 0)
        return;
    size_t count = s_map_count(n);
    e->reqs = s_alloc(c, count, sizeof *e->reqs);
    if (!e->reqs)
        return;
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[128], sub[S_PATH];
        struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
        if (!s_key(c, kn, path, key, sizeof key))
            continue;
        if (!e->type)
            continue; /* type missing or unknown: already reported */
        const cairn_req_def_t *def = cairn_req_def_find(e->type, key);
        if (!def) {
            const char *sugg = cairn_evidence_key_suggest(e->type, key);
            char list[256];
            cairn_evidence_keys_list(e->type, list, sizeof list);
            if (sugg)
                s_err(c, kn, "unknown key '%s' in %s — did you mean '%s'?", key, path, sugg);
            else
                s_err(c, kn, "unknown key '%s' in %s (a %s can require: %s)", key, path, e->type,
                      list);
            continue;
        }
        s_sub(sub, path, key);
        cairn_requirement_t *r = &e->reqs[e->n_reqs];
        r->def = def;
        int rc = def->kind == CAIRN_REQ_TRUE ? s_bool(c, v, sub, &r->flag)
                                             : s_number(c, v, sub, &r->value);
        if (rc == 0)
            e->n_reqs++;
    }
}

static void s_gate_evidence(s_ctx_t *c, struct fy_node *n, const char *path, cairn_gate_t *g)
{
    if (s_expect_seq(c, n, path) < 0)
        return;
    size_t count = s_seq_count(n);
    g->evidence = s_alloc(c, count, sizeof *g->evidence);
    const char **ids = s_alloc(c, count, sizeof *ids);
    if (!g->evidence || !ids)
        return;
    static const char *const keys[] = {"id",      "type",        "require", "max_age",
                                       "on_fail", "description", NULL};
    static const char *const on_fail[] = {"deny", "manual", NULL};
    static const char *const types[] = {"test_report", "scan",       "coverage", "verification",
                                        "build",       "deployment", NULL};
    int i = 0;
    void *it = NULL;
    struct fy_node *item, *v;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        char epath[S_PATH], sub[S_PATH];
        s_idx(epath, path, i++);
        if (s_expect_map(c, item, epath) < 0)
            continue;
        s_check_keys(c, item, epath, keys);
        cairn_evidence_rule_t *e = &g->evidence[g->n_evidence];
        *e = (cairn_evidence_rule_t){0}; /* a failed item before may have left parts */
        struct fy_node *id = s_get(item, "id");
        s_sub(sub, epath, "id");
        if (!id)
            s_err(c, item, "missing key 'id' in %s", epath);
        else if ((e->id = s_str(c, id, sub)) != NULL &&
                 s_dup_id(c, id, path, e->id, ids, g->n_evidence))
            e->id = NULL;
        s_sub(sub, epath, "type");
        if ((v = s_get(item, "type")) == NULL)
            s_err(c, item, "missing key 'type' in %s", epath);
        else
            e->type = s_enum(c, v, sub, types);
        if ((v = s_get(item, "require")) != NULL) {
            s_sub(sub, epath, "require");
            s_evidence_require(c, v, sub, e);
        }
        if ((v = s_get(item, "max_age")) != NULL) {
            s_sub(sub, epath, "max_age");
            s_duration(c, v, sub, &e->max_age_ms);
        }
        if ((v = s_get(item, "on_fail")) != NULL) {
            s_sub(sub, epath, "on_fail");
            const char *w = s_enum(c, v, sub, on_fail);
            e->on_fail_manual = w && strcmp(w, "manual") == 0;
        }
        if (e->id && e->type) {
            ids[g->n_evidence] = e->id;
            g->n_evidence++;
        }
    }
}

/* Depth-first search for a cycle through `after`; state: 0 new, 1 on path, 2 done. */
static int s_after_cycle(const cairn_policy_t *p, size_t g, unsigned char *state)
{
    if (state[g] == 1)
        return 1;
    if (state[g] == 2)
        return 0;
    state[g] = 1;
    for (size_t i = 0; i < p->gates[g].after.count; i++) {
        int j = cairn_policy_gate_index(p, p->gates[g].after.items[i]);
        if (j >= 0 && s_after_cycle(p, (size_t)j, state))
            return 1;
    }
    state[g] = 2;
    return 0;
}

static void s_gates(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "gates") < 0)
        return;
    size_t count = s_map_count(n);
    if (count == 0) {
        s_err(c, n, "gates must define at least one gate");
        return;
    }
    cairn_gate_t *gates = s_alloc(c, count, sizeof *gates);
    struct fy_node **keys_at = calloc(count, sizeof *keys_at);
    struct fy_node **bodies = calloc(count, sizeof *bodies);
    const char **names = s_alloc(c, count + 1, sizeof *names);
    if (!gates || !keys_at || !bodies || !names) {
        s_oom(c);
        goto out;
    }
    /* First pass: names, so `after` may refer to gates defined later. */
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char name[128];
        if (!s_key(c, fy_node_pair_key(pr), "gates", name, sizeof name))
            continue;
        gates[k].name = names[k] = cairn_arena_strdup(c->p->arena, name);
        if (!gates[k].name) {
            s_oom(c);
            goto out;
        }
        keys_at[k] = fy_node_pair_key(pr);
        bodies[k] = fy_node_pair_value(pr);
        k++;
    }
    c->p->gates = gates;
    c->p->n_gates = k;
    static const char *const keys[] = {"after", "require", "evidence", "description", NULL};
    static const char *const req_keys[] = {"approvals_satisfied", NULL};
    for (size_t g = 0; g < k; g++) {
        char path[S_PATH], sub[S_PATH];
        s_sub(path, "gates", gates[g].name);
        struct fy_node *body = bodies[g], *v;
        if (s_is_null(body))
            continue;
        if (s_expect_map(c, body, path) < 0)
            continue;
        s_check_keys(c, body, path, keys);
        if ((v = s_get(body, "after")) != NULL) {
            s_sub(sub, path, "after");
            if (s_strv(c, v, sub, &gates[g].after) == 0)
                for (size_t i = 0; i < gates[g].after.count; i++) {
                    const char *dep = gates[g].after.items[i];
                    struct fy_node *at = fy_node_sequence_get_by_index(v, (int)i);
                    if (strcmp(dep, gates[g].name) == 0) {
                        s_err(c, at, "%s: gate '%s' cannot come after itself", sub, dep);
                    } else if (cairn_policy_gate_index(c->p, dep) < 0) {
                        const char *sugg = cairn_suggest(dep, names);
                        if (sugg)
                            s_err(c, at, "%s: unknown gate '%s' — did you mean '%s'?", sub, dep,
                                  sugg);
                        else
                            s_err(c, at, "%s: unknown gate '%s'", sub, dep);
                    }
                }
        }
        if ((v = s_get(body, "require")) != NULL) {
            s_sub(sub, path, "require");
            if (s_expect_map(c, v, sub) == 0) {
                s_check_keys(c, v, sub, req_keys);
                struct fy_node *w = s_get(v, "approvals_satisfied");
                char sub2[S_PATH];
                s_sub(sub2, sub, "approvals_satisfied");
                if (w)
                    s_bool(c, w, sub2, &gates[g].approvals_satisfied);
            }
        }
        if ((v = s_get(body, "evidence")) != NULL) {
            s_sub(sub, path, "evidence");
            s_gate_evidence(c, v, sub, &gates[g]);
        }
    }
    unsigned char *state = calloc(k ? k : 1, 1);
    if (!state) {
        s_oom(c);
        goto out;
    }
    for (size_t g = 0; g < k; g++) {
        memset(state, 0, k);
        if (s_after_cycle(c->p, g, state)) {
            s_err(c, keys_at[g], "gates.%s: 'after' forms a cycle through gate '%s'", gates[g].name,
                  gates[g].name);
            break;
        }
    }
    free(state);
out:
    free(keys_at);
    free(bodies);
}

static void s_windows(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_map(c, n, "windows") < 0)
        return;
    s_check_keys(c, n, "windows", s_window_groups);
    size_t total = 0;
    for (size_t g = 0; s_window_groups[g]; g++)
        total += s_seq_count(s_get(n, s_window_groups[g]));
    cairn_window_t *out = s_alloc(c, total, sizeof *out);
    const char **ids = s_alloc(c, total, sizeof *ids);
    if (!out || !ids)
        return;
    static const char *const keys[] = {"id",  "cron",    "duration", "from",        "to",
                                       "env", "service", "gates",    "description", NULL};
    size_t k = 0;
    for (size_t g = 0; s_window_groups[g]; g++) {
        char gpath[S_PATH];
        s_sub(gpath, "windows", s_window_groups[g]);
        struct fy_node *list = s_get(n, s_window_groups[g]);
        if (!list || s_expect_seq(c, list, gpath) < 0)
            continue;
        void *it = NULL;
        struct fy_node *item, *v;
        int i = 0;
        while ((item = fy_node_sequence_iterate(list, &it)) != NULL) {
            char path[S_PATH], sub[S_PATH];
            s_idx(path, gpath, i++);
            if (s_expect_map(c, item, path) < 0)
                continue;
            s_check_keys(c, item, path, keys);
            cairn_window_t *w = &out[k];
            *w = (cairn_window_t){0}; /* a failed item before may have left parts */
            w->group = s_window_groups[g];
            struct fy_node *id = s_get(item, "id");
            s_sub(sub, path, "id");
            if (!id)
                s_err(c, item, "missing key 'id' in %s", path);
            else if ((w->id = s_str(c, id, sub)) != NULL &&
                     s_dup_id(c, id, "windows", w->id, ids, k))
                w->id = NULL;
            struct fy_node *cron = s_get(item, "cron"), *dur = s_get(item, "duration");
            struct fy_node *from = s_get(item, "from"), *to = s_get(item, "to");
            if (cron || dur) {
                if (from || to)
                    s_err(c, item, "%s: use either cron/duration or from/to, not both", path);
                if (!cron || !dur)
                    s_err(c, item, "%s: a recurring window needs both cron and duration", path);
                if (cron) {
                    s_sub(sub, path, "cron");
                    w->cron = s_str(c, cron, sub);
                    char why[256];
                    if (w->cron && cairn_cron_parse(w->cron, &w->schedule, why, sizeof why) < 0)
                        s_err(c, cron, "%s: %s", sub, why);
                }
                if (dur) {
                    s_sub(sub, path, "duration");
                    s_duration(c, dur, sub, &w->duration_ms);
                }
            } else if (from || to) {
                if (!from || !to)
                    s_err(c, item, "%s: a one-off window needs both from and to", path);
                int ok = from && to;
                if (from) {
                    s_sub(sub, path, "from");
                    ok = s_time(c, from, sub, &w->from_ms, &w->from) == 0 && ok;
                }
                if (to) {
                    s_sub(sub, path, "to");
                    ok = s_time(c, to, sub, &w->to_ms, &w->to) == 0 && ok;
                }
                if (ok && w->to_ms <= w->from_ms)
                    s_err(c, to, "%s: the window ends (%s) before it starts (%s)", path, w->to,
                          w->from);
            } else {
                s_err(c, item, "%s needs cron and duration, or from and to", path);
            }
            if ((v = s_get(item, "env")) != NULL) {
                s_sub(sub, path, "env");
                s_strv(c, v, sub, &w->env);
            }
            if ((v = s_get(item, "service")) != NULL) {
                s_sub(sub, path, "service");
                s_strv(c, v, sub, &w->service);
            }
            if ((v = s_get(item, "gates")) != NULL) {
                s_sub(sub, path, "gates");
                if (s_strv(c, v, sub, &w->gates) == 0)
                    for (size_t j = 0; j < w->gates.count; j++)
                        if (c->p->n_gates && cairn_policy_gate_index(c->p, w->gates.items[j]) < 0)
                            s_err(c, fy_node_sequence_get_by_index(v, (int)j),
                                  "%s: unknown gate '%s'", sub, w->gates.items[j]);
            }
            if (w->id) {
                ids[k] = w->id;
                k++;
            }
        }
    }
    c->p->windows = out;
    c->p->n_windows = k;
}

static void s_tests(s_ctx_t *c, struct fy_node *n)
{
    if (s_expect_seq(c, n, "tests") < 0)
        return;
    static const char *const keys[] = {"name", "input", "expect", NULL};
    static const char *const expect_keys[] = {"decision", "reasons_include", NULL};
    static const char *const decisions[] = {"allow", "deny", "pending", "manual", NULL};
    size_t count = s_seq_count(n);
    cairn_policy_test_t *out = s_alloc(c, count, sizeof *out);
    if (!out)
        return;
    size_t k = 0;
    int i = 0;
    void *it = NULL;
    struct fy_node *item, *v;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        char path[S_PATH], sub[S_PATH];
        s_idx(path, "tests", i++);
        if (s_expect_map(c, item, path) < 0)
            continue;
        s_check_keys(c, item, path, keys);
        cairn_policy_test_t *t = &out[k++];
        s_sub(sub, path, "name");
        if ((v = s_get(item, "name")) == NULL)
            s_err(c, item, "missing key 'name' in %s", path);
        else
            t->name = s_str(c, v, sub);
        s_sub(sub, path, "input");
        if ((v = s_get(item, "input")) == NULL)
            s_err(c, item, "missing key 'input' in %s", path);
        else
            t->input = s_str(c, v, sub);
        s_sub(sub, path, "expect");
        if ((v = s_get(item, "expect")) == NULL) {
            s_err(c, item, "missing key 'expect' in %s", path);
        } else if (s_expect_map(c, v, sub) == 0) {
            s_check_keys(c, v, sub, expect_keys);
            struct fy_node *w;
            char sub2[S_PATH];
            if ((w = s_get(v, "decision")) != NULL) {
                s_sub(sub2, sub, "decision");
                t->decision = s_enum(c, w, sub2, decisions);
            }
            if ((w = s_get(v, "reasons_include")) != NULL) {
                s_sub(sub2, sub, "reasons_include");
                s_strv(c, w, sub2, &t->reasons_include);
            }
        }
    }
    c->p->tests = out;
    c->p->n_tests = k;
}

/* ---- driver ------------------------------------------------------------- */

static void s_walk(s_ctx_t *c, struct fy_node *root)
{
    if (!root || s_is_null(root)) {
        s_add(c, 0, 0,
              "the policy is empty (expected a YAML mapping with apiVersion, kind, metadata, ...)");
        return;
    }
    if (!fy_node_is_mapping(root)) {
        s_err(c, root, "the policy must be a YAML mapping (apiVersion, kind, metadata, ...)");
        return;
    }
    s_check_keys(c, root, "", s_top_keys);
    s_header(c, root);
    struct fy_node *v;
    if ((v = s_get(root, "defaults")) != NULL)
        s_defaults(c, v);
    if ((v = s_get(root, "roles")) != NULL)
        s_roles(c, v);
    if ((v = s_get(root, "data_classes")) != NULL)
        s_data_classes(c, v);
    if ((v = s_get(root, "classify")) != NULL)
        s_classify(c, v);
    if ((v = s_get(root, "approvals")) != NULL)
        s_approvals(c, v);
    if ((v = s_get(root, "change_types")) != NULL)
        s_change_types(c, v);
    if ((v = s_get(root, "separation_of_duties")) != NULL)
        s_sod(c, v);
    if ((v = s_get(root, "gates")) != NULL)
        s_gates(c, v);
    else
        s_err(c, root, "missing key 'gates' at the top level (a policy decides at least one gate)");
    if ((v = s_get(root, "windows")) != NULL)
        s_windows(c, v);
    if ((v = s_get(root, "tests")) != NULL)
        s_tests(c, v);
}

static int s_problem_cmp(const void *a, const void *b)
{
    const s_problem_t *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x < y ? -1 : (x > y);
}

/* Moves the problems into errs, sorted by position. */
static void s_flush(s_ctx_t *c, cairn_errlist_t *errs)
{
    /* qsort is not stable: the tie-break on address keeps walk order. */
    qsort(c->problems, c->n_problems, sizeof *c->problems, s_problem_cmp);
    for (size_t i = 0; i < c->n_problems; i++) {
        s_problem_t *pr = &c->problems[i];
        if (pr->line > 0)
            cairn_errlist_add(errs, "%s:%d:%d: %s", c->file, pr->line, pr->col, pr->text);
        else
            cairn_errlist_add(errs, "%s: %s", c->file, pr->text);
        free(pr->text);
    }
    free(c->problems);
    c->problems = NULL;
    c->n_problems = c->cap = 0;
}

/* Most nodes a policy may stand for once its aliases are followed, and the
 * deepest nesting: a few anchors and aliases can otherwise describe an
 * exponentially large document ("billion laughs"). Real policies are a few
 * thousand nodes, a dozen levels deep. */
#define S_MAX_EXPANDED_NODES 200000
#define S_MAX_DEPTH 64

/* Counts the nodes under n with aliases followed, as resolving would copy
 * them; -1 as soon as a limit is passed (or an alias is dangling). */
static int s_expanded(struct fy_node *n, size_t *count, int depth)
{
    if (!n)
        return 0;
    if (++*count > S_MAX_EXPANDED_NODES || depth > S_MAX_DEPTH)
        return -1;
    if (fy_node_is_alias(n)) {
        struct fy_node *target = fy_node_resolve_alias(n);
        return target ? s_expanded(target, count, depth + 1) : -1;
    }
    void *it = NULL;
    if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
            if (s_expanded(item, count, depth + 1) < 0)
                return -1;
    } else if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it)) != NULL)
            if (s_expanded(fy_node_pair_key(pair), count, depth + 1) < 0 ||
                s_expanded(fy_node_pair_value(pair), count, depth + 1) < 0)
                return -1;
    }
    return 0;
}

int cairn_policy_load_string(const char *name, const char *text, size_t len, cairn_errlist_t *errs,
                             cairn_policy_t **out)
{
    int rc = 0;
    struct fy_diag *diag = NULL;
    struct fy_document *doc = NULL;
    s_ctx_t c = {.file = name};
    c.p = cairn_policy_new();
    if (!c.p)
        return -ENOMEM;

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    diag = fy_diag_create(&dcfg);
    if (!diag) {
        rc = -ENOMEM;
        goto out;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {
        .flags = FYPCF_QUIET | FYPCF_DISABLE_MMAP_OPT, /* resolved below, once bounded */
        .diag = diag,
    };
    /* YAML is Unicode text; libfyaml can loop forever on some invalid
     * UTF-8, so it never sees any. */
    if (!cairn_utf8_valid(text, len))
        s_add(&c, 0, 0, "not valid UTF-8 text (a policy is a UTF-8 YAML file)");
    else if ((doc = fy_document_build_from_string(&cfg, text, len)) == NULL) {
        void *it = NULL;
        struct fy_diag_error *e;
        int any = 0;
        while ((e = fy_diag_errors_iterate(diag, &it)) != NULL) {
            if (e->type < FYET_ERROR)
                continue;
            s_add(&c, e->line, e->column, e->msg ? e->msg : "YAML syntax error");
            any = 1;
        }
        if (!any)
            s_add(&c, 0, 0, "not valid YAML");
    } else {
        size_t nodes = 0;
        int line, col, misread = cairn_yaml_find_misread(doc, &line, &col);
        if (misread < 0)
            c.oom = 1;
        else if (misread)
            s_add(&c, line + 1, col + 1, CAIRN_YAML_MISREAD_HINT);
        else if (s_expanded(fy_document_root(doc), &nodes, 0) < 0)
            s_add(&c, 0, 0,
                  "the policy nests deeper than 64 levels or its aliases expand to more than "
                  "200000 nodes");
        else if (fy_document_resolve(doc) != 0)
            s_add(&c, 0, 0, "the policy's anchors and aliases cannot be resolved");
        else
            s_walk(&c, fy_document_root(doc));
    }

    if (c.oom) {
        rc = -ENOMEM;
        goto out;
    }
    if (c.n_problems) {
        s_flush(&c, errs);
        rc = CAIRN_EPOLICY;
        goto out;
    }

    if (!s_tz(&c)) {
        rc = -ENOMEM;
        goto out;
    }
    uint8_t digest[32];
    char hex[65], dstr[80];
    cairn_sha256(text, len, digest);
    cairn_hex(digest, sizeof digest, hex);
    snprintf(dstr, sizeof dstr, "sha256:%s", hex);
    c.p->digest = cairn_arena_strdup(c.p->arena, dstr);
    c.p->source = cairn_arena_strdup(c.p->arena, name);
    if (!c.p->digest || !c.p->source || cairn_policy_prepare(c.p) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    *out = c.p;
    c.p = NULL;
out:
    for (size_t i = 0; i < c.n_problems; i++)
        free(c.problems[i].text);
    free(c.problems);
    fy_document_destroy(doc);
    if (diag)
        fy_diag_destroy(diag);
    cairn_policy_unref(&c.p);
    return rc;
}

int cairn_policy_load_file(const char *path, cairn_errlist_t *errs, cairn_policy_t **out)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_read_file(path, CAIRN_POLICY_MAX_BYTES, &text, &len);
    if (rc < 0) {
        cairn_errlist_add(errs, "%s: cannot read the policy: %s", path, cairn_strerror(rc));
        return rc;
    }
    rc = cairn_policy_load_string(path, text, len, errs, out);
    free(text);
    return rc;
}

int cairn_policy_load_default(cairn_errlist_t *errs, cairn_policy_t **out)
{
    const char *text = cairn_policy_default_yaml();
    return cairn_policy_load_string("<built-in>", text, strlen(text), errs, out);
}
