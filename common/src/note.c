/* Signed notes, checkpoints and tlog-proofs (C2SP signed-note,
 * tlog-checkpoint, tlog-proof) with Ed25519 keys in Go's sumdb/note text
 * formats. The parsing rules mirror golang.org/x/mod/sumdb/note so notes
 * written by either side verify on the other. See cairn/note.h. */
#include "cairn/note.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"

#define S_SKEY_PREFIX "PRIVATE+KEY+"
#define S_SIG_PREFIX "\xe2\x80\x94 " /* U+2014 EM DASH, space */
#define S_SIG_PREFIX_LEN 4
#define S_KEY_BLOB_BYTES (1 + 32) /* type byte || key or seed */
#define S_SIG_BLOB_BYTES (CAIRN_NOTE_KEYID_BYTES + crypto_sign_BYTES)
#define S_PROOF_HEADER "c2sp.org/tlog-proof@v1\n"

struct cairn_note_signer {
    char *name;                                 /* key name, malloc'd */
    uint32_t keyid;                             /* signed-note key id */
    uint8_t pubkey[crypto_sign_PUBLICKEYBYTES]; /* Ed25519 public key */
    uint8_t *secret;                            /* sodium_malloc'd: seed || libsodium secret key */
};

struct cairn_note_verifier {
    char *name;                                 /* key name, malloc'd */
    uint32_t keyid;                             /* signed-note key id */
    uint8_t pubkey[crypto_sign_PUBLICKEYBYTES]; /* Ed25519 public key */
};

/* ---- text helpers ---------------------------------------------------- */

/* Decodes one UTF-8 sequence at p (n > 0 bytes available). Returns its length
 * and the code point, or 0 for an invalid, overlong or surrogate sequence. */
