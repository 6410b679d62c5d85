/* Bytes of a ledger's LMDB file flipped on disk, one at a time, and the
 * offline verifier run over each damaged copy: a sample of one byte in
 * every 64, at a position that moves from block to block, over every page
 * of a store that uses every database (keys, releases, changes, holds'
 * absence, several batches).
 *
 * The verifier must never die, and whenever it passes, every database must
 * read back exactly as before: the flip hit space LMDB does not use. The
 * exception is LMDB's two root (meta) pages: a flip there can make LMDB
 * open the previous transaction, a log that is consistent but shorter; only
 * a checkpoint kept outside the store reveals that (`cairn log
 * consistency`), so there the verifier must only not die. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"
#include "layout.h"
#include "store.h"
#include "testutil.h"
#include "verify.h"

#define S_BLOCK 64
#define S_DBS 10

static const char *s_names[S_DBS] = {"entries", "checkpoints", "vkeys", "entry_keys", "lookup",
                                     "heads",   "times",       "holds", "purged",     "meta"};

/* SHA-256 over every row of each database, read with cursors; a database
 * that cannot be walked to its end gets a digest of 0xee bytes. Returns -1
 * when the environment cannot be opened. */
static int s_digest(const char *dir, uint8_t out[S_DBS][32])
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    if (mdb_env_create(&env) != 0)
        return -1;
    if (mdb_env_set_maxdbs(env, CAIRN_LEDGER_MAX_DBS) != 0 ||
        mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
        mdb_env_close(env);
        return -1;
    }
    for (int d = 0; d < S_DBS; d++) {
        uint8_t acc[32] = {0};
        MDB_dbi dbi;
        MDB_cursor *cur = NULL;
        MDB_val k, v;
        int rc = mdb_dbi_open(txn, s_names[d], 0, &dbi);
        if (rc == 0)
            rc = mdb_cursor_open(txn, dbi, &cur);
        for (rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : rc; rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uint8_t h[32];
            cairn_sha256_2(k.mv_data, k.mv_size, v.mv_data, v.mv_size, h);
            cairn_sha256_2(acc, sizeof acc, h, sizeof h, acc);
        }
        if (cur)
            mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
            memset(acc, 0xee, sizeof acc);
        memcpy(out[d], acc, 32);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}

/* Runs fn(dir) in a child; returns its exit status, or 100 + the signal
 * that ended it. */
static int s_in_child(int (*fn)(const char *dir, const void *arg), const char *dir, const void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The test runner's handlers would catch a crash and go on in the child. */
        const int crashes[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
        for (size_t i = 0; i < sizeof crashes / sizeof *crashes; i++)
            signal(crashes[i], SIG_DFL);
        alarm(30);
        _exit(fn(dir, arg));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* 0 verified, 1 a finding naming an entry, 2 a finding naming none, 3 the
 * check could not run. */
static int s_verify(const char *dir, const void *arg)
{
    (void)arg;
    cairn_ledger_verify_report_t rep;
    int rc = cairn_ledger_verify(dir, NULL, &rep);
    if (rc == 0)
        return 0;
    if (rc == CAIRN_EINTEGRITY)
        return rep.has_bad_index ? 1 : 2;
    return 3;
}

/* 0 when every database reads back as in arg (the digests of the intact
 * file), else 1 + the first that does not, 20 when none can be read. */
static int s_same(const char *dir, const void *arg)
{
    const uint8_t(*orig)[32] = arg;
    uint8_t now[S_DBS][32];
    if (s_digest(dir, now) != 0)
        return 20;
    for (int d = 0; d < S_DBS; d++)
        if (memcmp(now[d], orig[d], 32) != 0)
            return 1 + d;
    return 0;
}

static void test_no_flipped_byte_passes_unnoticed_or_stops_the_verifier(void **state)
{
    (void)state;
    char dir[64], path[96];
    lt_mkdtemp(dir, "cairn-ledger-flip");
    cairn_note_signer_t *signer = lt_signer(LT_ORIGIN, 3);
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(dir, LT_MAP_SIZE, LT_ORIGIN, signer, &store), 0);
    for (int i = 0; i < 4; i++)
        lt_append_batch(store, 5, i % 2 ? "CHG-1" : "CHG-2");
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    for (int i = 0; i < 4; i++) {
        char key[16], id[16];
        snprintf(key, sizeof key, "k-%d", i);
        snprintf(id, sizeof id, "r%d", i);
        cairn_ledger_append_t r = lt_append_in(store, key, "CHG-3", "REL-1", id, 1764107400000 + i);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(store), 0);
    cairn_ledger_store_destroy(&store);

    uint8_t orig[S_DBS][32];
    assert_int_equal(s_digest(dir, orig), 0);
    assert_int_equal(s_in_child(s_verify, dir, NULL), 0);
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    long page = sysconf(_SC_PAGESIZE), counts[4] = {0};
    for (off_t block = 0; block * S_BLOCK < st.st_size; block++) {
        off_t off = block * S_BLOCK + (block * 29) % S_BLOCK;
        uint8_t b, flipped;
        assert_int_equal(pread(fd, &b, 1, off), 1);
        flipped = b ^ (uint8_t)(1u << (block % 8));
        assert_int_equal(pwrite(fd, &flipped, 1, off), 1);
        int verdict = s_in_child(s_verify, dir, NULL);
        if (verdict < 0 || verdict > 3) {
            fail_msg("the verifier died (status %d) on the byte at %ld flipped", verdict,
                     (long)off);
            break;
        }
        counts[verdict]++;
        if (verdict == 0 && off >= 2 * page) {
            int same = s_in_child(s_same, dir, orig);
            if (same != 0)
                fail_msg("the verifier passed a file whose %s changed (the byte at %ld flipped)",
                         same <= S_DBS ? s_names[same - 1] : "databases", (long)off);
        }
        assert_int_equal(pwrite(fd, &b, 1, off), 1);
    }
    close(fd);
    /* The sample reaches the log: many flips are found, most named by entry. */
    print_message("%ld flips: %ld unnoticed (unused space), %ld named an entry, %ld another "
                  "finding, %ld refused to open\n",
                  counts[0] + counts[1] + counts[2] + counts[3], counts[0], counts[1], counts[2],
                  counts[3]);
    assert_true(counts[1] > 20);
    assert_int_equal(s_in_child(s_verify, dir, NULL), 0);
    cairn_note_signer_destroy(&signer);
    lt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_flipped_byte_passes_unnoticed_or_stops_the_verifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
