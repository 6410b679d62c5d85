/* DSSE envelopes (Ed25519) and in-toto Statement v1 checks; see cairn/dsse.h. */
#include "cairn/dsse.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

int cairn_dsse_pae(const char *payload_type, const void *payload, size_t len, uint8_t **pae_out,
                   size_t *len_out)
{
    if (!payload_type || (!payload && len > 0) || !pae_out || !len_out)
        return CAIRN_EINVALID;
    size_t tlen = strlen(payload_type);
    char head[64];
    int hn = snprintf(head, sizeof head, "DSSEv1 %zu ", tlen);
    char mid[32];
    int mn = snprintf(mid, sizeof mid, " %zu ", len);
    size_t total = (size_t)hn + tlen + (size_t)mn + len;
    uint8_t *pae = malloc(total + 1);
    if (!pae)
        return -ENOMEM;
    uint8_t *p = pae;
    memcpy(p, head, (size_t)hn), p += hn;
    memcpy(p, payload_type, tlen), p += tlen;
    memcpy(p, mid, (size_t)mn), p += mn;
    if (len > 0)
        memcpy(p, payload, len);
    pae[total] = 0;
    *pae_out = pae;
    *len_out = total;
    return 0;
}

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

int cairn_dsse_sign(const cairn_note_signer_t *signer, const char *keyid, const char *payload_type,
                    const void *payload, size_t len, char **envelope_out, size_t *len_out)
{
    if (!signer || !payload_type || (!payload && len > 0) || !envelope_out || !len_out)
        return CAIRN_EINVALID;
    uint8_t *pae = NULL, sig[crypto_sign_BYTES];
    size_t pae_len = 0;
    json_t *env = NULL, *sigs = NULL, *one = NULL;
    int rc = cairn_dsse_pae(payload_type, payload, len, &pae, &pae_len);
    if (rc < 0)
        return rc;
    rc = cairn_note_signer_sign_raw(signer, pae, pae_len, sig);
    if (rc < 0)
        goto out;
    rc = -ENOMEM;
    env = json_object();
    sigs = json_array();
    one = json_object();
    if (!env || !sigs || !one)
        goto out;
    /* Insertion order is output order: payload, payloadType, signatures. */
    if (json_object_set_new(env, "payload", s_b64_json(payload, len)) < 0 ||
        json_object_set_new(env, "payloadType", json_string(payload_type)) < 0 ||
        json_object_set_new(one, "keyid", json_string(keyid ? keyid : "")) < 0 ||
        json_object_set_new(one, "sig", s_b64_json(sig, sizeof sig)) < 0 ||
        json_array_append(sigs, one) < 0 || json_object_set(env, "signatures", sigs) < 0)
        goto out;
    char *text = json_dumps(env, JSON_COMPACT);
    if (!text)
        goto out;
    *envelope_out = text;
    *len_out = strlen(text);
    rc = 0;
out:
    json_decref(one);
    json_decref(sigs);
    json_decref(env);
    free(pae);
    return rc;
}

