/* Tests for bus framing and the request/reply client over real ipc sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/error.h"

static char s_dir[64];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/cairn-bus-test-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void published_messages_keep_topic_and_payload(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/run/stream.sock", s_dir);
    zsock_t *pub = NULL, *sub = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_PUB, ep, &pub), 0);
    struct stat st;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/run", s_dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(cairn_bus_connect(ZMQ_SUB, ep, "verdict.", &sub), 0);
    zsock_set_rcvtimeo(sub, 2000);
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    /* Slow joiner: publish until the subscription is in place. */
    int got = 0;
    for (int i = 0; i < 50 && !got; i++) {
        cairn_bus_publish(pub, "alert.drift", "x", 1);
        cairn_bus_publish(pub, "verdict.deployment", "\0\1\2", 3);
        zsock_set_rcvtimeo(sub, 50);
        if (cairn_bus_receive(sub, &topic, &payload, &len) == 0)
            got = 1;
    }
    assert_true(got);
    assert_string_equal(topic, "verdict.deployment");
    assert_int_equal(len, 3);
    assert_memory_equal(payload, "\0\1\2", 3);
    free(topic);
    free(payload);
    zsock_destroy(&sub);
    zsock_destroy(&pub);
}

/* A child process that calls ep with "second" through a cairn_client_t and
 * exits 0 when the answer is "answer". */
static pid_t s_fork_client(const char *ep)
{
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t *r = NULL;
        size_t rl = 0;
        cairn_client_t *c = cairn_client_new(ep);
        int rc = cairn_client_call(c, "second", 6, 3000, &r, &rl);
        int ok = rc == 0 && rl == 6 && memcmp(r, "answer", 6) == 0;
        free(r);
        cairn_client_destroy(&c);
        _exit(ok ? 0 : 1);
    }
    assert_true(pid > 0);
    return pid;
}

static void s_assert_client_ok(pid_t pid)
{
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void client_gets_reply_and_times_out_cleanly(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/api.sock", s_dir);
    cairn_client_t *client = cairn_client_new(ep);
    uint8_t *reply = NULL;
    size_t len = 0;
    /* Nothing bound: unreachable at once. */
    assert_int_equal(cairn_client_call(client, "ping", 4, 100, &reply, &len), CAIRN_EUNREACHABLE);

    zsock_t *router = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &router), 0);
    /* Bound but nobody answers: a timeout. */
    assert_int_equal(cairn_client_call(client, "first", 5, 100, &reply, &len), CAIRN_ETIMEOUT);
    zframe_t *peer = NULL;
    uint8_t *req = NULL;
    size_t req_len = 0;
    zsock_set_rcvtimeo(router, 1000);
    assert_int_equal(cairn_bus_server_recv(router, &peer, &req, &req_len), 0);
    /* Answer the timed-out request late: the client must not read it next. */
    assert_int_equal(cairn_bus_server_reply(router, &peer, "late", 4), 0);
    free(req);

    /* The same client must not take the late answer as the reply to a new request. */
    assert_int_equal(cairn_client_call(client, "third", 5, 200, &reply, &len), CAIRN_ETIMEOUT);
    assert_int_equal(cairn_bus_server_recv(router, &peer, &req, &req_len), 0);
    assert_memory_equal(req, "third", 5);
    free(req);
    zframe_destroy(&peer);

    /* Send from the client; serve from here; wait with a generous timeout. */
    zpoller_t *poller = zpoller_new(router, NULL);
    assert_non_null(poller);
    pid_t pid = s_fork_client(ep);
    void *which = zpoller_wait(poller, 3000);
    assert_ptr_equal(which, router);
    assert_int_equal(cairn_bus_server_recv(router, &peer, &req, &req_len), 0);
    assert_int_equal(req_len, 6);
    assert_memory_equal(req, "second", 6);
    free(req);
    assert_int_equal(cairn_bus_server_reply(router, &peer, "answer", 6), 0);
    s_assert_client_ok(pid);
    zpoller_destroy(&poller);
    zsock_destroy(&router);
    cairn_client_destroy(&client);
    assert_null(client);
}

