/* The notify daemon's durable delivery state (see outbox.h): one LMDB
 * database of string keys holding big-endian u64 values. */
#include "outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"

/* The state is tiny (a few dozen bytes per notification); LMDB maps lazily. */
#define S_MAP_SIZE ((size_t)256 * 1024 * 1024)
#define S_DB_NAME "notify"
#define S_KEY_NEXT "next"

struct cairn_notify_outbox_t {
    MDB_env *env; /* the LMDB environment at notify.state_path */
    MDB_dbi dbi;  /* the "notify" database */
};

/* "<kind>:<receiver>:<index>"; CAIRN_EINVALID when it does not fit. */
static int s_key(char *buf, size_t len, const char *kind, const char *receiver, uint64_t index)
{
    int n = snprintf(buf, len, "%s:%s:%" PRIu64, kind, receiver, index);
    return (n < 0 || (size_t)n >= len) ? CAIRN_EINVALID : 0;
}

int cairn_notify_outbox_open(const char *dir, cairn_notify_outbox_t **out)
{
    cairn_notify_outbox_t *self = NULL;
    MDB_txn *txn = NULL;
    int rc;

    self = calloc(1, sizeof(*self));
    if (!self)
        return -ENOMEM;
    rc = cairn_lmdb_open(dir, S_MAP_SIZE, 2, &self->env);
    if (rc < 0)
        goto out;
    rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        goto out;
    rc = cairn_lmdb_code(mdb_dbi_open(txn, S_DB_NAME, MDB_CREATE, &self->dbi));
    if (rc < 0)
        goto out;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    if (txn)
        mdb_txn_abort(txn);
    cairn_notify_outbox_destroy(&self);
    return rc;
}

void cairn_notify_outbox_destroy(cairn_notify_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_notify_outbox_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

int cairn_notify_outbox_next(cairn_notify_outbox_t *self, uint64_t *out)
{
    MDB_txn *txn = NULL;
    uint64_t next = 0;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_get_u64(txn, self->dbi, S_KEY_NEXT, &next);
    mdb_txn_abort(txn);
    if (rc == CAIRN_ENOTFOUND) {
        next = 0;
        rc = 0;
    }
    if (rc == 0)
        *out = next;
    return rc;
}

int cairn_notify_outbox_set_next(cairn_notify_outbox_t *self, uint64_t next)
{
    MDB_txn *txn = NULL;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_put_u64(txn, self->dbi, S_KEY_NEXT, next);
    if (rc < 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return cairn_lmdb_code(mdb_txn_commit(txn));
}

int cairn_notify_outbox_mark(cairn_notify_outbox_t *self, const char *receiver, uint64_t index,
                             cairn_notify_mark_t *out)
{
    char sent[256], written[256];
    MDB_txn *txn = NULL;
    uint64_t value = 0;
    cairn_notify_mark_t mark = CAIRN_NOTIFY_MARK_NONE;
    int rc;

    if ((rc = s_key(sent, sizeof(sent), "sent", receiver, index)) < 0 ||
        (rc = s_key(written, sizeof(written), "written", receiver, index)) < 0)
        return rc;
    rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_get_u64(txn, self->dbi, sent, &value);
    if (rc == 0) {
        mark = CAIRN_NOTIFY_MARK_SENT;
        goto out;
    }
    if (rc != CAIRN_ENOTFOUND)
        goto out;
    rc = cairn_lmdb_get_u64(txn, self->dbi, written, &value);
    if (rc == 0)
        mark = CAIRN_NOTIFY_MARK_WRITTEN;
    else if (rc == CAIRN_ENOTFOUND)
        rc = 0;
out:
    mdb_txn_abort(txn);
    if (rc == 0)
        *out = mark;
    return rc;
}

int cairn_notify_outbox_mark_written(cairn_notify_outbox_t *self, const char *receiver,
                                     uint64_t index)
{
    char written[256];
    MDB_txn *txn = NULL;
    int rc = s_key(written, sizeof(written), "written", receiver, index);
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_put_u64(txn, self->dbi, written, 1);
    if (rc < 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return cairn_lmdb_code(mdb_txn_commit(txn));
}

int cairn_notify_outbox_commit_sent(cairn_notify_outbox_t *self, const char *receiver,
                                    uint64_t index, bool advance)
{
    char sent[256], written[256];
    MDB_txn *txn = NULL;
    MDB_val key;
    int rc;

    if ((rc = s_key(sent, sizeof(sent), "sent", receiver, index)) < 0 ||
        (rc = s_key(written, sizeof(written), "written", receiver, index)) < 0)
        return rc;
    rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_put_u64(txn, self->dbi, sent, 1);
    if (rc < 0)
        goto out;
    key.mv_data = written;
    key.mv_size = strlen(written);
    rc = mdb_del(txn, self->dbi, &key, NULL);
    rc = (rc == MDB_NOTFOUND) ? 0 : cairn_lmdb_code(rc);
    if (rc < 0)
        goto out;
    if (advance) {
        rc = cairn_lmdb_put_u64(txn, self->dbi, S_KEY_NEXT, index + 1);
        if (rc < 0)
            goto out;
    }
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
out:
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}
