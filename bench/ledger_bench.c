/* ledger_bench: measures the ledger against its raw building blocks on the
 * same machine, in one run, and prints the ratios.
 *
 * Raw steps: durable LMDB commits (one entry per write transaction, and N
 * entries per transaction), SHA-256 of a leaf, one Ed25519 signature of a
 * checkpoint, and the "raw limit": a durable LMDB commit of N entries with N
 * leaf hashes and one signature per commit, which is the least work a
 * signed, durable batch of N appends can cost. Also a ZeroMQ DEALER->ROUTER
 * round trip over ipc:// carrying an append's bytes.
 *
 * Then it starts the real cairn-ledger daemon in a temporary directory and
 * appends realistic event records: one synchronous client, K synchronous
 * clients, and a pipelined load generator (DEALER sockets with many
 * requests in flight; the ledger answers each connection in order, so
 * replies are matched to requests first-in first-out) flat out and open
 * loop at fixed rates, timing append -> checked receipt. It times inclusion
 * proofs at random indexes through the daemon and in-process over the same
 * store, and the export of a change with many entries and its offline
 * verification (cairn_bundle_verify).
 *
 * Between the two, the ledger's own store code (store.h) appends the same
 * records in this process, N entries per batch into a store of its own: the
 * raw limit's work plus the ledger's layout, indexes and checkpoint,
 * without the daemon. The records are decoded, packed and digested before
 * the timing, as the daemon does it on its loop thread before its writer.
 *
 * The raw one-entry commit, the round trip and the one-client appends run
 * interleaved, and so do the raw limit, the in-process store and the
 * flat-out appends, so a slow spell of a shared machine hits both sides of
 * a ratio alike.
 *
 * Every append must be acknowledged as a new entry with a receipt (a sample
 * of receipts is verified against the log's key), every proof and the
 * bundle must verify, and the sizes of the ledger and of the in-process
 * store must match at the end; otherwise the benchmark exits 1. See
 * bench/README.md. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/bundle.h"
#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/ledger_batch.h"
#include "cairn/lmdbx.h"
#include "cairn/merkle.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "layout.h"
#include "store.h"

/* ZeroMQ round trips per --count operation: they are cheap, so take more. */
#define S_ZMQ_FACTOR 10
/* Same map size as the ledger's default. */
#define S_MAP_SIZE (1024ull * 1024 * 1024)
/* Longest wait for any ledger reply (an export of many entries gets more). */
#define S_CALL_TIMEOUT_MS 10000
#define S_EXPORT_TIMEOUT_MS 120000
/* Longest wait for the daemon to answer its first request. */
#define S_START_TIMEOUT_MS 10000
/* Rounds the head-to-head steps are interleaved in. */
#define S_ROUNDS 5
/* Operations made before measuring, so the first ones pay no warm-up. */
#define S_WARMUP_APPENDS 50
/* Changes the benchmark's events are spread over. */
#define S_CHANGES 100
/* The change the export step fills. */
#define S_EXPORT_CHANGE "CHG-EXPORT"
/* Exports and verifications timed (the row's p50 is their median). */
#define S_EXPORT_ROUNDS 3
/* One receipt in this many is verified by the load generator. */
#define S_RECEIPT_SAMPLE 500
/* Most paced rates and generator connections. */
#define S_RATES_MAX 4
#define S_CONNS_MAX 64
/* The log origin the daemon signs with (its default). */
#define S_ORIGIN "cairn.local/ledger"

#define S_NS_PER_S 1000000000ull
#define S_NS_PER_MS 1000000ull
/* Longest --dir: the ledger's socket path below it must fit sockaddr_un. */
#define S_BASE_MAX 60
/* Most --set options passed on to cairn-ledger. */
#define S_SETS_MAX 16

typedef struct {
    uint64_t count;          /* operations per step (sequential and raw steps) */
    int clients;             /* synchronous clients in the group-commit step */
    uint64_t appends;        /* appends in the pipelined flat-out step */
    int batch;               /* entries per commit in the raw-limit and in-process store steps */
    int sockets;             /* load generator connections */
    int window;              /* requests in flight per connection, flat out */
    int batch_requests;      /* appends per append_batch request flat out; 0 = no such step */
    int seconds;             /* length of each paced step */
    int rates[S_RATES_MAX];  /* appends per second of the paced steps */
    int n_rates;             /* how many */
    uint64_t export_entries; /* entries of the exported change */
    uint64_t proofs;         /* inclusion proofs per proof step */
    char bin[PATH_MAX];      /* directory holding cairn-ledger */
    char base[PATH_MAX];     /* where the temporary directory is made */
    char *sets[S_SETS_MAX];  /* --set section.key=value for cairn-ledger (argv strings) */
    int n_sets;              /* how many */
} s_options_t;

/* Latencies of one step, in nanoseconds. */
typedef struct {
    uint64_t *ns; /* one per operation */
    size_t n;     /* recorded */
    size_t cap;   /* allocated */
} s_samples_t;

/* One line of the result table. */
typedef struct {
    const char *name;  /* what was measured */
    uint64_t ops;      /* operations counted in the rate */
    double rate;       /* operations per second */
    double p50_us;     /* median latency of one timed unit */
    double p99_us;     /* 99th percentile */
    const char *unit;  /* what one timed unit is */
    double cpu_us;     /* CPU time per operation of the process doing the work; < 0 unknown */
    double per_commit; /* operations per durable commit; 0 when not a commit step */
} s_row_t;

enum {
    S_ROW_COMMIT,
    S_ROW_BATCH,
    S_ROW_SHA,
    S_ROW_SIGN,
    S_ROW_RAW,
    S_ROW_STORE,
    S_ROW_ZMQ,
    S_ROW_SEQ,
    S_ROW_CONC,
    S_ROW_FLAT,
    S_ROW_FLAT_BATCH,
    S_ROW_PACED,
    S_ROW_PROVE_DAEMON = S_ROW_PACED + S_RATES_MAX,
    S_ROW_PROVE_LOCAL,
    S_ROW_EXPORT,
    S_ROW_VERIFY,
    S_ROWS
};

static s_row_t s_rows[S_ROWS];

/* Sizes of one realistic append, measured from real encodings. */
typedef struct {
    size_t request; /* packed LedgerRequest */
    size_t record;  /* packed Record: the payload */
    size_t leaf;    /* leaf text (cairn.ledger/entry/v1) */
    size_t reply;   /* ack reply with its receipt */
} s_sizes_t;

static int s_append_request(uint64_t seq, const char *change, uint8_t **buf_out, size_t *len_out);

/* --ids random: event ids (and so idempotency keys) in no order, like UUIDs,
 * instead of bench-<sequence number>. */
static bool s_random_ids;

/* The running ledger daemon. */
typedef struct {
    pid_t pid;                /* child process */
    char data_dir[PATH_MAX];  /* its cairn.data_dir */
    char api[PATH_MAX + 16];  /* bus.ledger_api endpoint */
    char log_path[PATH_MAX];  /* its stderr */
    atomic_uint_fast64_t seq; /* next event sequence number = appends requested so far */
} s_ledger_t;

