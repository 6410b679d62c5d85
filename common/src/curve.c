/* CURVE key files for the bus: key pairs (secret half in sodium_malloc'd
 * memory, read with cairn_secret_file_read), public key files and
 * allow-lists. Key generation is libsodium's crypto_box_keypair, the same
 * Curve25519 keys libzmq's CURVE mechanism uses. */
#include "cairn/curve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/error.h"
#include "cairn/secret_file.h"
#include "cairn/util.h"

#define S_MAX_KEYPAIR_FILE 4096
#define S_MAX_ALLOW_FILE (1024 * 1024)

struct cairn_curve_keypair_t {
    uint8_t public_key[CAIRN_CURVE_KEY_BYTES]; /* shared freely */
    uint8_t secret_key[CAIRN_CURVE_KEY_BYTES]; /* never leaves guarded memory but into libzmq */
};

struct cairn_curve_allow_t {
    uint8_t (*keys)[CAIRN_CURVE_KEY_BYTES]; /* allowed public keys */
    size_t count;                           /* keys used */
    size_t cap;                             /* keys allocated */
};

void cairn_curve_z85(const uint8_t key[CAIRN_CURVE_KEY_BYTES], char out[CAIRN_CURVE_Z85_LEN + 1])
{
    if (!zmq_z85_encode(out, key, CAIRN_CURVE_KEY_BYTES))
        out[0] = '\0';
}

int cairn_curve_z85_decode(const char *text, size_t len, uint8_t key_out[CAIRN_CURVE_KEY_BYTES])
{
    char z85[CAIRN_CURVE_Z85_LEN + 1];
    uint8_t key[CAIRN_CURVE_KEY_BYTES];
    int rc = CAIRN_EPARSE;
    if (len != CAIRN_CURVE_Z85_LEN)
        return CAIRN_EPARSE;
    memcpy(z85, text, len);
    z85[len] = '\0';
    if (zmq_z85_decode(key, z85)) {
        memcpy(key_out, key, sizeof key);
        rc = 0;
    }
    /* The text may be a secret key. */
    sodium_memzero(z85, sizeof z85);
    sodium_memzero(key, sizeof key);
    return rc;
}

static cairn_curve_keypair_t *s_keypair_alloc(void)
{
    if (sodium_init() < 0)
        return NULL;
    cairn_curve_keypair_t *self = sodium_malloc(sizeof *self);
    if (self)
        sodium_memzero(self, sizeof *self);
    return self;
}

int cairn_curve_keypair_generate(cairn_curve_keypair_t **out)
{
    cairn_curve_keypair_t *self = s_keypair_alloc();
    if (!self)
        return -ENOMEM;
    if (crypto_box_keypair(self->public_key, self->secret_key) != 0) {
        cairn_curve_keypair_destroy(&self);
        return CAIRN_ECRYPTO;
    }
    *out = self;
    return 0;
}

/* The value of "name <value>" on a line, or NULL. */
static const char *s_field(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncmp(line, name, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
        return NULL;
    const char *v = line + n, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    const char *e = v;
    while (e < end && *e != ' ' && *e != '\t' && *e != '\r')
        e++;
    *vlen = (size_t)(e - v);
    return v;
}

int cairn_curve_keypair_load(const char *path, cairn_curve_keypair_t **out, char *err,
                             size_t errlen)
{
    int rc;
    char *text = NULL;
    size_t len = 0;
    bool have_public = false, have_secret = false;
    uint8_t derived[CAIRN_CURVE_KEY_BYTES];
    cairn_curve_keypair_t *self = NULL;

    if ((rc = cairn_secret_file_read(path, S_MAX_KEYPAIR_FILE, &text, &len, err, errlen)) < 0)
        goto out;
    if (!(self = s_keypair_alloc())) {
        rc = -ENOMEM;
        snprintf(err, errlen, "cannot load %s: out of memory", path);
        goto out;
    }
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        size_t vlen = 0;
        const char *v;
        if ((v = s_field(p, n, "public-key", &vlen))) {
            if (cairn_curve_z85_decode(v, vlen, self->public_key) < 0)
                goto bad;
            have_public = true;
        } else if ((v = s_field(p, n, "secret-key", &vlen))) {
            if (cairn_curve_z85_decode(v, vlen, self->secret_key) < 0)
                goto bad;
            have_secret = true;
        }
        p += n + 1;
    }
    if (!have_public || !have_secret)
        goto bad;
    /* A public key that does not belong to the secret would make every peer
     * refuse us with no hint why. */
    if (crypto_scalarmult_base(derived, self->secret_key) != 0 ||
        sodium_memcmp(derived, self->public_key, sizeof derived) != 0) {
        rc = CAIRN_EINVALID;
        snprintf(err, errlen, "%s: the public key does not belong to the secret key", path);
        goto out;
    }
    *out = self;
    self = NULL;
    rc = 0;
    goto out;
bad:
    rc = CAIRN_EPARSE;
    snprintf(err, errlen,
             "%s is not a CURVE key pair file: it needs 'public-key <Z85>' and 'secret-key <Z85>' "
             "lines (create one with: cairn keygen --curve -o %s)",
             path, path);
out:
    sodium_memzero(derived, sizeof derived);
    cairn_secret_file_free(&text);
    cairn_curve_keypair_destroy(&self);
    return rc;
}