/* Decodes standard or URL-safe base64, padded or not, into a malloc'd buffer. */
static int s_unb64_any(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    bool url = strpbrk(s, "-_") != NULL;
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return CAIRN_EPARSE;
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    if (!buf)
        return -ENOMEM;
    size_t n = 0;
    const char *end = NULL;
    int variant =
        url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    if (len > 0 && (sodium_base642bin(buf, len / 4 * 3 + 3, s, len, NULL, &n, &end, variant) != 0 ||
                    end != s + len)) {
        free(buf);
        return CAIRN_EPARSE;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int cairn_dsse_verify(const char *envelope, size_t len, const cairn_note_verifier_t *verifier,
                      char **payload_type_out, uint8_t **payload_out, size_t *payload_len_out)
{
    if (!envelope || !verifier || !payload_type_out || !payload_out || !payload_len_out)
        return CAIRN_EINVALID;
    uint8_t pubkey[CAIRN_NOTE_PUBKEY_BYTES];
    cairn_note_verifier_public_key(verifier, pubkey);
    uint8_t *payload = NULL, *pae = NULL;
    size_t payload_len = 0, pae_len = 0;
    char *type = NULL;
    int rc = CAIRN_EPARSE;
    json_t *env = json_loadb(envelope, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *jp = json_object_get(env, "payload"), *jt = json_object_get(env, "payloadType");
    json_t *sigs = json_object_get(env, "signatures");
    if (!json_is_string(jp) || !json_is_string(jt) || !json_is_array(sigs) ||
        json_array_size(sigs) == 0)
        goto out;
    rc = s_unb64_any(json_string_value(jp), json_string_length(jp), &payload, &payload_len);
    if (rc < 0)
        goto out;
    rc = cairn_dsse_pae(json_string_value(jt), payload, payload_len, &pae, &pae_len);
    if (rc < 0)
        goto out;
    rc = CAIRN_EINTEGRITY;
    size_t i;
    json_t *s;
    json_array_foreach(sigs, i, s)
    {
        json_t *js = json_object_get(s, "sig");
        uint8_t *sig = NULL;
        size_t sig_len = 0;
        if (!json_is_string(js)) {
            rc = CAIRN_EPARSE;
            goto out;
        }
        int drc = s_unb64_any(json_string_value(js), json_string_length(js), &sig, &sig_len);
        if (drc == -ENOMEM) {
            rc = drc;
            goto out;
        }
        bool ok = drc == 0 && sig_len == crypto_sign_BYTES &&
                  crypto_sign_verify_detached(sig, pae, pae_len, pubkey) == 0;
        free(sig);
        if (ok) {
            rc = 0;
            break;
        }
    }
    if (rc < 0)
        goto out;
    type = strdup(json_string_value(jt));
    uint8_t *copy = malloc(payload_len + 1);
    if (!type || !copy) {
        free(copy);
        rc = -ENOMEM;
        goto out;
    }
    if (payload_len > 0)
        memcpy(copy, payload, payload_len);
    copy[payload_len] = 0;
    *payload_type_out = type;
    *payload_out = copy;
    *payload_len_out = payload_len;
    type = NULL;
out:
    free(type);
    free(payload);
    free(pae);
    json_decref(env);
    return rc;
}

/* Lower-case hex of even length; exactly 64 digits for sha256. */
static bool s_digest_ok(const char *alg, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return false;
    size_t len = json_string_length(v);
    if (len == 0 || len % 2 != 0 || (strcmp(alg, "sha256") == 0 && len != 64))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int cairn_intoto_check(const void *payload, size_t len, char **predicate_type_out)
{
    if (!payload || !predicate_type_out)
        return CAIRN_EINVALID;
    json_t *st = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
    if (!st)
        return CAIRN_EPARSE;
    int rc = CAIRN_EINVALID;
    json_t *type = json_object_get(st, "_type"), *subjects = json_object_get(st, "subject");
    json_t *pt = json_object_get(st, "predicateType");
    if (!json_is_string(type) || strcmp(json_string_value(type), CAIRN_INTOTO_STATEMENT_V1) != 0 ||
        !json_is_array(subjects) || json_array_size(subjects) == 0 || !json_is_string(pt) ||
        json_string_length(pt) == 0)
        goto out;
    size_t i;
    json_t *subject;
    json_array_foreach(subjects, i, subject)
    {
        json_t *digest = json_object_get(subject, "digest");
        if (!json_is_object(digest) || json_object_size(digest) == 0)
            goto out;
        const char *alg;
        json_t *v;
        json_object_foreach(digest, alg, v)
        {
            if (!s_digest_ok(alg, v))
                goto out;
        }
    }
    char *copy = strdup(json_string_value(pt));
    if (!copy) {
        rc = -ENOMEM;
        goto out;
    }
    *predicate_type_out = copy;
    rc = 0;
out:
    json_decref(st);
    return rc;
}
