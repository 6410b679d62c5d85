/* Tests for CURVE on the bus, in one process over tcp://127.0.0.1: a tcp://
 * endpoint without keys is refused; a client whose key is on the allow-list
 * talks to a ROUTER and hears a PUB; a client with another key, or without
 * CURVE, gets no answer and no message, and each refusal is reported with
 * the client's key and counted. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/curve.h"
#include "cairn/error.h"
#include "cairn/util.h"

typedef struct {
    char dir[64];                    /* temporary key directory */
    char key[128];                   /* this process's key pair (the "ledger") */
    char allow[128];                 /* allow-list: this process's own key */
    char api[64], stream[64];        /* tcp endpoints */
    cairn_curve_keypair_t *self;     /* the key in key */
    cairn_curve_keypair_t *stranger; /* a key on no list */
} s_fixture_t;

static struct {
    pthread_mutex_t lock;
    char keys[8][160]; /* "socket key reason" of each report */
    int n;
} s_reports = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void s_on_refusal(const char *socket, const char *key_z85, const char *address,
                         const char *reason, uint64_t repeats, uint64_t total, void *arg)
{
    (void)address, (void)repeats, (void)total, (void)arg;
    pthread_mutex_lock(&s_reports.lock);
    if (s_reports.n < 8)
        snprintf(s_reports.keys[s_reports.n++], sizeof s_reports.keys[0], "%s %s %s", socket,
                 key_z85, reason);
    pthread_mutex_unlock(&s_reports.lock);
}

/* Was a refusal reported whose text contains all of a and b? */
static bool s_reported(const char *a, const char *b)
{
    bool found = false;
    for (int tries = 0; tries < 100 && !found; tries++) {
        pthread_mutex_lock(&s_reports.lock);
        for (int i = 0; i < s_reports.n; i++)
            if (strstr(s_reports.keys[i], a) && strstr(s_reports.keys[i], b))
                found = true;
        pthread_mutex_unlock(&s_reports.lock);
        if (!found)
            usleep(20000);
    }
    return found;
}

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static cairn_config_t *s_config(const s_fixture_t *f, bool with_keys)
{
    char err[512];
    cairn_config_t *cfg = cairn_config_new();
    assert_non_null(cfg);
    assert_int_equal(cairn_config_set(cfg, "cairn.data_dir", f->dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "bus.ledger_api", f->api, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "bus.ledger_stream", f->stream, err, sizeof err), 0);
    if (with_keys) {
        assert_int_equal(cairn_config_set(cfg, "bus.curve_secret_key", f->key, err, sizeof err), 0);
        assert_int_equal(cairn_config_set(cfg, "bus.ledger_api_allow", f->allow, err, sizeof err),
                         0);
        assert_int_equal(
            cairn_config_set(cfg, "bus.ledger_stream_allow", f->allow, err, sizeof err), 0);
    }
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    return cfg;
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char pub[160];
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-bus-curve-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->key, sizeof f->key, "%s/{service}.key", f->dir);
    snprintf(f->allow, sizeof f->allow, "%s/ledger.key.pub", f->dir);
    snprintf(pub, sizeof pub, "%s/ledger.key", f->dir);
    if (cairn_curve_keypair_generate(&f->self) < 0 ||
        cairn_curve_keypair_save(f->self, pub, f->allow, "ledger", false) < 0 ||
        cairn_curve_keypair_generate(&f->stranger) < 0)
        return -1;
    snprintf(f->api, sizeof f->api, "tcp://127.0.0.1:%d", s_free_port());
    snprintf(f->stream, sizeof f->stream, "tcp://127.0.0.1:%d", s_free_port());
    cairn_bus_on_refusal(s_on_refusal, NULL);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    char cmd[128];
    cairn_bus_secure_reset();
    cairn_curve_keypair_destroy(&f->self);
    cairn_curve_keypair_destroy(&f->stranger);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void a_tcp_endpoint_without_keys_is_a_configuration_error(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    cairn_bus_secure_reset();
    /* without cairn_bus_secure there is no key for any tcp endpoint */
    zsock_t *sock = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, f->api, &sock), CAIRN_ECONFIG);
    assert_int_equal(cairn_bus_connect(ZMQ_DEALER, f->api, NULL, &sock), CAIRN_ECONFIG);
    assert_null(sock);

    cairn_config_t *cfg = s_config(f, false);
    assert_int_equal(cairn_bus_secure(cfg, "ledger", err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "bus.curve_secret_key is empty"));
    cairn_config_destroy(&cfg);

    /* {service} names the key file: there is no cli.key */
    cfg = s_config(f, true);
    assert_int_equal(cairn_bus_secure(cfg, "cli", err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "cli.key"));
    /* a client needs the server's public key */
    char path[160];
    snprintf(path, sizeof path, "%s/ledger.key", f->dir);
    assert_int_equal(cairn_config_set(cfg, "bus.curve_secret_key", path, err, sizeof err), 0);
    assert_int_equal(cairn_bus_secure(cfg, "cli", err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "bus.ledger_public_key"));
    /* and a key file others can read is refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(cairn_bus_secure(cfg, "ledger", err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(cairn_bus_secure(cfg, "ledger", err, sizeof err), 0);
    /* an endpoint not in the configuration has no keys either */
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, "tcp://127.0.0.1:1", &sock), CAIRN_ECONFIG);
    cairn_config_destroy(&cfg);
}