/* snprintf that reports truncation: 0, or -1 when out did not fit. */
static int s_fmt(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* CPU time this process has used (all threads), in nanoseconds. */
static uint64_t s_self_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int s_samples_init(s_samples_t *s, size_t cap)
{
    s->ns = malloc((cap ? cap : 1) * sizeof *s->ns);
    s->n = 0;
    s->cap = cap;
    return s->ns ? 0 : -ENOMEM;
}

static void s_samples_add(s_samples_t *s, uint64_t ns)
{
    if (s->n < s->cap)
        s->ns[s->n++] = ns;
}

static void s_samples_free(s_samples_t *s)
{
    free(s->ns);
    memset(s, 0, sizeof *s);
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in microseconds; sorts the samples. */
static double s_percentile_us(s_samples_t *s, double p)
{
    if (s->n == 0)
        return 0.0;
    qsort(s->ns, s->n, sizeof *s->ns, s_cmp_u64);
    size_t rank = (size_t)(p * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->ns[rank - 1] / 1000.0;
}

static void s_row_set(int id, const char *name, uint64_t ops, uint64_t elapsed_ns, s_samples_t *s,
                      const char *unit)
{
    s_row_t *r = &s_rows[id];
    r->name = name;
    r->ops = ops;
    r->rate = elapsed_ns ? (double)ops * 1e9 / (double)elapsed_ns : 0.0;
    r->p50_us = s_percentile_us(s, 0.50);
    r->p99_us = s_percentile_us(s, 0.99);
    r->unit = unit;
    r->cpu_us = -1.0;
    r->per_commit = 0.0;
}

/* CPU per operation of a step, in microseconds, from two readings. */
static void s_row_cpu(int id, uint64_t cpu_before, uint64_t cpu_after)
{
    s_row_t *r = &s_rows[id];
    if (cpu_before && cpu_after >= cpu_before && r->ops)
        r->cpu_us = (double)(cpu_after - cpu_before) / 1000.0 / (double)r->ops;
}

/* A step measured in chunks (interleaved with other steps): samples, time
 * and CPU add up over its chunks. */
typedef struct {
    s_samples_t samples; /* one latency per timed unit */
    uint64_t ops;        /* operations counted in the rate */
    uint64_t elapsed_ns; /* time spent in the step's chunks */
    uint64_t cpu_ns;     /* CPU of the process doing the work, in the chunks */
    uint64_t commits;    /* durable commits made in the chunks (0 = not known) */
} s_acc_t;

static void s_acc_add(s_acc_t *acc, uint64_t ops, uint64_t elapsed_ns, uint64_t cpu_ns)
{
    if (!acc)
        return;
    acc->ops += ops;
    acc->elapsed_ns += elapsed_ns;
    acc->cpu_ns += cpu_ns;
}

/* Fills a table row from an accumulated step and frees its samples. */
static void s_row_from(int id, const char *name, s_acc_t *acc, const char *unit)
{
    s_row_set(id, name, acc->ops, acc->elapsed_ns, &acc->samples, unit);
    s_row_cpu(id, 1, 1 + acc->cpu_ns);
    if (acc->commits)
        s_rows[id].per_commit = (double)acc->ops / (double)acc->commits;
    s_samples_free(&acc->samples);
}

/* ---- raw LMDB ---------------------------------------------------------- */

static int s_lmdb_fail(const char *what, int mrc)
{
    fprintf(stderr, "ledger_bench: lmdb %s: %s\n", what, mdb_strerror(mrc));
    return -1;
}

/* Opens an environment the way the ledger does: default flags, so every
 * commit is flushed to disk before it returns. */
static int s_lmdb_open(const char *dir, MDB_env **env_out, MDB_dbi *dbi_out, MDB_dbi *cp_out)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int mrc;
    if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "ledger_bench: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if ((mrc = mdb_env_create(&env)) != 0)
        return s_lmdb_fail("env_create", mrc);
    if ((mrc = mdb_env_set_maxdbs(env, 4)) != 0 ||
        (mrc = mdb_env_set_mapsize(env, S_MAP_SIZE)) != 0 ||
        (mrc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0 ||
        (mrc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
        (mrc = mdb_dbi_open(txn, "entries", MDB_CREATE, dbi_out)) != 0 ||
        (mrc = mdb_dbi_open(txn, "checkpoints", MDB_CREATE, cp_out)) != 0 ||
        (mrc = mdb_txn_commit(txn)) != 0) {
        if (txn)
            mdb_txn_abort(txn);
        mdb_env_close(env);
        return s_lmdb_fail("open", mrc);
    }
    *env_out = env;
    return 0;
}

static void s_be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* The raw steps' own store: entry-sized values under growing 8-byte keys,
 * and, for the raw limit, a leaf to hash per entry and a key to sign with. */
typedef struct {
    MDB_env *env;                                 /* its own environment */
    MDB_dbi dbi;                                  /* entries */
    MDB_dbi cp_dbi;                               /* signatures, one per commit of the raw limit */
    uint64_t next;                                /* next key */
    uint8_t *value;                               /* one entry: leaf and payload bytes (random) */
    size_t value_len;                             /* its length */
    uint8_t *leaf;                                /* what the raw limit hashes per entry */
    size_t leaf_len;                              /* its length */
    char checkpoint[256];                         /* what the raw limit signs per commit */
    size_t checkpoint_len;                        /* its length */
    unsigned char *sk;                            /* Ed25519 secret key (sodium_malloc) */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES]; /* its public key */
} s_raw_t;

static int s_raw_open(s_raw_t *p, const char *tmp, const char *name, const s_sizes_t *sz)
{
    char dir[PATH_MAX];
    uint8_t root[CAIRN_HASH_BYTES];
    p->value_len = sz->leaf + sz->record;
    p->leaf_len = sz->leaf;
    if (!(p->value = malloc(p->value_len)) || !(p->leaf = malloc(p->leaf_len)) ||
        !(p->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)))
        return -1;
    randombytes_buf(p->value, p->value_len);
    randombytes_buf(p->leaf, p->leaf_len);
    randombytes_buf(root, sizeof root);
    crypto_sign_keypair(p->pk, p->sk);
    char b64[sodium_base64_ENCODED_LEN(CAIRN_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, root, sizeof root, sodium_base64_VARIANT_ORIGINAL);
    if (s_fmt(p->checkpoint, sizeof p->checkpoint, "%s\n%d\n%s\n", S_ORIGIN, 123456789, b64) < 0)
        return -1;
    p->checkpoint_len = strlen(p->checkpoint);
    if (s_fmt(dir, sizeof dir, "%s/%s", tmp, name) < 0)
        return -1;
    return s_lmdb_open(dir, &p->env, &p->dbi, &p->cp_dbi);
}

static void s_raw_close(s_raw_t *p)
{
    if (p->env)
        mdb_env_close(p->env);
    p->env = NULL;
    free(p->value);
    free(p->leaf);
    if (p->sk)
        sodium_free(p->sk);
    p->value = p->leaf = NULL;
    p->sk = NULL;
}

/* n write transactions of `puts` entries each; with `work`, each entry's
 * leaf is hashed (SHA-256, as a Merkle leaf) and each commit signs one
 * checkpoint, the raw limit. acc (NULL for warm-up) gets one sample per
 * commit and `puts` operations per commit. */
static int s_raw_chunk(s_raw_t *p, uint64_t n, int puts, bool work, s_acc_t *acc)
{
    uint8_t sig[crypto_sign_BYTES];
    uint64_t cpu = s_self_cpu_ns(), start = s_now_ns();
    for (uint64_t c = 0; c < n; c++) {
        MDB_txn *txn = NULL;
        uint64_t t = s_now_ns();
        int mrc = mdb_txn_begin(p->env, NULL, 0, &txn);
        if (mrc != 0)
            return s_lmdb_fail("txn_begin", mrc);
        for (int i = 0; i < puts; i++) {
            uint8_t kb[8];
            s_be64(p->next++, kb);
            memcpy(p->leaf, kb, sizeof kb);
            memcpy(p->value, kb, sizeof kb); /* every value differs a little */
            if (work) /* the hash goes into the stored value, as a leaf hash is stored */
                cairn_merkle_leaf_hash(p->leaf, p->leaf_len, p->value + sizeof kb);
            MDB_val k = {sizeof kb, kb}, v = {p->value_len, p->value};
            if ((mrc = mdb_put(txn, p->dbi, &k, &v, MDB_APPEND)) != 0) {
                mdb_txn_abort(txn);
                return s_lmdb_fail("put", mrc);
            }
        }
        if (work) {
            /* A new text each time, as each commit has a new size and root. */
            for (size_t i = 0; i < 4; i++)
                p->checkpoint[strlen(S_ORIGIN) + 1 + i] = (char)('1' + p->value[8 + i] % 9);
            crypto_sign_detached(sig, NULL, (const unsigned char *)p->checkpoint, p->checkpoint_len,
                                 p->sk);
            uint8_t ck[8];
            s_be64(p->next, ck);
            MDB_val k = {sizeof ck, ck}, v = {sizeof sig, sig};
            if ((mrc = mdb_put(txn, p->cp_dbi, &k, &v, MDB_APPEND)) != 0) {
                mdb_txn_abort(txn);
                return s_lmdb_fail("put", mrc);
            }
        }
        if ((mrc = mdb_txn_commit(txn)) != 0)
            return s_lmdb_fail("commit", mrc);
        if (acc) {
            s_samples_add(&acc->samples, s_now_ns() - t);
            acc->commits++;
        }
    }
    s_acc_add(acc, n * (uint64_t)puts, s_now_ns() - start, s_self_cpu_ns() - cpu);
    return 0;
}

/* SHA-256 of a leaf as the tree hashes it, one at a time. */
static int s_bench_sha(const s_options_t *o, const s_sizes_t *sz)
{
    static char name[64];
    uint8_t *leaf = malloc(sz->leaf), out[CAIRN_HASH_BYTES];
    s_samples_t s = {0};
    uint64_t n = o->count * S_ZMQ_FACTOR;
    int rc = -1;
    if (!leaf || s_samples_init(&s, n) < 0)
        goto out;
    randombytes_buf(leaf, sz->leaf);
    uint64_t cpu = s_self_cpu_ns(), start = s_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        memcpy(leaf, &i, sizeof i);
        uint64_t t = s_now_ns();
        cairn_merkle_leaf_hash(leaf, sz->leaf, out);
        s_samples_add(&s, s_now_ns() - t);
        leaf[8] ^= out[0];
    }
    snprintf(name, sizeof name, "sha256, leaf %zu B", sz->leaf);
    s_row_set(S_ROW_SHA, name, n, s_now_ns() - start, &s, "hash");
    s_row_cpu(S_ROW_SHA, cpu, s_self_cpu_ns());
    rc = 0;
out:
    free(leaf);
    s_samples_free(&s);
    return rc;
}

/* One Ed25519 signature of a checkpoint-sized text at a time. */
static int s_bench_sign(const s_options_t *o, s_raw_t *p)
{
    static char name[64];
    unsigned char sig[crypto_sign_BYTES];
    s_samples_t s = {0};
    if (s_samples_init(&s, o->count) < 0)
        return -1;
    uint64_t cpu = s_self_cpu_ns(), start = s_now_ns();
    for (uint64_t i = 0; i < o->count; i++) {
        p->checkpoint[strlen(S_ORIGIN) + 1] = (char)('1' + i % 9);
        uint64_t t = s_now_ns();
        crypto_sign_detached(sig, NULL, (const unsigned char *)p->checkpoint, p->checkpoint_len,
                             p->sk);
        s_samples_add(&s, s_now_ns() - t);
    }
    snprintf(name, sizeof name, "ed25519 sign, checkpoint %zu B", p->checkpoint_len);
    s_row_set(S_ROW_SIGN, name, o->count, s_now_ns() - start, &s, "signature");
    s_row_cpu(S_ROW_SIGN, cpu, s_self_cpu_ns());
    s_samples_free(&s);
    if (crypto_sign_verify_detached(sig, (const unsigned char *)p->checkpoint, p->checkpoint_len,
                                    p->pk) != 0) {
        fprintf(stderr, "ledger_bench: ed25519 signature does not verify\n");
        return -1;
    }
    return 0;
}
/* ---- raw ZeroMQ -------------------------------------------------------- */

/* The echo server thread's side. */
typedef struct {
    void *ctx;            /* shared context */
    const char *endpoint; /* where the ROUTER binds */
    size_t reply_len;     /* bytes of each reply */
    int rc;               /* -1 failed, 1 serving, 0 ended cleanly */
    pthread_mutex_t lock; /* guards bound */
    pthread_cond_t cond;  /* signalled once bound */
    bool bound;           /* the ROUTER is bound (or failed to) */
} s_echo_t;

/* ROUTER answering [id][empty][payload] with [id][empty][reply_len bytes],
 * until a request with an empty payload. */
static void *s_echo_run(void *arg)
{
    s_echo_t *e = arg;
    void *router = zmq_socket(e->ctx, ZMQ_ROUTER);
    uint8_t *reply = calloc(1, e->reply_len);
    int linger = 0;
    if (router)
        zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    bool ok = router && reply && zmq_bind(router, e->endpoint) == 0;
    pthread_mutex_lock(&e->lock);
    e->bound = true;
    e->rc = ok ? 1 : -1;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
    while (ok) {
        zmq_msg_t id, empty, body;
        zmq_msg_init(&id);
        zmq_msg_init(&empty);
        zmq_msg_init(&body);
        bool framed = zmq_msg_recv(&id, router, 0) >= 0 && zmq_msg_more(&id) &&
                      zmq_msg_recv(&empty, router, 0) >= 0 && zmq_msg_more(&empty) &&
                      zmq_msg_recv(&body, router, 0) >= 0 && !zmq_msg_more(&body);
        bool stop = zmq_msg_size(&body) == 0;
        bool sent = framed && zmq_msg_send(&id, router, ZMQ_SNDMORE) >= 0 &&
                    zmq_send(router, "", 0, ZMQ_SNDMORE) >= 0 &&
                    zmq_send(router, reply, e->reply_len, 0) >= 0;
        zmq_msg_close(&id);
        zmq_msg_close(&empty);
        zmq_msg_close(&body);
        if (!sent || stop) {
            e->rc = sent ? 0 : -1;
            break;
        }
    }
    free(reply);
    if (router)
        zmq_close(router);
    return NULL;
}

/* A DEALER client and an echoing ROUTER thread, carrying an append's bytes
 * out and an ack's bytes back. */
typedef struct {
    void *ctx;                    /* libzmq context of both ends */
    void *dealer;                 /* client socket */
    char endpoint[PATH_MAX + 16]; /* ipc:// under the temporary directory */
    s_echo_t echo;                /* the server thread's state */
    pthread_t thread;             /* the server thread */
    bool opened;                  /* s_rtt_open ran (lock and cond exist) */
    bool started;                 /* thread was started */
    const uint8_t *req;           /* request payload */
    size_t req_len;               /* its bytes */
} s_rtt_t;

/* One round trip: [empty][req] out, [empty][reply] back. */
static int s_zmq_call(void *dealer, const void *req, size_t len)
{
    char buf[4096];
    if (zmq_send(dealer, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(dealer, req, len, 0) < 0)
        return -1;
    int more = 0;
    size_t more_len = sizeof more;
    if (zmq_recv(dealer, buf, sizeof buf, 0) != 0)
        return -1;
    if (zmq_getsockopt(dealer, ZMQ_RCVMORE, &more, &more_len) != 0 || !more)
        return -1;
    return zmq_recv(dealer, buf, sizeof buf, 0) < 0 ? -1 : 0;
}

static int s_rtt_open(s_rtt_t *z, const char *tmp, const uint8_t *req, size_t req_len,
                      size_t reply_len)
{
    int linger = 0, timeout = S_CALL_TIMEOUT_MS;
    z->req = req;
    z->req_len = req_len;
    pthread_mutex_init(&z->echo.lock, NULL);
    pthread_cond_init(&z->echo.cond, NULL);
    z->opened = true;
    if (s_fmt(z->endpoint, sizeof z->endpoint, "ipc://%s/zmq-rtt.sock", tmp) < 0 ||
        !(z->ctx = zmq_ctx_new()))
        goto fail;
    z->echo.ctx = z->ctx;
    z->echo.endpoint = z->endpoint;
    z->echo.reply_len = reply_len;
    if (pthread_create(&z->thread, NULL, s_echo_run, &z->echo) != 0)
        goto fail;
    z->started = true;
    pthread_mutex_lock(&z->echo.lock);
    while (!z->echo.bound)
        pthread_cond_wait(&z->echo.cond, &z->echo.lock);
    pthread_mutex_unlock(&z->echo.lock);
    if (z->echo.rc < 0 || !(z->dealer = zmq_socket(z->ctx, ZMQ_DEALER)))
        goto fail;
    zmq_setsockopt(z->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (zmq_connect(z->dealer, z->endpoint) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "ledger_bench: cannot set up the zeromq round trip: %s\n",
            zmq_strerror(zmq_errno()));
    return -1;
}

/* Stops the echo thread (politely when it is healthy) and frees everything. */
static void s_rtt_close(s_rtt_t *z)
{
    if (!z->opened)
        return;
    bool stopped = z->dealer && s_zmq_call(z->dealer, "", 0) == 0;
    if (z->dealer)
        zmq_close(z->dealer);
    z->dealer = NULL;
    if (z->started) {
        if (!stopped)
            zmq_ctx_shutdown(z->ctx); /* unblocks the echo loop */
        pthread_join(z->thread, NULL);
        z->started = false;
    }
    if (z->ctx)
        zmq_ctx_term(z->ctx);
    z->ctx = NULL;
    pthread_mutex_destroy(&z->echo.lock);
    pthread_cond_destroy(&z->echo.cond);
    z->opened = false;
}

static int s_rtt_chunk(s_rtt_t *z, uint64_t n, s_acc_t *acc)
{
    uint64_t cpu = s_self_cpu_ns(), start = s_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = s_now_ns();
        if (s_zmq_call(z->dealer, z->req, z->req_len) < 0) {
            fprintf(stderr, "ledger_bench: zeromq round trip failed: %s\n",
                    zmq_strerror(zmq_errno()));
            return -1;
        }
        if (acc)
            s_samples_add(&acc->samples, s_now_ns() - t);
    }
    s_acc_add(acc, n, s_now_ns() - start, s_self_cpu_ns() - cpu);
    return 0;
}

/* ---- ledger requests ---------------------------------------------------- */

/* A packed LedgerRequest appending a test-report event like ingest makes:
 * CloudEvents context, correlation, governance and evidence. The change is
 * one of S_CHANGES unless given. */
static int s_append_request(uint64_t seq, const char *change, uint8_t **buf_out, size_t *len_out)
{
    char id[48], subject[32], spread[32], key[96], commit[41], sha[65], data[96];
    uint8_t digest[32];

    if (s_random_ids) {
        /* 32 hex digits that look random but are the same in every run, as
         * delivery and event ids (UUIDs) are. */
        uint8_t seed[8];
        char hex[65];
        cairn_u64_to_key(seq, seed);
        crypto_hash_sha256(digest, seed, sizeof seed);
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        snprintf(id, sizeof id, "%.32s", hex);
    } else {
        snprintf(id, sizeof id, "bench-%" PRIu64, seq);
    }
    snprintf(spread, sizeof spread, "CHG-%" PRIu64, seq % S_CHANGES);
    snprintf(subject, sizeof subject, "suite-%" PRIu64, seq);
    snprintf(key, sizeof key, "ce:/ci/acme/payments\n%s", id);
    snprintf(data, sizeof data,
             "{\"testsuite\":\"unit\",\"passed\":412,\"failed\":0,\"run\":%" PRIu64 "}", seq);
    crypto_hash_sha256(digest, (const uint8_t *)id, strlen(id));
    sodium_bin2hex(sha, sizeof sha, digest, sizeof digest);
    memcpy(commit, sha, 40);
    commit[40] = '\0';

    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    corr.repository = "acme/payments";
    corr.commit_sha = commit;
    corr.change_id = (char *)(change ? change : spread);
    corr.environment = "prod";
    corr.service = "payments";
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    gov.actor = "ci-bot";
    gov.author = "dana";
    Cairn__V1__Evidence ev = CAIRN__V1__EVIDENCE__INIT;
    ev.kind = "test_report";
    ev.outcome = "success";
    ev.tests_passed = 412;
    Cairn__V1__Event event = CAIRN__V1__EVENT__INIT;
    event.id = id;
    event.source = "/ci/acme/payments";
    event.spec_version = "1.0";
    event.type = "dev.cdevents.testsuiterun.finished.0.2.0";
    event.subject = subject;
    event.time = "2026-11-25T10:00:00Z";
    event.data_content_type = "application/json";
    event.data.data = (uint8_t *)data;
    event.data.len = strlen(data);
    event.correlation = &corr;
    event.governance = &gov;
    event.evidence = &ev;
    event.ingest_source = "cloudevents";
    event.received_at_ms = 1795600800000 + (int64_t)seq;
    event.body_sha256 = sha;
    Cairn__V1__Record record = CAIRN__V1__RECORD__INIT;
    record.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    record.event = &event;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    append.key = key;
    append.record = &record;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;
    return cairn_codec_pack(&req.base, buf_out, len_out);
}

/* The sizes of a typical append: its request, payload, leaf (as the ledger
 * would write it for an entry deep in a large log) and its ack. */
static int s_measure_sizes(s_sizes_t *out)
{
    uint8_t *buf = NULL, *record = NULL;
    size_t len = 0, record_len = 0;
    char *text = NULL, *receipt = NULL;
    size_t text_len = 0, receipt_len = 0;
    Cairn__V1__LedgerRequest *req = NULL;
    int rc = s_append_request(1234567, NULL, &buf, &len);
    if (rc == 0)
        rc = cairn_codec_ledger_request_unpack(buf, len, &req);
    if (rc == 0)
        rc = cairn_codec_pack(&req->append->record->base, &record, &record_len);
    if (rc < 0)
        goto out;
    cairn_leaf_t leaf = {
        .origin = S_ORIGIN,
        .index = 1234567,
        .topic = req->append->record->event->type,
        .has_key = true,
        .change = (char *)cairn_codec_record_change(req->append->record),
        .has_prev = true,
        .prev = 1234467,
        .time_ms = 1795600800123,
    };
    crypto_hash_sha256(leaf.key_sha256, (const uint8_t *)req->append->key,
                       strlen(req->append->key));
    crypto_hash_sha256(leaf.payload_sha256, record, record_len);
    if ((rc = cairn_leaf_format(&leaf, &text, &text_len)) < 0)
        goto out;
    /* An ack for a log of ~1.2M entries: 21 proof hashes and a signed note. */
    uint8_t proof[21 * CAIRN_HASH_BYTES] = {0}, hash[CAIRN_HASH_BYTES] = {0};
    char note[256];
    snprintf(note, sizeof note,
             "%s\n1234568\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\xe2\x80\x94 %s "
             "ZnrN7kGKw4iqy6Dmb6mpAucesa+JCvyrfl+Ti5uUmToL5rE9LldvhQYciis0RuxtjiZJ0rsPy0qHu8euL/4/"
             "AOjb2wE=\n",
             S_ORIGIN, S_ORIGIN);
    if ((rc = cairn_tlog_proof_format(NULL, 0, 1234567, proof, 21, note, strlen(note), &receipt,
                                      &receipt_len)) < 0)
        goto out;
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    Cairn__V1__LedgerReply rep = CAIRN__V1__LEDGER_REPLY__INIT;
    ack.index = 1234567;
    ack.hash.data = hash;
    ack.hash.len = sizeof hash;
    ack.tlog_proof = receipt;
    ack.checkpoint_size = 1234568;
    rep.ack = &ack;
    rep.size = 1234568;
    out->request = len;
    out->record = record_len;
    out->leaf = text_len;
    out->reply = protobuf_c_message_get_packed_size(&rep.base);
out:
    CAIRN_CODEC_FREE(&req);
    free(buf);
    free(record);
    free(text);
    free(receipt);
    return rc;
}

/* Sends one packed request and unpacks the reply; a non-zero status is the
 * return code. */
static int s_call(cairn_client_t *client, const uint8_t *req, size_t len, int timeout_ms,
                  Cairn__V1__LedgerReply **rep_out)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    Cairn__V1__LedgerReply *rep = NULL;
    int rc = cairn_client_call(client, req, len, timeout_ms, &reply, &reply_len);
    if (rc == 0)
        rc = cairn_codec_ledger_reply_unpack(reply, reply_len, &rep);
    free(reply);
    if (rc == 0 && rep->status != 0) {
        fprintf(stderr, "ledger_bench: the ledger answered %d: %s\n", (int)rep->status, rep->error);
        rc = rep->status;
    }
    if (rc < 0)
        CAIRN_CODEC_FREE(&rep);
    else
        *rep_out = rep;
    return rc;
}

/* Checks that an ack acknowledges a new entry with a receipt. */
static bool s_ack_ok(const Cairn__V1__LedgerReply *rep)
{
    const Cairn__V1__AppendAck *a = rep->ack;
    return a && !a->duplicate && a->hash.len == CAIRN_HASH_BYTES && a->tlog_proof &&
           a->tlog_proof[0] && a->checkpoint_size > a->index;
}

/* Sends one packed append; checks that it was acknowledged as a new entry. */
static int s_call_append(cairn_client_t *client, const uint8_t *req, size_t len)
{
    Cairn__V1__LedgerReply *rep = NULL;
    int rc = s_call(client, req, len, S_CALL_TIMEOUT_MS, &rep);
    if (rc == 0 && !s_ack_ok(rep))
        rc = CAIRN_EPROTO;
    CAIRN_CODEC_FREE(&rep);
    return rc;
}

/* head{}: the number of entries, or a negative code. */
static int s_call_head(cairn_client_t *client, int timeout_ms, uint64_t *size_out)
{
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *rep = NULL;
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    req.head = &head;
    int rc = cairn_codec_pack(&req.base, &buf, &len);
    if (rc == 0)
        rc = cairn_client_call(client, buf, len, timeout_ms, &reply, &reply_len);
    if (rc == 0)
        rc = cairn_codec_ledger_reply_unpack(reply, reply_len, &rep);
    if (rc == 0 && rep->status != 0)
        rc = rep->status;
    if (rc == 0)
        *size_out = rep->size;
    CAIRN_CODEC_FREE(&rep);
    free(buf);
    free(reply);
    return rc;
}

/* The latest signed checkpoint, opened with the vkey the ledger names
 * (*verifier_out is created on the first call and reused after). */
static int s_call_checkpoint(cairn_client_t *client, cairn_note_verifier_t **verifier,
                             cairn_checkpoint_t *cp_out)
{
    Cairn__V1__CheckpointRequest cpr = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *rep = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT;
    req.checkpoint = &cpr;
    int rc = cairn_codec_pack(&req.base, &buf, &len);
    if (rc == 0)
        rc = s_call(client, buf, len, S_CALL_TIMEOUT_MS, &rep);
    if (rc == 0 && (!rep->checkpoint || !rep->checkpoint->note || !rep->checkpoint->vkey))
        rc = CAIRN_EPROTO;
    if (rc == 0 && !*verifier)
        rc = cairn_note_verifier_parse(rep->checkpoint->vkey, verifier);
    if (rc == 0)
        rc = cairn_checkpoint_open(rep->checkpoint->note, strlen(rep->checkpoint->note), *verifier,
                                   NULL, cp_out);
    if (rc < 0)
        fprintf(stderr, "ledger_bench: cannot get a verified checkpoint: %s\n", cairn_strerror(rc));
    CAIRN_CODEC_FREE(&rep);
    free(buf);
    return rc;
}

/* Verifies a receipt (C2SP tlog-proof) against the log's key: the signed
 * checkpoint, and the inclusion of the acknowledged leaf hash in it. */
static int s_check_receipt(const cairn_note_verifier_t *verifier, const Cairn__V1__AppendAck *a)
{
    cairn_tlog_proof_t p;
    cairn_checkpoint_t cp;
    memset(&p, 0, sizeof p);
    memset(&cp, 0, sizeof cp);
    int rc = cairn_tlog_proof_parse(a->tlog_proof, strlen(a->tlog_proof), &p);
    if (rc == 0)
        rc = cairn_checkpoint_open(p.checkpoint, p.checkpoint_len, verifier, NULL, &cp);
    if (rc == 0 && (p.index != a->index || cp.size != a->checkpoint_size))
        rc = CAIRN_EINTEGRITY;
    if (rc == 0)
        rc = cairn_merkle_verify_inclusion(a->index, cp.size, a->hash.data, p.proof, p.proof_count,
                                           cp.root);
    cairn_tlog_proof_clear(&p);
    cairn_checkpoint_clear(&cp);
    return rc;
}

/* A client whose connection is already made, so no measured call pays for it. */
static int s_client_ready(const s_ledger_t *l, cairn_client_t **out)
{
    uint64_t size;
    cairn_client_t *c = cairn_client_new(l->api);
    if (!c)
        return -ENOMEM;
    int rc = s_call_head(c, S_CALL_TIMEOUT_MS, &size);
    if (rc < 0) {
        cairn_client_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Appends one fresh event, timed from just before the send to the checked ack. */
static int s_timed_append(s_ledger_t *l, cairn_client_t *c, uint64_t *ns_out)
{
    uint8_t *req = NULL;
    size_t len = 0;
    int rc = s_append_request(atomic_fetch_add(&l->seq, 1), NULL, &req, &len);
    if (rc < 0)
        return rc;
    uint64_t t = s_now_ns();
    rc = s_call_append(c, req, len);
    *ns_out = s_now_ns() - t;
    free(req);
    return rc;
}

/* Append requests packed ahead of a step, so the load generator only sends. */
typedef struct {
    uint8_t **buf; /* packed requests */
    size_t *len;   /* their lengths */
    size_t n;      /* how many */
    size_t per;    /* appends per request: 1 (append), or more (append_batch) */
} s_reqs_t;

static void s_reqs_free(s_reqs_t *r)
{
    for (size_t i = 0; r->buf && i < r->n; i++)
        free(r->buf[i]);
    free(r->buf);
    free(r->len);
    memset(r, 0, sizeof *r);
}

/* n fresh append requests (change as in s_append_request). */
static int s_reqs_build(s_ledger_t *l, size_t n, const char *change, s_reqs_t *out)
{
    memset(out, 0, sizeof *out);
    out->per = 1;
    if (!(out->buf = calloc(n ? n : 1, sizeof *out->buf)) ||
        !(out->len = calloc(n ? n : 1, sizeof *out->len))) {
        s_reqs_free(out);
        return -ENOMEM;
    }
    for (; out->n < n; out->n++) {
        int rc = s_append_request(atomic_fetch_add(&l->seq, 1), change, &out->buf[out->n],
                                  &out->len[out->n]);
        if (rc < 0) {
            s_reqs_free(out);
            return rc;
        }
    }
    return 0;
}

/* n fresh appends (at least), packed `per` to an append_batch request. */
static int s_reqs_build_batched(s_ledger_t *l, size_t n, size_t per, s_reqs_t *out)
{
    s_reqs_t singles;
    Cairn__V1__LedgerRequest **reqs = calloc(per, sizeof *reqs);
    const Cairn__V1__AppendRequest **appends = calloc(per, sizeof *appends);
    size_t n_reqs = (n + per - 1) / per;
    int rc = reqs && appends ? s_reqs_build(l, n_reqs * per, NULL, &singles) : -ENOMEM;
    if (rc < 0)
        goto out;
    memset(out, 0, sizeof *out);
    out->per = per;
    if (!(out->buf = calloc(n_reqs, sizeof *out->buf)) ||
        !(out->len = calloc(n_reqs, sizeof *out->len)))
        rc = -ENOMEM;
    for (; rc == 0 && out->n < n_reqs; out->n++) {
        for (size_t i = 0; rc == 0 && i < per; i++) {
            size_t k = out->n * per + i;
            if ((rc = cairn_codec_ledger_request_unpack(singles.buf[k], singles.len[k],
                                                        &reqs[i])) == 0)
                appends[i] = reqs[i]->append;
        }
        if (rc == 0)
            rc = cairn_ledger_batch_pack(appends, per, &out->buf[out->n], &out->len[out->n]);
        for (size_t i = 0; i < per; i++)
            CAIRN_CODEC_FREE(&reqs[i]);
    }
    s_reqs_free(&singles);
    if (rc < 0)
        s_reqs_free(out);
out:
    free(reqs);
    free(appends);
    return rc;
}

/* ---- the ledger daemon -------------------------------------------------- */

static int s_ledger_start(const s_options_t *o, const char *tmp, s_ledger_t *l)
{
    char exe[PATH_MAX + 32], set_api[PATH_MAX + 48], set_stream[PATH_MAX + 48];
    if (s_fmt(exe, sizeof exe, "%s/cairn-ledger", o->bin) < 0 ||
        s_fmt(l->data_dir, sizeof l->data_dir, "%s/ledger-data", tmp) < 0 ||
        s_fmt(l->log_path, sizeof l->log_path, "%s/ledger.log", tmp) < 0 ||
        s_fmt(l->api, sizeof l->api, "ipc://%s/run/ledger-api.sock", l->data_dir) < 0 ||
        s_fmt(set_api, sizeof set_api, "bus.ledger_api=%s", l->api) < 0 ||
        s_fmt(set_stream, sizeof set_stream, "bus.ledger_stream=ipc://%s/run/ledger-stream.sock",
              l->data_dir) < 0) {
        fprintf(stderr, "ledger_bench: paths under %s are too long\n", tmp);
        return -1;
    }
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "ledger_bench: cannot run %s: %s (build it, or pass --bin DIR)\n", exe,
                strerror(errno));
        return -1;
    }
    int log_fd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        fprintf(stderr, "ledger_bench: %s: %s\n", l->log_path, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* The daemon must not outlive an interrupted benchmark. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        char *argv[8 + 2 * S_SETS_MAX] = {exe,     "--data-dir", l->data_dir, "--set",
                                          set_api, "--set",      set_stream};
        for (int i = 0, n = 7; i < o->n_sets; i++) {
            argv[n++] = "--set";
            argv[n++] = o->sets[i];
        }
        execv(exe, argv);
        _exit(127);
    }
    close(log_fd);
    if (pid < 0) {
        fprintf(stderr, "ledger_bench: fork: %s\n", strerror(errno));
        return -1;
    }
    l->pid = pid;

    /* Ready once it answers head{}: the client reports the socket missing until bound. */
    cairn_client_t *c = cairn_client_new(l->api);
    uint64_t size = 0;
    int rc = -1;
    for (uint64_t deadline = s_now_ns() + S_START_TIMEOUT_MS * 1000000ull; c;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            l->pid = 0;
            fprintf(stderr, "ledger_bench: cairn-ledger exited during start (see %s)\n",
                    l->log_path);
            break;
        }
        if ((rc = s_call_head(c, 500, &size)) == 0)
            break;
        if (s_now_ns() > deadline) {
            fprintf(stderr, "ledger_bench: cairn-ledger did not answer within %d ms: %s\n",
                    S_START_TIMEOUT_MS, cairn_strerror(rc));
            break;
        }
        usleep(10000);
    }
    cairn_client_destroy(&c);
    if (rc == 0 && size != 0) {
        fprintf(stderr, "ledger_bench: the fresh ledger already holds %" PRIu64 " entries\n", size);
        rc = -1;
    }
    return rc;
}

/* A process's memory from /proc/<pid>/status, in KiB. */
typedef struct {
    long hwm;  /* VmHWM: peak resident set */
    long rss;  /* VmRSS: resident set now */
    long anon; /* RssAnon: heap, stacks, sockets' buffers */
    long file; /* RssFile: mapped files, LMDB's map among them */
} s_mem_t;

static int s_mem_kib(pid_t pid, s_mem_t *out)
{
    static const struct {
        const char *tag;
        size_t off;
    } fields[] = {{"VmHWM:", offsetof(s_mem_t, hwm)},
                  {"VmRSS:", offsetof(s_mem_t, rss)},
                  {"RssAnon:", offsetof(s_mem_t, anon)},
                  {"RssFile:", offsetof(s_mem_t, file)}};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    s_mem_t m = {-1, -1, -1, -1};
    while (fgets(line, sizeof line, f))
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (strncmp(line, fields[i].tag, strlen(fields[i].tag)) == 0)
                *(long *)((char *)&m + fields[i].off) =
                    strtol(line + strlen(fields[i].tag), NULL, 10);
    fclose(f);
    if (m.hwm < 0 || m.rss < 0)
        return CAIRN_EPARSE;
    *out = m;
    return 0;
}

/* CPU time (user + system) from a /proc stat file, in nanoseconds; 0 if unknown. */
static uint64_t s_stat_cpu_ns(const char *path)
{
    char buf[1024];
    unsigned long long utime = 0, stime = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15, counted after the command name, which may hold spaces. */
    const char *p = strrchr(buf, ')');
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    long tick = sysconf(_SC_CLK_TCK);
    return tick > 0 ? (utime + stime) * (S_NS_PER_S / (uint64_t)tick) : 0;
}

/* CPU time (user + system) a process has used, in nanoseconds; 0 if unknown. */
static uint64_t s_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return s_stat_cpu_ns(path);
}

