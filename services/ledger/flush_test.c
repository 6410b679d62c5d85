/* Tests for the flush that makes a commit durable, with a disk that fails
 * it: this program's fdatasync stands in for the C library's (LMDB's calls
 * reach it too) and fails with EIO when told to. The store must refuse
 * writes for good after a failed flush, and the engine must answer no write
 * of a batch whose flush failed as stored, publish none of it, and take no
 * more writes until it is restarted; the entries are then found by the keys
 * they were sent with. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "engine.h"
#include "store.h"
#include "testutil.h"
#include "verify.h"

#define S_TIMEOUT_MS 5000

/* Which fdatasync calls fail. */
typedef enum {
    S_FLUSH_OK,        /* none */
    S_FLUSH_FAIL,      /* all */
    S_FLUSH_PASS_ONCE, /* all but the next one */
} s_flush_mode_t;

static atomic_int s_mode;     /* an s_flush_mode_t */
static atomic_int s_failures; /* calls failed so far */

int fdatasync(int fd)
{
    int mode = S_FLUSH_PASS_ONCE;
    if (!atomic_compare_exchange_strong(&s_mode, &mode, S_FLUSH_FAIL))
        mode = atomic_load(&s_mode);
    if (mode == S_FLUSH_FAIL) {
        atomic_fetch_add(&s_failures, 1);
        errno = EIO;
        return -1;
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}

/* --- the store ---------------------------------------------------------- */

/* The store in dir, opened again, with a batch holding one append under key. */
static cairn_ledger_store_t *s_reopen_with_append(const char *dir, cairn_note_signer_t *signer,
                                                  const char *key)
{
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(dir, LT_MAP_SIZE, LT_ORIGIN, signer, &store), 0);
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    cairn_ledger_append_t a = lt_append_in(store, key, "CHG-1", NULL, key, 1764107400000);
    free(a.leaf);
    return store;
}

static void test_a_failed_flush_refuses_writes_until_the_store_is_reopened(void **state)
{
    (void)state;
    char dir[64];
    lt_mkdtemp(dir, "cairn-ledger-flush");
    cairn_note_signer_t *signer = lt_signer(LT_ORIGIN, 7);
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(dir, LT_MAP_SIZE, LT_ORIGIN, signer, &store), 0);
    lt_append_batch(store, 3, "CHG-1");

    /* A deferred commit is seen at once; its flush fails. */
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    cairn_ledger_append_t a = lt_append_in(store, "k4", "CHG-1", NULL, "id-4", 1764107400000);
    free(a.leaf);
    assert_int_equal(cairn_ledger_store_commit_deferred(store), 0);
    assert_int_equal(cairn_ledger_store_size(store), 4);
    atomic_store(&s_mode, S_FLUSH_FAIL);
    assert_int_equal(cairn_ledger_store_sync(store), -EIO);
    assert_int_equal(atomic_load(&s_failures), 1);

    /* The disk works again, but what it holds is unknown: no more writes. */
    atomic_store(&s_mode, S_FLUSH_OK);
    assert_int_equal(cairn_ledger_store_sync(store), -EIO);
    assert_int_equal(cairn_ledger_store_begin(store), -EIO);
    assert_int_equal(atomic_load(&s_failures), 1); /* refused without asking the disk */
    cairn_ledger_store_destroy(&store);

    /* Reopened, the store is whole and takes writes; the entry is there. */
    assert_int_equal(cairn_ledger_store_open(dir, LT_MAP_SIZE, LT_ORIGIN, signer, &store), 0);
    assert_int_equal(cairn_ledger_store_size(store), 4);
    lt_append_batch(store, 1, "CHG-1");
    assert_int_equal(cairn_ledger_store_size(store), 5);
    cairn_ledger_store_destroy(&store);
    cairn_ledger_verify_report_t report;
    assert_int_equal(cairn_ledger_verify(dir, NULL, &report), 0);
    assert_int_equal(report.size, 5);

    /* A commit whose own flush fails keeps nothing of its batch, and since
     * that flush was also to make the commit before it durable, the store
     * takes no more writes either. */
    store = s_reopen_with_append(dir, signer, "k6");
    atomic_store(&s_mode, S_FLUSH_FAIL);
    assert_int_equal(cairn_ledger_store_commit_deferred(store), -EIO);
    atomic_store(&s_mode, S_FLUSH_OK);
    assert_int_equal(cairn_ledger_store_size(store), 5);
    assert_int_equal(cairn_ledger_store_begin(store), -EIO);
    cairn_ledger_store_destroy(&store);

    /* A durable commit whose flush of the meta page fails reports it, and
     * the store takes no more writes. */
    store = s_reopen_with_append(dir, signer, "k7");
    atomic_store(&s_mode, S_FLUSH_PASS_ONCE);
    assert_int_equal(cairn_ledger_store_commit(store), -EIO);
    atomic_store(&s_mode, S_FLUSH_OK);
    assert_int_equal(cairn_ledger_store_begin(store), -EIO);
    cairn_ledger_store_destroy(&store);
    cairn_note_signer_destroy(&signer);
    lt_rmtree(dir);
}