/* A DEALER with explicit CURVE keys (or none), bypassing cairn_bus_connect. */
static zsock_t *s_raw_dealer(const char *endpoint, const cairn_curve_keypair_t *kp,
                             const uint8_t *server_key)
{
    zsock_t *d = zsock_new(ZMQ_DEALER);
    assert_non_null(d);
    zsock_set_linger(d, 0);
    if (kp) {
        zsock_set_curve_serverkey_bin(d, server_key);
        zsock_set_curve_publickey_bin(d, cairn_curve_keypair_public(kp));
        zsock_set_curve_secretkey_bin(d, cairn_curve_keypair_secret(kp));
    }
    assert_int_equal(zsock_connect(d, "%s", endpoint), 0);
    return d;
}

static zsock_t *s_raw_sub(const char *endpoint, const cairn_curve_keypair_t *kp,
                          const uint8_t *server_key)
{
    zsock_t *s = zsock_new(ZMQ_SUB);
    assert_non_null(s);
    zsock_set_linger(s, 0);
    zsock_set_subscribe(s, "");
    if (kp) {
        zsock_set_curve_serverkey_bin(s, server_key);
        zsock_set_curve_publickey_bin(s, cairn_curve_keypair_public(kp));
        zsock_set_curve_secretkey_bin(s, cairn_curve_keypair_secret(kp));
    }
    assert_int_equal(zsock_connect(s, "%s", endpoint), 0);
    return s;
}

static void s_send_request(zsock_t *dealer, const char *text)
{
    zmsg_t *m = zmsg_new();
    zmsg_addmem(m, NULL, 0);
    zmsg_addstr(m, text);
    assert_int_equal(zmsg_send(&m, dealer), 0);
}

static bool s_readable(zsock_t *sock, int ms)
{
    zmq_pollitem_t item = {zsock_resolve(sock), 0, ZMQ_POLLIN, 0};
    return zmq_poll(&item, 1, ms) == 1;
}