/* CPU time of the daemon's thread named comm (the ledger's writer thread is
 * "ledger-writer"), in nanoseconds; 0 if there is no such thread. */
static uint64_t s_thread_cpu_ns(pid_t pid, const char *comm)
{
    char path[PATH_MAX], name[64];
    int tid = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while (tid == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(name, 1, sizeof name - 1, f);
        fclose(f);
        name[n] = '\0';
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, comm) == 0)
            tid = atoi(e->d_name);
    }
    closedir(d);
    if (tid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, tid);
    return s_stat_cpu_ns(path);
}

/* The appends and write transactions of the daemon's last counters line
 * (it logs one at stop). */
static int s_ledger_counters(const s_ledger_t *l, uint64_t *appends_out, uint64_t *batches_out)
{
    char line[1024];
    int rc = CAIRN_ENOTFOUND;
    FILE *f = fopen(l->log_path, "r");
    if (!f)
        return -errno;
    while (fgets(line, sizeof line, f)) {
        const char *a = strstr(line, " appends="), *b = strstr(line, " batches=");
        if (strstr(line, "msg=\"ledger counters\"") && a && b) {
            *appends_out = strtoull(a + 9, NULL, 10);
            *batches_out = strtoull(b + 9, NULL, 10);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* SIGTERM, then waits for a clean exit (0). */
static int s_ledger_stop(s_ledger_t *l)
{
    int status = 0;
    if (l->pid <= 0)
        return 0;
    kill(l->pid, SIGTERM);
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        pid_t w = waitpid(l->pid, &status, WNOHANG);
        if (w == l->pid) {
            l->pid = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
            fprintf(stderr, "ledger_bench: cairn-ledger stopped with status %d (see %s)\n", status,
                    l->log_path);
            return -1;
        }
        usleep(10000);
    }
    kill(l->pid, SIGKILL);
    waitpid(l->pid, &status, 0);
    l->pid = 0;
    fprintf(stderr, "ledger_bench: cairn-ledger did not stop on SIGTERM within 5 s\n");
    return -1;
}

/* ---- synchronous clients ------------------------------------------------ */

/* n appends from one client, one after the other; the daemon's CPU is read
 * from /proc around the chunk. */
static int s_seq_chunk(s_ledger_t *l, cairn_client_t *c, uint64_t n, s_acc_t *acc)
{
    uint64_t cpu = s_cpu_ns(l->pid), start = s_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ns;
        int rc = s_timed_append(l, c, &ns);
        if (rc < 0) {
            fprintf(stderr, "ledger_bench: sequential append failed: %s\n", cairn_strerror(rc));
            return rc;
        }
        if (acc)
            s_samples_add(&acc->samples, ns);
    }
    uint64_t elapsed = s_now_ns() - start, cpu_after = s_cpu_ns(l->pid);
    s_acc_add(acc, n, elapsed, cpu && cpu_after >= cpu ? cpu_after - cpu : 0);
    return 0;
}

/* The steps compared head to head with one client: plain one-entry LMDB
 * commits, ZeroMQ round trips and one-client ledger appends. They run in
 * S_ROUNDS rounds, each a slice of every step in a rotating order, so that
 * a slow spell of the shared disk or CPU hits all of them alike rather than
 * whichever step happened to be running. */
static int s_bench_one_client(const s_options_t *o, const char *tmp, s_ledger_t *l,
                              const s_sizes_t *sz)
{
    int rc = -1;
    s_raw_t plain = {0};
    s_rtt_t rtt = {0};
    cairn_client_t *c = NULL;
    uint8_t *req = NULL;
    size_t req_len = 0;
    s_acc_t acc[3];
    memset(acc, 0, sizeof acc);
    for (int i = 0; i < 3; i++)
        if (s_samples_init(&acc[i].samples, o->count * (i == 1 ? S_ZMQ_FACTOR : 1)) < 0)
            goto out;
    if (s_append_request(0, NULL, &req, &req_len) < 0 ||
        s_raw_open(&plain, tmp, "raw-commit", sz) < 0 ||
        s_rtt_open(&rtt, tmp, req, req_len, sz->reply) < 0)
        goto out;
    if ((rc = s_client_ready(l, &c)) < 0) {
        fprintf(stderr, "ledger_bench: cannot reach the ledger: %s\n", cairn_strerror(rc));
        goto out;
    }
    rc = -1;
    /* Warm-up: first pages of each file, connections, buffers. */
    if (s_raw_chunk(&plain, S_WARMUP_APPENDS, 1, false, NULL) < 0 ||
        s_rtt_chunk(&rtt, 100, NULL) < 0 || s_seq_chunk(l, c, S_WARMUP_APPENDS, NULL) < 0)
        goto out;
    for (uint64_t r = 0; r < S_ROUNDS; r++) {
        uint64_t n = o->count / S_ROUNDS + (r == S_ROUNDS - 1 ? o->count % S_ROUNDS : 0);
        for (uint64_t j = 0; j < 3; j++) {
            int step = (int)((r + j) % 3), src = 0;
            switch (step) {
            case 0: src = s_raw_chunk(&plain, n, 1, false, &acc[0]); break;
            case 1: src = s_rtt_chunk(&rtt, n * S_ZMQ_FACTOR, &acc[1]); break;
            default: src = s_seq_chunk(l, c, n, &acc[2]); break;
            }
            if (src < 0)
                goto out;
        }
    }
    s_row_from(S_ROW_COMMIT, "lmdb commit, 1 entry/txn", &acc[0], "commit");
    s_row_from(S_ROW_ZMQ, "zmq dealer->router rtt", &acc[1], "round trip");
    s_row_from(S_ROW_SEQ, "ledger append, 1 client", &acc[2], "append->receipt");
    rc = 0;
out:
    free(req);
    cairn_client_destroy(&c);
    s_rtt_close(&rtt);
    s_raw_close(&plain);
    for (int i = 0; i < 3; i++)
        s_samples_free(&acc[i].samples);
    return rc;
}

/* What the synchronous client threads share. */
typedef struct {
    s_ledger_t *ledger;        /* where to append */
    pthread_barrier_t barrier; /* all clients connected */
    uint64_t per_client;       /* appends each client makes */
    atomic_int failed;         /* first error of any client */
} s_shared_t;

/* One client thread: its own connection, its own samples. */
typedef struct {
    s_shared_t *shared;  /* the step */
    s_samples_t samples; /* latencies it measured */
    uint64_t end_ns;     /* when it finished */
    pthread_t thread;    /* the thread */
} s_worker_t;

static void s_fail(s_shared_t *sh, int rc)
{
    int zero = 0;
    atomic_compare_exchange_strong(&sh->failed, &zero, rc);
}

/* Flat out, one request in flight. */
static void *s_sync_client(void *arg)
{
    s_worker_t *w = arg;
    s_shared_t *sh = w->shared;
    cairn_client_t *c = NULL;
    int rc = s_client_ready(sh->ledger, &c);
    if (rc < 0)
        s_fail(sh, rc);
    pthread_barrier_wait(&sh->barrier);
    for (uint64_t i = 0; c && i < sh->per_client && atomic_load(&sh->failed) == 0; i++) {
        uint64_t ns;
        if ((rc = s_timed_append(sh->ledger, c, &ns)) < 0) {
            s_fail(sh, rc);
            break;
        }
        s_samples_add(&w->samples, ns);
    }
    w->end_ns = s_now_ns();
    cairn_client_destroy(&c);
    return NULL;
}

/* K synchronous clients share --count appends: what K daemons calling the
 * ledger one request at a time get from group commit. */
static int s_bench_sync_clients(const s_options_t *o, s_ledger_t *l)
{
    static char name[64];
    s_shared_t sh = {.ledger = l};
    s_samples_t all = {0};
    int n = o->clients;
    sh.per_client = (o->count + (uint64_t)n - 1) / (uint64_t)n;
    uint64_t total = sh.per_client * (uint64_t)n;
    s_worker_t *w = calloc((size_t)n, sizeof *w);
    if (!w || s_samples_init(&all, total) < 0 ||
        pthread_barrier_init(&sh.barrier, NULL, (unsigned)n + 1) != 0) {
        free(w);
        s_samples_free(&all);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        w[i].shared = &sh;
        if (s_samples_init(&w[i].samples, sh.per_client) < 0 ||
            pthread_create(&w[i].thread, NULL, s_sync_client, &w[i]) != 0) {
            /* Cannot release the barrier with fewer threads: give up hard. */
            fprintf(stderr, "ledger_bench: cannot start client thread\n");
            exit(1);
        }
    }
    uint64_t cpu = s_cpu_ns(l->pid);
    pthread_barrier_wait(&sh.barrier);
    uint64_t begin = s_now_ns(), end = begin;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].thread, NULL);
        if (w[i].end_ns > end)
            end = w[i].end_ns;
        for (size_t j = 0; j < w[i].samples.n; j++)
            s_samples_add(&all, w[i].samples.ns[j]);
        s_samples_free(&w[i].samples);
    }
    uint64_t cpu_after = s_cpu_ns(l->pid);
    pthread_barrier_destroy(&sh.barrier);
    free(w);
    int rc = atomic_load(&sh.failed);
    if (rc < 0) {
        fprintf(stderr, "ledger_bench: concurrent append failed: %s\n", cairn_strerror(rc));
    } else {
        snprintf(name, sizeof name, "ledger append, %d sync clients", n);
        s_row_set(S_ROW_CONC, name, total, end - begin, &all, "append->receipt");
        s_row_cpu(S_ROW_CONC, cpu, cpu_after);
    }
    s_samples_free(&all);
    return rc;
}