/* Writes len bytes to path, created with mode; the file is replaced only
 * when force. */
static int s_write_new(const char *path, const char *data, size_t len, unsigned mode, bool force)
{
    if (force && unlink(path) != 0 && errno != ENOENT)
        return -errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -errno;
    int rc = 0;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(path);
    return rc;
}

int cairn_curve_keypair_save(const cairn_curve_keypair_t *self, const char *path,
                             const char *pub_path, const char *label, bool force)
{
    int rc = 0;
    char pub_z85[CAIRN_CURVE_Z85_LEN + 1];
    char pub_text[512];
    const size_t cap = 512;
    char *text = NULL;

    if (!force && (access(path, F_OK) == 0 || access(pub_path, F_OK) == 0))
        return -EEXIST;
    if (!(text = sodium_malloc(cap))) /* guarded: it holds the secret */
        return -ENOMEM;
    cairn_curve_z85(self->public_key, pub_z85);
    int n = snprintf(text, cap,
                     "# Cairn CURVE key pair (cairn keygen --curve). The secret key: keep this "
                     "file private (mode 0600).\npublic-key %s\nsecret-key ",
                     pub_z85);
    if (n < 0 || (size_t)n + CAIRN_CURVE_Z85_LEN + 2 > cap) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    cairn_curve_z85(self->secret_key, text + n);
    size_t len = strlen(text);
    text[len++] = '\n';
    text[len] = '\0';
    if ((rc = s_write_new(path, text, len, 0600, force)) < 0)
        goto out;
    n = snprintf(pub_text, sizeof pub_text,
                 "# Cairn CURVE public key (cairn keygen --curve): list it in the allow-lists of "
                 "the servers this process may use.\n%s%s%s\n",
                 pub_z85, label && *label ? " " : "", label ? label : "");
    if (n < 0 || (size_t)n >= sizeof pub_text) {
        rc = CAIRN_EINVALID;
        goto out;
    }
    rc = s_write_new(pub_path, pub_text, (size_t)n, 0644, force);
out:
    sodium_free(text);
    return rc;
}

const uint8_t *cairn_curve_keypair_public(const cairn_curve_keypair_t *self)
{
    return self->public_key;
}

const uint8_t *cairn_curve_keypair_secret(const cairn_curve_keypair_t *self)
{
    return self->secret_key;
}

void cairn_curve_keypair_destroy(cairn_curve_keypair_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_free(*self_p); /* wipes before unmapping */
    *self_p = NULL;
}

static int s_allow_add(cairn_curve_allow_t *self, const uint8_t key[CAIRN_CURVE_KEY_BYTES])
{
    if (cairn_curve_allow_contains(self, key))
        return 0;
    if (self->count == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 8;
        void *nk = realloc(self->keys, ncap * sizeof *self->keys);
        if (!nk)
            return -ENOMEM;
        self->keys = nk;
        self->cap = ncap;
    }
    memcpy(self->keys[self->count++], key, CAIRN_CURVE_KEY_BYTES);
    return 0;
}

/* Adds the keys in text to self. */
static int s_allow_parse_into(cairn_curve_allow_t *self, const char *text, size_t len,
                              const char *name, char *err, size_t errlen)
{
    unsigned lineno = 0;
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        const char *end = nl ? nl : text + len;
        lineno++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *e = p;
        while (e < end && *e != ' ' && *e != '\t' && *e != '\r')
            e++;
        /* '#' is in the Z85 alphabet, but never first in a 32-byte key. */
        if (p < e && *p != '#') {
            uint8_t key[CAIRN_CURVE_KEY_BYTES];
            if (cairn_curve_z85_decode(p, (size_t)(e - p), key) < 0) {
                snprintf(err, errlen,
                         "%s:%u: not a CURVE public key (expected 40 Z85 characters, as in a .pub "
                         "file from cairn keygen --curve)",
                         name, lineno);
                return CAIRN_EPARSE;
            }
            if (s_allow_add(self, key) < 0) {
                snprintf(err, errlen, "%s: out of memory", name);
                return -ENOMEM;
            }
        }
        p = nl ? nl + 1 : text + len;
    }
    return 0;
}