/* --- the engine --------------------------------------------------------- */

/* A running engine in a temporary directory, a client and a subscriber. */
typedef struct {
    char dir[64];
    cairn_config_t *config;
    cairn_ledger_t *ledger;
    lt_served_t served;
    cairn_client_t *client;
    zsock_t *sub;
} s_fixture_t;

static void s_start(s_fixture_t *f)
{
    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
    f->client = cairn_client_new(cairn_config_str(f->config, "bus.ledger_api"));
    assert_non_null(f->client);
    lt_serve(&f->served, f->ledger);
}

static void s_stop(s_fixture_t *f)
{
    lt_serve_stop(&f->served);
    cairn_client_destroy(&f->client);
    cairn_ledger_destroy(&f->ledger);
}

static void s_subscribe(s_fixture_t *f)
{
    assert_int_equal(
        cairn_bus_connect(ZMQ_SUB, cairn_config_str(f->config, "bus.ledger_stream"), "", &f->sub),
        0);
    zclock_sleep(200); /* the subscription reaches the publisher */
}

/* Packs an append of a change.created event under key. */
static void s_append_request(const char *key, uint8_t **buf, size_t *len)
{
    uint8_t *record = NULL;
    size_t record_len = 0;
    lt_event_record("dev.cdevents.change.created.0.4.0", "CHG-1", NULL, NULL, key, &record,
                    &record_len);
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(cairn_codec_record_unpack(record, record_len, &rec), 0);
    lt_append_request(key, rec, buf, len);
    CAIRN_CODEC_FREE(&rec);
    free(record);
}

/* Packs a request with only its body case set (head, checkpoint). */
static void s_bare_request(Cairn__V1__LedgerRequest__BodyCase body, uint8_t **buf, size_t *len)
{
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__CheckpointRequest cp = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = body;
    if (body == CAIRN__V1__LEDGER_REQUEST__BODY_HEAD)
        req.head = &head;
    else
        req.checkpoint = &cp;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

static Cairn__V1__LedgerReply *s_call(s_fixture_t *f, uint8_t *buf, size_t len)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(cairn_client_call(f->client, buf, len, S_TIMEOUT_MS, &reply, &reply_len), 0);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(reply, reply_len, &rep), 0);
    free(buf);
    free(reply);
    return rep;
}

static Cairn__V1__LedgerReply *s_append(s_fixture_t *f, const char *key)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request(key, &buf, &len);
    return s_call(f, buf, len);
}

static Cairn__V1__LedgerReply *s_bare(s_fixture_t *f, Cairn__V1__LedgerRequest__BodyCase body)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    s_bare_request(body, &buf, &len);
    return s_call(f, buf, len);
}