/* ---- the ledger's store, in-process ------------------------------------- */

/* Longest topic the in-process store step expects (its events' type is far
 * shorter). */
#define S_TOPIC_BYTES 128

/* The ledger's own store code appending the pipelined steps' records in
 * this process, with a signer of its own. Records are prepared a round at a
 * time, as the daemon's loop thread prepares them before its writer runs:
 * unpacked, the payload packed, the topic found and both digests taken. */
typedef struct {
    cairn_note_signer_t *signer;             /* signs the store's checkpoints */
    cairn_ledger_store_t *store;             /* in its own directory under the bench's */
    uint64_t next;                           /* event sequence number of the next record */
    Cairn__V1__LedgerRequest **reqs;         /* unpacked requests (recs point into them) */
    uint8_t **payloads;                      /* packed Record of each */
    char (*topics)[S_TOPIC_BYTES];           /* topic of each */
    uint8_t (*digests)[2][CAIRN_HASH_BYTES]; /* SHA-256 of each payload and key */
    cairn_ledger_record_t *recs;             /* what is appended */
    char **leaves;                           /* leaf each append returned */
    size_t cap;                              /* room for this many records */
    size_t n;                                /* records prepared */
} s_store_t;

/* Frees the prepared records and the entries their appends returned. */
static void s_store_release(s_store_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        CAIRN_CODEC_FREE(&s->reqs[i]);
        free(s->payloads[i]);
        free(s->leaves[i]);
        s->payloads[i] = NULL;
        s->leaves[i] = NULL;
    }
    s->n = 0;
}

static void s_store_close(s_store_t *s)
{
    if (s->reqs)
        s_store_release(s);
    cairn_ledger_store_destroy(&s->store);
    cairn_note_signer_destroy(&s->signer);
    free(s->reqs);
    free(s->payloads);
    free(s->topics);
    free(s->digests);
    free(s->recs);
    free(s->leaves);
    memset(s, 0, sizeof *s);
}

/* Opens a new store in tmp/name with room to prepare cap records at a time. */
static int s_store_open(s_store_t *s, const char *tmp, const char *name, size_t cap)
{
    char dir[PATH_MAX];
    int rc = -ENOMEM;
    memset(s, 0, sizeof *s);
    if (!(s->reqs = calloc(cap, sizeof *s->reqs)) ||
        !(s->payloads = calloc(cap, sizeof *s->payloads)) ||
        !(s->topics = calloc(cap, sizeof *s->topics)) ||
        !(s->digests = calloc(cap, sizeof *s->digests)) ||
        !(s->recs = calloc(cap, sizeof *s->recs)) || !(s->leaves = calloc(cap, sizeof *s->leaves)))
        goto out;
    s->cap = cap;
    if ((rc = s_fmt(dir, sizeof dir, "%s/%s", tmp, name) < 0 ? -ENAMETOOLONG : 0) < 0 ||
        (rc = cairn_note_signer_generate(S_ORIGIN, &s->signer)) < 0 ||
        (rc = cairn_ledger_store_open(dir, S_MAP_SIZE, S_ORIGIN, s->signer, &s->store)) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        fprintf(stderr, "ledger_bench: cannot open the in-process ledger store: %s\n",
                cairn_strerror(rc));
    return rc;
}

/* Prepares the next n records (up to cap) the way s_check_append and
 * s_append_one in the daemon do; appended_at_ms is set per commit. */
static int s_store_prepare(s_store_t *s, size_t n)
{
    int rc = 0;
    s_store_release(s);
    if (n > s->cap)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0, payload_len = 0;
        Cairn__V1__LedgerRequest *req = NULL;
        rc = s_append_request(s->next++, NULL, &buf, &len);
        if (rc == 0)
            rc = cairn_codec_ledger_request_unpack(buf, len, &req);
        free(buf);
        if (rc < 0)
            goto out;
        s->reqs[i] = req;
        s->n = i + 1;
        const Cairn__V1__AppendRequest *a = req->append;
        if (req->body_case != CAIRN__V1__LEDGER_REQUEST__BODY_APPEND || !a || !a->record ||
            !a->key || a->record->body_case != CAIRN__V1__RECORD__BODY_EVENT) {
            rc = CAIRN_EPROTO;
            goto out;
        }
        const Cairn__V1__Record *record = a->record;
        const Cairn__V1__Event *ev = record->event;
        if ((rc = cairn_codec_record_topic(record, s->topics[i], S_TOPIC_BYTES)) < 0 ||
            (rc = cairn_codec_pack(&record->base, &s->payloads[i], &payload_len)) < 0)
            goto out;
        cairn_sha256(s->payloads[i], payload_len, s->digests[i][0]);
        cairn_sha256(a->key, strlen(a->key), s->digests[i][1]);
        s->recs[i] = (cairn_ledger_record_t){
            .key = a->key,
            .topic = s->topics[i],
            .change_id = cairn_codec_record_change(record),
            .release_id = ev->correlation ? ev->correlation->release_id : NULL,
            .actors = {ev->governance ? ev->governance->actor : NULL,
                       ev->governance ? ev->governance->approver : NULL},
            .environment = cairn_codec_record_environment(record),
            .record = s->payloads[i],
            .record_len = payload_len,
            .record_sha256 = s->digests[i][0],
            .key_sha256 = s->digests[i][1],
        };
    }
out:
    if (rc < 0)
        fprintf(stderr, "ledger_bench: cannot prepare the in-process store's records: %s\n",
                cairn_strerror(rc));
    return rc;
}

