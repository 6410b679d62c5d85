/* The full, read-only integrity check of a ledger directory: one pass over
 * the entries in index order, rebuilding the tree from their leaves in a
 * 64-slot frontier and comparing every stored hash and checkpoint against it. */
#include "verify.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "layout.h"
#include "verify_index.h"

/* State of one verification. */
typedef struct {
    cairn_ledger_view_t view;             /* the read transaction */
    cairn_ledger_verify_report_t *report; /* what is found */
    char *origin;                         /* the log's origin (meta) */
    cairn_note_verifier_t **verifiers;    /* keys checkpoints may be signed with */
    size_t n_verifiers;                   /* how many */
    uint8_t stack[64][CAIRN_HASH_BYTES];  /* frontier: perfect subtree hashes, left to right */
    unsigned levels[64];                  /* level of each frontier hash */
    size_t depth;                         /* frontier hashes in use */
    MDB_cursor *cps;                      /* cursor over checkpoints */
    MDB_cursor *entries;                  /* cursor over entries */
    bool cp_more;                         /* cps points at a checkpoint not yet checked */
    MDB_val cp_key, cp_val;               /* that checkpoint */
    uint64_t last_cp;                     /* size of the last checkpoint checked */
    cairn_ledger_index_check_t *index;    /* the derived databases' check */
    cairn_ledger_index_finding_t why;     /* what it found */
} s_verify_t;

static int s_fail(s_verify_t *st, bool has_index, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(s_verify_t *st, bool has_index, uint64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->report->reason, sizeof st->report->reason, fmt, ap);
    va_end(ap);
    st->report->has_bad_index = has_index;
    st->report->bad_index = index;
    return CAIRN_EINTEGRITY;
}

/* Root of the frontier (the tree of the leaves seen so far). */
static void s_root(const s_verify_t *st, uint8_t out[CAIRN_HASH_BYTES])
{
    if (st->depth == 0) {
        cairn_merkle_empty_root(out);
        return;
    }
    memcpy(out, st->stack[st->depth - 1], CAIRN_HASH_BYTES);
    for (size_t i = st->depth - 1; i-- > 0;)
        cairn_merkle_node_hash(st->stack[i], out, out);
}