static void only_allowed_keys_reach_the_router_and_hear_the_publisher(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    cairn_config_t *cfg = s_config(f, true);
    assert_int_equal(cairn_bus_secure(cfg, "ledger", err, sizeof err), 0);
    uint64_t refused_before = cairn_bus_refusals();

    zsock_t *router = NULL, *pub = NULL, *good = NULL, *good_sub = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, f->api, &router), 0);
    assert_int_equal(cairn_bus_bind(ZMQ_PUB, f->stream, &pub), 0);
    const uint8_t *server = cairn_curve_keypair_public(f->self);
    zsock_t *stranger = s_raw_dealer(f->api, f->stranger, server);
    zsock_t *plain = s_raw_dealer(f->api, NULL, NULL);
    zsock_t *stranger_sub = s_raw_sub(f->stream, f->stranger, server);
    zsock_t *plain_sub = s_raw_sub(f->stream, NULL, NULL);
    assert_int_equal(cairn_bus_connect(ZMQ_DEALER, f->api, NULL, &good), 0);
    assert_int_equal(cairn_bus_connect(ZMQ_SUB, f->stream, "", &good_sub), 0);

    s_send_request(stranger, "from a stranger");
    s_send_request(plain, "in plaintext");
    s_send_request(good, "hello");

    /* the allowed request arrives and is answered; the others never do */
    zsock_set_rcvtimeo(router, 5000);
    zframe_t *peer = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(cairn_bus_server_recv(router, &peer, &payload, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(payload, "hello", 5);
    free(payload);
    assert_int_equal(cairn_bus_server_reply(router, &peer, "world", 5), 0);
    assert_true(s_readable(good, 5000));
    zmsg_t *reply = zmsg_recv(good);
    assert_int_equal(zmsg_size(reply), 2);
    zmsg_destroy(&reply);

    /* publish until the allowed subscriber hears (slow joiner), bounded */
    bool heard = false;
    for (int i = 0; i < 100 && !heard; i++) {
        assert_int_equal(cairn_bus_publish(pub, "entry.", "x", 1), 0);
        heard = s_readable(good_sub, 50);
    }
    assert_true(heard);
    for (int i = 0; i < 5; i++)
        assert_int_equal(cairn_bus_publish(pub, "entry.", "y", 1), 0);
    assert_false(s_readable(router, 500));
    assert_false(s_readable(stranger, 0));
    assert_false(s_readable(plain, 0));
    assert_false(s_readable(stranger_sub, 0));
    assert_false(s_readable(plain_sub, 0));

    /* each refusal is reported, with the stranger's key */
    char z85[41];
    cairn_curve_z85(cairn_curve_keypair_public(f->stranger), z85);
    assert_true(s_reported("ledger_api", z85));
    assert_true(s_reported("ledger_stream", z85));
    /* the plaintext clients showed no key (two spaces: an empty key) */
    assert_true(s_reported("ledger_api  ", "CURVE"));
    assert_true(s_reported("ledger_stream  ", "CURVE"));
    assert_true(cairn_bus_refusals() >= refused_before + 4);

    zsock_destroy(&stranger);
    zsock_destroy(&plain);
    zsock_destroy(&stranger_sub);
    zsock_destroy(&plain_sub);
    zsock_destroy(&good);
    zsock_destroy(&good_sub);
    zsock_destroy(&router);
    zsock_destroy(&pub);
    cairn_config_destroy(&cfg);
}

/* The zero-copy receive, reply and publish run on the same CURVE sockets:
 * only the allowed key gets through, and it is answered and heard. */
static void the_zero_copy_path_keeps_curve(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    /* Ports of its own: libzmq may not have let go of the last test's yet. */
    snprintf(f->api, sizeof f->api, "tcp://127.0.0.1:%d", s_free_port());
    snprintf(f->stream, sizeof f->stream, "tcp://127.0.0.1:%d", s_free_port());
    cairn_config_t *cfg = s_config(f, true);
    assert_int_equal(cairn_bus_secure(cfg, "ledger", err, sizeof err), 0);
    zsock_t *router = NULL, *pub = NULL, *good = NULL, *good_sub = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, f->api, &router), 0);
    assert_int_equal(cairn_bus_bind(ZMQ_PUB, f->stream, &pub), 0);
    zsock_t *stranger = s_raw_dealer(f->api, f->stranger, cairn_curve_keypair_public(f->self));
    zsock_t *stranger_sub = s_raw_sub(f->stream, f->stranger, cairn_curve_keypair_public(f->self));
    assert_int_equal(cairn_bus_connect(ZMQ_DEALER, f->api, NULL, &good), 0);
    assert_int_equal(cairn_bus_connect(ZMQ_SUB, f->stream, "", &good_sub), 0);
    s_send_request(stranger, "from a stranger");
    s_send_request(good, "hello");

    cairn_bus_peer_t peer = {.live = false};
    zmq_msg_t body, reply;
    zsock_set_rcvtimeo(router, 5000);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), 0);
    assert_int_equal(zmq_msg_size(&body), 5);
    assert_memory_equal(zmq_msg_data(&body), "hello", 5);
    zmq_msg_close(&body);
    zmq_msg_init_size(&reply, 5);
    memcpy(zmq_msg_data(&reply), "world", 5);
    assert_int_equal(cairn_bus_server_reply_msg(router, &peer, &reply), 0);
    assert_true(s_readable(good, 5000));
    zmsg_t *got = zmsg_recv(good);
    assert_int_equal(zmsg_size(got), 2);
    assert_true(zframe_streq(zmsg_last(got), "world"));
    zmsg_destroy(&got);

    bool heard = false;
    for (int i = 0; i < 100 && !heard; i++) { /* slow joiner, bounded */
        zmq_msg_t m;
        zmq_msg_init_size(&m, 1);
        memcpy(zmq_msg_data(&m), "x", 1);
        assert_int_equal(cairn_bus_publish_msg(pub, "entry.", &m), 0);
        heard = s_readable(good_sub, 50);
    }
    assert_true(heard);
    assert_false(s_readable(router, 300));
    assert_false(s_readable(stranger, 0));
    assert_false(s_readable(stranger_sub, 0));

    zsock_destroy(&stranger);
    zsock_destroy(&stranger_sub);
    zsock_destroy(&good);
    zsock_destroy(&good_sub);
    zsock_destroy(&router);
    zsock_destroy(&pub);
    cairn_config_destroy(&cfg);
}

static void an_ipc_directory_is_made_owner_only(void **state)
{
    s_fixture_t *f = *state;
    char dir[128], ep[160];
    snprintf(dir, sizeof dir, "%s/run", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(ep, sizeof ep, "ipc://%s/x.sock", dir);
    zsock_t *sock = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &sock), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    zsock_destroy(&sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_tcp_endpoint_without_keys_is_a_configuration_error),
        cmocka_unit_test(only_allowed_keys_reach_the_router_and_hear_the_publisher),
        cmocka_unit_test(the_zero_copy_path_keeps_curve),
        cmocka_unit_test(an_ipc_directory_is_made_owner_only),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
