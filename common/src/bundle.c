/* Ledger leaf records and export bundles: the deterministic leaf text the
 * ledger hashes into its Merkle log, and the JSON bundle an auditor verifies
 * offline with only the log's vkey (see cairn/bundle.h, docs/formats.md). */
#include "cairn/bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

/* ---- leaves ---------------------------------------------------------- */

/* A leaf value: non-empty, one line, valid UTF-8 without control chars. */
static bool s_value_ok(const char *v)
{
    if (!v || !*v)
        return false;
    size_t len = strlen(v);
    return !memchr(v, '\n', len) && cairn_note_text_valid(v, len);
}

/* Leaf text writers: each appends at p and returns the new end. The ledger
 * formats a leaf for every append on its serial writer thread, where
 * snprintf's parsing of a format cost more than the rest of the text. */
static char *s_put(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

#define S_PUT_LIT(p, lit) s_put((p), (lit), sizeof(lit) - 1)

/* Decimal digits of v, as "%" PRIu64 writes them. */
static char *s_put_u64(char *p, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* "<tag><value>\n" */
static char *s_put_line(char *p, const char *tag, size_t tag_len, const char *value,
                        size_t value_len)
{
    p = s_put(p, tag, tag_len);
    p = s_put(p, value, value_len);
    *p++ = '\n';
    return p;
}

/* "<tag>sha256:<64 hex digits>\n" */
static char *s_put_hash(char *p, const char *tag, size_t tag_len,
                        const uint8_t hash[CAIRN_HASH_BYTES])
{
    p = s_put(p, tag, tag_len);
    p = S_PUT_LIT(p, "sha256:");
    cairn_hex(hash, CAIRN_HASH_BYTES, p);
    p += 2 * CAIRN_HASH_BYTES;
    *p++ = '\n';
    return p;
}

int cairn_leaf_format(const cairn_leaf_t *leaf, char **text_out, size_t *len_out)
{
    if (!leaf || !text_out || !len_out)
        return CAIRN_EINVALID;
    if (!s_value_ok(leaf->origin) || !s_value_ok(leaf->topic) ||
        (leaf->change && !s_value_ok(leaf->change)) ||
        (leaf->release && !s_value_ok(leaf->release)) || (leaf->has_prev && !leaf->change))
        return CAIRN_EINVALID;
    size_t origin_len = strlen(leaf->origin), topic_len = strlen(leaf->topic);
    size_t change_len = leaf->change ? strlen(leaf->change) : 0;
    size_t release_len = leaf->release ? strlen(leaf->release) : 0;
    /* 512 covers the magic, tags, two hashes and three 20-digit numbers. */
    size_t cap = 512 + origin_len + topic_len + change_len + release_len;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    char *p = text;
    p = S_PUT_LIT(p, CAIRN_LEAF_MAGIC "\n");
    p = s_put_line(p, "origin ", 7, leaf->origin, origin_len);
    p = S_PUT_LIT(p, "index ");
    p = s_put_u64(p, leaf->index);
    *p++ = '\n';
    p = s_put_line(p, "topic ", 6, leaf->topic, topic_len);
    if (leaf->has_key)
        p = s_put_hash(p, "key ", 4, leaf->key_sha256);
    p = s_put_hash(p, "payload ", 8, leaf->payload_sha256);
    if (leaf->change)
        p = s_put_line(p, "change ", 7, leaf->change, change_len);
    if (leaf->release)
        p = s_put_line(p, "release ", 8, leaf->release, release_len);
    if (leaf->change) {
        p = S_PUT_LIT(p, "prev ");
        p = leaf->has_prev ? s_put_u64(p, leaf->prev) : S_PUT_LIT(p, "none");
        *p++ = '\n';
    }
    p = S_PUT_LIT(p, "time ");
    p = s_put_u64(p, leaf->time_ms);
    *p++ = '\n';
    *p = '\0';
    *text_out = text;
    *len_out = (size_t)(p - text);
    return 0;
}

/* Cursor over the leaf text, one line at a time. */
typedef struct {
    const char *pos; /* start of the next line */
    const char *end; /* end of the text */
} s_cursor_t;

/* If the next line starts with `tag` (which includes its trailing space or
 * colon), returns its value range and advances; else leaves the cursor. */
static bool s_take(s_cursor_t *c, const char *tag, const char **val, size_t *val_len)
{
    size_t tl = strlen(tag);
    const char *nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
    if (!nl || (size_t)(nl - c->pos) < tl || memcmp(c->pos, tag, tl) != 0)
        return false;
    *val = c->pos + tl;
    *val_len = (size_t)(nl - *val);
    c->pos = nl + 1;
    return true;
}

static int s_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return CAIRN_EPARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CAIRN_EPARSE;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return CAIRN_EPARSE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Exactly 64 lower-case hex digits. */
static int s_parse_hash_hex(const char *s, size_t len, uint8_t out[CAIRN_HASH_BYTES])
{
    if (len != 2 * CAIRN_HASH_BYTES)
        return CAIRN_EPARSE;
    for (size_t i = 0; i < CAIRN_HASH_BYTES; i++) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char ch = s[2 * i + j];
            if (ch >= '0' && ch <= '9')
                v = v * 16 + (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v = v * 16 + (unsigned)(ch - 'a' + 10);
            else
                return CAIRN_EPARSE;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* A value (already known to be valid text without "\n"): non-empty copy. */
static int s_dup_value(const char *v, size_t len, char **out)
{
    if (len == 0)
        return CAIRN_EPARSE;
    char *d = malloc(len + 1);
    if (!d)
        return -ENOMEM;
    memcpy(d, v, len);
    d[len] = '\0';
    *out = d;
    return 0;
}

int cairn_leaf_parse(const void *text, size_t len, cairn_leaf_t *out)
{
    if (!text || !out)
        return CAIRN_EINVALID;
    if (len > CAIRN_LEAF_MAX || !cairn_note_text_valid(text, len))
        return CAIRN_EPARSE;
    s_cursor_t c = {text, (const char *)text + len};
    cairn_leaf_t leaf = {0};
    const char *v;
    size_t vl;
    int rc = CAIRN_EPARSE;
    if (!s_take(&c, CAIRN_LEAF_MAGIC, &v, &vl) || vl != 0)
        goto out;
    if (!s_take(&c, "origin ", &v, &vl) || (rc = s_dup_value(v, vl, &leaf.origin)) < 0)
        goto out;
    rc = CAIRN_EPARSE;
    if (!s_take(&c, "index ", &v, &vl) || s_parse_u64(v, vl, &leaf.index) < 0)
        goto out;
    if (!s_take(&c, "topic ", &v, &vl) || (rc = s_dup_value(v, vl, &leaf.topic)) < 0)
        goto out;
    rc = CAIRN_EPARSE;
    if (s_take(&c, "key sha256:", &v, &vl)) {
        if (s_parse_hash_hex(v, vl, leaf.key_sha256) < 0)
            goto out;
        leaf.has_key = true;
    }
    if (!s_take(&c, "payload sha256:", &v, &vl) || s_parse_hash_hex(v, vl, leaf.payload_sha256) < 0)
        goto out;
    if (s_take(&c, "change ", &v, &vl) && (rc = s_dup_value(v, vl, &leaf.change)) < 0)
        goto out;
    rc = CAIRN_EPARSE;
    if (s_take(&c, "release ", &v, &vl) && (rc = s_dup_value(v, vl, &leaf.release)) < 0)
        goto out;
    rc = CAIRN_EPARSE;
    /* prev is present exactly when change is. */
    bool has_prev_line = s_take(&c, "prev ", &v, &vl);
    if (has_prev_line != (leaf.change != NULL))
        goto out;
    if (has_prev_line && !(vl == 4 && memcmp(v, "none", 4) == 0)) {
        if (s_parse_u64(v, vl, &leaf.prev) < 0)
            goto out;
        leaf.has_prev = true;
    }
    if (!s_take(&c, "time ", &v, &vl) || s_parse_u64(v, vl, &leaf.time_ms) < 0 || c.pos != c.end)
        goto out;
    *out = leaf;
    return 0;
out:
    cairn_leaf_clear(&leaf);
    return rc;
}

void cairn_leaf_clear(cairn_leaf_t *leaf)
{
    if (!leaf)
        return;
    free(leaf->origin);
    free(leaf->topic);
    free(leaf->change);
    free(leaf->release);
    memset(leaf, 0, sizeof *leaf);
}

/* ---- building a bundle ---------------------------------------------- */

struct cairn_bundle {
    json_t *root;    /* {"format", "checkpoint", "entries"} */
    json_t *entries; /* borrowed reference to root.entries */
};

/* A JSON string of standard base64 (with padding); NULL on allocation failure. */
static json_t *s_b64_json(const uint8_t *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(cap);
    if (!b64)
        return NULL;
    sodium_bin2base64(b64, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *s = json_string(b64);
    free(b64);
    return s;
}

int cairn_bundle_new(const char *checkpoint_note, size_t note_len, cairn_bundle_t **bundle_out)
{
    if (!checkpoint_note || !bundle_out)
        return CAIRN_EINVALID;
    cairn_bundle_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->root = json_object();
    self->entries = json_array();
    json_t *note = json_stringn(checkpoint_note, note_len);
    if (!self->root || !self->entries || !note ||
        json_object_set_new(self->root, "format", json_string(CAIRN_BUNDLE_FORMAT)) < 0 ||
        json_object_set_new(self->root, "checkpoint", note) < 0 ||
        json_object_set(self->root, "entries", self->entries) < 0) {
        json_decref(self->entries);
        self->entries = NULL;
        cairn_bundle_destroy(&self);
        return note ? -ENOMEM : CAIRN_EINVALID; /* json_stringn refuses invalid UTF-8 */
    }
    json_decref(self->entries); /* root holds it now */
    *bundle_out = self;
    return 0;
}

int cairn_bundle_add(cairn_bundle_t *self, uint64_t index, const void *leaf, size_t leaf_len,
                     const uint8_t *proof, size_t proof_count, const void *payload,
                     size_t payload_len)
{
    if (!self || !leaf || (proof_count > 0 && !proof) || (payload_len > 0 && !payload) ||
        index > CAIRN_MERKLE_MAX_SIZE)
        return CAIRN_EINVALID;
    json_t *entry = json_object(), *inclusion = json_array();
    int rc = -ENOMEM;
    if (!entry || !inclusion)
        goto out;
    for (size_t i = 0; i < proof_count; i++)
        if (json_array_append_new(inclusion,
                                  s_b64_json(proof + i * CAIRN_HASH_BYTES, CAIRN_HASH_BYTES)) < 0)
            goto out;
    if (json_object_set_new(entry, "index", json_integer((json_int_t)index)) < 0 ||
        json_object_set_new(entry, "leaf", s_b64_json(leaf, leaf_len)) < 0 ||
        json_object_set(entry, "inclusion", inclusion) < 0 ||
        json_object_set_new(entry, "payload", s_b64_json(payload, payload_len)) < 0 ||
        json_array_append(self->entries, entry) < 0)
        goto out;
    rc = 0;
out:
    json_decref(inclusion);
    json_decref(entry);
    return rc;
}

int cairn_bundle_encode(const cairn_bundle_t *self, char **json_out, size_t *len_out)
{
    if (!self || !json_out || !len_out)
        return CAIRN_EINVALID;
    char *text = json_dumps(self->root, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    *json_out = text;
    *len_out = strlen(text);
    return 0;
}

void cairn_bundle_destroy(cairn_bundle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    json_decref((*self_p)->root);
    free(*self_p);
    *self_p = NULL;
}

/* ---- verifying a bundle --------------------------------------------- */

const char *cairn_finding_kind_name(cairn_finding_kind_t kind)
{
    switch (kind) {
    case CAIRN_FINDING_FORMAT: return "format";
    case CAIRN_FINDING_SIGNATURE: return "signature";
    case CAIRN_FINDING_LEAF: return "leaf";
    case CAIRN_FINDING_INCLUSION: return "inclusion";
    case CAIRN_FINDING_PAYLOAD: return "payload";
    case CAIRN_FINDING_DUPLICATE: return "duplicate";
    case CAIRN_FINDING_CHAIN: return "chain";
    }
    return "unknown";
}

/* Per-entry state while verifying. */
typedef struct {
    bool has_index;    /* "index" was a usable integer */
    uint64_t index;    /* that index */
    bool parsed;       /* leaf bytes parsed */
    cairn_leaf_t leaf; /* the parsed leaf */
    bool ok;           /* no finding about this entry */
} s_entry_t;

typedef struct {
    cairn_bundle_report_t *report; /* findings go here */
    s_entry_t *entries;            /* one per bundle entry */
    size_t count;                  /* entries */
} s_verify_t;

/* Appends a finding; e (may be NULL) names the entry, change the change. */
__attribute__((format(printf, 5, 6))) static int s_find(cairn_bundle_report_t *r,
                                                        cairn_finding_kind_t kind,
                                                        const s_entry_t *e, const char *change,
                                                        const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cairn_finding_t *grown = realloc(r->findings, (r->finding_count + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    r->findings = grown;
    cairn_finding_t *f = &grown[r->finding_count];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (e && e->has_index) {
        f->has_index = true;
        f->index = e->index;
    }
    f->reason = strdup(buf);
    f->change = change ? strdup(change) : NULL;
    if (!f->reason || (change && !f->change)) {
        free(f->reason);
        free(f->change);
        return -ENOMEM;
    }
    r->finding_count++;
    return 0;
}

/* Strict standard base64 of a JSON string into a malloc'd buffer. */
static int s_unb64_json(json_t *v, uint8_t **out, size_t *out_len)
{
    const char *s = json_string_value(v);
    if (!s)
        return CAIRN_EPARSE;
    size_t len = json_string_length(v), n = 0;
    if (len % 4 != 0)
        return CAIRN_EPARSE;
    uint8_t *buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return -ENOMEM;
    const char *end = NULL;
    if (len > 0 && (sodium_base642bin(buf, len / 4 * 3 + 1, s, len, NULL, &n, &end,
                                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
                    end != s + len)) {
        free(buf);
        return CAIRN_EPARSE;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* Describes why the checkpoint failed, given cairn_checkpoint_open's code. */
static int s_checkpoint_finding(cairn_bundle_report_t *r, int rc, const char *note, size_t len,
                                const cairn_note_verifier_t *v)
{
    const char *name = cairn_note_verifier_name(v);
    uint32_t keyid = cairn_note_verifier_keyid(v);
    switch (rc) {
    case CAIRN_ENOTFOUND:
        return s_find(r, CAIRN_FINDING_SIGNATURE, NULL, NULL,
                      "checkpoint carries no signature by key %s+%08" PRIx32, name, keyid);
    case CAIRN_EINTEGRITY:
        return s_find(r, CAIRN_FINDING_SIGNATURE, NULL, NULL,
                      "checkpoint signature by key %s+%08" PRIx32 " does not verify", name, keyid);
    case CAIRN_EINVALID: {
        size_t text_len = 0;
        cairn_checkpoint_t cp = {0};
        const char *origin = "?";
        if (cairn_note_verify(note, len, v, &text_len) == 0 &&
            cairn_checkpoint_parse(note, text_len, &cp) == 0)
            origin = cp.origin;
        int frc = s_find(r, CAIRN_FINDING_SIGNATURE, NULL, NULL,
                         "checkpoint origin \"%s\" is not the key name \"%s\"", origin, name);
        cairn_checkpoint_clear(&cp);
        return frc;
    }
    case -ENOMEM: return rc;
    default:
        return s_find(r, CAIRN_FINDING_SIGNATURE, NULL, NULL,
                      "checkpoint is not a well-formed signed checkpoint note (%s)",
                      cairn_strerror(rc));
    }
}

/* Checks one bundle entry: its fields, leaf, inclusion proof and payload. */
static int s_verify_entry(s_verify_t *st, size_t pos, json_t *j)
{
    cairn_bundle_report_t *r = st->report;
    s_entry_t *e = &st->entries[pos];
    uint8_t *leaf = NULL, *payload = NULL;
    size_t leaf_len = 0, payload_len = 0;
    size_t before = r->finding_count;
    int rc = 0;

    json_t *jindex = json_object_get(j, "index");
    if (!json_is_object(j) || !json_is_integer(jindex) || json_integer_value(jindex) < 0) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, NULL, NULL, "entry #%zu has no valid \"index\"",
                    pos + 1);
        goto out;
    }
    e->has_index = true;
    e->index = (uint64_t)json_integer_value(jindex);

    rc = s_unb64_json(json_object_get(j, "leaf"), &leaf, &leaf_len);
    if (rc == CAIRN_EPARSE) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, e, NULL,
                    "entry %" PRIu64 ": \"leaf\" is missing or not base64", e->index);
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = cairn_leaf_parse(leaf, leaf_len, &e->leaf);
    if (rc == -ENOMEM)
        goto out;
    if (rc < 0) {
        rc = s_find(r, CAIRN_FINDING_LEAF, e, NULL,
                    "entry %" PRIu64 ": leaf is not a well-formed " CAIRN_LEAF_MAGIC " record",
                    e->index);
        if (rc < 0)
            goto out;
    } else {
        e->parsed = true;
        if (e->leaf.index != e->index && (rc = s_find(r, CAIRN_FINDING_LEAF, e, NULL,
                                                      "entry %" PRIu64 ": leaf says index %" PRIu64,
                                                      e->index, e->leaf.index)) < 0)
            goto out;
        if (r->checkpoint_ok && strcmp(e->leaf.origin, r->checkpoint.origin) != 0 &&
            (rc = s_find(r, CAIRN_FINDING_LEAF, e, NULL,
                         "entry %" PRIu64 ": leaf origin \"%s\" is not the log's \"%s\"", e->index,
                         e->leaf.origin, r->checkpoint.origin)) < 0)
            goto out;
    }

    /* Inclusion proof: every element a 32-byte base64 hash. */
    json_t *inc = json_object_get(j, "inclusion");
    size_t count = json_array_size(inc);
    uint8_t proof[(CAIRN_MERKLE_MAX_PROOF + 1) * CAIRN_HASH_BYTES];
    bool proof_ok = json_is_array(inc) && count <= CAIRN_MERKLE_MAX_PROOF;
    for (size_t i = 0; proof_ok && i < count; i++) {
        uint8_t *h = NULL;
        size_t hl = 0;
        rc = s_unb64_json(json_array_get(inc, i), &h, &hl);
        if (rc == -ENOMEM)
            goto out;
        if (rc < 0 || hl != CAIRN_HASH_BYTES)
            proof_ok = false;
        else
            memcpy(proof + i * CAIRN_HASH_BYTES, h, CAIRN_HASH_BYTES);
        free(h);
    }
    rc = 0;
    if (!proof_ok) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, e, NULL,
                    "entry %" PRIu64 ": \"inclusion\" is not a list of base64 SHA-256 hashes",
                    e->index);
    } else if (r->checkpoint_ok) {
        uint8_t lh[CAIRN_HASH_BYTES];
        cairn_merkle_leaf_hash(leaf, leaf_len, lh);
        if (e->index >= r->checkpoint.size)
            rc = s_find(r, CAIRN_FINDING_INCLUSION, e, NULL,
                        "entry %" PRIu64 " is beyond the checkpoint (size %" PRIu64 ")", e->index,
                        r->checkpoint.size);
        else if (cairn_merkle_verify_inclusion(e->index, r->checkpoint.size, lh, proof, count,
                                               r->checkpoint.root) != 0)
            rc = s_find(r, CAIRN_FINDING_INCLUSION, e, NULL,
                        "entry %" PRIu64 ": inclusion proof does not lead from the leaf to the "
                        "checkpoint root (size %" PRIu64 ")",
                        e->index, r->checkpoint.size);
    }
    if (rc < 0)
        goto out;

    /* Payload: its SHA-256 must be the one the leaf commits to. */
    json_t *jp = json_object_get(j, "payload");
    if (!jp) {
        rc = s_find(r, CAIRN_FINDING_PAYLOAD, e, NULL, "entry %" PRIu64 ": payload is missing",
                    e->index);
        goto out;
    }
    rc = s_unb64_json(jp, &payload, &payload_len);
    if (rc == CAIRN_EPARSE) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, e, NULL,
                    "entry %" PRIu64 ": \"payload\" is not base64", e->index);
        goto out;
    }
    if (rc < 0)
        goto out;
    if (e->parsed) {
        uint8_t digest[CAIRN_HASH_BYTES];
        cairn_sha256(payload, payload_len, digest);
        if (sodium_memcmp(digest, e->leaf.payload_sha256, CAIRN_HASH_BYTES) != 0) {
            char got[2 * CAIRN_HASH_BYTES + 1], want[2 * CAIRN_HASH_BYTES + 1];
            cairn_hex(digest, CAIRN_HASH_BYTES, got);
            cairn_hex(e->leaf.payload_sha256, CAIRN_HASH_BYTES, want);
            rc = s_find(r, CAIRN_FINDING_PAYLOAD, e, NULL,
                        "entry %" PRIu64 ": payload SHA-256 is %s but the leaf records %s",
                        e->index, got, want);
        }
    }
out:
    e->ok = rc == 0 && r->finding_count == before && r->checkpoint_ok;
    free(leaf);
    free(payload);
    return rc;
}

/* Sort key: an entry and its position in the bundle. */
typedef struct {
    const s_entry_t *e; /* the entry */
    size_t pos;         /* its position */
} s_ref_t;

static int s_cmp_index(const void *a, const void *b)
{
    const s_entry_t *x = ((const s_ref_t *)a)->e, *y = ((const s_ref_t *)b)->e;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int s_cmp_change(const void *a, const void *b)
{
    const s_entry_t *x = ((const s_ref_t *)a)->e, *y = ((const s_ref_t *)b)->e;
    int c = strcmp(x->leaf.change, y->leaf.change);
    return c ? c : s_cmp_index(a, b);
}

/* Position of the entry with `index` in the index-sorted list, or -1. */
static ptrdiff_t s_lookup(const s_ref_t *by_index, size_t n, uint64_t index)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = by_index[mid].e->index;
        if (v == index)
            return (ptrdiff_t)by_index[mid].pos;
        if (v < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Duplicates, then the prev chains of every change. */
static int s_verify_chains(s_verify_t *st)
{
    cairn_bundle_report_t *r = st->report;
    s_entry_t *es = st->entries;
    size_t n_idx = 0, n_chg = 0;
    s_ref_t *by_index = malloc((st->count + 1) * sizeof *by_index);
    s_ref_t *by_change = malloc((st->count + 1) * sizeof *by_change);
    ptrdiff_t *claimed = malloc((st->count + 1) * sizeof *claimed); /* who names me as prev */
    int rc = -ENOMEM;
    if (!by_index || !by_change || !claimed)
        goto out;
    for (size_t i = 0; i < st->count; i++) {
        claimed[i] = -1;
        if (es[i].has_index)
            by_index[n_idx++] = (s_ref_t){&es[i], i};
        if (es[i].has_index && es[i].parsed && es[i].leaf.change)
            by_change[n_chg++] = (s_ref_t){&es[i], i};
    }
    qsort(by_index, n_idx, sizeof *by_index, s_cmp_index);
    qsort(by_change, n_chg, sizeof *by_change, s_cmp_change);

    rc = 0;
    for (size_t i = 1; i < n_idx && rc == 0; i++)
        if (by_index[i].e->index == by_index[i - 1].e->index) {
            es[by_index[i].pos].ok = es[by_index[i - 1].pos].ok = false;
            rc = s_find(r, CAIRN_FINDING_DUPLICATE, by_index[i].e, NULL,
                        "entry %" PRIu64 " appears more than once", by_index[i].e->index);
        }

    for (size_t g = 0; g < n_chg && rc == 0;) {
        const char *change = by_change[g].e->leaf.change;
        size_t end = g, starts = 0;
        while (end < n_chg && strcmp(by_change[end].e->leaf.change, change) == 0)
            end++;
        char first_starts[128] = "";
        for (size_t k = g; k < end && rc == 0; k++) {
            s_entry_t *e = &es[by_change[k].pos];
            if (!e->leaf.has_prev) {
                size_t used = strlen(first_starts);
                if (used < sizeof first_starts - 24)
                    snprintf(first_starts + used, sizeof first_starts - used, "%s%" PRIu64,
                             starts ? ", " : "", e->index);
                starts++;
                continue;
            }
            uint64_t prev = e->leaf.prev;
            ptrdiff_t p = s_lookup(by_index, n_idx, prev);
            if (prev >= e->index) {
                rc = s_find(r, CAIRN_FINDING_CHAIN, e, change,
                            "entry %" PRIu64 " of change %s names prev %" PRIu64
                            ", which is not an earlier entry",
                            e->index, change, prev);
            } else if (p < 0) {
                rc = s_find(r, CAIRN_FINDING_CHAIN, e, change,
                            "entry %" PRIu64 " of change %s names prev %" PRIu64
                            ", which is not in the bundle",
                            e->index, change, prev);
            } else if (es[p].parsed &&
                       (!es[p].leaf.change || strcmp(es[p].leaf.change, change) != 0)) {
                rc = s_find(r, CAIRN_FINDING_CHAIN, e, change,
                            "entry %" PRIu64 " of change %s names prev %" PRIu64
                            ", which belongs to %s%s",
                            e->index, change, prev, es[p].leaf.change ? "change " : "no change",
                            es[p].leaf.change ? es[p].leaf.change : "");
            } else if (claimed[p] >= 0) {
                rc = s_find(r, CAIRN_FINDING_CHAIN, e, change,
                            "entries %" PRIu64 " and %" PRIu64
                            " of change %s both name prev %" PRIu64 " (the chain forks)",
                            es[claimed[p]].index, e->index, change, prev);
            } else {
                claimed[p] = (ptrdiff_t)by_change[k].pos;
                continue;
            }
            e->ok = false;
        }
        if (rc == 0 && starts == 0)
            rc =
                s_find(r, CAIRN_FINDING_CHAIN, NULL, change,
                       "change %s has no entry with prev none: its first entry is missing", change);
        else if (rc == 0 && starts > 1)
            rc = s_find(r, CAIRN_FINDING_CHAIN, NULL, change,
                        "change %s has %zu entries with prev none (%s): its chain is split", change,
                        starts, first_starts);
        g = end;
    }
out:
    free(by_index);
    free(by_change);
    free(claimed);
    return rc;
}

int cairn_bundle_verify(const char *json, size_t len, const cairn_note_verifier_t *verifier,
                        cairn_bundle_report_t **report_out)
{
    if (!json || !verifier || !report_out)
        return CAIRN_EINVALID;
    cairn_bundle_report_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    s_verify_t st = {r, NULL, 0};
    json_error_t err;
    int rc = 0;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, NULL, NULL, "bundle is not valid JSON (line %d: %s)",
                    err.line, err.text);
        goto out;
    }
    json_t *format = json_object_get(root, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), CAIRN_BUNDLE_FORMAT) != 0) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, NULL, NULL,
                    "bundle \"format\" is not \"" CAIRN_BUNDLE_FORMAT "\"");
        goto out;
    }

    json_t *note = json_object_get(root, "checkpoint");
    if (!json_is_string(note)) {
        rc = s_find(r, CAIRN_FINDING_SIGNATURE, NULL, NULL, "bundle has no checkpoint");
    } else {
        const char *text = json_string_value(note);
        size_t text_len = json_string_length(note);
        rc = cairn_checkpoint_open(text, text_len, verifier, NULL, &r->checkpoint);
        if (rc == 0)
            r->checkpoint_ok = true;
        else
            rc = s_checkpoint_finding(r, rc, text, text_len, verifier);
    }
    if (rc < 0)
        goto out;

    json_t *entries = json_object_get(root, "entries");
    if (!json_is_array(entries)) {
        rc = s_find(r, CAIRN_FINDING_FORMAT, NULL, NULL, "bundle has no \"entries\" list");
        goto out;
    }
    st.count = json_array_size(entries);
    st.entries = calloc(st.count + 1, sizeof *st.entries);
    if (!st.entries) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < st.count && rc == 0; i++)
        rc = s_verify_entry(&st, i, json_array_get(entries, i));
    if (rc == 0)
        rc = s_verify_chains(&st);
    r->entry_count = st.count;
    for (size_t i = 0; i < st.count; i++)
        if (st.entries[i].ok)
            r->entries_ok++;
out:
    for (size_t i = 0; i < st.count && st.entries; i++)
        cairn_leaf_clear(&st.entries[i].leaf);
    free(st.entries);
    json_decref(root);
    if (rc < 0) {
        cairn_bundle_report_destroy(&r);
        return rc;
    }
    *report_out = r;
    return 0;
}

void cairn_bundle_report_destroy(cairn_bundle_report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_bundle_report_t *r = *self_p;
    for (size_t i = 0; i < r->finding_count; i++) {
        free(r->findings[i].reason);
        free(r->findings[i].change);
    }
    free(r->findings);
    cairn_checkpoint_clear(&r->checkpoint);
    free(r);
    *self_p = NULL;
}
