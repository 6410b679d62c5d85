/* End-to-end tests of the bus over tcp://127.0.0.1 with CURVE.
 * A real cairn-ledger: a client whose key is on the allow-lists appends and
 * hears the stream; a client with an unknown key, and one without CURVE,
 * can neither append nor receive a single stream message, and the ledger
 * logs each refusal with the socket and the client's key.
 * The whole stack (`cairn up`) on tcp + CURVE: events posted over HTTP reach
 * the ledger, policy decides, `cairn gate`/`approve` work; run at
 * log.level=debug, no secret from the configuration or the key files ever
 * shows in the daemons' output. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/curve.h"
#include "cairn/error.h"
#include "harness.h"

#define S_GITHUB_SECRET "gh-secret-6f1d2c9a-never-logged"
#define S_JIRA_SECRET "jira-secret-0b7e44-never-logged"

/* What a failed assertion leaves behind, cleaned up by the teardowns. */
static pid_t s_ledger;           /* the ledger of the first test */
static zsock_t *s_socks[5];      /* its raw and allowed clients */
static cairn_client_t *s_client; /* the allowed request client */
static e2e_stack_t s_stack;      /* the stack of the second test */

static int s_stop_ledger(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++)
        zsock_destroy(&s_socks[i]);
    cairn_client_destroy(&s_client);
    cairn_bus_secure_reset();
    if (s_ledger > 0) {
        kill(s_ledger, SIGKILL);
        waitpid(s_ledger, NULL, 0);
        s_ledger = 0;
    }
    return 0;
}

static int s_stop_stack(void **state)
{
    (void)state;
    if (s_stack.up > 0)
        stack_stop(&s_stack);
    return 0;
}

/* `cairn keygen --curve -o dir/name.key --name name`. */
static void s_keygen(const char *bin, const char *dir, const char *name)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "'%s/cairn' keygen --curve -o '%s/%s.key' --name %s >/dev/null", bin,
             dir, name, name);
    assert_int_equal(system(cmd), 0);
}

/* The Z85 secret key in a key pair file (for grepping logs). */
static void s_secret_z85(const char *path, char out[41])
{
    cairn_curve_keypair_t *kp = NULL;
    char err[512];
    assert_int_equal(cairn_curve_keypair_load(path, &kp, err, sizeof err), 0);
    cairn_curve_z85(cairn_curve_keypair_secret(kp), out);
    cairn_curve_keypair_destroy(&kp);
}

static void s_public_z85(const char *path, char out[41])
{
    uint8_t key[32];
    char err[512];
    assert_int_equal(cairn_curve_public_load(path, key, err, sizeof err), 0);
    cairn_curve_z85(key, out);
}

static void s_rm_rf(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Waits (bounded) until the file at path contains text. */
static bool s_log_has(const char *path, const char *text, int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        char *log = slurp(path);
        bool found = log && strstr(log, text);
        free(log);
        if (found || waited >= timeout_ms)
            return found;
        sleep_ms(100);
    }
}

static void s_append_request(const char *key, uint8_t **buf, size_t *len)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    corr.change_id = "CHG-CURVE";
    ev.id = (char *)key;
    ev.source = "/curve-test";
    ev.spec_version = "1.0";
    ev.type = "dev.cdevents.change.created.0.4.0";
    ev.correlation = &corr;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    app.key = (char *)key;
    app.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

/* The ledger's size, asked by the allowed client. */
static uint64_t s_ledger_size(cairn_client_t *client)
{
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    req.head = &head;
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    assert_int_equal(cairn_codec_pack(&req.base, &buf, &len), 0);
    assert_int_equal(cairn_client_call(client, buf, len, 5000, &reply, &reply_len), 0);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(reply, reply_len, &rep), 0);
    assert_int_equal(rep->status, 0);
    uint64_t size = rep->size;
    cairn_codec_free((ProtobufCMessage **)&rep);
    free(buf);
    free(reply);
    return size;
}