static size_t s_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t b = p[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((b & 0xe0) == 0xc0) {
        len = 2, c = b & 0x1f, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        len = 3, c = b & 0x0f, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        len = 4, c = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Unicode White_Space (what Go's unicode.IsSpace reports). */
static bool s_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

bool cairn_note_text_valid(const void *text, size_t len)
{
    const uint8_t *p = text;
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t n = s_utf8_next(p + i, len - i, &c);
        if (n == 0)
            return false;
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return false;
        i += n;
    }
    return true;
}

/* Key-name rule on a byte range. */
static bool s_name_valid(const char *name, size_t len)
{
    if (len == 0)
        return false;
    const uint8_t *p = (const uint8_t *)name;
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t n = s_utf8_next(p + i, len - i, &c);
        if (n == 0 || c < 0x20 || c == 0x7f || c == '+' || s_is_space(c))
            return false;
        i += n;
    }
    return true;
}

bool cairn_note_key_name_valid(const char *name)
{
    return name && s_name_valid(name, strlen(name));
}

/* Standard base64 with padding, NUL-terminated, malloc'd. */
static char *s_b64(const uint8_t *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* Strict standard base64 of exactly len chars into out (room for max bytes). */
static int s_unb64(const char *b64, size_t len, uint8_t *out, size_t max, size_t *out_len)
{
    const char *end = NULL;
    size_t n = 0;
    if (len == 0 || len % 4 != 0)
        return CAIRN_EPARSE;
    if (sodium_base642bin(out, max, b64, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        end != b64 + len)
        return CAIRN_EPARSE;
    *out_len = n;
    return 0;
}

/* Parses a decimal uint64 of exactly len chars, no sign, no leading zeros. */
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

/* Parses exactly 8 hex digits. */
static int s_parse_hex8(const char *s, size_t len, uint32_t *out)
{
    if (len != 8)
        return CAIRN_EPARSE;
    uint32_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return CAIRN_EPARSE;
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
}

static uint32_t s_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static char *s_strndup(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* key id = SHA-256(name || "\n" || 0x01 || pubkey)[:4], big-endian. */
static uint32_t s_keyid(const char *name, size_t name_len, const uint8_t pubkey[32])
{
    crypto_hash_sha256_state st;
    uint8_t digest[crypto_hash_sha256_BYTES];
    const uint8_t sep[2] = {'\n', CAIRN_NOTE_ALG_ED25519};
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, name_len);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pubkey, 32);
    crypto_hash_sha256_final(&st, digest);
    return s_be32(digest);
}

/* Splits "<name>+<hex8>+<base64 key blob>" (the tail of either key format).
 * Fills the name range, key id and decoded 33-byte blob. */
static int s_split_key(const char *text, size_t len, const char **name, size_t *name_len,
                       uint32_t *keyid, uint8_t blob[S_KEY_BLOB_BYTES])
{
    const char *plus1 = memchr(text, '+', len);
    if (!plus1)
        return CAIRN_EPARSE;
    const char *rest = plus1 + 1;
    size_t rest_len = len - (size_t)(rest - text);
    const char *plus2 = memchr(rest, '+', rest_len);
    if (!plus2)
        return CAIRN_EPARSE;
    const char *b64 = plus2 + 1;
    size_t b64_len = len - (size_t)(b64 - text);
    uint8_t buf[S_KEY_BLOB_BYTES + 8];
    size_t n = 0;
    if (!s_name_valid(text, (size_t)(plus1 - text)) ||
        s_parse_hex8(rest, (size_t)(plus2 - rest), keyid) < 0 ||
        s_unb64(b64, b64_len, buf, sizeof buf, &n) < 0 || n != S_KEY_BLOB_BYTES ||
        buf[0] != CAIRN_NOTE_ALG_ED25519) {
        sodium_memzero(buf, sizeof buf);
        return CAIRN_EPARSE;
    }
    memcpy(blob, buf, S_KEY_BLOB_BYTES);
    sodium_memzero(buf, sizeof buf);
    *name = text;
    *name_len = (size_t)(plus1 - text);
    return 0;
}

/* Length of a key text without one optional trailing "\n". */
static size_t s_key_text_len(const char *text)
{
    size_t len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        len--;
    return len;
}

/* ---- signer ---------------------------------------------------------- */

static int s_signer_new(const char *name, size_t name_len, const uint8_t seed[32],
                        cairn_note_signer_t **signer_out)
{
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    if (!s_name_valid(name, name_len))
        return CAIRN_EINVALID;
    int rc = -ENOMEM;
    cairn_note_signer_t *self = calloc(1, sizeof *self);
    if (!self)
        goto out;
    self->name = s_strndup(name, name_len);
    self->secret = sodium_malloc(CAIRN_NOTE_SEED_BYTES + crypto_sign_SECRETKEYBYTES);
    if (!self->name || !self->secret)
        goto out;
    memcpy(self->secret, seed, CAIRN_NOTE_SEED_BYTES);
    if (crypto_sign_seed_keypair(self->pubkey, self->secret + CAIRN_NOTE_SEED_BYTES, seed) != 0) {
        rc = CAIRN_ECRYPTO;
        goto out;
    }
    sodium_mprotect_readonly(self->secret);
    self->keyid = s_keyid(self->name, name_len, self->pubkey);
    *signer_out = self;
    self = NULL;
    rc = 0;
out:
    cairn_note_signer_destroy(&self);
    return rc;
}

int cairn_note_signer_generate(const char *name, cairn_note_signer_t **signer_out)
{
    if (!name || !signer_out)
        return CAIRN_EINVALID;
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    uint8_t seed[CAIRN_NOTE_SEED_BYTES];
    randombytes_buf(seed, sizeof seed);
    int rc = s_signer_new(name, strlen(name), seed, signer_out);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int cairn_note_signer_from_seed(const char *name, const uint8_t seed[CAIRN_NOTE_SEED_BYTES],
                                cairn_note_signer_t **signer_out)
{
    if (!name || !seed || !signer_out)
        return CAIRN_EINVALID;
    return s_signer_new(name, strlen(name), seed, signer_out);
}

int cairn_note_signer_parse(const char *skey, cairn_note_signer_t **signer_out)
{
    if (!skey || !signer_out)
        return CAIRN_EINVALID;
    size_t len = s_key_text_len(skey);
    size_t plen = strlen(S_SKEY_PREFIX);
    if (len <= plen || memcmp(skey, S_SKEY_PREFIX, plen) != 0)
        return CAIRN_EPARSE;
    const char *name;
    size_t name_len;
    uint32_t keyid;
    uint8_t blob[S_KEY_BLOB_BYTES];
    cairn_note_signer_t *signer = NULL;
    int rc = s_split_key(skey + plen, len - plen, &name, &name_len, &keyid, blob);
    if (rc < 0)
        goto out;
    rc = s_signer_new(name, name_len, blob + 1, &signer);
    if (rc < 0) {
        rc = CAIRN_EPARSE;
        goto out;
    }
    if (signer->keyid != keyid) {
        rc = CAIRN_EPARSE;
        goto out;
    }
    *signer_out = signer;
    signer = NULL;
out:
    sodium_memzero(blob, sizeof blob);
    cairn_note_signer_destroy(&signer);
    return rc;
}

int cairn_note_signer_load(const char *path, cairn_note_signer_t **signer_out)
{
    if (!path || !signer_out)
        return CAIRN_EINVALID;
    if (sodium_init() < 0) /* sodium_malloc below needs it */
        return CAIRN_ECRYPTO;
    int rc = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = CAIRN_EINVALID;
        goto out;
    }
    if (st.st_mode & 077) {
        rc = -EPERM; /* readable or writable by group/others: refuse */
        goto out;
    }
    buf = sodium_malloc(CAIRN_NOTE_KEY_FILE_MAX + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, CAIRN_NOTE_KEY_FILE_MAX + 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CAIRN_NOTE_KEY_FILE_MAX) {
            rc = CAIRN_ETOOLARGE;
            goto out;
        }
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        rc = CAIRN_EPARSE;
        goto out;
    }
    rc = cairn_note_signer_parse(buf, signer_out);
out:
    if (buf)
        sodium_free(buf); /* wipes */
    close(fd);
    return rc;
}

int cairn_note_signer_format(const cairn_note_signer_t *self, char *out, size_t out_size)
{
    if (!self || !out)
        return CAIRN_EINVALID;
    uint8_t blob[S_KEY_BLOB_BYTES];
    char b64[sodium_base64_ENCODED_LEN(S_KEY_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    blob[0] = CAIRN_NOTE_ALG_ED25519;
    memcpy(blob + 1, self->secret, CAIRN_NOTE_SEED_BYTES);
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    int n =
        snprintf(out, out_size, S_SKEY_PREFIX "%s+%08" PRIx32 "+%s", self->name, self->keyid, b64);
    sodium_memzero(blob, sizeof blob);
    sodium_memzero(b64, sizeof b64);
    if (n < 0 || (size_t)n >= out_size) {
        sodium_memzero(out, out_size);
        return CAIRN_ETOOLARGE;
    }
    return 0;
}

const char *cairn_note_signer_name(const cairn_note_signer_t *self)
{
    return self->name;
}

uint32_t cairn_note_signer_keyid(const cairn_note_signer_t *self)
{
    return self->keyid;
}

void cairn_note_signer_public_key(const cairn_note_signer_t *self,
                                  uint8_t out[CAIRN_NOTE_PUBKEY_BYTES])
{
    memcpy(out, self->pubkey, CAIRN_NOTE_PUBKEY_BYTES);
}

int cairn_note_signer_sign_raw(const cairn_note_signer_t *self, const void *msg, size_t len,
                               uint8_t sig_out[64])
{
    if (!self || (!msg && len > 0) || !sig_out)
        return CAIRN_EINVALID;
    if (crypto_sign_detached(sig_out, NULL, (const unsigned char *)msg, len,
                             self->secret + CAIRN_NOTE_SEED_BYTES) != 0)
        return CAIRN_ECRYPTO;
    return 0;
}

/* "<name>+<hex8>+<base64(0x01 || pubkey)>", malloc'd. */
static int s_vkey_text(const char *name, uint32_t keyid, const uint8_t pubkey[32], char **out)
{
    uint8_t blob[S_KEY_BLOB_BYTES];
    char b64[sodium_base64_ENCODED_LEN(S_KEY_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    blob[0] = CAIRN_NOTE_ALG_ED25519;
    memcpy(blob + 1, pubkey, 32);
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = strlen(name) + 1 + 8 + 1 + strlen(b64) + 1;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    snprintf(text, cap, "%s+%08" PRIx32 "+%s", name, keyid, b64);
    *out = text;
    return 0;
}

int cairn_note_signer_vkey(const cairn_note_signer_t *self, char **vkey_out)
{
    if (!self || !vkey_out)
        return CAIRN_EINVALID;
    return s_vkey_text(self->name, self->keyid, self->pubkey, vkey_out);
}

void cairn_note_signer_destroy(cairn_note_signer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_note_signer_t *self = *self_p;
    if (self->secret)
        sodium_free(self->secret); /* zeroes before freeing */
    free(self->name);
    free(self);
    *self_p = NULL;
}

/* ---- verifier -------------------------------------------------------- */

static int s_verifier_new(const char *name, size_t name_len, const uint8_t pubkey[32],
                          cairn_note_verifier_t **verifier_out)
{
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    if (!s_name_valid(name, name_len))
        return CAIRN_EINVALID;
    cairn_note_verifier_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->name = s_strndup(name, name_len);
    if (!self->name) {
        free(self);
        return -ENOMEM;
    }
    memcpy(self->pubkey, pubkey, sizeof self->pubkey);
    self->keyid = s_keyid(self->name, name_len, pubkey);
    *verifier_out = self;
    return 0;
}

int cairn_note_verifier_new(const char *name, const uint8_t pubkey[CAIRN_NOTE_PUBKEY_BYTES],
                            cairn_note_verifier_t **verifier_out)
{
    if (!name || !pubkey || !verifier_out)
        return CAIRN_EINVALID;
    return s_verifier_new(name, strlen(name), pubkey, verifier_out);
}

int cairn_note_verifier_parse(const char *vkey, cairn_note_verifier_t **verifier_out)
{
    if (!vkey || !verifier_out)
        return CAIRN_EINVALID;
    const char *name;
    size_t name_len;
    uint32_t keyid;
    uint8_t blob[S_KEY_BLOB_BYTES];
    int rc = s_split_key(vkey, s_key_text_len(vkey), &name, &name_len, &keyid, blob);
    if (rc < 0)
        return rc;
    if (s_keyid(name, name_len, blob + 1) != keyid)
        return CAIRN_EPARSE;
    rc = s_verifier_new(name, name_len, blob + 1, verifier_out);
    return rc == CAIRN_EINVALID ? CAIRN_EPARSE : rc;
}

int cairn_note_verifier_format(const cairn_note_verifier_t *self, char **vkey_out)
{
    if (!self || !vkey_out)
        return CAIRN_EINVALID;
    return s_vkey_text(self->name, self->keyid, self->pubkey, vkey_out);
}

const char *cairn_note_verifier_name(const cairn_note_verifier_t *self)
{
    return self->name;
}

uint32_t cairn_note_verifier_keyid(const cairn_note_verifier_t *self)
{
    return self->keyid;
}

void cairn_note_verifier_public_key(const cairn_note_verifier_t *self,
                                    uint8_t out[CAIRN_NOTE_PUBKEY_BYTES])
{
    memcpy(out, self->pubkey, CAIRN_NOTE_PUBKEY_BYTES);
}

void cairn_note_verifier_destroy(cairn_note_verifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->name);
    free(*self_p);
    *self_p = NULL;
}

/* ---- signed notes ---------------------------------------------------- */

int cairn_note_sign(const char *text, size_t len, const cairn_note_signer_t *signer,
                    char **note_out, size_t *len_out)
{
    if (!text || !signer || !note_out || !len_out)
        return CAIRN_EINVALID;
    if (len == 0 || text[len - 1] != '\n' || (len >= 2 && text[len - 2] == '\n') ||
        !cairn_note_text_valid(text, len))
        return CAIRN_EINVALID;

    uint8_t blob[S_SIG_BLOB_BYTES];
    blob[0] = (uint8_t)(signer->keyid >> 24);
    blob[1] = (uint8_t)(signer->keyid >> 16);
    blob[2] = (uint8_t)(signer->keyid >> 8);
    blob[3] = (uint8_t)signer->keyid;
    if (crypto_sign_detached(blob + CAIRN_NOTE_KEYID_BYTES, NULL, (const unsigned char *)text, len,
                             signer->secret + CAIRN_NOTE_SEED_BYTES) != 0)
        return CAIRN_ECRYPTO;
    char *b64 = s_b64(blob, sizeof blob);
    if (!b64)
        return -ENOMEM;
    size_t name_len = strlen(signer->name), b64_len = strlen(b64);
    size_t total = len + 1 + S_SIG_PREFIX_LEN + name_len + 1 + b64_len + 1;
    char *note = malloc(total + 1);
    if (!note) {
        free(b64);
        return -ENOMEM;
    }
    char *p = note;
    memcpy(p, text, len), p += len;
    *p++ = '\n';
    memcpy(p, S_SIG_PREFIX, S_SIG_PREFIX_LEN), p += S_SIG_PREFIX_LEN;
    memcpy(p, signer->name, name_len), p += name_len;
    *p++ = ' ';
    memcpy(p, b64, b64_len), p += b64_len;
    *p++ = '\n';
    *p = '\0';
    free(b64);
    *note_out = note;
    *len_out = total;
    return 0;
}

/* Finds the last "\n\n" in note; returns its offset or -1. */
static ptrdiff_t s_last_blank(const char *note, size_t len)
{
    for (size_t i = len; i >= 2; i--)
        if (note[i - 2] == '\n' && note[i - 1] == '\n')
            return (ptrdiff_t)(i - 2);
    return -1;
}

int cairn_note_verify(const char *note, size_t len, const cairn_note_verifier_t *verifier,
                      size_t *text_len_out)
{
    if (!note || !verifier || !text_len_out)
        return CAIRN_EINVALID;
    if (!cairn_note_text_valid(note, len))
        return CAIRN_EPARSE;
    ptrdiff_t split = s_last_blank(note, len);
    if (split < 0)
        return CAIRN_EPARSE;
    size_t text_len = (size_t)split + 1;
    const char *sigs = note + text_len + 1;
    size_t sigs_len = len - text_len - 1;
    if (sigs_len == 0 || sigs[sigs_len - 1] != '\n')
        return CAIRN_EPARSE;

    /* Pass 1: every line must be a well-formed signature line; remember the
     * ones made with our key (name and key id both match). */
    size_t nlines = 0, nmine = 0;
    const char *mine[CAIRN_NOTE_MAX_SIGNATURES];
    size_t vname_len = strlen(verifier->name);
    /* Signatures of other types can be long (ML-DSA): room for any line. */
    size_t blob_cap = sigs_len;
    uint8_t *blob = malloc(blob_cap);
    if (!blob)
        return -ENOMEM;
    int rc = CAIRN_EPARSE;
    for (const char *line = sigs; line < sigs + sigs_len;) {
        const char *nl = memchr(line, '\n', (size_t)(sigs + sigs_len - line));
        size_t line_len = (size_t)(nl - line);
        if (++nlines > CAIRN_NOTE_MAX_SIGNATURES)
            goto out;
        if (line_len < S_SIG_PREFIX_LEN || memcmp(line, S_SIG_PREFIX, S_SIG_PREFIX_LEN) != 0)
            goto out;
        const char *name = line + S_SIG_PREFIX_LEN;
        const char *sp = memchr(name, ' ', (size_t)(nl - name));
        if (!sp)
            goto out;
        size_t name_len = (size_t)(sp - name), n = 0;
        if (!s_name_valid(name, name_len) ||
            s_unb64(sp + 1, (size_t)(nl - sp - 1), blob, blob_cap, &n) < 0 ||
            n < CAIRN_NOTE_KEYID_BYTES + 1)
            goto out;
        if (name_len == vname_len && memcmp(name, verifier->name, name_len) == 0 &&
            s_be32(blob) == verifier->keyid)
            mine[nmine++] = sp + 1;
        line = nl + 1;
    }
    rc = CAIRN_ENOTFOUND;
    if (nmine == 0)
        goto out;

    /* Pass 2: every signature by our key must verify. */
    rc = CAIRN_EINTEGRITY;
    for (size_t i = 0; i < nmine; i++) {
        const char *b64 = mine[i];
        const char *nl = memchr(b64, '\n', (size_t)(sigs + sigs_len - b64));
        size_t n = 0;
        if (s_unb64(b64, (size_t)(nl - b64), blob, blob_cap, &n) < 0 || n != S_SIG_BLOB_BYTES ||
            crypto_sign_verify_detached(blob + CAIRN_NOTE_KEYID_BYTES, (const unsigned char *)note,
                                        text_len, verifier->pubkey) != 0)
            goto out;
    }
    *text_len_out = text_len;
    rc = 0;
out:
    free(blob);
    return rc;
}

/* ---- checkpoints ----------------------------------------------------- */

int cairn_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[CAIRN_HASH_BYTES],
                            const char *extensions, char **text_out, size_t *len_out)
{
    if (!origin || !root || !text_out || !len_out)
        return CAIRN_EINVALID;
    size_t olen = strlen(origin), elen = extensions ? strlen(extensions) : 0;
    if (olen == 0 || memchr(origin, '\n', olen) || !cairn_note_text_valid(origin, olen))
        return CAIRN_EINVALID;
    if (elen > 0) {
        /* Non-empty lines, each ending in "\n". */
        if (extensions[0] == '\n' || extensions[elen - 1] != '\n' || strstr(extensions, "\n\n") ||
            !cairn_note_text_valid(extensions, elen))
            return CAIRN_EINVALID;
    }
    char b64[sodium_base64_ENCODED_LEN(CAIRN_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, root, CAIRN_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = olen + 1 + 21 + 1 + strlen(b64) + 1 + elen + 1;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    int n = snprintf(text, cap, "%s\n%" PRIu64 "\n%s\n%s", origin, size, b64,
                     extensions ? extensions : "");
    *text_out = text;
    *len_out = (size_t)n;
    return 0;
}

int cairn_checkpoint_parse(const char *text, size_t len, cairn_checkpoint_t *out)
{
    if (!text || !out)
        return CAIRN_EINVALID;
    if (len == 0 || text[len - 1] != '\n' || !cairn_note_text_valid(text, len))
        return CAIRN_EPARSE;
    const char *end = text + len;
    const char *l1 = memchr(text, '\n', len);
    const char *l2 = memchr(l1 + 1, '\n', (size_t)(end - l1 - 1));
    if (!l2)
        return CAIRN_EPARSE;
    const char *l3 = memchr(l2 + 1, '\n', (size_t)(end - l2 - 1));
    if (!l3 || l1 == text)
        return CAIRN_EPARSE;
    cairn_checkpoint_t cp = {0};
    size_t n = 0;
    uint8_t root[CAIRN_HASH_BYTES + 3];
    if (s_parse_u64(l1 + 1, (size_t)(l2 - l1 - 1), &cp.size) < 0 ||
        s_unb64(l2 + 1, (size_t)(l3 - l2 - 1), root, sizeof root, &n) < 0 || n != CAIRN_HASH_BYTES)
        return CAIRN_EPARSE;
    memcpy(cp.root, root, CAIRN_HASH_BYTES);
    const char *ext = l3 + 1;
    size_t ext_len = (size_t)(end - ext);
    if (ext_len > 0 && (ext[0] == '\n' || s_last_blank(ext, ext_len) >= 0))
        return CAIRN_EPARSE; /* extension lines must be non-empty */
    cp.origin = s_strndup(text, (size_t)(l1 - text));
    if (!cp.origin)
        return -ENOMEM;
    if (ext_len > 0) {
        cp.extensions = s_strndup(ext, ext_len);
        if (!cp.extensions) {
            cairn_checkpoint_clear(&cp);
            return -ENOMEM;
        }
    }
    *out = cp;
    return 0;
}

int cairn_checkpoint_open(const char *note, size_t len, const cairn_note_verifier_t *verifier,
                          const char *origin, cairn_checkpoint_t *out)
{
    if (!note || !verifier || !out)
        return CAIRN_EINVALID;
    size_t text_len = 0;
    int rc = cairn_note_verify(note, len, verifier, &text_len);
    if (rc < 0)
        return rc;
    cairn_checkpoint_t cp = {0};
    rc = cairn_checkpoint_parse(note, text_len, &cp);
    if (rc < 0)
        return rc;
    if (strcmp(cp.origin, origin ? origin : verifier->name) != 0) {
        cairn_checkpoint_clear(&cp);
        return CAIRN_EINVALID;
    }
    *out = cp;
    return 0;
}

void cairn_checkpoint_clear(cairn_checkpoint_t *cp)
{
    if (!cp)
        return;
    free(cp->origin);
    free(cp->extensions);
    memset(cp, 0, sizeof *cp);
}

/* ---- tlog-proof ------------------------------------------------------ */

int cairn_tlog_proof_format(const uint8_t *extra, size_t extra_len, uint64_t index,
                            const uint8_t *proof, size_t proof_count, const char *checkpoint_note,
                            size_t note_len, char **text_out, size_t *len_out)
{
    if ((proof_count > 0 && !proof) || !checkpoint_note || !text_out || !len_out ||
        proof_count > CAIRN_MERKLE_MAX_PROOF || note_len == 0 || (extra_len > 0 && !extra))
        return CAIRN_EINVALID;
    size_t b64_hash = sodium_base64_ENCODED_LEN(CAIRN_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    size_t b64_extra = sodium_base64_ENCODED_LEN(extra_len, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = strlen(S_PROOF_HEADER) + 6 + b64_extra + 1 + 6 + 21 + 1 + proof_count * b64_hash +
                 1 + note_len + 1;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    char *p = text;
    p += sprintf(p, "%s", S_PROOF_HEADER);
    if (extra_len > 0) {
        p += sprintf(p, "extra ");
        sodium_bin2base64(p, b64_extra, extra, extra_len, sodium_base64_VARIANT_ORIGINAL);
        p += strlen(p);
        *p++ = '\n';
    }
    p += sprintf(p, "index %" PRIu64 "\n", index);
    for (size_t i = 0; i < proof_count; i++) {
        sodium_bin2base64(p, b64_hash, proof + i * CAIRN_HASH_BYTES, CAIRN_HASH_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        p += strlen(p);
        *p++ = '\n';
    }
    *p++ = '\n';
    memcpy(p, checkpoint_note, note_len);
    p += note_len;
    *p = '\0';
    *text_out = text;
    *len_out = (size_t)(p - text);
    return 0;
}

/* Next line of [*pos, end) without its "\n"; CAIRN_EPARSE if unterminated. */
static int s_next_line(const char **pos, const char *end, const char **line, size_t *line_len)
{
    const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));
    if (!nl)
        return CAIRN_EPARSE;
    *line = *pos;
    *line_len = (size_t)(nl - *pos);
    *pos = nl + 1;
    return 0;
}

int cairn_tlog_proof_parse(const char *text, size_t len, cairn_tlog_proof_t *out)
{
    if (!text || !out)
        return CAIRN_EINVALID;
    size_t hlen = strlen(S_PROOF_HEADER);
    if (len <= hlen || memcmp(text, S_PROOF_HEADER, hlen) != 0)
        return CAIRN_EPARSE;
    cairn_tlog_proof_t *pr = calloc(1, sizeof *pr); /* large: keep it off the stack */
    if (!pr)
        return -ENOMEM;
    int rc = CAIRN_EPARSE;
    const char *pos = text + hlen, *end = text + len, *line;
    size_t line_len;
    if (s_next_line(&pos, end, &line, &line_len) < 0)
        goto out;
    if (line_len > 6 && memcmp(line, "extra ", 6) == 0) {
        size_t cap = line_len; /* decoded is always shorter than the text */
        pr->extra = malloc(cap);
        if (!pr->extra) {
            rc = -ENOMEM;
            goto out;
        }
        if (s_unb64(line + 6, line_len - 6, pr->extra, cap, &pr->extra_len) < 0)
            goto out;
        if (s_next_line(&pos, end, &line, &line_len) < 0)
            goto out;
    }
    if (line_len <= 6 || memcmp(line, "index ", 6) != 0 ||
        s_parse_u64(line + 6, line_len - 6, &pr->index) < 0)
        goto out;
    for (;;) {
        if (s_next_line(&pos, end, &line, &line_len) < 0)
            goto out;
        if (line_len == 0)
            break;
        uint8_t h[CAIRN_HASH_BYTES + 3];
        size_t n = 0;
        if (pr->proof_count == CAIRN_MERKLE_MAX_PROOF ||
            s_unb64(line, line_len, h, sizeof h, &n) < 0 || n != CAIRN_HASH_BYTES)
            goto out;
        memcpy(pr->proof + pr->proof_count * CAIRN_HASH_BYTES, h, CAIRN_HASH_BYTES);
        pr->proof_count++;
    }
    if (pos == end)
        goto out; /* no checkpoint */
    pr->checkpoint_len = (size_t)(end - pos);
    pr->checkpoint = s_strndup(pos, pr->checkpoint_len);
    if (!pr->checkpoint) {
        rc = -ENOMEM;
        goto out;
    }
    *out = *pr;
    memset(pr, 0, sizeof *pr);
    rc = 0;
out:
    cairn_tlog_proof_clear(pr);
    free(pr);
    return rc;
}

int cairn_tlog_proof_verify(const cairn_tlog_proof_t *proof, const void *leaf, size_t leaf_len,
                            const cairn_note_verifier_t *verifier, const char *origin,
                            cairn_checkpoint_t *cp_out)
{
    if (!proof || (!leaf && leaf_len > 0) || !verifier || !proof->checkpoint)
        return CAIRN_EINVALID;
    cairn_checkpoint_t cp = {0};
    int rc = cairn_checkpoint_open(proof->checkpoint, proof->checkpoint_len, verifier, origin, &cp);
    if (rc < 0)
        return rc;
    uint8_t leaf_hash[CAIRN_HASH_BYTES];
    cairn_merkle_leaf_hash(leaf, leaf_len, leaf_hash);
    rc = cairn_merkle_verify_inclusion(proof->index, cp.size, leaf_hash, proof->proof,
                                       proof->proof_count, cp.root);
    if (rc == 0 && cp_out) {
        *cp_out = cp;
        return 0;
    }
    cairn_checkpoint_clear(&cp);
    return rc;
}

void cairn_tlog_proof_clear(cairn_tlog_proof_t *proof)
{
    if (!proof)
        return;
    free(proof->extra);
    free(proof->checkpoint);
    memset(proof, 0, sizeof *proof);
}