static int s_load_verifiers(s_verify_t *st, const char *vkey)
{
    MDB_cursor *cur = NULL;
    int rc = 0;
    if (vkey) {
        if (!(st->verifiers = calloc(1, sizeof *st->verifiers)))
            return -ENOMEM;
        if (cairn_note_verifier_parse(vkey, &st->verifiers[0]) < 0) {
            snprintf(st->report->reason, sizeof st->report->reason,
                     "the given vkey does not parse");
            return CAIRN_EINVALID;
        }
        st->n_verifiers = 1;
        return 0;
    }
    if ((rc = cairn_lmdb_code(mdb_cursor_open(st->view.txn, st->view.db->vkeys, &cur))) < 0)
        return rc;
    MDB_val k, v;
    for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *text = strndup(k.mv_data, k.mv_size);
        cairn_note_verifier_t **grown =
            realloc(st->verifiers, (st->n_verifiers + 1) * sizeof *grown);
        if (!text || !grown) {
            free(text);
            if (grown)
                st->verifiers = grown;
            rc = -ENOMEM;
            break;
        }
        st->verifiers = grown;
        if (cairn_note_verifier_parse(text, &st->verifiers[st->n_verifiers]) == 0)
            st->n_verifiers++;
        free(text);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Checks the checkpoint under the cursor against the frontier (the tree of
 * `size` leaves), then moves to the next one. */
static int s_check_checkpoint(s_verify_t *st, uint64_t size)
{
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    uint8_t root[CAIRN_HASH_BYTES];
    int rc = CAIRN_ENOTFOUND;
    uint64_t last = size ? size - 1 : 0;
    for (size_t i = 0; i < st->n_verifiers && rc == CAIRN_ENOTFOUND; i++) {
        cairn_checkpoint_clear(&cp);
        rc = cairn_checkpoint_open(st->cp_val.mv_data, st->cp_val.mv_size, st->verifiers[i],
                                   st->origin, &cp);
    }
    if (rc < 0) {
        cairn_checkpoint_clear(&cp);
        return s_fail(st, size > 0, last, "checkpoint of size %" PRIu64 " %s", size,
                      rc == CAIRN_ENOTFOUND ? "is not signed by a known key"
                                            : "has a signature or format that does not verify");
    }
    s_root(st, root);
    bool ok = cp.size == size && sodium_memcmp(cp.root, root, CAIRN_HASH_BYTES) == 0;
    cairn_checkpoint_clear(&cp);
    if (!ok)
        return s_fail(st, size > 0, last,
                      "checkpoint of size %" PRIu64 " does not match the tree recomputed from "
                      "the leaves",
                      size);
    st->report->checkpoints++;
    st->last_cp = size;
    int mrc = mdb_cursor_get(st->cps, &st->cp_key, &st->cp_val, MDB_NEXT);
    st->cp_more = mrc == 0;
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return cairn_lmdb_code(mrc);
    if (st->cp_more && st->cp_key.mv_size != 8)
        return s_fail(st, false, 0, "a checkpoint key is not an 8-byte size");
    return 0;
}

/* Checkpoints whose size is the number of leaves seen so far. */
static int s_checkpoints_at(s_verify_t *st, uint64_t size)
{
    int rc = 0;
    while (rc == 0 && st->cp_more && cairn_key_to_u64(st->cp_key.mv_data) == size)
        rc = s_check_checkpoint(st, size);
    if (rc == 0 && st->cp_more && cairn_key_to_u64(st->cp_key.mv_data) < size)
        rc = s_fail(st, false, 0, "checkpoints are out of order");
    return rc;
}

/* A finding of the derived databases' check, in the report. */
static int s_index_found(s_verify_t *st, int rc)
{
    if (rc == CAIRN_EINTEGRITY)
        return s_fail(st, st->why.has_index, st->why.index, "%s", st->why.reason);
    return rc;
}

/* Checks the entry's payload against the digest its leaf names; an entry
 * without one must have been purged. */
static int s_check_payload(s_verify_t *st, uint64_t index, const cairn_leaf_t *leaf,
                           const cairn_ledger_record_parts_t *r)
{
    uint8_t kb[8], digest[CAIRN_HASH_BYTES];
    if (!r->payload) {
        cairn_u64_to_key(index, kb);
        MDB_val k = {8, kb}, v;
        int mrc = mdb_get(st->view.txn, st->view.db->purged, &k, &v);
        if (mrc == 0) {
            st->report->purged++;
            return 0;
        }
        if (mrc != MDB_NOTFOUND)
            return cairn_lmdb_code(mrc);
        return s_fail(st, true, index, "entry %" PRIu64 ": payload is missing and was not purged",
                      index);
    }
    cairn_sha256(r->payload, r->payload_len, digest);
    if (sodium_memcmp(digest, leaf->payload_sha256, CAIRN_HASH_BYTES) != 0)
        return s_fail(st, true, index,
                      "entry %" PRIu64 ": payload does not hash to the digest in its leaf", index);
    st->report->payloads++;
    return 0;
}

/* Adds leaf index to the frontier, checking each hash it completes against
 * the ones its record holds (level 1 up). */
static int s_add_leaf(s_verify_t *st, uint64_t index, const cairn_ledger_record_parts_t *r,
                      const uint8_t lh[CAIRN_HASH_BYTES])
{
    memcpy(st->stack[st->depth], lh, CAIRN_HASH_BYTES);
    st->levels[st->depth++] = 0;
    while (st->depth >= 2 && st->levels[st->depth - 1] == st->levels[st->depth - 2]) {
        unsigned level = st->levels[st->depth - 1] + 1;
        cairn_merkle_node_hash(st->stack[st->depth - 2], st->stack[st->depth - 1],
                               st->stack[st->depth - 2]);
        st->levels[st->depth - 2] = level;
        st->depth--;
        const uint8_t *stored = r->hashes + (size_t)level * CAIRN_HASH_BYTES;
        if (level >= r->n_hashes ||
            sodium_memcmp(stored, st->stack[st->depth - 1], CAIRN_HASH_BYTES) != 0) {
            uint64_t first = (index >> level) << level;
            return s_fail(st, true, first,
                          "stored tree hash of entries %" PRIu64 "..%" PRIu64
                          " (level %u) %s the one recomputed from the leaves",
                          first, index, level,
                          level >= r->n_hashes ? "is missing; it should be" : "differs from");
        }
    }
    return 0;
}

/* Checks entry index, whose record the entries cursor is on (key, val). */
static int s_check_leaf(s_verify_t *st, uint64_t index, const MDB_val *key, const MDB_val *val)
{
    cairn_ledger_record_parts_t r;
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    uint8_t lh[CAIRN_HASH_BYTES];
    /* Entries are keyed 0, 1, 2, ... with nothing in between. */
    if (key->mv_size != 8 || cairn_key_to_u64(key->mv_data) < index)
        return s_fail(st, true, index,
                      "entry %" PRIu64 ": the entries database holds a key out of order before it",
                      index);
    if (cairn_key_to_u64(key->mv_data) > index)
        return s_fail(st, true, index, "entry %" PRIu64 ": record is missing", index);
    int rc = cairn_ledger_record_parse(index, val, &r);
    if (rc == CAIRN_EINTEGRITY)
        return s_fail(st, true, index,
                      "entry %" PRIu64 ": record header does not match its bytes or its index",
                      index);
    if (rc < 0)
        return rc;
    cairn_merkle_leaf_hash(r.leaf, r.leaf_len, lh);
    if (sodium_memcmp(r.hashes, lh, CAIRN_HASH_BYTES) != 0)
        return s_fail(st, true, index,
                      "entry %" PRIu64 ": leaf bytes do not hash to the stored leaf hash", index);
    if (cairn_leaf_parse(r.leaf, r.leaf_len, &leaf) < 0)
        return s_fail(st, true, index, "entry %" PRIu64 ": leaf does not parse", index);
    if (leaf.index != index || strcmp(leaf.origin, st->origin) != 0)
        rc = s_fail(st, true, index, "entry %" PRIu64 ": leaf names index %" PRIu64 " of origin %s",
                    index, leaf.index, leaf.origin);
    else
        rc = s_check_payload(st, index, &leaf, &r);
    if (rc == 0)
        rc = s_index_found(st, cairn_ledger_index_check_entry(st->index, index, &leaf, &st->why));
    cairn_leaf_clear(&leaf);
    if (rc == 0)
        rc = s_add_leaf(st, index, &r, lh);
    return rc;
}

/* The check runs in a child process (cairn_ledger_verify), which sends
 * back what it found through a pipe. */
typedef struct {
    int rc;                              /* what s_verify returned */
    cairn_ledger_verify_report_t report; /* what it found */
} s_result_t;

static int s_result_fd = -1;                      /* in the child: the pipe */
static cairn_ledger_verify_report_t *s_reporting; /* in the child: its report so far */

static void s_send(int fd, const s_result_t *r)
{
    const char *p = (const char *)r;
    size_t left = sizeof *r;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        left -= (size_t)n;
    }
}

