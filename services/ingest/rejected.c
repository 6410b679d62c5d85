/* Rejected input kept for inspection (see rejected.h): bodies as files, and
 * an append-only JSON-lines index of every rejection. */
#include "rejected.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/util.h"

/* Bodies kept per run of the daemon, so a flood cannot fill the disk. */
#define S_KEEP_MAX 1000
/* Index lines per run, for the same reason. */
#define S_INDEX_MAX 100000

struct cairn_ingest_rejected_t {
    char *dir;                   /* where everything goes */
    pthread_mutex_t lock;        /* one index line at a time */
    _Atomic uint64_t keep_slots; /* bodies we tried to keep */
    _Atomic uint64_t kept;       /* bodies written */
    _Atomic uint64_t indexed;    /* index lines tried */
};

cairn_ingest_rejected_t *cairn_ingest_rejected_new(const char *dir)
{
    cairn_ingest_rejected_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->dir = strdup(dir);
    if (!self->dir || cairn_mkdir_p(self->dir, 0700) < 0) {
        cairn_ingest_rejected_destroy(&self);
        return NULL;
    }
    return self;
}

void cairn_ingest_rejected_destroy(cairn_ingest_rejected_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_rejected_t *self = *self_p;
    pthread_mutex_destroy(&self->lock);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

uint64_t cairn_ingest_rejected_kept(const cairn_ingest_rejected_t *self)
{
    return self ? atomic_load(&self->kept) : 0;
}

static int s_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static bool s_keeps_body(unsigned status)
{
    return status == 400 || status == 401 || status == 415 || status == 422;
}

static void s_keep(cairn_ingest_rejected_t *self, const cairn_ingest_rejection_t *r,
                   const char *sha_hex, char *name, size_t name_len)
{
    name[0] = '\0';
    if (!s_keeps_body(r->status) || !r->body || r->len == 0 ||
        atomic_fetch_add(&self->keep_slots, 1) >= S_KEEP_MAX)
        return;
    char path[4096];
    snprintf(name, name_len, "%" PRId64 "-%u-%.16s.body", r->now_ms, r->status, sha_hex);
    snprintf(path, sizeof path, "%s/%s", self->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* The same body, rejected again within the same millisecond: the
         * file already holds it. */
        if (errno != EEXIST)
            name[0] = '\0';
        return;
    }
    if (s_write_all(fd, r->body, r->len) < 0)
        name[0] = '\0';
    close(fd);
    if (name[0])
        atomic_fetch_add(&self->kept, 1);
}

/* jansson refuses text that is not UTF-8; such bytes become '?'. */
static json_t *s_text(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (v)
        return v;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

int cairn_ingest_rejected_add(cairn_ingest_rejected_t *self, const cairn_ingest_rejection_t *r,
                              char *kept, size_t kept_len)
{
    char sha_hex[65];
    char time_text[32];
    kept[0] = '\0';
    if (!self)
        return 0;
    if (r->sha_hex) {
        snprintf(sha_hex, sizeof sha_hex, "%s", r->sha_hex);
    } else {
        uint8_t sha[32];
        cairn_sha256(r->body ? r->body : "", r->len, sha);
        cairn_hex(sha, sizeof sha, sha_hex);
    }
    s_keep(self, r, sha_hex, kept, kept_len);
    if (atomic_fetch_add(&self->indexed, 1) >= S_INDEX_MAX)
        return 0;

    cairn_format_time(r->now_ms, time_text);
    json_t *line =
        json_pack("{s:s,s:I,s:i,s:o,s:o,s:o,s:I,s:s,s:o}", "time", time_text, "time_ms",
                  (json_int_t)r->now_ms, "status", (int)r->status, "source", s_text(r->source),
                  "path", s_text(r->path), "reason", s_text(r->reason), "bytes", (json_int_t)r->len,
                  "sha256", sha_hex, "file", kept[0] ? json_string(kept) : json_null());
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: the line is written whole */

    char path[4096];
    snprintf(path, sizeof path, "%s/%s", self->dir, CAIRN_INGEST_REJECTED_INDEX);
    int rc = 0;
    pthread_mutex_lock(&self->lock);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = -errno;
    else {
        rc = s_write_all(fd, text, len + 1);
        close(fd);
    }
    pthread_mutex_unlock(&self->lock);
    free(text);
    return rc;
}