/* n batches of `batch` prepared records each: begin, the appends, commit.
 * acc (NULL for warm-up) gets one sample per commit and `batch` operations
 * per commit. The leaves the appends return are freed with the records. */
static int s_store_chunk(s_store_t *s, uint64_t n, int batch, s_acc_t *acc)
{
    size_t k = 0;
    if (n * (uint64_t)batch != s->n)
        return -EINVAL;
    uint64_t cpu = s_self_cpu_ns(), start = s_now_ns();
    for (uint64_t c = 0; c < n; c++) {
        uint64_t t = s_now_ns();
        int64_t now_ms = cairn_now_ms();
        int rc = cairn_ledger_store_begin(s->store);
        for (int i = 0; rc == 0 && i < batch; i++, k++) {
            cairn_ledger_append_t out;
            s->recs[k].appended_at_ms = now_ms;
            rc = cairn_ledger_store_append(s->store, &s->recs[k], &out);
            if (rc == 0)
                s->leaves[k] = out.leaf;
            if (rc == 0 && out.duplicate)
                rc = CAIRN_EINTEGRITY;
        }
        if (rc == 0)
            rc = cairn_ledger_store_commit(s->store);
        else
            cairn_ledger_store_abort(s->store);
        if (rc < 0) {
            fprintf(stderr, "ledger_bench: in-process store batch failed: %s (lmdb: %s)\n",
                    cairn_strerror(rc), cairn_ledger_store_last_error(s->store));
            return rc;
        }
        if (acc) {
            s_samples_add(&acc->samples, s_now_ns() - t);
            acc->commits++;
        }
    }
    s_acc_add(acc, n * (uint64_t)batch, s_now_ns() - start, s_self_cpu_ns() - cpu);
    return 0;
}

/* ---- pipelined load generator ------------------------------------------ */

/* One DEALER connection of the generator. The ledger answers one
 * connection's requests in the order it received them, so a reply belongs
 * to the oldest request in flight; the ack's index must grow to prove it. */
typedef struct {
    void *sock;          /* DEALER connected to the ledger's api */
    uint64_t *start_ns;  /* ring: when each request in flight was sent (or due) */
    size_t head, n;      /* ring position of the oldest, requests in flight */
    uint64_t last_index; /* index of this connection's last ack */
    bool acked;          /* last_index is set */
} s_conn_t;

/* The generator: one thread, many connections, many requests in flight. */
typedef struct {
    void *ctx;                             /* its own libzmq context */
    s_conn_t conns[S_CONNS_MAX];           /* the connections */
    struct pollfd fds[S_CONNS_MAX];        /* their ZMQ_FDs, to sleep on */
    int n_conns;                           /* how many */
    size_t cap;                            /* ring slots per connection */
    const cairn_note_verifier_t *verifier; /* checks a sample of receipts */
} s_gen_t;

/* What one run of the generator measured. */
typedef struct {
    s_samples_t lat;      /* per append: send (or due) time -> checked ack, ns */
    s_samples_t lateness; /* paced: actual send - due time, ns */
    uint64_t *cp_sizes;   /* each ack's checkpoint size, to count commits */
    uint64_t acked;       /* appends acknowledged */
    uint64_t late;        /* paced: sends more than 1 ms after their time */
    uint64_t receipts;    /* receipts verified */
    uint64_t elapsed_ns;  /* first send (paced: first due time) -> last ack */
    uint64_t cpu_ns;      /* this process's CPU during the run */
    size_t max_in_flight; /* most requests in flight at once */
} s_gen_run_t;

static void s_gen_close(s_gen_t *g)
{
    for (int i = 0; i < g->n_conns; i++) {
        if (g->conns[i].sock)
            zmq_close(g->conns[i].sock);
        free(g->conns[i].start_ns);
    }
    g->n_conns = 0;
    if (g->ctx)
        zmq_ctx_term(g->ctx);
    g->ctx = NULL;
}