static zsock_t *s_raw(int type, const char *endpoint, const cairn_curve_keypair_t *kp,
                      const uint8_t *server)
{
    zsock_t *s = zsock_new(type);
    assert_non_null(s);
    zsock_set_linger(s, 0);
    if (type == ZMQ_SUB)
        zsock_set_subscribe(s, "");
    if (kp) {
        zsock_set_curve_serverkey_bin(s, server);
        zsock_set_curve_publickey_bin(s, cairn_curve_keypair_public(kp));
        zsock_set_curve_secretkey_bin(s, cairn_curve_keypair_secret(kp));
    }
    assert_int_equal(zsock_connect(s, "%s", endpoint), 0);
    return s;
}

static bool s_readable(zsock_t *sock, int ms)
{
    zmq_pollitem_t item = {zsock_resolve(sock), 0, ZMQ_POLLIN, 0};
    return zmq_poll(&item, 1, ms) == 1;
}

static void s_send(zsock_t *dealer, const uint8_t *buf, size_t len)
{
    zmsg_t *m = zmsg_new();
    zmsg_addmem(m, NULL, 0);
    zmsg_addmem(m, buf, len);
    assert_int_equal(zmsg_send(&m, dealer), 0);
}

static void only_allowed_keys_append_to_the_ledger_or_hear_its_stream(void **state)
{
    (void)state;
    const char *bin = getenv("CAIRN_BIN_DIR");
    assert_non_null(bin);
    char dir[] = "/tmp/cairn-curve-e2e-XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_keygen(bin, dir, "ledger");
    s_keygen(bin, dir, "cli");
    s_keygen(bin, dir, "stranger");
    char api[64], stream[64], config[128], log[128], path[160], err[512];
    snprintf(api, sizeof api, "tcp://127.0.0.1:%d", stack_free_port());
    snprintf(stream, sizeof stream, "tcp://127.0.0.1:%d", stack_free_port());
    snprintf(config, sizeof config, "%s/cairn.yaml", dir);
    snprintf(log, sizeof log, "%s/ledger.log", dir);
    FILE *f = fopen(config, "w");
    assert_non_null(f);
    fprintf(f,
            "bus:\n  ledger_api: %s\n  ledger_stream: %s\n"
            "  curve_secret_key: %s/{service}.key\n  ledger_public_key: %s/ledger.key.pub\n"
            "  ledger_api_allow: %s/cli.key.pub\n  ledger_stream_allow: %s/cli.key.pub\n",
            api, stream, dir, dir, dir, dir);
    fclose(f);

    pid_t ledger = s_ledger = fork();
    assert_true(ledger >= 0);
    if (ledger == 0) {
        if (!freopen(log, "w", stderr))
            _exit(126);
        char exe[600], data[100];
        snprintf(exe, sizeof exe, "%s/cairn-ledger", bin);
        snprintf(data, sizeof data, "%s/data", dir);
        execl(exe, "cairn-ledger", "--config", config, "--data-dir", data, (char *)NULL);
        _exit(127);
    }
    assert_true(s_log_has(log, "ledger listening", 10000));

    /* This process is "cli": its key is on both allow-lists. */
    cairn_config_t *cfg = cairn_config_new();
    assert_int_equal(cairn_config_load(cfg, config, err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    assert_int_equal(cairn_bus_secure(cfg, "cli", err, sizeof err), 0);

    cairn_curve_keypair_t *stranger = NULL;
    snprintf(path, sizeof path, "%s/stranger.key", dir);
    assert_int_equal(cairn_curve_keypair_load(path, &stranger, err, sizeof err), 0);
    char z85[41];
    cairn_curve_z85(cairn_curve_keypair_public(stranger), z85);
    uint8_t server[32];
    snprintf(path, sizeof path, "%s/ledger.key.pub", dir);
    assert_int_equal(cairn_curve_public_load(path, server, err, sizeof err), 0);

    zsock_t *good_sub = NULL;
    assert_int_equal(cairn_bus_connect(ZMQ_SUB, stream, "", &good_sub), 0);
    zsock_t *stranger_sub = s_socks[1] = s_raw(ZMQ_SUB, stream, stranger, server);
    zsock_t *plain_sub = s_socks[2] = s_raw(ZMQ_SUB, stream, NULL, NULL);
    zsock_t *stranger_api = s_socks[3] = s_raw(ZMQ_DEALER, api, stranger, server);
    zsock_t *plain_api = s_socks[4] = s_raw(ZMQ_DEALER, api, NULL, NULL);
    s_socks[0] = good_sub;
    cairn_client_t *client = s_client = cairn_client_new(api);
    assert_non_null(client);
    cairn_curve_keypair_destroy(&stranger);

    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request("curve:stranger", &buf, &len);
    s_send(stranger_api, buf, len);
    free(buf);
    s_append_request("curve:plaintext", &buf, &len);
    s_send(plain_api, buf, len);
    free(buf);

    /* The allowed client's subscription is in place once a head call has
     * round-tripped and a moment has passed; then it appends. */
    assert_int_equal(s_ledger_size(client), 0);
    sleep_ms(300);
    s_append_request("curve:allowed", &buf, &len);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(cairn_client_call(client, buf, len, 5000, &reply, &reply_len), 0);
    free(buf);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(reply, reply_len, &rep), 0);
    assert_int_equal(rep->status, 0);
    cairn_codec_free((ProtobufCMessage **)&rep);
    free(reply);

    /* The allowed subscriber hears the entry. */
    zsock_set_rcvtimeo(good_sub, 5000);
    char *topic = NULL;
    uint8_t *payload = NULL;
    assert_int_equal(cairn_bus_receive(good_sub, &topic, &payload, &len), 0);
    free(topic);
    free(payload);

    /* Nobody else got anything, and only the allowed append is in the log. */
    sleep_ms(500);
    assert_int_equal(s_ledger_size(client), 1);
    assert_false(s_readable(stranger_api, 0));
    assert_false(s_readable(plain_api, 0));
    assert_false(s_readable(stranger_sub, 0));
    assert_false(s_readable(plain_sub, 0));

    /* The ledger logged each refusal, naming the socket and the key. */
    char line[200];
    assert_true(s_log_has(log, "msg=\"bus connection refused\" socket=ledger_api", 5000));
    assert_true(s_log_has(log, "msg=\"bus connection refused\" socket=ledger_stream", 5000));
    snprintf(line, sizeof line, "client_key=%s", z85);
    if (!s_log_has(log, line, 5000)) {
        snprintf(line, sizeof line, "client_key=\"%s\"", z85); /* quoted when it holds '=' */
        assert_true(s_log_has(log, line, 1000));
    }
    /* the plaintext clients showed no key */
    assert_true(s_log_has(log, "socket=ledger_api client_key=\"\"", 5000));
    assert_true(s_log_has(log, "socket=ledger_stream client_key=\"\"", 5000));

    cairn_config_destroy(&cfg);
    kill(ledger, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(ledger, &status, 0), ledger);
    s_ledger = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s_rm_rf(dir);
}

static void the_whole_stack_runs_on_tcp_with_curve_and_never_logs_a_secret(void **state)
{
    (void)state;
    const char *bin = getenv("CAIRN_BIN_DIR");
    assert_non_null(bin);
    char keys[] = "/tmp/cairn-curve-keys-XXXXXX";
    assert_non_null(mkdtemp(keys));
    static const char *const names[] = {"ledger", "ingest", "policy", "notify", "cli"};
    for (size_t i = 0; i < 5; i++)
        s_keygen(bin, keys, names[i]);

    /* The key directory is also every allow-list: its *.pub files. */
    char bus[2400];
    int n = snprintf(bus, sizeof bus, "  curve_secret_key: %s/{service}.key\n", keys);
    static const char *const eps[] = {"ledger_api",   "ledger_stream", "ingest_submit",
                                      "policy_query", "notify_api",    "notify_feed"};
    for (size_t i = 0; i < 6; i++)
        n += snprintf(bus + n, sizeof bus - (size_t)n, "  %s: tcp://127.0.0.1:%d\n  %s_allow: %s\n",
                      eps[i], stack_free_port(), eps[i], keys);
    for (size_t i = 0; i < 4; i++)
        n += snprintf(bus + n, sizeof bus - (size_t)n, "  %s_public_key: %s/%s.key.pub\n", names[i],
                      keys, names[i]);
    assert_true(n > 0 && (size_t)n < sizeof bus);

    stack_opts_t o = {
        .log_level = "debug",
        .ingest = "  github_secret: " S_GITHUB_SECRET "\n  jira_secret: " S_JIRA_SECRET "\n",
        .bus = bus,
    };
    assert_int_equal(stack_start_with(&s_stack, &o), 0);

    char *resp = NULL, *out = NULL;
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-created.json", &resp), 202);
    free(resp);
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-build.json", &resp), 202);
    free(resp);
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-tests.json", &resp), 202);
    free(resp);
    /* a verdict over the stream and the policy query socket */
    json_t *v = NULL;
    int rc = stack_cli_json(&s_stack, &v, "gate CHG-1 --gate deployment --wait 20");
    assert_int_equal(rc, 3);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "pending");
    json_decref(v);
    /* an approval through ingest's submit socket, decided again */
    assert_int_equal(stack_cli(&s_stack, &out, "approve CHG-1 --as dana --role dev"), 0);
    free(out);
    rc = stack_cli_json(&s_stack, &v, "gate CHG-1 --gate deployment --wait 20");
    assert_int_equal(rc, 1);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "deny");
    json_decref(v);
    /* the trail comes from the ledger's api socket */
    assert_int_equal(stack_cli(&s_stack, &out, "trail CHG-1"), 0);
    assert_non_null(strstr(out, "CHG-1"));
    free(out);
    assert_int_equal(stack_stop(&s_stack), 0);

    /* Nothing secret in the debug log: not the webhook secrets, not a key. */
    char *log = slurp(s_stack.log);
    assert_non_null(log);
    assert_non_null(strstr(log, "level=debug"));
    assert_null(strstr(log, S_GITHUB_SECRET));
    assert_null(strstr(log, S_JIRA_SECRET));
    for (size_t i = 0; i < 5; i++) {
        char path[200], secret[41], pub[41];
        snprintf(path, sizeof path, "%s/%s.key", keys, names[i]);
        s_secret_z85(path, secret);
        assert_null(strstr(log, secret));
        snprintf(path, sizeof path, "%s/%s.key.pub", keys, names[i]);
        s_public_z85(path, pub);
        assert_null(strstr(log, pub)); /* and no refusal of our own keys */
    }
    free(log);

    /* A configuration error names the key, never a secret's value. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s/cairn-ingest' --data-dir '%s' --set log.level=debug --set "
             "ingest.github_secret=" S_GITHUB_SECRET " --set ingest.threads=0 2>&1",
             bin, keys);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char text[4096] = "";
    size_t got = fread(text, 1, sizeof text - 1, p);
    text[got] = '\0';
    assert_int_equal(WEXITSTATUS(pclose(p)), 2);
    assert_non_null(strstr(text, "ingest.threads"));
    assert_null(strstr(text, S_GITHUB_SECRET));

    stack_cleanup(&s_stack);
    s_rm_rf(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(only_allowed_keys_append_to_the_ledger_or_hear_its_stream,
                                  s_stop_ledger),
        cmocka_unit_test_teardown(the_whole_stack_runs_on_tcp_with_curve_and_never_logs_a_secret,
                                  s_stop_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