/* LMDB checks its B-tree as it reads and aborts the process when a page
 * does not hold together. A damaged file is what the verifier is for: in
 * the child, the damage is sent back as the finding before it stops. */
static void s_on_lmdb_assert(MDB_env *env, const char *msg)
{
    (void)env;
    if (s_result_fd < 0)
        return;
    s_result_t r;
    memset(&r, 0, sizeof r);
    if (s_reporting)
        r.report = *s_reporting;
    r.rc = CAIRN_EINTEGRITY;
    r.report.has_bad_index = false;
    snprintf(r.report.reason, sizeof r.report.reason,
             "the database file is damaged: its B-tree does not hold together (LMDB: %.300s)", msg);
    s_send(s_result_fd, &r);
    _exit(0);
}

/* Opens the store read-only; in the checking child, an LMDB assertion is
 * reported as damage (s_on_lmdb_assert). */
static int s_open_env(const char *dir, bool in_child, MDB_env **env_out)
{
    MDB_env *env = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, CAIRN_LEDGER_MAX_DBS);
    if (rc == 0 && in_child)
        rc = mdb_env_set_assert(env, s_on_lmdb_assert);
    if (rc == 0) {
        rc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
        /* A copy on read-only media has no writable lock file. */
        if (rc == EACCES || rc == EROFS)
            rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
    }
    if (rc != 0) {
        mdb_env_close(env);
        return cairn_lmdb_code(rc);
    }
    *env_out = env;
    return 0;
}

