/* The checkpoint file (cpfile.h): read and checked at start, rewritten
 * atomically (cairn_write_file) by its own thread at most once a second,
 * and at stop. */
#include "cpfile.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"

/* A checkpoint note is a few hundred bytes; anything this long is not one. */
#define S_NOTE_MAX 65536

struct cairn_ledger_cpfile_t {
    char *path;           /* the file; NULL: none kept */
    pthread_mutex_t lock; /* guards note .. quit */
    pthread_cond_t wake;  /* tells the thread to stop */
    char *note;           /* newest checkpoint offered, not written yet (or NULL) */
    size_t note_len;      /* its bytes */
    uint64_t size;        /* tree size of the newest checkpoint offered */
    bool offered;         /* one was offered (size is set) */
    bool quit;            /* the thread must stop */
    pthread_t thread;     /* writes what is offered */
    bool started;         /* thread runs */
    bool failing;         /* the last write failed (logged once until one works) */
};

cairn_ledger_cpfile_t *cairn_ledger_cpfile_new(const char *path)
{
    cairn_ledger_cpfile_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (path && *path && !(self->path = strdup(path))) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    return self;
}

/* Writes note (size entries) to the file; logs a failure once. */
static void s_write(cairn_ledger_cpfile_t *self, const char *note, size_t len, uint64_t size)
{
    int rc = cairn_write_file(self->path, note, len, 0644, true);
    if (rc < 0) {
        if (!self->failing)
            CAIRN_WARN("cannot write ledger checkpoint file", "checkpoint_file=%s error=%s hint=%s",
                       cairn_log_quote(self->path), cairn_log_quote(cairn_strerror(rc)),
                       cairn_log_quote("the ledger goes on, but a store rolled back behind the "
                                       "file's checkpoint is not caught at start; check the "
                                       "directory and the disk"));
        self->failing = true;
        return;
    }
    if (self->failing)
        CAIRN_INFO("wrote ledger checkpoint file", "checkpoint_file=%s size=%" PRIu64,
                   cairn_log_quote(self->path), size);
    self->failing = false;
}

/* Writes the newest checkpoint offered, if any is waiting. */
static void s_flush(cairn_ledger_cpfile_t *self)
{
    pthread_mutex_lock(&self->lock);
    char *note = self->note;
    size_t len = self->note_len;
    uint64_t size = self->size;
    self->note = NULL;
    pthread_mutex_unlock(&self->lock);
    if (note)
        s_write(self, note, len, size);
    free(note);
}

static void *s_run(void *arg)
{
    cairn_ledger_cpfile_t *self = arg;
    prctl(PR_SET_NAME, "ledger-cpfile", 0, 0, 0);
    pthread_mutex_lock(&self->lock);
    while (!self->quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CAIRN_LEDGER_CPFILE_EVERY_MS / 1000;
        pthread_cond_timedwait(&self->wake, &self->lock, &until);
        if (self->quit || !self->note)
            continue;
        pthread_mutex_unlock(&self->lock);
        s_flush(self);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

void cairn_ledger_cpfile_destroy(cairn_ledger_cpfile_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_cpfile_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->lock);
        self->quit = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    if (self->path)
        s_flush(self);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self->note);
    free(self->path);
    free(self);
    *self_p = NULL;
}

static void s_refuse(const cairn_ledger_cpfile_t *self, int rc, uint64_t kept, uint64_t size)
{
    const char *path = cairn_log_quote(self->path);
    if (rc == CAIRN_EINTEGRITY && kept > size) {
        CAIRN_ERROR("ledger store was rolled back",
                    "checkpoint_file=%s checkpoint_size=%" PRIu64 " size=%" PRIu64 " hint=%s", path,
                    kept, size,
                    cairn_log_quote(
                        "the store holds fewer entries than the checkpoint this ledger answered "
                        "with: it was restored from an older backup, or the disk lost writes, "
                        "and acknowledged entries are missing; restore the newest backup of "
                        "the ledger directory. To go on from this store anyway, move the "
                        "checkpoint file away and start again: the log then forks, and "
                        "receipts and checkpoints above its size no longer verify"));
    } else if (rc == CAIRN_EINTEGRITY) {
        CAIRN_ERROR(
            "ledger store is not the one that was checkpointed",
            "checkpoint_file=%s checkpoint_size=%" PRIu64 " size=%" PRIu64 " hint=%s", path, kept,
            size,
            cairn_log_quote("the store's tree of that size is not the one the checkpoint signed: "
                            "the store was replaced or altered; run `cairn log verify` and restore "
                            "the ledger directory from a backup. To go on from this store anyway, "
                            "move the checkpoint file away and start again: the log then forks"));
    } else if (rc == CAIRN_EPARSE) {
        CAIRN_ERROR("ledger checkpoint file is not of this log", "checkpoint_file=%s hint=%s", path,
                    cairn_log_quote("it holds no checkpoint signed for this ledger.origin by a "
                                    "key this store knows; point ledger.checkpoint_file at this "
                                    "log's file, or move the file away"));
    } else {
        CAIRN_ERROR("cannot read ledger checkpoint file", "checkpoint_file=%s error=%s hint=%s",
                    path, cairn_log_quote(cairn_strerror(rc)),
                    cairn_log_quote("make the file readable by the ledger, or move it away"));
    }
}

int cairn_ledger_cpfile_check(cairn_ledger_cpfile_t *self, cairn_ledger_store_t *store)
{
    if (!self->path)
        return 0;
    char *text = NULL;
    size_t len = 0;
    uint64_t kept = 0;
    bool found = false;
    int rc = cairn_read_file(self->path, S_NOTE_MAX, &text, &len);
    if (rc == -ENOENT) {
        rc = 0;
    } else if (rc == CAIRN_ETOOLARGE) {
        rc = CAIRN_EPARSE;
    } else if (rc == 0) {
        rc = cairn_ledger_store_check_note(store, text, len, &kept);
        found = rc == 0;
    }
    free(text);
    if (rc < 0) {
        s_refuse(self, rc, kept, cairn_ledger_store_size(store));
        return rc;
    }
    cairn_ledger_head_t head;
    cairn_ledger_store_head(store, &head);
    (void)cairn_mkdir_parent(self->path, 0700); /* a failed write says why */
    cairn_ledger_cpfile_offer(self, head.note, head.note_len, head.size);
    if (found && head.size == kept) { /* the file holds it already */
        free(self->note);
        self->note = NULL;
    }
    s_flush(self);
    if ((rc = pthread_create(&self->thread, NULL, s_run, self)) != 0) {
        CAIRN_ERROR("cannot start ledger", "error=%s", cairn_log_quote(strerror(rc)));
        return -rc;
    }
    self->started = true;
    return 0;
}

void cairn_ledger_cpfile_offer(cairn_ledger_cpfile_t *self, const char *note, size_t len,
                               uint64_t size)
{
    if (!self->path || !note)
        return;
    pthread_mutex_lock(&self->lock);
    if (!self->offered || size > self->size) {
        char *copy = malloc(len);
        if (copy) { /* without memory, the next one offered is kept instead */
            memcpy(copy, note, len);
            free(self->note);
            self->note = copy;
            self->note_len = len;
            self->size = size;
            self->offered = true;
        }
    }
    pthread_mutex_unlock(&self->lock);
}