static cairn_curve_allow_t *s_allow_new(void)
{
    return calloc(1, sizeof(cairn_curve_allow_t));
}

int cairn_curve_allow_parse(const char *text, size_t len, const char *name,
                            cairn_curve_allow_t **out, char *err, size_t errlen)
{
    cairn_curve_allow_t *self = s_allow_new();
    if (!self)
        return -ENOMEM;
    int rc = s_allow_parse_into(self, text, len, name, err, errlen);
    if (rc == 0 && self->count == 0) {
        snprintf(err, errlen, "%s lists no public key: no client could connect", name);
        rc = CAIRN_EINVALID;
    }
    if (rc < 0) {
        cairn_curve_allow_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

static int s_allow_file_into(cairn_curve_allow_t *self, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_read_file(path, S_MAX_ALLOW_FILE, &text, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, cairn_strerror(rc));
        return rc;
    }
    rc = s_allow_parse_into(self, text, len, path, err, errlen);
    free(text);
    return rc;
}

static int s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

int cairn_curve_allow_load(const char *path, cairn_curve_allow_t **out, char *err, size_t errlen)
{
    int rc = 0;
    struct stat st;
    DIR *dir = NULL;
    cairn_curve_allow_t *self = s_allow_new();
    if (!self)
        return -ENOMEM;
    if (stat(path, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot read %s: %s", path, cairn_strerror(rc));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = s_allow_file_into(self, path, err, errlen);
        goto check;
    }
    if (!(dir = opendir(path))) {
        rc = -errno;
        snprintf(err, errlen, "cannot read %s: %s", path, cairn_strerror(rc));
        goto out;
    }
    for (struct dirent *d; rc == 0 && (d = readdir(dir));) {
        if (d->d_name[0] == '.' || !s_ends_with(d->d_name, ".pub"))
            continue;
        char file[4096];
        if ((size_t)snprintf(file, sizeof file, "%s/%s", path, d->d_name) >= sizeof file) {
            rc = -ENAMETOOLONG;
            snprintf(err, errlen, "%s/%s: %s", path, d->d_name, cairn_strerror(rc));
            break;
        }
        rc = s_allow_file_into(self, file, err, errlen);
    }
check:
    if (rc == 0 && self->count == 0) {
        rc = CAIRN_EINVALID;
        snprintf(err, errlen, "%s lists no public key%s: no client could connect", path,
                 dir ? " (no *.pub file)" : "");
    }
out:
    if (dir)
        closedir(dir);
    if (rc == 0)
        *out = self;
    else
        cairn_curve_allow_destroy(&self);
    return rc;
}

bool cairn_curve_allow_contains(const cairn_curve_allow_t *self,
                                const uint8_t key[CAIRN_CURVE_KEY_BYTES])
{
    for (size_t i = 0; self && i < self->count; i++)
        if (sodium_memcmp(self->keys[i], key, CAIRN_CURVE_KEY_BYTES) == 0)
            return true;
    return false;
}

size_t cairn_curve_allow_count(const cairn_curve_allow_t *self)
{
    return self ? self->count : 0;
}

void cairn_curve_allow_destroy(cairn_curve_allow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->keys);
    free(*self_p);
    *self_p = NULL;
}

int cairn_curve_public_load(const char *path, uint8_t key_out[CAIRN_CURVE_KEY_BYTES], char *err,
                            size_t errlen)
{
    cairn_curve_allow_t *keys = NULL;
    int rc = cairn_curve_allow_load(path, &keys, err, errlen);
    if (rc < 0)
        return rc;
    if (keys->count != 1) {
        snprintf(err, errlen, "%s holds %zu public keys; a server's public key file holds one",
                 path, keys->count);
        rc = CAIRN_EINVALID;
    } else {
        memcpy(key_out, keys->keys[0], CAIRN_CURVE_KEY_BYTES);
    }
    cairn_curve_allow_destroy(&keys);
    return rc;
}