static int s_walk(s_verify_t *st)
{
    int rc = 0;
    MDB_val k = {strlen(CAIRN_LEDGER_META_ORIGIN), CAIRN_LEDGER_META_ORIGIN}, v;
    if (mdb_get(st->view.txn, st->view.db->meta, &k, &v) != 0)
        return s_fail(st, false, 0, "the log records no origin");
    if (!(st->origin = strndup(v.mv_data, v.mv_size)))
        return -ENOMEM;
    uint64_t size = 0;
    rc = cairn_lmdb_get_u64(st->view.txn, st->view.db->meta, CAIRN_LEDGER_META_SIZE, &size);
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return rc;
    st->report->size = size;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(st->view.txn, st->view.db->checkpoints, &st->cps))) <
        0)
        return rc;
    int mrc = mdb_cursor_get(st->cps, &st->cp_key, &st->cp_val, MDB_FIRST);
    st->cp_more = mrc == 0;
    if (st->cp_more && st->cp_key.mv_size != 8)
        return s_fail(st, false, 0, "a checkpoint key is not an 8-byte size");
    if ((rc = s_checkpoints_at(st, 0)) < 0)
        return rc;
    if ((rc = cairn_ledger_index_check_new(&st->view, size, &st->index)) < 0 ||
        (rc = cairn_lmdb_code(mdb_cursor_open(st->view.txn, st->view.db->entries, &st->entries))) <
            0)
        return rc;
    /* One walk in key order, which also finds a key where none belongs. */
    mrc = mdb_cursor_get(st->entries, &k, &v, MDB_FIRST);
    for (uint64_t i = 0; i < size; i++) {
        if (mrc == MDB_NOTFOUND)
            return s_fail(st, true, i, "entry %" PRIu64 ": record is missing", i);
        if (mrc != 0)
            return cairn_lmdb_code(mrc);
        if ((rc = s_check_leaf(st, i, &k, &v)) < 0 || (rc = s_checkpoints_at(st, i + 1)) < 0)
            return rc;
        mrc = mdb_cursor_get(st->entries, &k, &v, MDB_NEXT);
    }
    if (st->cp_more)
        return s_fail(st, true, size,
                      "a checkpoint of size %" PRIu64 " is beyond the log's %" PRIu64 " entries",
                      cairn_key_to_u64(st->cp_key.mv_data), size);
    if (st->report->checkpoints == 0)
        return s_fail(st, false, 0, "the log holds no signed checkpoint");
    if (mrc == 0)
        return s_fail(st, true, size, "entries exist beyond the log's %" PRIu64 " entries", size);
    if (mrc != MDB_NOTFOUND)
        return cairn_lmdb_code(mrc);
    /* Every batch signs its size, so the last checkpoint is the log's. */
    if (st->last_cp != size)
        return s_fail(st, true, st->last_cp,
                      "entries %" PRIu64 "..%" PRIu64 " are covered by no signed checkpoint",
                      st->last_cp, size - 1);
    if ((rc = s_index_found(st, cairn_ledger_rows_counted(&st->view, st->view.db->entries,
                                                          "entries", size, &st->why))) < 0 ||
        (rc = s_index_found(st, cairn_ledger_rows_counted(&st->view, st->view.db->checkpoints,
                                                          "checkpoints", st->report->checkpoints,
                                                          &st->why))) < 0)
        return rc;
    return s_index_found(
        st, cairn_ledger_index_check_finish(st->index, st->origin, st->report->purged, &st->why));
}

static int s_verify(const char *dir, const char *vkey, cairn_ledger_verify_report_t *out)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    cairn_ledger_dbs_t dbs;
    s_verify_t st;
    memset(&st, 0, sizeof st);
    memset(out, 0, sizeof *out);
    st.report = out;
    s_reporting = out;
    int rc = sodium_init() < 0 ? CAIRN_ECRYPTO : 0;
    if (rc == 0)
        rc = s_open_env(dir, true, &env);
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    /* The layout version first, so an older store is named as such. */
    bool missing = false;
    if (rc == 0 && mdb_dbi_open(txn, "meta", 0, &dbs.meta) == 0 &&
        cairn_ledger_layout_check(txn, &dbs, &missing) == CAIRN_ECONFIG) {
        rc = CAIRN_ECONFIG;
        snprintf(out->reason, sizeof out->reason,
                 "%s was written in another storage layout than this version reads (%d)", dir,
                 CAIRN_LEDGER_LAYOUT_VERSION);
    }
    if (rc == 0 && (rc = cairn_ledger_layout_open(txn, false, &dbs)) < 0)
        snprintf(out->reason, sizeof out->reason, "%s is not a ledger store: %s", dir,
                 cairn_strerror(rc));
    if (rc == 0) {
        st.view = (cairn_ledger_view_t){txn, &dbs, (size_t)mdb_env_get_maxkeysize(env)};
        rc = s_load_verifiers(&st, vkey);
    }
    if (rc == 0)
        rc = s_walk(&st);
    if (rc < 0 && !out->reason[0])
        snprintf(out->reason, sizeof out->reason, "cannot verify %s: %s", dir, cairn_strerror(rc));
    if (st.cps)
        mdb_cursor_close(st.cps);
    if (st.entries)
        mdb_cursor_close(st.entries);
    cairn_ledger_index_check_destroy(&st.index);
    for (size_t i = 0; i < st.n_verifiers; i++)
        cairn_note_verifier_destroy(&st.verifiers[i]);
    free(st.verifiers);
    free(st.origin);
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return rc;
}

