/* ingest_blocks: the raw building blocks one durable webhook is made of,
 * measured in-process on this machine, for the same body ingest_bench
 * posts. Their sum is the least CPU any webhook receiver that authenticates,
 * parses and durably records a signed webhook can spend beyond its HTTP
 * layer; ingest_bench adds it to the trivial server's cost per request to
 * say how close to the trivial server such a receiver could come at best.
 *
 *   ingest_blocks --body FILE [--count N] [--batch N] [--dir DIR]
 *
 * Blocks (each timed with the CPU clock of the thread doing it, or of the
 * whole process where libzmq's I/O thread takes part):
 *   hmac-sha256 of the body     the webhook signature check
 *   sha256 of the body          the evidence digest
 *   json parse + free           jansson and cJSON, the body as one document
 *   event pack                  a cairn.v1.Event holding the body and headers
 *   zmq ipc, event + ack        a DEALER sends the packed event, a ROUTER
 *                               thread answers an ack-sized reply, pipelined
 *   lmdb commit, N entries      the packed event plus a leaf-sized record per
 *                               entry, N entries per synchronous commit
 *   ed25519 sign / N            one checkpoint signature per commit
 * The floor is the sum of: HMAC, SHA-256, the cheaper JSON parse, the pack,
 * the ZeroMQ hop and the commit share (signature included). */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cairn/v1/event.pb-c.h"

/* Requests in flight on the ZeroMQ step. */
#define S_WINDOW 64
/* Size of the ledger's ack with its receipt (see ledger_bench). */
#define S_ACK_BYTES 1200
/* Leaf record stored beside each payload. */
#define S_LEAF_BYTES 311

typedef struct {
    const char *body_path;
    int count;
    int batch;
    const char *dir;
} s_opts_t;

static double s_cpu_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double s_wall_us(void)
{
    return s_cpu_us(CLOCK_MONOTONIC);
}

static void s_row(const char *name, int ops, double wall_us, double cpu_us)
{
    printf("%-36s %8d %12.0f %10.2f\n", name, ops, ops / (wall_us / 1e6), cpu_us / ops);
}

static char *s_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    do {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* --- hashing and parsing -------------------------------------------------- */

static double s_hmac(const char *body, size_t len, int count)
{
    static const char key[] = "bench-webhook-secret";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen;
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < count; i++)
        HMAC(EVP_sha256(), key, sizeof key - 1, (const unsigned char *)body, len, mac, &maclen);
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    s_row("hmac-sha256, body", count, s_wall_us() - w, cpu);
    return cpu / count;
}

static double s_sha256(const char *body, size_t len, int count)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < count; i++) {
        EVP_DigestInit_ex(ctx, sha, NULL);
        EVP_DigestUpdate(ctx, body, len);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
    }
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    s_row("sha256, body", count, s_wall_us() - w, cpu);
    EVP_MD_free(sha);
    EVP_MD_CTX_free(ctx);
    return cpu / count;
}

static double s_jansson(const char *body, size_t len, int count)
{
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < count; i++) {
        json_error_t je;
        json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
            fprintf(stderr, "ingest_blocks: the body is not JSON: %s\n", je.text);
            exit(1);
        }
        json_decref(root);
    }
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    s_row("json parse + free, jansson", count, s_wall_us() - w, cpu);
    return cpu / count;
}

static double s_cjson(const char *body, size_t len, int count)
{
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < count; i++) {
        cJSON *root = cJSON_ParseWithLength(body, len);
        if (!root) {
            fprintf(stderr, "ingest_blocks: cJSON does not parse the body\n");
            exit(1);
        }
        cJSON_Delete(root);
    }
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    s_row("json parse + free, cJSON", count, s_wall_us() - w, cpu);
    return cpu / count;
}

/* --- the event --------------------------------------------------------------- */