/* One request from dealer, answered by router; true when it came back. */
static bool s_round_trip(zsock_t *dealer, zsock_t *router)
{
    zsock_set_rcvtimeo(router, 500);
    zsock_set_rcvtimeo(dealer, 500);
    zstr_sendm(dealer, "");
    zstr_send(dealer, "ping");
    zframe_t *peer = NULL;
    uint8_t *req = NULL;
    size_t len = 0;
    if (cairn_bus_server_recv(router, &peer, &req, &len) < 0)
        return false;
    free(req);
    cairn_bus_server_reply(router, &peer, "pong", 4);
    zmsg_t *msg = zmsg_recv(dealer);
    bool ok = msg && zmsg_size(msg) == 2;
    zmsg_destroy(&msg);
    return ok;
}

static void a_connect_once_socket_does_not_follow_a_restarted_server(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/once.sock", s_dir);
    zsock_t *router = NULL, *once = NULL, *again = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &router), 0);
    assert_int_equal(cairn_bus_connect_once(ZMQ_DEALER, ep, &once), 0);
    assert_int_equal(cairn_bus_connect(ZMQ_DEALER, ep, NULL, &again), 0);
    assert_true(s_round_trip(once, router));
    assert_true(s_round_trip(again, router));

    /* The server goes away and a new one binds the same endpoint. */
    zsock_destroy(&router);
    zclock_sleep(200);
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &router), 0);
    zclock_sleep(300);
    /* The ordinary socket reconnects; the other never reaches the new server. */
    assert_true(s_round_trip(again, router));
    zsock_set_sndtimeo(once, 0);
    zstr_sendm(once, "");
    zstr_send(once, "lost");
    zsock_set_rcvtimeo(router, 500);
    zmsg_t *msg = zmsg_recv(router);
    assert_null(msg);
    zsock_destroy(&once);
    zsock_destroy(&again);
    zsock_destroy(&router);
}

static atomic_int s_freed; /* payloads libzmq released through s_count_free (any thread) */

static void s_count_free(void *data, void *hint)
{
    (void)hint;
    free(data);
    s_freed++;
}

/* A zmq_msg_t over a malloc'd copy of text, released through s_count_free. */
static void s_msg_of(zmq_msg_t *msg, const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, text, len);
    assert_int_equal(zmq_msg_init_data(msg, buf, len, s_count_free, NULL), 0);
}

static void s_send_frames(zsock_t *dealer, const char **frames, int n)
{
    for (int i = 0; i < n; i++)
        assert_true(zmq_send(zsock_resolve(dealer), frames[i], strlen(frames[i]),
                             i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
}

static void the_zero_copy_server_path_frames_like_the_copying_one(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/zc.sock", s_dir);
    zsock_t *router = NULL, *dealer = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &router), 0);
    assert_int_equal(cairn_bus_connect(ZMQ_DEALER, ep, NULL, &dealer), 0);
    cairn_bus_peer_t peer = {.live = false};
    zmq_msg_t body, reply;
    zsock_set_rcvtimeo(router, 0);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), CAIRN_ETIMEOUT);
    assert_false(peer.live);

    /* Malformed messages are consumed: no delimiter, then one frame too many. */
    const char *bad1[] = {"no delimiter"};
    const char *bad2[] = {"", "one", "two"};
    const char *good[] = {"", "ping"};
    s_send_frames(dealer, bad1, 1);
    s_send_frames(dealer, bad2, 3);
    s_send_frames(dealer, good, 2);
    zsock_set_rcvtimeo(router, 2000);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), CAIRN_EPROTO);
    assert_false(peer.live);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), CAIRN_EPROTO);
    assert_false(peer.live);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), 0);
    assert_true(peer.live);
    assert_int_equal(zmq_msg_size(&body), 4);
    assert_memory_equal(zmq_msg_data(&body), "ping", 4);
    zmq_msg_close(&body);

    /* The reply goes out without a copy and comes back as [empty][payload]. */
    s_freed = 0;
    s_msg_of(&reply, "pong");
    assert_int_equal(cairn_bus_server_reply_msg(router, &peer, &reply), 0);
    assert_false(peer.live);
    zsock_set_rcvtimeo(dealer, 2000);
    zmsg_t *got = zmsg_recv(dealer);
    assert_non_null(got);
    assert_int_equal(zmsg_size(got), 2);
    assert_int_equal(zframe_size(zmsg_first(got)), 0);
    assert_true(zframe_streq(zmsg_next(got), "pong"));
    zmsg_destroy(&got);
    for (int i = 0; i < 100 && s_freed == 0; i++)
        zclock_sleep(10); /* libzmq releases a sent message on its I/O thread */
    assert_int_equal(s_freed, 1);

    /* A peer that holds nothing: refused, and the body is still released. */
    s_msg_of(&reply, "nobody");
    assert_int_equal(cairn_bus_server_reply_msg(router, &peer, &reply), CAIRN_EINVALID);
    assert_int_equal(s_freed, 2);
    cairn_bus_peer_close(&peer);

    /* Interoperates with the copying client and the copying reply. */
    pid_t pid = s_fork_client(ep);
    zsock_set_rcvtimeo(router, 3000);
    assert_int_equal(cairn_bus_server_recv_msg(router, &peer, &body), 0);
    assert_int_equal(zmq_msg_size(&body), 6);
    assert_memory_equal(zmq_msg_data(&body), "second", 6);
    zmq_msg_close(&body);
    zmq_msg_init_size(&reply, 6);
    memcpy(zmq_msg_data(&reply), "answer", 6);
    assert_int_equal(cairn_bus_server_reply_msg(router, &peer, &reply), 0);
    s_assert_client_ok(pid);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