/* Reads exactly len bytes unless the writer goes away first. */
static size_t s_read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* The check runs in a child process, so that a file damaged in a way that
 * stops LMDB (or anything else the check reads) stops the child, not the
 * caller, and is reported as damage. */
int cairn_ledger_verify(const char *dir, const char *vkey, cairn_ledger_verify_report_t *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0) {
        int rc = -errno;
        snprintf(out->reason, sizeof out->reason, "cannot verify %s: %s", dir, cairn_strerror(rc));
        return rc;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        s_result_fd = fds[1];
        s_result_t r;
        memset(&r, 0, sizeof r);
        r.rc = s_verify(dir, vkey, &r.report);
        s_send(fds[1], &r);
        _exit(0);
    }
    int rc = pid < 0 ? -errno : 0;
    close(fds[1]);
    s_result_t r;
    size_t got = rc == 0 ? s_read_all(fds[0], &r, sizeof r) : 0;
    close(fds[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        snprintf(out->reason, sizeof out->reason, "cannot verify %s: %s", dir, cairn_strerror(rc));
        return rc;
    }
    if (got == sizeof r) {
        *out = r.report;
        return r.rc;
    }
    snprintf(out->reason, sizeof out->reason,
             "the check of %s stopped before it finished (%s %d); the database file may be "
             "damaged",
             dir, WIFSIGNALED(status) ? "signal" : "exit status",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return CAIRN_EINTEGRITY;
}

int cairn_ledger_verify_kept(const char *dir, const char *file, cairn_ledger_verify_report_t *out)
{
    char *note = NULL;
    size_t len = 0;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    int rc = cairn_read_file(file, 65536, &note, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        snprintf(out->reason, sizeof out->reason, "cannot read the checkpoint file %s: %s", file,
                 cairn_strerror(rc));
        return rc;
    }
    /* The signed text ends at the note's blank line. */
    const char *blank = strstr(note, "\n\n");
    if (!blank || cairn_checkpoint_parse(note, (size_t)(blank - note) + 1, &cp) < 0) {
        rc = CAIRN_EINTEGRITY;
        snprintf(out->reason, sizeof out->reason,
                 "the checkpoint file %s holds no checkpoint note; move it away if it is not "
                 "this log's",
                 file);
        goto out;
    }
    out->has_kept = true;
    out->kept_size = cp.size;
    cairn_ledger_dbs_t dbs;
    uint8_t kb[8];
    MDB_val k = {8, kb}, v;
    cairn_u64_to_key(cp.size, kb);
    uint64_t size = 0;
    if ((rc = s_open_env(dir, false, &env)) < 0 ||
        (rc = cairn_lmdb_code(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) < 0 ||
        (rc = cairn_ledger_layout_open(txn, false, &dbs)) < 0 ||
        (rc = cairn_lmdb_get_u64(txn, dbs.meta, CAIRN_LEDGER_META_SIZE, &size)) < 0) {
        snprintf(out->reason, sizeof out->reason, "cannot read %s: %s", dir, cairn_strerror(rc));
        goto out;
    }
    int mrc = mdb_get(txn, dbs.checkpoints, &k, &v);
    rc = CAIRN_EINTEGRITY;
    if (mrc == MDB_NOTFOUND && cp.size > size)
        out->kept_ahead = true, rc = 0; /* behind it: nothing to compare */
    else if (mrc != 0 || v.mv_size != len || memcmp(v.mv_data, note, len) != 0)
        snprintf(out->reason, sizeof out->reason,
                 "the store is not the one the checkpoint of %" PRIu64
                 " entries kept in %s signed: it was replaced or altered",
                 cp.size, file);
    else
        rc = 0;
out:
    cairn_checkpoint_clear(&cp);
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    free(note);
    return rc;
}