static int s_gen_open(s_gen_t *g, const s_ledger_t *l, int n_conns, size_t cap,
                      const cairn_note_verifier_t *verifier)
{
    memset(g, 0, sizeof *g);
    g->cap = cap;
    g->verifier = verifier;
    if (!(g->ctx = zmq_ctx_new()))
        return -ENOMEM;
    int linger = 0, hwm = cap * 2 < INT_MAX ? (int)cap * 2 : INT_MAX;
    for (; g->n_conns < n_conns; g->n_conns++) {
        s_conn_t *c = &g->conns[g->n_conns];
        int fd = -1;
        size_t fd_len = sizeof fd;
        if (!(c->start_ns = calloc(cap, sizeof *c->start_ns)) ||
            !(c->sock = zmq_socket(g->ctx, ZMQ_DEALER)) ||
            zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
            zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
            zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
            zmq_connect(c->sock, l->api) != 0 ||
            zmq_getsockopt(c->sock, ZMQ_FD, &fd, &fd_len) != 0) {
            fprintf(stderr, "ledger_bench: cannot connect the load generator: %s\n",
                    zmq_strerror(zmq_errno()));
            g->n_conns++;
            s_gen_close(g);
            return -1;
        }
        g->fds[g->n_conns] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    return 0;
}

static void s_gen_run_free(s_gen_run_t *r)
{
    s_samples_free(&r->lat);
    s_samples_free(&r->lateness);
    free(r->cp_sizes);
    memset(r, 0, sizeof *r);
}

/* Number of distinct commits (checkpoint sizes) the run's acks came from. */
static uint64_t s_gen_commits(s_gen_run_t *r)
{
    uint64_t n = 0;
    qsort(r->cp_sizes, r->acked, sizeof *r->cp_sizes, s_cmp_u64);
    for (uint64_t i = 0; i < r->acked; i++)
        n += i == 0 || r->cp_sizes[i] != r->cp_sizes[i - 1];
    return n;
}

/* Checks one ack of the reply to the oldest request in flight on c. */
static int s_gen_ack(s_gen_t *g, s_conn_t *c, const Cairn__V1__AppendAck *a, uint64_t latency,
                     s_gen_run_t *out)
{
    int rc = 0;
    if (c->acked && a->index <= c->last_index) {
        fprintf(stderr, "ledger_bench: acks out of order on one connection\n");
        return CAIRN_EPROTO;
    }
    s_samples_add(&out->lat, latency);
    c->acked = true;
    c->last_index = a->index;
    out->cp_sizes[out->acked++] = a->checkpoint_size;
    if (out->acked % S_RECEIPT_SAMPLE == 1) {
        if ((rc = s_check_receipt(g->verifier, a)) < 0)
            fprintf(stderr, "ledger_bench: receipt of entry %" PRIu64 " does not verify\n",
                    a->index);
        out->receipts++;
    }
    return rc;
}

/* Checks one reply (per acks: an append's, or an append_batch's) against
 * the oldest request in flight on c. */
static int s_gen_take(s_gen_t *g, s_conn_t *c, const void *data, size_t len, uint64_t now,
                      size_t per, s_gen_run_t *out)
{
    Cairn__V1__LedgerReply *rep = NULL;
    if (c->n == 0)
        return CAIRN_EPROTO;
    int rc = per > 1 ? cairn_ledger_batch_reply_unpack(data, len, per, &rep)
                     : cairn_codec_ledger_reply_unpack(data, len, &rep);
    if (rc == 0 && rep->status != 0) {
        fprintf(stderr, "ledger_bench: the ledger answered %d: %s\n", (int)rep->status, rep->error);
        rc = rep->status;
    }
    if (rc == 0 && per == 1 && !s_ack_ok(rep))
        rc = CAIRN_EPROTO;
    uint64_t latency = now - c->start_ns[c->head];
    if (rc == 0 && per == 1)
        rc = s_gen_ack(g, c, rep->ack, latency, out);
    for (size_t i = 0; rc == 0 && per > 1 && i < per; i++) {
        const Cairn__V1__AppendResult *r = rep->results[i];
        Cairn__V1__LedgerReply one = CAIRN__V1__LEDGER_REPLY__INIT;
        one.ack = r->ack;
        if (r->status != 0) {
            fprintf(stderr, "ledger_bench: the ledger answered %d: %s\n", (int)r->status, r->error);
            rc = r->status;
        } else if (!s_ack_ok(&one)) {
            rc = CAIRN_EPROTO;
        } else {
            rc = s_gen_ack(g, c, r->ack, latency, out);
        }
    }
    if (rc == 0) {
        c->head = (c->head + 1) % g->cap;
        c->n--;
    }
    CAIRN_CODEC_FREE(&rep);
    return rc;
}

/* Receives every reply waiting on any connection; returns how many. */
static int s_gen_drain(s_gen_t *g, size_t per, s_gen_run_t *out)
{
    int got = 0;
    for (int i = 0; i < g->n_conns; i++) {
        s_conn_t *c = &g->conns[i];
        for (;;) {
            int events = 0;
            size_t ev_len = sizeof events;
            if (zmq_getsockopt(c->sock, ZMQ_EVENTS, &events, &ev_len) != 0)
                return CAIRN_EUNREACHABLE;
            if (!(events & ZMQ_POLLIN))
                break;
            zmq_msg_t delim, body;
            zmq_msg_init(&delim);
            zmq_msg_init(&body);
            bool framed = zmq_msg_recv(&delim, c->sock, ZMQ_DONTWAIT) >= 0 &&
                          zmq_msg_size(&delim) == 0 && zmq_msg_more(&delim) &&
                          zmq_msg_recv(&body, c->sock, ZMQ_DONTWAIT) >= 0 && !zmq_msg_more(&body);
            int rc = framed ? s_gen_take(g, c, zmq_msg_data(&body), zmq_msg_size(&body), s_now_ns(),
                                         per, out)
                            : CAIRN_EPROTO;
            zmq_msg_close(&delim);
            zmq_msg_close(&body);
            if (rc < 0)
                return rc;
            got++;
        }
    }
    return got;
}

/* Sends reqs: flat out with `window` requests in flight per connection when
 * interval_ns is 0, else open loop, request i due at start + i * interval
 * whatever happened to earlier ones, round robin over the connections.
 * Latency counts from the due time, so a late send shows up in the numbers
 * (no coordinated omission). The thread sleeps in ppoll() on the sockets'
 * file descriptors until a reply arrives or the next request is due. */
static int s_gen_run(s_gen_t *g, const s_reqs_t *reqs, uint64_t interval_ns, size_t window,
                     s_gen_run_t *out)
{
    int rc = 0;
    size_t n = reqs->n, next = 0, in_flight = 0, per = reqs->per;
    int rr = 0;
    memset(out, 0, sizeof *out);
    if (s_samples_init(&out->lat, n * per) < 0 ||
        s_samples_init(&out->lateness, interval_ns ? n : 0) < 0 ||
        !(out->cp_sizes = calloc(n ? n * per : 1, sizeof *out->cp_sizes)))
        return -ENOMEM;
    uint64_t cpu = s_self_cpu_ns();
    uint64_t start = s_now_ns() + (interval_ns ? 5 * S_NS_PER_MS : 0);
    uint64_t progress = s_now_ns(); /* the last reply, or the start */
    while (out->acked < n * per) {
        uint64_t now = s_now_ns();
        while (next < n) {
            uint64_t due = interval_ns ? start + next * interval_ns : now;
            if (due > now)
                break;
            s_conn_t *c = NULL;
            for (int tries = 0; tries < g->n_conns && !c; tries++, rr++) {
                s_conn_t *cand = &g->conns[rr % g->n_conns];
                if (interval_ns ? cand->n < g->cap : cand->n < window)
                    c = cand;
            }
            if (!c && interval_ns) {
                fprintf(stderr, "ledger_bench: the ledger fell behind: %zu appends in flight\n",
                        in_flight);
                rc = CAIRN_ETIMEOUT;
                goto out;
            }
            if (!c)
                break; /* every window is full */
            if (zmq_send(c->sock, "", 0, ZMQ_SNDMORE) < 0 ||
                zmq_send(c->sock, reqs->buf[next], reqs->len[next], 0) < 0) {
                rc = CAIRN_EUNREACHABLE;
                goto out;
            }
            uint64_t sent = s_now_ns();
            c->start_ns[(c->head + c->n) % g->cap] = interval_ns ? due : sent;
            c->n++;
            if (interval_ns) {
                s_samples_add(&out->lateness, sent - due);
                out->late += sent > due + S_NS_PER_MS;
            } else if (next == 0) {
                start = sent;
            }
            next++;
            if (++in_flight * per > out->max_in_flight)
                out->max_in_flight = in_flight * per;
        }
        int got = s_gen_drain(g, per, out);
        if (got < 0) {
            rc = got;
            goto out;
        }
        in_flight -= (size_t)got;
        now = s_now_ns();
        if (got > 0) {
            progress = now;
            continue;
        }
        if (in_flight > 0 && now > progress + S_CALL_TIMEOUT_MS * S_NS_PER_MS) {
            fprintf(stderr, "ledger_bench: no reply for %d ms with %zu appends in flight\n",
                    S_CALL_TIMEOUT_MS, in_flight * per);
            rc = CAIRN_ETIMEOUT;
            goto out;
        }
        uint64_t wait = 200 * S_NS_PER_MS;
        if (interval_ns && next < n) {
            uint64_t due = start + next * interval_ns;
            wait = due > now ? (due - now < wait ? due - now : wait) : 0;
        }
        if (wait > 0) {
            struct timespec ts = {(time_t)(wait / S_NS_PER_S), (long)(wait % S_NS_PER_S)};
            if (ppoll(g->fds, (nfds_t)g->n_conns, &ts, NULL) < 0 && errno != EINTR) {
                rc = -errno;
                goto out;
            }
        }
    }
out:
    out->elapsed_ns = s_now_ns() - start;
    out->cpu_ns = s_self_cpu_ns() - cpu;
    if (rc < 0)
        fprintf(stderr, "ledger_bench: pipelined appends failed after %" PRIu64 " acks: %s\n",
                out->acked, cairn_strerror(rc));
    return rc;
}

/* Appends a batch of fresh requests flat out; only checks them. */
static int s_gen_fill(s_gen_t *g, s_ledger_t *l, size_t n, const char *change, size_t window)
{
    s_reqs_t reqs;
    s_gen_run_t run;
    int rc = s_reqs_build(l, n, change, &reqs);
    if (rc < 0)
        return rc;
    rc = s_gen_run(g, &reqs, 0, window, &run);
    s_gen_run_free(&run);
    s_reqs_free(&reqs);
    return rc;
}

/* What the pipelined steps report besides their table rows. */
typedef struct {
    uint64_t flat_commits;           /* commits the flat-out appends went into */
    double flat_gen_cpu_us;          /* generator CPU per flat-out append */
    size_t flat_in_flight;           /* most flat-out appends in flight */
    double batch_gen_cpu_us;         /* the same for the append_batch step */
    double flat_writer_cpu_us;       /* the ledger's writer thread CPU per flat-out append */
    double batch_writer_cpu_us;      /* the same for the append_batch step */
    double flat_loop_cpu_us;         /* the ledger's loop (main) thread CPU per flat-out append */
    double batch_loop_cpu_us;        /* the same for the append_batch step */
    size_t batch_in_flight;          /* most append_batch appends in flight */
    uint64_t receipts;               /* receipts verified over all pipelined steps */
    double late_p50_us[S_RATES_MAX]; /* paced: how late sends left, median */
    double late_p99_us[S_RATES_MAX]; /* and 99th percentile */
    uint64_t late[S_RATES_MAX];      /* paced: sends more than 1 ms late */
    double gen_cpu_us[S_RATES_MAX];  /* paced: generator CPU per append */
    double export_mib;               /* bytes of the exported bundle */
    uint64_t log_size;               /* entries when the proofs were made */
} s_extra_t;

/* One round of flat-out pipelined appends: per 1 sends single appends
 * (window requests in flight per connection), more sends append_batch
 * requests of per appends (the same number of appends in flight). */
static int s_flat_round(const s_options_t *o, s_ledger_t *l, s_gen_t *g, uint64_t appends,
                        size_t per, s_acc_t *acc, double *gen_cpu_us, double *writer_cpu_us,
                        double *loop_cpu_us, size_t *in_flight, uint64_t *receipts)
{
    s_reqs_t reqs;
    s_gen_run_t run;
    size_t window = (size_t)o->window / per ? (size_t)o->window / per : 1;
    int rc = per > 1 ? s_reqs_build_batched(l, appends, per, &reqs)
                     : s_reqs_build(l, appends, NULL, &reqs);
    if (rc < 0)
        return rc;
    /* The loop thread is the main one, named after the program. */
    uint64_t cpu = s_cpu_ns(l->pid), wcpu = s_thread_cpu_ns(l->pid, "ledger-writer");
    uint64_t lcpu = s_thread_cpu_ns(l->pid, "cairn-ledger");
    rc = s_gen_run(g, &reqs, 0, window, &run);
    uint64_t cpu_after = s_cpu_ns(l->pid), wcpu_after = s_thread_cpu_ns(l->pid, "ledger-writer");
    uint64_t lcpu_after = s_thread_cpu_ns(l->pid, "cairn-ledger");
    s_reqs_free(&reqs);
    if (rc == 0) {
        if (wcpu && wcpu_after >= wcpu)
            *writer_cpu_us += (double)(wcpu_after - wcpu) / 1000.0;
        if (lcpu && lcpu_after >= lcpu)
            *loop_cpu_us += (double)(lcpu_after - lcpu) / 1000.0;
        for (size_t i = 0; i < run.lat.n; i++)
            s_samples_add(&acc->samples, run.lat.ns[i]);
        s_acc_add(acc, run.acked, run.elapsed_ns, cpu && cpu_after >= cpu ? cpu_after - cpu : 0);
        acc->commits += s_gen_commits(&run);
        *gen_cpu_us += (double)run.cpu_ns / 1000.0;
        *receipts += run.receipts;
        if (run.max_in_flight > *in_flight)
            *in_flight = run.max_in_flight;
    }
    s_gen_run_free(&run);
    return rc;
}

/* The steps s_bench_flat_out rotates. */
enum { S_STEP_RAW, S_STEP_STORE, S_STEP_FLAT, S_STEP_FLAT_BATCH };

/* Raw limit, the ledger's store in-process and flat-out pipelined appends
 * (single, and in append_batch requests when --batch-requests is set), head
 * to head in interleaved rounds; the raw limit and the store commit --batch
 * entries each, the ledger as many as it finds waiting. The store's records
 * are prepared before its part of each round, outside the timing. Pure LMDB
 * commits of --batch entries come last. */
static int s_bench_flat_out(const s_options_t *o, const char *tmp, s_ledger_t *l, s_gen_t *g,
                            const s_sizes_t *sz, s_extra_t *x)
{
    static char raw_name[64], store_name[64], batch_name[64], flat_name[64], flat_batch_name[64];
    int rc = -1;
    s_raw_t raw = {0}, plain = {0};
    s_store_t store = {0};
    s_acc_t acc_raw = {0}, acc_store = {0}, acc_flat = {0}, acc_plain = {0}, acc_fb = {0};
    uint64_t per_round = o->appends / S_ROUNDS, batch = (uint64_t)o->batch;
    uint64_t commits_per_round = (per_round + batch - 1) / batch;
    size_t per = (size_t)o->batch_requests;
    int order[4] = {S_STEP_RAW, S_STEP_STORE, S_STEP_FLAT, S_STEP_FLAT_BATCH};
    int steps = per > 0 ? 4 : 3;
    if (s_samples_init(&acc_raw.samples, commits_per_round * S_ROUNDS) < 0 ||
        s_samples_init(&acc_store.samples, commits_per_round * S_ROUNDS) < 0 ||
        s_samples_init(&acc_flat.samples, per_round * S_ROUNDS) < 0 ||
        s_samples_init(&acc_fb.samples, (per_round + per) * S_ROUNDS) < 0 ||
        s_samples_init(&acc_plain.samples, commits_per_round * S_ROUNDS) < 0 ||
        s_raw_open(&raw, tmp, "raw-limit", sz) < 0 ||
        s_raw_open(&plain, tmp, "raw-batch", sz) < 0 ||
        s_store_open(&store, tmp, "ledger-store", commits_per_round * batch) < 0)
        goto out;
    size_t window = (size_t)o->window;
    if (s_raw_chunk(&raw, 10, o->batch, true, NULL) < 0 ||
        s_raw_chunk(&plain, 10, o->batch, false, NULL) < 0 ||
        s_store_prepare(&store, 10 * batch < store.cap ? 10 * batch : store.cap) < 0 ||
        s_store_chunk(&store, store.n / batch, o->batch, NULL) < 0 ||
        s_gen_fill(g, l, (size_t)o->sockets * window * 2, NULL, window) < 0)
        goto out;
    for (int r = 0; r < S_ROUNDS; r++) {
        for (int j = 0; j < steps; j++) {
            switch (order[(r + j) % steps]) {
            case S_STEP_RAW:
                if (s_raw_chunk(&raw, commits_per_round, o->batch, true, &acc_raw) < 0)
                    goto out;
                break;
            case S_STEP_STORE:
                if (s_store_prepare(&store, commits_per_round * batch) < 0 ||
                    s_store_chunk(&store, commits_per_round, o->batch, &acc_store) < 0)
                    goto out;
                break;
            case S_STEP_FLAT:
                if (s_flat_round(o, l, g, per_round, 1, &acc_flat, &x->flat_gen_cpu_us,
                                 &x->flat_writer_cpu_us, &x->flat_loop_cpu_us, &x->flat_in_flight,
                                 &x->receipts) < 0)
                    goto out;
                break;
            default:
                if (s_flat_round(o, l, g, per_round, per, &acc_fb, &x->batch_gen_cpu_us,
                                 &x->batch_writer_cpu_us, &x->batch_loop_cpu_us,
                                 &x->batch_in_flight, &x->receipts) < 0)
                    goto out;
                break;
            }
        }
    }
    /* Every record went in as a new entry, and nothing else. */
    if (cairn_ledger_store_size(store.store) != store.next) {
        fprintf(stderr,
                "ledger_bench: the in-process store holds %" PRIu64 " entries, expected %" PRIu64
                "\n",
                cairn_ledger_store_size(store.store), store.next);
        goto out;
    }
    for (int r = 0; r < S_ROUNDS; r++)
        if (s_raw_chunk(&plain, commits_per_round, o->batch, false, &acc_plain) < 0)
            goto out;
    x->flat_commits = acc_flat.commits;
    x->flat_gen_cpu_us /= (double)(acc_flat.ops ? acc_flat.ops : 1);
    x->batch_gen_cpu_us /= (double)(acc_fb.ops ? acc_fb.ops : 1);
    x->flat_writer_cpu_us /= (double)(acc_flat.ops ? acc_flat.ops : 1);
    x->batch_writer_cpu_us /= (double)(acc_fb.ops ? acc_fb.ops : 1);
    x->flat_loop_cpu_us /= (double)(acc_flat.ops ? acc_flat.ops : 1);
    x->batch_loop_cpu_us /= (double)(acc_fb.ops ? acc_fb.ops : 1);
    snprintf(raw_name, sizeof raw_name, "raw limit, %d entries/commit", o->batch);
    snprintf(store_name, sizeof store_name, "ledger store, in-process, %d entries/commit",
             o->batch);
    snprintf(batch_name, sizeof batch_name, "lmdb commit, %d entries/txn", o->batch);
    snprintf(flat_name, sizeof flat_name, "ledger append, pipelined %dx%d", o->sockets, o->window);
    s_row_from(S_ROW_RAW, raw_name, &acc_raw, "commit");
    s_row_from(S_ROW_STORE, store_name, &acc_store, "commit");
    s_row_from(S_ROW_BATCH, batch_name, &acc_plain, "commit");
    s_row_from(S_ROW_FLAT, flat_name, &acc_flat, "append->receipt");
    if (per > 0) {
        snprintf(flat_batch_name, sizeof flat_batch_name, "ledger append_batch %zu, %dx%zu", per,
                 o->sockets, window / per ? window / per : 1);
        s_row_from(S_ROW_FLAT_BATCH, flat_batch_name, &acc_fb, "request->receipts");
    }
    rc = 0;
out:
    s_raw_close(&raw);
    s_raw_close(&plain);
    s_store_close(&store);
    s_samples_free(&acc_raw.samples);
    s_samples_free(&acc_store.samples);
    s_samples_free(&acc_flat.samples);
    s_samples_free(&acc_fb.samples);
    s_samples_free(&acc_plain.samples);
    return rc;
}

/* Open loop at each --rates value for --seconds. */
static int s_bench_paced(const s_options_t *o, s_ledger_t *l, s_gen_t *g, s_extra_t *x)
{
    static char names[S_RATES_MAX][64];
    for (int i = 0; i < o->n_rates; i++) {
        s_reqs_t reqs;
        s_gen_run_t run;
        uint64_t total = (uint64_t)o->rates[i] * (uint64_t)o->seconds;
        int rc = s_reqs_build(l, total, NULL, &reqs);
        if (rc < 0)
            return rc;
        uint64_t cpu = s_cpu_ns(l->pid);
        rc = s_gen_run(g, &reqs, S_NS_PER_S / (uint64_t)o->rates[i], 0, &run);
        uint64_t cpu_after = s_cpu_ns(l->pid);
        s_reqs_free(&reqs);
        if (rc == 0) {
            int id = S_ROW_PACED + i;
            snprintf(names[i], sizeof names[i], "ledger append, paced %d/s", o->rates[i]);
            uint64_t commits = s_gen_commits(&run);
            s_row_set(id, names[i], run.acked, run.elapsed_ns, &run.lat, "due->receipt");
            s_row_cpu(id, cpu, cpu_after);
            s_rows[id].per_commit = commits ? (double)run.acked / (double)commits : 0.0;
            x->late_p50_us[i] = s_percentile_us(&run.lateness, 0.50);
            x->late_p99_us[i] = s_percentile_us(&run.lateness, 0.99);
            x->late[i] = run.late;
            x->gen_cpu_us[i] = (double)run.cpu_ns / 1000.0 / (double)(run.acked ? run.acked : 1);
            x->receipts += run.receipts;
        }
        s_gen_run_free(&run);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Fills one change with --export-entries entries, then exports it through
 * the daemon and verifies the bundle offline, S_EXPORT_ROUNDS times each. */
static int s_bench_export(const s_options_t *o, s_ledger_t *l, s_gen_t *g,
                          const cairn_note_verifier_t *verifier, s_extra_t *x)
{
    static char export_name[64], verify_name[64];
    int rc = -1;
    cairn_client_t *c = NULL;
    Cairn__V1__LedgerReply *rep = NULL;
    s_samples_t ex = {0}, ver = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t cpu_ex = 0, cpu_ver = 0, el_ex = 0, el_ver = 0;
    if (s_samples_init(&ex, S_EXPORT_ROUNDS) < 0 || s_samples_init(&ver, S_EXPORT_ROUNDS) < 0)
        goto out;
    if ((rc = s_gen_fill(g, l, o->export_entries, S_EXPORT_CHANGE, (size_t)o->window)) < 0 ||
        (rc = s_client_ready(l, &c)) < 0)
        goto out;
    Cairn__V1__ExportRequest er = CAIRN__V1__EXPORT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    er.change_id = S_EXPORT_CHANGE;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_EXPORT;
    req.export = &er;
    if ((rc = cairn_codec_pack(&req.base, &buf, &len)) < 0)
        goto out;
    for (int r = 0; r < S_EXPORT_ROUNDS; r++) {
        CAIRN_CODEC_FREE(&rep);
        uint64_t cpu = s_cpu_ns(l->pid), t = s_now_ns();
        if ((rc = s_call(c, buf, len, S_EXPORT_TIMEOUT_MS, &rep)) < 0)
            goto out;
        uint64_t ns = s_now_ns() - t, cpu_after = s_cpu_ns(l->pid);
        s_samples_add(&ex, ns);
        el_ex += ns;
        cpu_ex += cpu && cpu_after >= cpu ? cpu_after - cpu : 0;
        if (rep->bundle.len == 0) {
            fprintf(stderr, "ledger_bench: the export carries no bundle\n");
            rc = CAIRN_EPROTO;
            goto out;
        }
    }
    x->export_mib = (double)rep->bundle.len / (1024.0 * 1024.0);
    for (int r = 0; r < S_EXPORT_ROUNDS; r++) {
        cairn_bundle_report_t *report = NULL;
        uint64_t cpu = s_self_cpu_ns(), t = s_now_ns();
        rc =
            cairn_bundle_verify((const char *)rep->bundle.data, rep->bundle.len, verifier, &report);
        uint64_t ns = s_now_ns() - t;
        cpu_ver += s_self_cpu_ns() - cpu;
        s_samples_add(&ver, ns);
        el_ver += ns;
        if (rc == 0 && (report->finding_count != 0 || report->entry_count != o->export_entries ||
                        report->entries_ok != o->export_entries)) {
            fprintf(stderr,
                    "ledger_bench: the bundle does not verify: %zu of %zu entries ok, %zu "
                    "findings%s%s\n",
                    report->entries_ok, report->entry_count, report->finding_count,
                    report->finding_count ? ", first: " : "",
                    report->finding_count ? report->findings[0].reason : "");
            rc = CAIRN_EINTEGRITY;
        }
        cairn_bundle_report_destroy(&report);
        if (rc < 0)
            goto out;
    }
    snprintf(export_name, sizeof export_name, "ledger export, %" PRIu64 " entries",
             o->export_entries);
    snprintf(verify_name, sizeof verify_name, "bundle verify, %" PRIu64 " entries",
             o->export_entries);
    s_row_set(S_ROW_EXPORT, export_name, S_EXPORT_ROUNDS, el_ex, &ex, "request->bundle");
    s_row_cpu(S_ROW_EXPORT, 1, 1 + cpu_ex);
    s_row_set(S_ROW_VERIFY, verify_name, S_EXPORT_ROUNDS, el_ver, &ver, "verification");
    s_row_cpu(S_ROW_VERIFY, 1, 1 + cpu_ver);
    rc = 0;
out:
    CAIRN_CODEC_FREE(&rep);
    free(buf);
    cairn_client_destroy(&c);
    s_samples_free(&ex);
    s_samples_free(&ver);
    return rc;
}

/* A uniform random index below size. */
static uint64_t s_random_below(uint64_t size)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return size ? v % size : 0;
}

/* Inclusion proofs of random entries in the tree of the latest checkpoint:
 * through the daemon (prove{}), then in-process with the ledger's own
 * layout and proof code over the same LMDB store, opened read-only beside
 * the running daemon. Every proof is verified against the signed root,
 * outside the timing. */
static int s_bench_prove(const s_options_t *o, s_ledger_t *l, cairn_note_verifier_t **verifier,
                         s_extra_t *x)
{
    int rc = -1;
    cairn_client_t *c = NULL;
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    s_samples_t sd = {0}, sp = {0};
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    cairn_ledger_dbs_t dbs;
    memset(&dbs, 0, sizeof dbs);
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES], lh[CAIRN_HASH_BYTES];
    char dir[PATH_MAX + 16];
    uint64_t el_d = 0, el_p = 0, cpu_d = 0, cpu_p = 0;
    if (s_samples_init(&sd, o->proofs) < 0 || s_samples_init(&sp, o->proofs) < 0 ||
        (rc = s_client_ready(l, &c)) < 0 || (rc = s_call_checkpoint(c, verifier, &cp)) < 0)
        goto out;
    x->log_size = cp.size;
    rc = -1;
    uint64_t cpu = s_cpu_ns(l->pid);
    for (uint64_t i = 0; i < o->proofs; i++) {
        Cairn__V1__ProveRequest pr = CAIRN__V1__PROVE_REQUEST__INIT;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        Cairn__V1__LedgerReply *rep = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        pr.index = s_random_below(cp.size);
        pr.size = cp.size;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_PROVE;
        req.prove = &pr;
        if ((rc = cairn_codec_pack(&req.base, &buf, &len)) < 0)
            goto out;
        uint64_t t = s_now_ns();
        rc = s_call(c, buf, len, S_CALL_TIMEOUT_MS, &rep);
        uint64_t ns = s_now_ns() - t;
        free(buf);
        if (rc == 0) {
            const Cairn__V1__Proof *p = rep->proof;
            size_t n = p ? p->n_hashes : 0;
            rc = p && p->size == cp.size && p->index == pr.index &&
                         p->leaf_hash.len == CAIRN_HASH_BYTES && n <= CAIRN_MERKLE_MAX_PROOF
                     ? 0
                     : CAIRN_EPROTO;
            for (size_t h = 0; rc == 0 && h < n; h++) {
                if (p->hashes[h].len != CAIRN_HASH_BYTES)
                    rc = CAIRN_EPROTO;
                else
                    memcpy(proof + h * CAIRN_HASH_BYTES, p->hashes[h].data, CAIRN_HASH_BYTES);
            }
            if (rc == 0)
                rc = cairn_merkle_verify_inclusion(pr.index, cp.size, p->leaf_hash.data, proof, n,
                                                   cp.root);
        }
        CAIRN_CODEC_FREE(&rep);
        if (rc < 0) {
            fprintf(stderr, "ledger_bench: proof of entry %" PRIu64 " failed: %s\n", pr.index,
                    cairn_strerror(rc));
            goto out;
        }
        s_samples_add(&sd, ns);
        el_d += ns;
    }
    uint64_t cpu_after = s_cpu_ns(l->pid);
    cpu_d = cpu && cpu_after >= cpu ? cpu_after - cpu : 0;

    /* The daemon keeps writing; a read-only environment beside it is safe. */
    int mrc =
        s_fmt(dir, sizeof dir, "%s/ledger", l->data_dir) < 0 ? ENAMETOOLONG : mdb_env_create(&env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(env, CAIRN_LEDGER_MAX_DBS);
    if (mrc == 0)
        mrc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (mrc == 0)
        mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (mrc == 0) {
        mrc = mdb_dbi_open(txn, "entries", 0, &dbs.entries);
        if (mrc == 0)
            mrc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        txn = NULL;
    }
    s_row_set(S_ROW_PROVE_DAEMON, "ledger prove, via daemon", o->proofs, el_d, &sd,
              "request->proof");
    s_row_cpu(S_ROW_PROVE_DAEMON, 1, 1 + cpu_d);
    if (mrc == MDB_NOTFOUND) { /* a --bin ledger of an older layout (no `tree`) */
        fprintf(stderr, "ledger_bench: %s is in an older layout; in-process proofs skipped\n", dir);
        rc = 0;
        goto out;
    }
    if (mrc != 0) {
        fprintf(stderr, "ledger_bench: cannot open %s read-only: %s\n", dir, mdb_strerror(mrc));
        rc = -1;
        goto out;
    }
    size_t max_key = (size_t)mdb_env_get_maxkeysize(env);
    cpu = s_self_cpu_ns();
    for (uint64_t i = 0; i < o->proofs; i++) {
        uint64_t index = s_random_below(cp.size);
        size_t n = 0;
        /* What the store does per prove{}: a read transaction, the leaf hash, the path. */
        uint64_t t = s_now_ns();
        rc = cairn_lmdb_code(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
        cairn_ledger_view_t v = {txn, &dbs, max_key};
        if (rc == 0)
            rc = cairn_ledger_node_get(&v, 0, index, lh);
        if (rc == 0)
            rc = cairn_merkle_inclusion_proof(cairn_ledger_node_get, &v, index, cp.size, proof,
                                              CAIRN_MERKLE_MAX_PROOF, &n);
        if (txn)
            mdb_txn_abort(txn);
        txn = NULL;
        uint64_t ns = s_now_ns() - t;
        if (rc == 0)
            rc = cairn_merkle_verify_inclusion(index, cp.size, lh, proof, n, cp.root);
        if (rc < 0) {
            fprintf(stderr, "ledger_bench: in-process proof of entry %" PRIu64 " failed: %s\n",
                    index, cairn_strerror(rc));
            goto out;
        }
        s_samples_add(&sp, ns);
        el_p += ns;
    }
    cpu_p = s_self_cpu_ns() - cpu;
    s_row_set(S_ROW_PROVE_LOCAL, "ledger prove, in-process", o->proofs, el_p, &sp, "proof");
    s_row_cpu(S_ROW_PROVE_LOCAL, 1, 1 + cpu_p);
    rc = 0;
out:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    cairn_checkpoint_clear(&cp);
    cairn_client_destroy(&c);
    s_samples_free(&sd);
    s_samples_free(&sp);
    return rc;
}

/* ---- driver ------------------------------------------------------------- */

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: ledger_bench [--count N] [--clients K] [--appends N] [--batch N] [--sockets S]\n"
        "                    [--window W] [--batch-requests N] [--seconds S] [--rates R[,R...]]\n"
        "                    [--export-entries N] [--ids sequential|random]\n"
        "                    [--proofs N] [--bin DIR] [--dir DIR] [--set section.key=value]...\n"
        "\n"
        "Measures raw LMDB commits, SHA-256, Ed25519 and ZeroMQ round trips, then the\n"
        "cairn-ledger daemon (started from DIR) with real appends, proofs and an export, and\n"
        "prints the ratios.\n"
        "\n"
        "  --count N           one-client appends and raw commits (default 5000; ZeroMQ and\n"
        "                      SHA-256 use 10x), and appends shared by the sync clients\n"
        "  --clients K         synchronous clients in the group-commit step (default 8)\n"
        "  --appends N         pipelined flat-out appends (default 200000)\n"
        "  --batch N           entries per commit of the raw limit and of the ledger store\n"
        "                      in-process (default 256, the ledger's largest batch)\n"
        "  --sockets S         load generator connections (default 4)\n"
        "  --window W          requests in flight per connection, flat out (default 512)\n"
        "  --batch-requests N  also append flat out in append_batch requests of N appends,\n"
        "                      W/N requests in flight per connection (default 64; 0 skips)\n"
        "  --seconds S         length of each paced step (default 10)\n"
        "  --rates R[,R...]    appends per second of the paced steps (default 1000,10000)\n"
        "  --export-entries N  entries of the exported change (default 10000)\n"
        "  --ids KIND          event ids, and so idempotency keys: sequential (bench-<n>,\n"
        "                      the default) or random (32 hex digits, like UUIDs)\n"
        "  --proofs N          inclusion proofs per proof step (default 2000)\n"
        "  --bin DIR           directory holding cairn-ledger (default: this program's directory)\n"
        "  --dir DIR           where the temporary data directory is made (default $TMPDIR or\n"
        "                      /tmp)\n"
        "  --set K=V           passed to cairn-ledger as --set K=V (repeatable), e.g.\n"
        "                      log.level=warn\n");
}

static int s_parse_int(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || !end || *end || end == text || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int s_parse_rates(char *text, s_options_t *o)
{
    o->n_rates = 0;
    for (char *save = NULL, *tok = strtok_r(text, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        long v = 0;
        if (o->n_rates == S_RATES_MAX || s_parse_int(tok, 1, 1000000, &v) < 0)
            return -1;
        o->rates[o->n_rates++] = (int)v;
    }
    return o->n_rates > 0 ? 0 : -1;
}

/* 0 to run, 1 after --help, -1 after a usage error. */
static int s_options(int argc, char **argv, s_options_t *o)
{
    static const struct option longs[] = {
        {"count", required_argument, NULL, 'n'},
        {"clients", required_argument, NULL, 'k'},
        {"appends", required_argument, NULL, 'a'},
        {"batch", required_argument, NULL, 'B'},
        {"sockets", required_argument, NULL, 'o'},
        {"window", required_argument, NULL, 'w'},
        {"batch-requests", required_argument, NULL, 'R'},
        {"seconds", required_argument, NULL, 's'},
        {"rates", required_argument, NULL, 'r'},
        {"export-entries", required_argument, NULL, 'e'},
        {"ids", required_argument, NULL, 'i'},
        {"proofs", required_argument, NULL, 'p'},
        {"bin", required_argument, NULL, 'b'},
        {"dir", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v = 0;
    int c;
    const char *tmpdir = getenv("TMPDIR");
    *o = (s_options_t){.count = 5000,
                       .clients = 8,
                       .appends = 200000,
                       .batch = 256,
                       .sockets = 4,
                       .window = 512,
                       .batch_requests = 64,
                       .seconds = 10,
                       .rates = {1000, 10000},
                       .n_rates = 2,
                       .export_entries = 10000,
                       .proofs = 2000};
    snprintf(o->base, sizeof o->base, "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    /* Default --bin: the directory of this executable (build/bin holds both). */
    ssize_t n = readlink("/proc/self/exe", o->bin, sizeof o->bin - 1);
    if (n <= 0)
        n = (ssize_t)snprintf(o->bin, sizeof o->bin, "%s", argv[0]);
    o->bin[n < (ssize_t)sizeof o->bin ? n : (ssize_t)sizeof o->bin - 1] = '\0';
    char *slash = strrchr(o->bin, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(o->bin, sizeof o->bin, ".");

    opterr = 0;
    int which = -1; /* index in longs of the option just read */
    while ((c = getopt_long(argc, argv, "", longs, &which)) != -1) {
        switch (c) {
        case 'n':
            if (s_parse_int(optarg, 100, 10000000, &v) < 0)
                goto bad;
            o->count = (uint64_t)v;
            break;
        case 'k':
            if (s_parse_int(optarg, 1, 256, &v) < 0)
                goto bad;
            o->clients = (int)v;
            break;
        case 'a':
            if (s_parse_int(optarg, 1000, 100000000, &v) < 0)
                goto bad;
            o->appends = (uint64_t)v;
            break;
        case 'B':
            if (s_parse_int(optarg, 1, 100000, &v) < 0)
                goto bad;
            o->batch = (int)v;
            break;
        case 'o':
            if (s_parse_int(optarg, 1, S_CONNS_MAX, &v) < 0)
                goto bad;
            o->sockets = (int)v;
            break;
        case 'w':
            if (s_parse_int(optarg, 1, 10000, &v) < 0)
                goto bad;
            o->window = (int)v;
            break;
        case 'R':
            if (s_parse_int(optarg, 0, CAIRN_LEDGER_APPEND_BATCH_MAX, &v) < 0)
                goto bad;
            o->batch_requests = (int)v;
            break;
        case 's':
            if (s_parse_int(optarg, 1, 3600, &v) < 0)
                goto bad;
            o->seconds = (int)v;
            break;
        case 'r':
            if (s_parse_rates(optarg, o) < 0)
                goto bad;
            break;
        case 'e':
            if (s_parse_int(optarg, 1, 1000000, &v) < 0)
                goto bad;
            o->export_entries = (uint64_t)v;
            break;
        case 'p':
            if (s_parse_int(optarg, 1, 10000000, &v) < 0)
                goto bad;
            o->proofs = (uint64_t)v;
            break;
        case 'i':
            if (strcmp(optarg, "random") != 0 && strcmp(optarg, "sequential") != 0)
                goto bad;
            s_random_ids = strcmp(optarg, "random") == 0;
            break;
        case 'b': snprintf(o->bin, sizeof o->bin, "%s", optarg); break;
        case 'd': snprintf(o->base, sizeof o->base, "%s", optarg); break;
        case 'S':
            if (o->n_sets == S_SETS_MAX || !strchr(optarg, '='))
                goto bad;
            o->sets[o->n_sets++] = optarg;
            break;
        case 'h': return 1;
        default: goto bad;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ledger_bench: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    char exe[PATH_MAX + 32];
    if (s_fmt(exe, sizeof exe, "%s/cairn-ledger", o->bin) < 0 || access(exe, X_OK) != 0) {
        fprintf(stderr, "ledger_bench: cannot run %s: %s (build it, or pass --bin DIR)\n", exe,
                strerror(errno));
        return -1;
    }
    return 0;
bad:
    if (!strchr("nkaBowRsrepiS", c))
        fprintf(stderr, "ledger_bench: unknown option or missing value: '%s' (see --help)\n",
                argv[optind - 1]);
    else
        fprintf(stderr, "ledger_bench: bad value '%s' for --%s (see --help for the ranges)\n",
                optarg, which >= 0 ? longs[which].name : "?");
    return -1;
}

static void s_print_machine(const s_options_t *o)
{
    char line[256], model[128] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("machine: %ld cpus online, %s; data under %s; load average %.2f\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, o->base, load[0]);
    printf("versions: lmdb %d.%d.%d, libzmq %d.%d.%d, libsodium %s\n", MDB_VERSION_MAJOR,
           MDB_VERSION_MINOR, MDB_VERSION_PATCH, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
           ZMQ_VERSION_PATCH, sodium_version_string());
}

static void s_print_table(void)
{
    int w = 34; /* the step column fits the longest name */
    for (int i = 0; i < S_ROWS; i++)
        if (s_rows[i].name && (int)strlen(s_rows[i].name) > w)
            w = (int)strlen(s_rows[i].name);
    printf("\n%-*s %8s %11s %10s %10s %9s %8s  %s\n", w, "step", "ops", "ops/s", "p50 us", "p99 us",
           "cpu us/op", "ops/cmt", "latency of one");
    for (int i = 0; i < S_ROWS; i++) {
        const s_row_t *r = &s_rows[i];
        char cpu[32] = "-", per[32] = "-";
        if (r->cpu_us >= 0)
            snprintf(cpu, sizeof cpu, "%.1f", r->cpu_us);
        if (r->per_commit > 0)
            snprintf(per, sizeof per, "%.1f", r->per_commit);
        if (r->name)
            printf("%-*s %8" PRIu64 " %11.1f %10.1f %10.1f %9s %8s  %s\n", w, r->name, r->ops,
                   r->rate, r->p50_us, r->p99_us, cpu, per, r->unit);
    }
}

static double s_div(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

/* The most appends/s the machine's CPUs allow when the daemon and the load
 * generator, which share them, spend these CPU times per append: every CPU
 * busy all the time, nothing else running. */
static double s_cpu_ceiling(double daemon_cpu_us, double gen_cpu_us)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return s_div((double)(ncpu > 0 ? ncpu : 1) * 1e6, daemon_cpu_us + gen_cpu_us);
}

static void s_print_ratios(const s_options_t *o, const s_extra_t *x)
{
    const s_row_t *commit = &s_rows[S_ROW_COMMIT], *raw = &s_rows[S_ROW_RAW];
    const s_row_t *store = &s_rows[S_ROW_STORE];
    const s_row_t *zmq = &s_rows[S_ROW_ZMQ], *seq = &s_rows[S_ROW_SEQ];
    const s_row_t *conc = &s_rows[S_ROW_CONC], *flat = &s_rows[S_ROW_FLAT];
    const s_row_t *pd = &s_rows[S_ROW_PROVE_DAEMON], *pl = &s_rows[S_ROW_PROVE_LOCAL];
    printf("\nratios (ledger / raw building block)\n");
    printf("  %-62s %8.2f\n", "flat-out appends/s / raw-limit entries/s",
           s_div(flat->rate, raw->rate));
    printf("  %-62s %8.2f\n", "flat-out daemon cpu per append / raw-limit cpu per entry",
           s_div(flat->cpu_us, raw->cpu_us));
    printf("  %-62s %8.2f\n", "flat-out cpu ceiling / raw-limit entries/s",
           s_div(s_cpu_ceiling(flat->cpu_us, x->flat_gen_cpu_us), raw->rate));
    if (o->batch_requests > 0) {
        const s_row_t *fb = &s_rows[S_ROW_FLAT_BATCH];
        printf("  %-62s %8.2f\n", "append_batch flat-out appends/s / raw-limit entries/s",
               s_div(fb->rate, raw->rate));
        printf("  %-62s %8.2f\n", "append_batch daemon cpu per append / raw-limit cpu per entry",
               s_div(fb->cpu_us, raw->cpu_us));
        printf("  %-62s %8.2f\n", "append_batch cpu ceiling / raw-limit entries/s",
               s_div(s_cpu_ceiling(fb->cpu_us, x->batch_gen_cpu_us), raw->rate));
    }
    printf("  %-62s %8.2f\n", "ledger store in-process entries/s / raw-limit entries/s",
           s_div(store->rate, raw->rate));
    printf("  %-62s %8.2f\n", "ledger store cpu per entry / raw-limit cpu per entry",
           s_div(store->cpu_us, raw->cpu_us));
    printf("  %-62s %8.2f\n", "1-client appends/s / lmdb commits/s (1 entry)",
           s_div(seq->rate, commit->rate));
    printf("  %-62s %8.2f\n", "1-client append p50 / lmdb commit p50",
           s_div(seq->p50_us, commit->p50_us));
    printf("  %-62s %8.1f\n", "1-client append p50 - (lmdb commit p50 + zmq rtt p50), us",
           seq->p50_us - commit->p50_us - zmq->p50_us);
    printf("  %-62s %8.2f\n", "sync-client appends/s / lmdb commits/s (1 entry)",
           s_div(conc->rate, commit->rate));
    printf("  %-62s %8.2f\n", "daemon prove p50 / in-process prove p50",
           s_div(pd->p50_us, pl->p50_us));
    (void)o;
}

static void s_print_targets(const s_options_t *o)
{
    const s_row_t *raw = &s_rows[S_ROW_RAW], *flat = &s_rows[S_ROW_FLAT];
    const s_row_t *ex = &s_rows[S_ROW_EXPORT], *ver = &s_rows[S_ROW_VERIFY];
    double ratio = s_div(flat->rate, raw->rate);
    printf("\ntargets\n");
    printf("  %-62s %8.2f  %s\n", "flat-out appends/s >= 0.5 x raw limit", ratio,
           ratio >= 0.5 ? "met" : "MISSED");
    if (o->batch_requests > 0) {
        double br = s_div(s_rows[S_ROW_FLAT_BATCH].rate, raw->rate);
        printf("  %-62s %8.2f  %s\n", "flat-out appends/s >= 0.5 x raw limit, append_batch", br,
               br >= 0.5 ? "met" : "MISSED");
    }
    for (int i = 0; i < o->n_rates; i++) {
        if (o->rates[i] != 10000)
            continue;
        double p99_ms = s_rows[S_ROW_PACED + i].p99_us / 1000.0;
        printf("  %-62s %8.2f  %s\n", "p99 append->receipt at 10000/s < 20 ms (ms)", p99_ms,
               p99_ms < 20.0 ? "met" : "MISSED");
    }
    if (o->export_entries == 10000) {
        printf("  %-62s %8.2f  %s\n", "export of 10000 entries < 2 s (median, s)", ex->p50_us / 1e6,
               ex->p50_us < 2e6 ? "met" : "MISSED");
        printf("  %-62s %8.2f  %s\n", "offline verification of 10000 entries < 1 s (median, s)",
               ver->p50_us / 1e6, ver->p50_us < 1e6 ? "met" : "MISSED");
    }
}

int main(int argc, char **argv)
{
    int status = 1;
    s_options_t o;
    s_ledger_t ledger = {0};
    char tmp[PATH_MAX] = "";
    s_sizes_t sz = {0};
    s_raw_t signer = {0};
    s_gen_t gen = {0};
    s_extra_t x;
    memset(&x, 0, sizeof x);
    uint64_t size = 0;
    s_mem_t mem = {0};
    struct stat data_st = {0};
    char data_file[PATH_MAX + 32];
    cairn_client_t *check = NULL;
    cairn_note_verifier_t *verifier = NULL;
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);

    int rc = s_options(argc, argv, &o);
    if (rc != 0) {
        if (rc > 0)
            s_usage(stdout);
        return rc > 0 ? 0 : 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "ledger_bench: cannot initialise libsodium\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* ipc:// socket paths must fit sockaddr_un (108 bytes), so keep the base short. */
    if (strlen(o.base) > S_BASE_MAX) {
        fprintf(stderr,
                "ledger_bench: --dir %s is longer than %d bytes; ipc socket paths would not fit\n",
                o.base, S_BASE_MAX);
        return 2;
    }
    if (s_fmt(tmp, sizeof tmp, "%s/cairn-bench-XXXXXX", o.base) < 0 || !mkdtemp(tmp)) {
        fprintf(stderr, "ledger_bench: cannot make a directory under %s: %s\n", o.base,
                strerror(errno));
        return 1;
    }
    s_print_machine(&o);
    if (s_measure_sizes(&sz) < 0)
        goto out;
    printf("append request %zu B, payload (record) %zu B, leaf %zu B, ack with receipt %zu B; "
           "raw entry = leaf + payload = %zu B\n",
           sz.request, sz.record, sz.leaf, sz.reply, sz.leaf + sz.record);
    printf("steps: count=%" PRIu64 " clients=%d appends=%" PRIu64 " batch=%d pipeline=%dx%d "
           "batch-requests=%d paced=%ds at",
           o.count, o.clients, o.appends, o.batch, o.sockets, o.window, o.batch_requests,
           o.seconds);
    for (int i = 0; i < o.n_rates; i++)
        printf("%s%d/s", i ? "," : " ", o.rates[i]);
    printf(" export=%" PRIu64 " proofs=%" PRIu64 " ids=%s\n", o.export_entries, o.proofs,
           s_random_ids ? "random" : "sequential");
    fflush(stdout);

    /* The daemon first: fork before this process starts any thread. */
    if (s_ledger_start(&o, tmp, &ledger) < 0)
        goto out;
    if (!(check = cairn_client_new(ledger.api)) || s_call_checkpoint(check, &verifier, &cp) < 0)
        goto out;
    /* Open loop, a connection may have its whole share of a run in flight
     * when the ledger falls behind: the latencies then show it. */
    size_t ring = (size_t)o.window;
    for (int i = 0; i < o.n_rates; i++) {
        size_t share = (size_t)o.rates[i] * (size_t)o.seconds / (size_t)o.sockets + 64;
        if (share > ring)
            ring = share;
    }
    if (s_bench_one_client(&o, tmp, &ledger, &sz) < 0 || s_bench_sha(&o, &sz) < 0 ||
        s_raw_open(&signer, tmp, "raw-sign", &sz) < 0 || s_bench_sign(&o, &signer) < 0 ||
        s_gen_open(&gen, &ledger, o.sockets, ring, verifier) < 0 ||
        s_bench_flat_out(&o, tmp, &ledger, &gen, &sz, &x) < 0 ||
        s_bench_sync_clients(&o, &ledger) < 0 || s_bench_paced(&o, &ledger, &gen, &x) < 0 ||
        s_bench_export(&o, &ledger, &gen, verifier, &x) < 0 ||
        s_bench_prove(&o, &ledger, &verifier, &x) < 0)
        goto out;

    /* Every acknowledged append must be in the log, and nothing else. */
    uint64_t expected = atomic_load(&ledger.seq);
    if ((rc = s_call_head(check, S_CALL_TIMEOUT_MS, &size)) < 0 || size != expected) {
        fprintf(stderr, "ledger_bench: ledger holds %" PRIu64 " entries, expected %" PRIu64 "\n",
                size, expected);
        goto out;
    }
    if (s_mem_kib(ledger.pid, &mem) < 0) {
        fprintf(stderr, "ledger_bench: cannot read /proc/%d/status\n", (int)ledger.pid);
        goto out;
    }
    if (s_ledger_stop(&ledger) < 0)
        goto out;

    s_print_table();
    printf("\npipelined flat out: %.1f appends per commit, at most %zu in flight, load generator "
           "cpu %.1f us/append, ledger writer thread cpu %.1f us/append, ledger loop thread cpu "
           "%.1f us/append\n",
           s_rows[S_ROW_FLAT].per_commit, x.flat_in_flight, x.flat_gen_cpu_us, x.flat_writer_cpu_us,
           x.flat_loop_cpu_us);
    if (o.batch_requests > 0)
        printf("append_batch flat out: %.1f appends per commit, at most %zu in flight, load "
               "generator cpu %.1f us/append, ledger writer thread cpu %.1f us/append, ledger "
               "loop thread cpu %.1f us/append\n",
               s_rows[S_ROW_FLAT_BATCH].per_commit, x.batch_in_flight, x.batch_gen_cpu_us,
               x.batch_writer_cpu_us, x.batch_loop_cpu_us);
    for (int i = 0; i < o.n_rates; i++)
        printf("paced %d/s: sends left p50 %.1f us, p99 %.1f us after their due time, %" PRIu64
               " more than 1 ms late; load generator cpu %.1f us/append\n",
               o.rates[i], x.late_p50_us[i], x.late_p99_us[i], x.late[i], x.gen_cpu_us[i]);
    printf("receipts verified against the log's key: %" PRIu64 " (one in %d)\n", x.receipts,
           S_RECEIPT_SAMPLE);
    printf("export: bundle of %.1f MiB; proofs made at log size %" PRIu64 "\n", x.export_mib,
           x.log_size);
    s_print_ratios(&o, &x);
    s_print_targets(&o);
    printf("\nledger process: peak RSS (VmHWM) %.1f MiB; at end RSS %.1f MiB = anon %.1f + file "
           "%.1f (shared libraries, LMDB map)\n",
           (double)mem.hwm / 1024.0, (double)mem.rss / 1024.0, (double)mem.anon / 1024.0,
           (double)mem.file / 1024.0);
    if (s_fmt(data_file, sizeof data_file, "%s/ledger/data.mdb", ledger.data_dir) == 0 &&
        stat(data_file, &data_st) == 0)
        printf("ledger store: %" PRIu64 " entries, data.mdb %.1f MiB (%.0f B per entry)\n", size,
               (double)data_st.st_size / (1024.0 * 1024.0),
               s_div((double)data_st.st_size, (double)size));
    uint64_t appends = 0, batches = 0;
    if (s_ledger_counters(&ledger, &appends, &batches) == 0 && batches > 0)
        printf("ledger counters at stop: %" PRIu64 " appends in %" PRIu64
               " commits (%.2f appends per commit over all steps)\n",
               appends, batches, (double)appends / (double)batches);
    status = 0;
out:
    s_gen_close(&gen);
    s_raw_close(&signer);
    cairn_client_destroy(&check);
    cairn_checkpoint_clear(&cp);
    cairn_note_verifier_destroy(&verifier);
    if (s_ledger_stop(&ledger) < 0)
        status = 1;
    if (status == 0 && tmp[0])
        nftw(tmp, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    else if (tmp[0])
        fprintf(stderr, "ledger_bench: FAILED; data and the ledger log kept in %s\n", tmp);
    return status;
}