/* A packed event of the shape ingest records for a GitHub webhook. */
static uint8_t *s_event_pack(const char *body, size_t len, size_t *out_len, int count,
                             double *cpu_out)
{
    static char *keys[] = {"x-github-event", "x-github-delivery", "x-github-hook-id",
                           "content-type", "user-agent"};
    static char *values[] = {"workflow_run", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                             "292430182", "application/json", "GitHub-Hookshot/044aadd"};
    Cairn__V1__Event__RawHeadersEntry hdr[5], *hdrp[5];
    for (int i = 0; i < 5; i++) {
        cairn__v1__event__raw_headers_entry__init(&hdr[i]);
        hdr[i].key = keys[i];
        hdr[i].value = values[i];
        hdrp[i] = &hdr[i];
    }
    Cairn__V1__Event ev;
    cairn__v1__event__init(&ev);
    ev.id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    ev.source = "https://github.com/octo-org/octo-repo";
    ev.spec_version = "1.0";
    ev.type = "dev.cdevents.pipelinerun.finished.0.2.0";
    ev.subject = "30433642";
    ev.time = "2024-01-01T00:00:00Z";
    ev.data_content_type = "application/json";
    ev.data.data = (uint8_t *)body;
    ev.data.len = len;
    ev.body_sha256 = "8a3a5b7f0c2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";
    ev.n_raw_headers = 5;
    ev.raw_headers = hdrp;
    size_t size = cairn__v1__event__get_packed_size(&ev);
    uint8_t *buf = malloc(size);
    if (!buf)
        return NULL;
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < count; i++) {
        size = cairn__v1__event__get_packed_size(&ev);
        cairn__v1__event__pack(&ev, buf);
    }
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    s_row("event pack", count, s_wall_us() - w, cpu);
    *cpu_out = cpu / count;
    *out_len = size;
    return buf;
}

/* --- ZeroMQ -------------------------------------------------------------------- */

typedef struct {
    void *ctx;
    const char *endpoint;
    int count;
} s_router_t;

static void *s_router(void *arg)
{
    s_router_t *r = arg;
    void *sock = zmq_socket(r->ctx, ZMQ_ROUTER);
    static uint8_t ack[S_ACK_BYTES];
    zmq_bind(sock, r->endpoint);
    for (int i = 0; i < r->count; i++) {
        zmq_msg_t id, part;
        zmq_msg_init(&id);
        zmq_msg_init(&part);
        if (zmq_msg_recv(&id, sock, 0) < 0 || zmq_msg_recv(&part, sock, 0) < 0)
            break;
        zmq_msg_send(&id, sock, ZMQ_SNDMORE);
        zmq_send(sock, ack, sizeof ack, 0);
        zmq_msg_close(&part);
    }
    zmq_close(sock);
    return NULL;
}

static double s_zmq(const uint8_t *event, size_t len, int count, const char *dir)
{
    char endpoint[1100];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/blocks.sock", dir);
    void *ctx = zmq_ctx_new();
    s_router_t r = {ctx, endpoint, count};
    pthread_t th;
    pthread_create(&th, NULL, s_router, &r);
    usleep(100000);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_connect(dealer, endpoint);
    uint8_t ack[S_ACK_BYTES];
    int sent = 0, got = 0;
    double w = s_wall_us(), c = s_cpu_us(CLOCK_PROCESS_CPUTIME_ID);
    while (got < count) {
        while (sent < count && sent - got < S_WINDOW) {
            zmq_send(dealer, event, len, 0);
            sent++;
        }
        if (zmq_recv(dealer, ack, sizeof ack, 0) < 0)
            break;
        got++;
    }
    double cpu = s_cpu_us(CLOCK_PROCESS_CPUTIME_ID) - c;
    char name[64];
    snprintf(name, sizeof name, "zmq ipc, %zu B event + ack", len);
    s_row(name, got, s_wall_us() - w, cpu);
    pthread_join(th, NULL);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    return cpu / (got ? got : 1);
}

/* --- LMDB and the signature ---------------------------------------------------- */