/* Sends a request on a DEALER of its own without waiting for the answer. */
static void s_send(zsock_t *dealer, uint8_t *buf, size_t len)
{
    zmsg_t *msg = zmsg_new();
    assert_non_null(msg);
    assert_int_equal(zmsg_addmem(msg, "", 0), 0);
    assert_int_equal(zmsg_addmem(msg, buf, len), 0);
    assert_int_equal(zmsg_send(&msg, dealer), 0);
    free(buf);
}

/* The next answer on that DEALER. */
static Cairn__V1__LedgerReply *s_receive(zsock_t *dealer)
{
    zmsg_t *msg = zmsg_recv(dealer);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 2);
    zframe_t *empty = zmsg_pop(msg), *body = zmsg_pop(msg);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(zframe_data(body), zframe_size(body), &rep),
                     0);
    zframe_destroy(&empty);
    zframe_destroy(&body);
    zmsg_destroy(&msg);
    return rep;
}

/* The index of the next entry published, or -1 when none comes in time. */
static int64_t s_published(s_fixture_t *f, int timeout_ms)
{
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    Cairn__V1__Entry *e = NULL;
    zsock_set_rcvtimeo(f->sub, timeout_ms);
    if (cairn_bus_receive(f->sub, &topic, &payload, &len) < 0)
        return -1;
    assert_int_equal(cairn_codec_entry_unpack(payload, len, &e), 0);
    int64_t index = (int64_t)e->index;
    CAIRN_CODEC_FREE(&e);
    free(payload);
    free(topic);
    return index;
}

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* A configuration in a new temporary directory. */
static void s_fixture_init(s_fixture_t *f)
{
    char err[256];
    memset(f, 0, sizeof *f);
    strcpy(f->dir, "/tmp/cairn-ledger-flush-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(f->config = cairn_config_new());
    assert_int_equal(cairn_config_set(f->config, "cairn.data_dir", f->dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(f->config, "ledger.map_size", "64M", err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(f->config, err, sizeof err), 0);
}

static void s_fixture_fini(s_fixture_t *f)
{
    zsock_destroy(&f->sub);
    cairn_config_destroy(&f->config);
    nftw(f->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_a_batch_whose_flush_fails_is_not_acknowledged_nor_published(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture_init(&f);
    s_start(&f);
    s_subscribe(&f);

    Cairn__V1__LedgerReply *rep = s_append(&f, "k1");
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->ack->index, 0);
    CAIRN_CODEC_FREE(&rep);
    assert_int_equal(s_published(&f, S_TIMEOUT_MS), 0);

    /* The commit (LMDB's flush of the batch's pages) succeeds; the flush of
     * the page that points at them, before the answer, fails. */
    atomic_store(&s_mode, S_FLUSH_PASS_ONCE);
    rep = s_append(&f, "k2");
    assert_int_equal(rep->status, -EIO);
    assert_null(rep->ack);
    assert_non_null(strstr(rep->error, "could not flush the entry to disk"));
    assert_non_null(strstr(rep->error, "retry with the same key"));
    CAIRN_CODEC_FREE(&rep);
    assert_true(atomic_load(&s_failures) >= 1);

    /* The disk works again; the ledger still takes no writes. */
    atomic_store(&s_mode, S_FLUSH_OK);
    rep = s_append(&f, "k3");
    assert_int_equal(rep->status, -EIO);
    assert_null(rep->ack);
    assert_non_null(strstr(rep->error, "nothing was appended"));
    CAIRN_CODEC_FREE(&rep);
    assert_int_equal(s_published(&f, 300), -1); /* neither k2 nor k3 was published */

    /* Restarted, it finds k2 by its key and goes on. */
    s_stop(&f);
    zsock_destroy(&f.sub);
    s_start(&f);
    s_subscribe(&f);
    rep = s_append(&f, "k2");
    assert_int_equal(rep->status, 0);
    assert_true(rep->ack->duplicate);
    assert_int_equal(rep->ack->index, 1);
    CAIRN_CODEC_FREE(&rep);
    rep = s_append(&f, "k3");
    assert_int_equal(rep->status, 0);
    assert_false(rep->ack->duplicate);
    assert_int_equal(rep->ack->index, 2);
    CAIRN_CODEC_FREE(&rep);
    assert_int_equal(s_published(&f, S_TIMEOUT_MS), 2);

    s_stop(&f);
    s_fixture_fini(&f);
}

/* What the store holds past its last flush may not be on disk: a
 * checkpoint over it, once handed out, could not be honoured after a
 * restart. So after a failed flush the ledger serves no read, neither one
 * in the batch whose flush failed nor a later one, and reports the size it
 * knows to be on disk. */
static void test_after_a_failed_flush_no_read_is_served(void **state)
{
    (void)state;
    s_fixture_t f;
    s_fixture_init(&f);
    s_start(&f);
    Cairn__V1__LedgerReply *rep = s_append(&f, "k1");
    assert_int_equal(rep->status, 0);
    CAIRN_CODEC_FREE(&rep);

    /* An append and a checkpoint request, waiting together for the loop:
     * one batch, whose read is answered after the batch's flush. */
    lt_serve_stop(&f.served);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(dealer);
    assert_int_equal(zsock_connect(dealer, "%s", cairn_config_str(f.config, "bus.ledger_api")), 0);
    zsock_set_rcvtimeo(dealer, S_TIMEOUT_MS);
    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request("k2", &buf, &len);
    s_send(dealer, buf, len);
    s_bare_request(CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT, &buf, &len);
    s_send(dealer, buf, len);
    zclock_sleep(200); /* both reach the ledger's socket */
    atomic_store(&s_mode, S_FLUSH_PASS_ONCE);
    lt_serve(&f.served, f.ledger);

    rep = s_receive(dealer);
    assert_int_equal(rep->status, -EIO);
    assert_non_null(strstr(rep->error, "could not flush the entry to disk"));
    CAIRN_CODEC_FREE(&rep);
    rep = s_receive(dealer);
    assert_int_equal(rep->status, -EIO);
    assert_non_null(strstr(rep->error, "failed a flush"));
    assert_non_null(strstr(rep->error, "cairn log verify"));
    assert_null(rep->checkpoint);
    assert_int_equal(rep->size, 1); /* k1, flushed; not k2 */
    CAIRN_CODEC_FREE(&rep);
    zsock_destroy(&dealer);

    /* Later reads are refused too, with the disk working again. */
    atomic_store(&s_mode, S_FLUSH_OK);
    rep = s_bare(&f, CAIRN__V1__LEDGER_REQUEST__BODY_HEAD);
    assert_int_equal(rep->status, -EIO);
    assert_non_null(strstr(rep->error, "failed a flush"));
    assert_int_equal(rep->size, 1);
    CAIRN_CODEC_FREE(&rep);
    lt_serve_stop(&f.served);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f.ledger, &st);
    assert_int_equal(st.store_errors, 3); /* k2, and the two reads */

    /* Restarted, it serves again (k2 did reach this disk). */
    s_stop(&f);
    s_start(&f);
    rep = s_bare(&f, CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT);
    assert_int_equal(rep->status, 0);
    assert_non_null(rep->checkpoint);
    assert_int_equal(rep->size, 2);
    CAIRN_CODEC_FREE(&rep);
    s_stop(&f);
    s_fixture_fini(&f);
}

static int s_reset(void **state)
{
    (void)state;
    atomic_store(&s_mode, S_FLUSH_OK);
    atomic_store(&s_failures, 0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_failed_flush_refuses_writes_until_the_store_is_reopened,
                               s_reset),
        cmocka_unit_test_setup(test_a_batch_whose_flush_fails_is_not_acknowledged_nor_published,
                               s_reset),
        cmocka_unit_test_setup(test_after_a_failed_flush_no_read_is_served, s_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