static void a_zero_copy_publish_reaches_a_subscriber(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/zcpub.sock", s_dir);
    zsock_t *pub = NULL, *sub = NULL;
    assert_int_equal(cairn_bus_bind(ZMQ_PUB, ep, &pub), 0);
    assert_int_equal(cairn_bus_connect(ZMQ_SUB, ep, "entry.", &sub), 0);
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    int sent = 0;
    s_freed = 0;
    bool got = false;
    for (int i = 0; i < 50 && !got; i++) { /* slow joiner */
        zmq_msg_t m;
        s_msg_of(&m, "payload bytes");
        assert_int_equal(cairn_bus_publish_msg(pub, "entry.x", &m), 0);
        sent++;
        zsock_set_rcvtimeo(sub, 50);
        got = cairn_bus_receive(sub, &topic, &payload, &len) == 0;
    }
    assert_true(got);
    assert_string_equal(topic, "entry.x");
    assert_int_equal(len, 13);
    assert_memory_equal(payload, "payload bytes", 13);
    free(topic);
    free(payload);
    zsock_destroy(&sub);
    zsock_destroy(&pub);
    /* Every payload is released exactly once, sent or dropped (libzmq's I/O
     * thread lets go of the sent ones as the sockets close). */
    for (int i = 0; i < 200 && s_freed < sent; i++)
        zclock_sleep(10);
    assert_int_equal(s_freed, sent);
}

/* A publisher that stops while its queue still holds multipart messages for
 * a subscriber that disconnects at the same moment (a daemon's stream when
 * `cairn up` stops them all): with no linger libzmq aborts the process in
 * one round in a few hundred (zeromq/libzmq#3442). Its sockets linger. */
static void a_publisher_stopping_under_a_leaving_subscriber_does_not_abort(void **state)
{
    (void)state;
    char ep[128];
    static char payload[1200];
    snprintf(ep, sizeof ep, "ipc://%s/run/stop.sock", s_dir);
    for (int round = 0; round < 300; round++) {
        zsock_t *pub = NULL, *sub = NULL;
        assert_int_equal(cairn_bus_bind(ZMQ_PUB, ep, &pub), 0);
        assert_true(zsock_linger(pub) > 0);
        assert_int_equal(cairn_bus_connect(ZMQ_SUB, ep, "", &sub), 0);
        zclock_sleep(2);
        for (int i = 0; i < 2000; i++)
            assert_int_equal(cairn_bus_publish(pub, "dev.cdevents.change.created.0.4.0", payload,
                                               sizeof payload),
                             0);
        zsock_destroy(&sub);
        zsock_destroy(&pub);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_messages_keep_topic_and_payload),
        cmocka_unit_test(client_gets_reply_and_times_out_cleanly),
        cmocka_unit_test(a_connect_once_socket_does_not_follow_a_restarted_server),
        cmocka_unit_test(the_zero_copy_server_path_frames_like_the_copying_one),
        cmocka_unit_test(a_zero_copy_publish_reaches_a_subscriber),
        cmocka_unit_test(a_publisher_stopping_under_a_leaving_subscriber_does_not_abort),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
