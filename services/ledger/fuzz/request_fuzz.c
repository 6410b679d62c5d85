/* Fuzz target for the ledger's handling of requests: each input is one
 * request body as a client puts it on the bus, sent over a real ipc://
 * socket to a ledger engine running in this process on a real store in a
 * temporary directory (the decoding alone is fuzzed by `codec`). Appends,
 * batches, holds and purges change the log, so later inputs meet the state
 * earlier ones left.
 *
 * Every request must get exactly one reply within 10 s that decodes, with
 * status 0 or a negative code and then a message; an append or batch that
 * succeeds must carry its acks. Every 500 inputs, and at exit, the store
 * must pass the offline verifier (`cairn log verify`'s code) with its head
 * checkpoint signed; past 2,000 entries the engine starts over on a fresh
 * directory, so that the log stays small and each input stays fast. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "engine.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char cairn_fuzz_target_name[] = "ledger request handling";

#define S_TIMEOUT_MS 10000
#define S_VERIFY_EVERY 500
#define S_ENTRIES_MAX 2000

/* The engine under test and what drives it (one per process). */
static struct {
    char dir[64];           /* temporary data directory */
    char ledger_dir[128];   /* its ledger store */
    cairn_config_t *config; /* defaults, data under dir */
    cairn_ledger_t *ledger; /* the engine */
    pthread_t thread;       /* runs the engine while running is set */
    atomic_bool running;    /* cleared to stop the thread */
    cairn_client_t *client; /* DEALER to bus.ledger_api */
    unsigned inputs;        /* since the last verification */
    bool up;                /* all of the above exists */
} s_fx;

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void *s_run(void *arg)
{
    (void)arg;
    while (atomic_load(&s_fx.running))
        if (cairn_ledger_run_once(s_fx.ledger, 20) < 0)
            break;
    return NULL;
}

static void s_fail(const char *what, const char *detail)
{
    fprintf(stderr, "ledger request fuzz: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void s_start(void)
{
    char err[256];
    strcpy(s_fx.dir, "/tmp/cairn-ledger-fuzz-XXXXXX");
    if (!mkdtemp(s_fx.dir))
        s_fail("cannot make a temporary directory", NULL);
    snprintf(s_fx.ledger_dir, sizeof s_fx.ledger_dir, "%s/ledger", s_fx.dir);
    if (!(s_fx.config = cairn_config_new()) ||
        cairn_config_set(s_fx.config, "cairn.data_dir", s_fx.dir, err, sizeof err) < 0 ||
        cairn_config_set(s_fx.config, "ledger.map_size", "64M", err, sizeof err) < 0 ||
        cairn_config_finalize(s_fx.config, err, sizeof err) < 0)
        s_fail("cannot configure the ledger", err);
    if (!(s_fx.ledger = cairn_ledger_new(s_fx.config)))
        s_fail("cannot start the ledger", NULL);
    if (!(s_fx.client = cairn_client_new(cairn_config_str(s_fx.config, "bus.ledger_api"))))
        s_fail("cannot connect to the ledger", NULL);
    atomic_store(&s_fx.running, true);
    if (pthread_create(&s_fx.thread, NULL, s_run, NULL) != 0)
        s_fail("cannot start the engine's thread", NULL);
    s_fx.inputs = 0;
    s_fx.up = true;
}

/* Sends one request body; returns its decoded reply (aborts without one). */
static Cairn__V1__LedgerReply *s_call(const void *body, size_t len)
{
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    Cairn__V1__LedgerReply *rep = NULL;
    int rc = cairn_client_call(s_fx.client, body, len, S_TIMEOUT_MS, &buf, &buf_len);
    if (rc < 0)
        s_fail("no reply", cairn_strerror(rc));
    rc = cairn_codec_ledger_reply_unpack(buf, buf_len, &rep);
    free(buf);
    if (rc < 0)
        s_fail("the reply does not decode", cairn_strerror(rc));
    return rep;
}

/* The store verifies offline; returns its size. */
static uint64_t s_verify(void)
{
    cairn_ledger_verify_report_t report;
    if (cairn_ledger_verify(s_fx.ledger_dir, NULL, &report) != 0)
        s_fail("the store does not verify", report.reason);
    /* The head the engine serves is the last checkpoint it signed. */
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__CheckpointRequest cp = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT;
    req.checkpoint = &cp;
    uint8_t *body = NULL;
    size_t len = 0;
    if (cairn_codec_pack(&req.base, &body, &len) < 0)
        s_fail("cannot pack a checkpoint request", NULL);
    Cairn__V1__LedgerReply *rep = s_call(body, len);
    free(body);
    if (report.size > 0 &&
        (rep->status != 0 || !rep->checkpoint || rep->checkpoint->size != report.size))
        s_fail("the served checkpoint is not the verified log's size", rep->error);
    CAIRN_CODEC_FREE(&rep);
    s_fx.inputs = 0;
    return report.size;
}

static void s_stop(void)
{
    if (!s_fx.up)
        return;
    s_verify();
    atomic_store(&s_fx.running, false);
    pthread_join(s_fx.thread, NULL);
    cairn_client_destroy(&s_fx.client);
    cairn_ledger_destroy(&s_fx.ledger);
    cairn_config_destroy(&s_fx.config);
    nftw(s_fx.dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    s_fx.up = false;
}

/* What a successful reply must carry for the request it answers. */
static void s_check(const uint8_t *data, size_t size, const Cairn__V1__LedgerReply *rep)
{
    if (rep->status > 0 || (rep->status < 0 && (!rep->error || !*rep->error)))
        s_fail("a reply's status is not 0 or a code with a message", rep->error);
    if (rep->status != 0)
        return;
    /* The ledger reads requests through its view (ledger_view.proto), which
     * takes a record as bytes: a oneof whose last member wins over a cut
     * record is answered, though the whole schema refuses it. */
    Cairn__V1__LedgerRequest *req = NULL;
    if (cairn_codec_ledger_request_unpack(data, size, &req) < 0)
        return;
    if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND &&
        (!rep->ack || rep->ack->hash.len != 32 || !rep->ack->tlog_proof || !*rep->ack->tlog_proof))
        s_fail("an append succeeded without its ack", NULL);
    if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH &&
        rep->n_results != req->append_batch->n_appends)
        s_fail("an append_batch got a result count other than its appends'", NULL);
    CAIRN_CODEC_FREE(&req);
}

static void s_at_exit(void)
{
    s_stop();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_fx.up) {
        static bool once;
        if (!once)
            cairn_log_init("ledger", "error"); /* refusals are the common case */
        s_start();
        /* After the first sockets, so that it runs before czmq's own exit
         * handler closes them. */
        if (!once)
            atexit(s_at_exit);
        once = true;
    }
    Cairn__V1__LedgerReply *rep = s_call(data, size);
    s_check(data, size, rep);
    CAIRN_CODEC_FREE(&rep);
    if (++s_fx.inputs >= S_VERIFY_EVERY && s_verify() > S_ENTRIES_MAX)
        s_stop();
    return 0;
}