static double s_lmdb(const uint8_t *event, size_t len, int count, int batch, const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/lmdb", dir);
    MDB_env *env;
    MDB_dbi payloads, leaves;
    MDB_txn *txn;
    static uint8_t leaf[S_LEAF_BYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t sig[crypto_sign_BYTES];
    static const char note[] = "example.com/log\n123456\nq2Jz8Nq0Yx7VZ3R6gQm0o1yJ5Xq7n5oYb1k2l3m4n5o=\n";
    crypto_sign_keypair(pk, sk);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_set_mapsize(env, (size_t)16 << 30) || mdb_env_open(env, path, 0, 0600)) {
        fprintf(stderr, "ingest_blocks: cannot open LMDB in %s\n", path);
        exit(1);
    }
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, "payloads", MDB_CREATE | MDB_INTEGERKEY, &payloads);
    mdb_dbi_open(txn, "leaves", MDB_CREATE | MDB_INTEGERKEY, &leaves);
    mdb_txn_commit(txn);
    double w = s_wall_us(), c = s_cpu_us(CLOCK_THREAD_CPUTIME_ID);
    for (uint64_t i = 0; i < (uint64_t)count;) {
        mdb_txn_begin(env, NULL, 0, &txn);
        for (int j = 0; j < batch && i < (uint64_t)count; j++, i++) {
            MDB_val k = {sizeof i, &i}, v = {len, (void *)event}, l = {sizeof leaf, leaf};
            mdb_put(txn, payloads, &k, &v, MDB_APPEND);
            mdb_put(txn, leaves, &k, &l, MDB_APPEND);
        }
        crypto_sign_detached(sig, NULL, (const unsigned char *)note, sizeof note - 1, sk);
        MDB_val k = {sizeof i, &i}, v = {sizeof sig, sig};
        mdb_put(txn, leaves, &k, &v, 0);
        if (mdb_txn_commit(txn)) {
            fprintf(stderr, "ingest_blocks: LMDB commit failed\n");
            exit(1);
        }
    }
    double cpu = s_cpu_us(CLOCK_THREAD_CPUTIME_ID) - c;
    char name[64];
    snprintf(name, sizeof name, "lmdb commit + sign, %d entries", batch);
    s_row(name, count, s_wall_us() - w, cpu);
    mdb_env_close(env);
    return cpu / count;
}

static int s_rm(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "Usage: ingest_blocks --body FILE [--count N] [--batch N] [--dir DIR]\n"
            "Measures the raw building blocks of one durable webhook (see bench/README.md).\n"
            "  --body FILE   the webhook body (JSON) to measure with\n"
            "  --count N     operations per block (default 20000)\n"
            "  --batch N     entries per durable LMDB commit (default 64)\n"
            "  --dir DIR     where the temporary LMDB and socket go (default $TMPDIR or /tmp)\n");
}

int main(int argc, char **argv)
{
    s_opts_t o = {NULL, 20000, 64, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"};
    static const struct option longopts[] = {{"body", required_argument, NULL, 'b'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"batch", required_argument, NULL, 'n'},
                                             {"dir", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b': o.body_path = optarg; break;
        case 'c': o.count = atoi(optarg); break;
        case 'n': o.batch = atoi(optarg); break;
        case 'd': o.dir = optarg; break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (!o.body_path || o.count < 1 || o.batch < 1) {
        s_usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    size_t len;
    char *body = s_read_file(o.body_path, &len);
    if (!body) {
        fprintf(stderr, "ingest_blocks: cannot read %s: %s\n", o.body_path, strerror(errno));
        return 2;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cairn-ingest-blocks-XXXXXX", o.dir);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ingest_blocks: cannot make a directory in %s: %s\n", o.dir,
                strerror(errno));
        return 2;
    }
    printf("ingest_blocks: body %zu bytes, %d operations per block, %d entries per commit\n",
           len, o.count, o.batch);
    printf("%-36s %8s %12s %10s\n", "block", "ops", "ops/s", "cpu us/op");
    double hmac = s_hmac(body, len, o.count);
    double sha = s_sha256(body, len, o.count);
    double jansson = s_jansson(body, len, o.count);
    double cjson = s_cjson(body, len, o.count);
    double pack;
    size_t event_len;
    uint8_t *event = s_event_pack(body, len, &event_len, o.count, &pack);
    if (!event)
        return 1;
    double zmq = s_zmq(event, event_len, o.count, dir);
    double lmdb = s_lmdb(event, event_len, o.count, o.batch, dir);
    double parse = cjson < jansson ? cjson : jansson;
    double floor = hmac + sha + parse + pack + zmq + lmdb;
    printf("floor: %.2f us of CPU per webhook beyond HTTP (hmac %.2f + sha256 %.2f + parse "
           "%.2f + pack %.2f + zmq %.2f + commit %.2f)\n",
           floor, hmac, sha, parse, pack, zmq, lmdb);
    printf("BLOCKS floor_us=%.2f\n", floor);
    free(event);
    free(body);
    s_rm(dir);
    return 0;
}
