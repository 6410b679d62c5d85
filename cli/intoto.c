/* Bundle entries as signed in-toto Statements, one DSSE envelope per line. */
#include "intoto.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/dsse.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "ledger_client.h"
#include "pbjson.h"

static json_t *s_hex(const uint8_t *bytes, size_t len)
{
    char text[2 * CAIRN_HASH_BYTES + 1];
    if (len > CAIRN_HASH_BYTES)
        return NULL;
    cairn_hex(bytes, len, text);
    return json_string(text);
}

/* True for lower-case hex of exactly len digits. */
static bool s_is_hex(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* {"name": name, "digest": {alg: hex}}. */
static json_t *s_subject(const char *name, const char *alg, json_t *hex)
{
    if (!hex)
        return NULL;
    return json_pack("{s:s, s:{s:o}}", "name", name, "digest", alg, hex);
}

/* The commit and artifact an event names, as subjects. */
static void s_event_subjects(json_t *subjects, const Cairn__V1__Record *rec)
{
    if (!rec || rec->body_case != CAIRN__V1__RECORD__BODY_EVENT || !rec->event->correlation)
        return;
    const Cairn__V1__Correlation *c = rec->event->correlation;
    const char *repo = c->repository && *c->repository ? c->repository : "commit";
    if (s_is_hex(c->commit_sha, 40) || s_is_hex(c->commit_sha, 64))
        json_array_append_new(subjects, s_subject(repo, "gitCommit", json_string(c->commit_sha)));
    const char *a = c->artifact_digest;
    if (a && strncmp(a, "sha256:", 7) == 0 && s_is_hex(a + 7, 64))
        json_array_append_new(subjects, s_subject("artifact", "sha256", json_string(a + 7)));
}

json_t *cli_intoto_statement(const uint8_t *leaf_bytes, size_t leaf_len, const cairn_leaf_t *leaf,
                             const uint8_t *payload, size_t payload_len, uint64_t checkpoint_size)
{
    uint8_t digest[CAIRN_HASH_BYTES], leaf_hash[CAIRN_HASH_BYTES];
    char name[512], when[32];
    char *leaf_hash_b64 = NULL;
    Cairn__V1__Record *rec = NULL;
    json_t *st = NULL, *subjects = json_array(), *record = NULL;
    if (!subjects)
        goto out;

    cairn_sha256(leaf_bytes, leaf_len, digest);
    cairn_merkle_leaf_hash(leaf_bytes, leaf_len, leaf_hash);
    snprintf(name, sizeof name, "%s/entry/%llu", leaf->origin, (unsigned long long)leaf->index);
    if (json_array_append_new(subjects, s_subject(name, "sha256", s_hex(digest, sizeof digest))) <
        0)
        goto out;
    if (payload_len > 0 && cairn_codec_record_unpack(payload, payload_len, &rec) == 0) {
        s_event_subjects(subjects, rec);
        record = cli_pb_to_json(&rec->base);
    }
    if (!record)
        record = json_null(); /* purged by retention, or not a Record */
    if (!(leaf_hash_b64 = cli_base64(leaf_hash, sizeof leaf_hash)))
        goto out;
    cairn_format_time((int64_t)leaf->time_ms, when);
    st = json_pack(
        "{s:s, s:O, s:s, s:{s:{s:s, s:I, s:s, s:I}, s:s, s:o, s:o, s:o, s:s, s:o, s:O}}", "_type",
        CAIRN_INTOTO_STATEMENT_V1, "subject", subjects, "predicateType", CLI_INTOTO_PREDICATE_TYPE,
        "predicate", "log", "origin", leaf->origin, "index", (json_int_t)leaf->index, "leaf_hash",
        leaf_hash_b64, "checkpoint_size", (json_int_t)checkpoint_size, "topic", leaf->topic,
        "change", leaf->change ? json_string(leaf->change) : json_null(), "release",
        leaf->release ? json_string(leaf->release) : json_null(), "prev",
        leaf->has_prev ? json_integer((json_int_t)leaf->prev) : json_null(), "time", when,
        "payload_sha256", s_hex(leaf->payload_sha256, CAIRN_HASH_BYTES), "record", record);
out:
    json_decref(subjects);
    json_decref(record);
    free(leaf_hash_b64);
    CAIRN_CODEC_FREE(&rec);
    return st;
}

/* Decodes a base64 JSON string into a malloc'd buffer. */
static int s_unbase64(json_t *v, uint8_t **out, size_t *len_out)
{
    const char *s = json_string_value(v);
    if (!s)
        return CAIRN_EPARSE;
    size_t len = json_string_length(v), n = 0;
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    if (!buf)
        return -ENOMEM;
    if (sodium_base642bin(buf, len / 4 * 3 + 3, s, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(buf);
        return CAIRN_EPARSE;
    }
    *out = buf;
    *len_out = n;
    return 0;
}

/* The envelope of one bundle entry, appended to out with a newline. */
static int s_entry_line(json_t *entry, uint64_t checkpoint_size, const cairn_note_signer_t *signer,
                        const char *keyid, FILE *out)
{
    uint8_t *leaf_bytes = NULL, *payload = NULL;
    size_t leaf_len = 0, payload_len = 0, env_len = 0;
    char *text = NULL, *env = NULL;
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    json_t *st = NULL;
    int rc = s_unbase64(json_object_get(entry, "leaf"), &leaf_bytes, &leaf_len);
    if (rc == 0)
        rc = cairn_leaf_parse(leaf_bytes, leaf_len, &leaf);
    if (rc == 0 && json_object_get(entry, "payload"))
        rc = s_unbase64(json_object_get(entry, "payload"), &payload, &payload_len);
    if (rc < 0)
        goto out;
    rc = -ENOMEM;
    if (!(st = cli_intoto_statement(leaf_bytes, leaf_len, &leaf, payload, payload_len,
                                    checkpoint_size)) ||
        !(text = json_dumps(st, JSON_COMPACT)))
        goto out;
    if ((rc = cairn_dsse_sign(signer, keyid, CAIRN_DSSE_INTOTO_TYPE, text, strlen(text), &env,
                              &env_len)) < 0)
        goto out;
    rc = fwrite(env, 1, env_len, out) == env_len && fputc('\n', out) != EOF ? 0 : -EIO;
out:
    free(env);
    free(text);
    json_decref(st);
    cairn_leaf_clear(&leaf);
    free(leaf_bytes);
    free(payload);
    return rc;
}

int cli_intoto_jsonl(const char *bundle, size_t len, const cairn_note_signer_t *signer, char **out,
                     size_t *len_out, size_t *count_out)
{
    int rc = CAIRN_EPARSE;
    char *text = NULL;
    size_t text_len = 0;
    char keyid[300];
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    json_t *root = json_loadb(bundle, len, 0, NULL);
    json_t *entries = root ? json_object_get(root, "entries") : NULL;
    const char *note = root ? json_string_value(json_object_get(root, "checkpoint")) : NULL;
    FILE *mem = NULL;
    if (!json_is_array(entries) || !note)
        goto out;
    /* The checkpoint's size, from its text (up to the blank line). */
    const char *sep = strstr(note, "\n\n");
    if (!sep || cairn_checkpoint_parse(note, (size_t)(sep - note) + 1, &cp) < 0)
        goto out;
    /* keyid is only a hint in DSSE; name+id is how a signed-note vkey is found. */
    snprintf(keyid, sizeof keyid, "%s+%08x", cairn_note_signer_name(signer),
             cairn_note_signer_keyid(signer));
    if (!(mem = open_memstream(&text, &text_len))) {
        rc = -ENOMEM;
        goto out;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(entries, i, entry)
    {
        if ((rc = s_entry_line(entry, cp.size, signer, keyid, mem)) < 0)
            goto out;
    }
    if (fclose(mem) != 0) {
        mem = NULL;
        rc = -ENOMEM;
        goto out;
    }
    mem = NULL;
    *out = text;
    *len_out = text_len;
    *count_out = json_array_size(entries);
    text = NULL;
    rc = 0;
out:
    if (mem)
        fclose(mem);
    free(text);
    cairn_checkpoint_clear(&cp);
    json_decref(root);
    return rc;
}
