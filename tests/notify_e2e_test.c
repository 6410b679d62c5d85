/* End to end for cairn-notify: the real stack under `cairn up`, with a
 * routes file whose receivers are real servers on loopback started by the
 * test (tests/sinks: an HTTP sink and an SMTP sink). Each test uses its own
 * change ids, which the routes send to their own receivers:
 *
 *   CHG-N*  every channel: Slack, signed webhook, e-mail, Alertmanager, feed
 *   CHG-S*  a receiver held back by a silence
 *   CHG-R*  reminders every second, escalation to "cab" after 2 s
 *   CHG-K*  a receiver that holds its answer (notify is killed meanwhile)
 *   CHG-F*  a receiver that fails, then comes back
 *   CHG-G*  a receiver that answers 410 Gone; the operator hears of it
 *
 * Signatures are verified here with libsodium (HMAC-SHA256 and Ed25519),
 * mail is decoded and read, and exactly-once is checked on what the sinks
 * answered: every webhook-id is answered once. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "harness.h"

enum { S_SLACK, S_HOOK, S_AM, S_SILENCED, S_REMIND, S_CAB, S_SLOW, S_FLAKY, S_GONE, S_OPS, S_N };
static const char *const s_names[S_N] = {"slack", "hook", "am",    "silenced", "remind",
                                         "cab",   "slow", "flaky", "gone",     "ops"};

typedef struct {
    pid_t pid; /* the sink process */
    int port;  /* where it listens */
    char log[256];
    char args[256]; /* extra options */
} s_sink_t;

static struct {
    e2e_stack_t stack;
    s_sink_t http[S_N];
    pid_t smtp;
    int smtp_port;
    char mail_dir[200];
    uint8_t hmac_key[32];
    uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES];
} s;

/* ---- processes ---------------------------------------------------------- */

static int s_read_port(const char *file)
{
    for (int i = 0; i < 100; i++) {
        char *t = slurp(file);
        int port = t ? atoi(t) : 0;
        free(t);
        if (port > 0)
            return port;
        sleep_ms(50);
    }
    return -1;
}

static pid_t s_spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int s_start_http(int i, int port)
{
    s_sink_t *k = &s.http[i];
    char exe[600], pf[300], portarg[16];
    snprintf(exe, sizeof exe, "%s/http_sink", s.stack.bin);
    snprintf(pf, sizeof pf, "%s/%s.port", s.stack.dir, s_names[i]);
    char log[sizeof k->log];
    snprintf(log, sizeof log, "%s/%s.jsonl", s.stack.dir, s_names[i]);
    memcpy(k->log, log, sizeof log);
    snprintf(portarg, sizeof portarg, "%d", port);
    unlink(pf);
    char *argv[24] = {exe, "--port-file", pf, "--log", k->log, "--port", portarg};
    int n = 7;
    char extra[256];
    snprintf(extra, sizeof extra, "%s", k->args);
    for (char *save = NULL, *t = strtok_r(extra, " ", &save); t && n < 22;
         t = strtok_r(NULL, " ", &save))
        argv[n++] = strdup(t);
    argv[n] = NULL;
    k->pid = s_spawn(argv);
    for (int j = 7; j < n; j++)
        free(argv[j]);
    k->port = s_read_port(pf);
    return k->port > 0 ? 0 : -1;
}

static void s_stop_pid(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static char *s_b64(const uint8_t *data, size_t len)
{
    size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

static int s_write_routes(const char *path)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(s.ed_pk, sk);
    randombytes_buf(s.hmac_key, sizeof s.hmac_key);
    char *hmac = s_b64(s.hmac_key, sizeof s.hmac_key);
    char *skb = s_b64(sk, sizeof sk);
    char keyfile[300];
    snprintf(keyfile, sizeof keyfile, "%s/webhook.whsk", s.stack.dir);
    FILE *kf = fopen(keyfile, "w");
    if (!kf)
        return -1;
    fprintf(kf, "whsk_%s\n", skb);
    fclose(kf);
    chmod(keyfile, 0600);
    setenv("CAIRN_TEST_WHSEC", "", 1);
    char env[200];
    snprintf(env, sizeof env, "whsec_%s", hmac);
    setenv("CAIRN_TEST_WHSEC", env, 1);

    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
#define U(i) s.http[i].port
    fprintf(f,
            "global:\n"
            "  http_timeout: 10s\n"
            "  retry: {initial: 300ms, max: 2s, max_attempts: 40, max_age: 1h}\n"
            "  smtp_smarthost: 127.0.0.1:%d\n"
            "  smtp_from: Cairn <cairn@example.org>\n"
            "  external_url: http://cairn.example\n"
            "route:\n"
            "  receiver: default\n"
            "  group_by: [change]\n"
            "  group_wait: 500ms\n"
            "  group_interval: 500ms\n"
            "  repeat_interval: 0s\n"
            "  routes:\n"
            "    - matchers: ['kind=\"delivery_failed\"']\n"
            "      receiver: ops\n"
            "    - matchers: ['escalation=\"overdue\"']\n"
            "      receiver: cab\n"
            "    - matchers: ['change=~\"CHG-N.*\"']\n"
            "      receiver: team\n"
            "      continue: true\n"
            "    - matchers: ['change=~\"CHG-R.*\"', 'kind=\"approval_requested\"']\n"
            "      receiver: remind\n"
            "      repeat_interval: 1s\n"
            "    - matchers: ['change=~\"CHG-S.*\"']\n"
            "      receiver: silenced\n"
            "    - matchers: ['change=~\"CHG-K.*\"']\n"
            "      receiver: slow\n"
            "    - matchers: ['change=~\"CHG-F.*\"']\n"
            "      receiver: flaky\n"
            "    - matchers: ['change=~\"CHG-G.*\"']\n"
            "      receiver: gone\n"
            "    - matchers: ['change=~\"CHG-T.*\"']\n"
            "      receiver: tls\n"
            "escalations:\n"
            "  - name: overdue\n"
            "    matchers: ['kind=\"approval_requested\"', 'change=~\"CHG-R.*\"']\n"
            "    after: 2s\n"
            "    set_labels: {severity: critical}\n"
            "receivers:\n"
            "  - name: default\n"
            "    file_configs: [{}]\n"
            "  - name: team\n"
            "    slack_configs: [{api_url: 'http://127.0.0.1:%d/slack', channel: '#releases'}]\n"
            "    webhook_configs:\n"
            "      - url: 'http://127.0.0.1:%d/hook'\n"
            "        hmac_secret: env:CAIRN_TEST_WHSEC\n"
            "        signing_key: 'file:%s'\n"
            "    email_configs: [{to: 'Release Team <release@example.org>'}]\n"
            "    alertmanager_configs: [{url: 'http://127.0.0.1:%d/am'}]\n"
            "    feed_configs: [{}]\n"
            "  - name: silenced\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/s'}]\n"
            "  - name: remind\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/r'}]\n"
            "  - name: cab\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/cab'}]\n"
            "  - name: slow\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/k', timeout: 20s}]\n"
            "  - name: flaky\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/f'}]\n"
            "  - name: gone\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/g'}]\n"
            "  - name: ops\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/ops'}]\n"
            "  - name: tls\n"
            "    email_configs: [{to: sec@example.org, require_tls: true}]\n",
            s.smtp_port, U(S_SLACK), U(S_HOOK), keyfile, U(S_AM), U(S_SILENCED), U(S_REMIND),
            U(S_CAB), U(S_SLOW), U(S_FLAKY), U(S_GONE), U(S_OPS));
#undef U
    fclose(f);
    sodium_memzero(sk, sizeof sk);
    free(hmac);
    free(skb);
    return 0;
}

static int s_free_port(void)
{
    /* Any port the kernel hands out; the sink binds it again right away. */
    char pf[300];
    snprintf(pf, sizeof pf, "%s/probe.port", s.stack.dir);
    char exe[600], log[300];
    snprintf(exe, sizeof exe, "%s/http_sink", s.stack.bin);
    snprintf(log, sizeof log, "%s/probe.jsonl", s.stack.dir);
    char *argv[] = {exe, "--port-file", pf, "--log", log, NULL};
    pid_t pid = s_spawn(argv);
    int port = s_read_port(pf);
    s_stop_pid(&pid);
    unlink(pf);
    return port;
}

static int s_setup(void **state)
{
    e2e_stack_t *st = &s.stack;
    memset(&s, 0, sizeof s);
    const char *bin = getenv("CAIRN_BIN_DIR"), *src = getenv("CAIRN_SOURCE_DIR");
    if (!bin || !src || sodium_init() < 0)
        return -1;
    snprintf(st->bin, sizeof st->bin, "%s", bin);
    snprintf(st->src, sizeof st->src, "%s", src);
    snprintf(st->dir, sizeof st->dir, "/tmp/cairn-notify-e2e-XXXXXX");
    if (!mkdtemp(st->dir))
        return -1;
    snprintf(st->config, sizeof st->config, "%s/cairn.yaml", st->dir);
    snprintf(st->log, sizeof st->log, "%s/stack.log", st->dir);

    snprintf(s.http[S_SLOW].args, sizeof s.http[S_SLOW].args, "--delay-ms 4000 --delay-count 1");
    snprintf(s.http[S_FLAKY].args, sizeof s.http[S_FLAKY].args, "--fail 3 --retry-after 1");
    snprintf(s.http[S_GONE].args, sizeof s.http[S_GONE].args, "--status 410");
    for (int i = 0; i < S_N; i++)
        if (s_start_http(i, 0) < 0)
            return -1;
    snprintf(s.mail_dir, sizeof s.mail_dir, "%s/mail", st->dir);
    mkdir(s.mail_dir, 0700);
    char exe[600], pf[300];
    snprintf(exe, sizeof exe, "%s/smtp_sink", bin);
    snprintf(pf, sizeof pf, "%s/smtp.port", st->dir);
    char *argv[] = {exe, "--port-file", pf, "--dir", s.mail_dir, NULL};
    s.smtp = s_spawn(argv);
    if ((s.smtp_port = s_read_port(pf)) < 0)
        return -1;

    char routes[300];
    snprintf(routes, sizeof routes, "%s/routes.yaml", st->dir);
    if (s_write_routes(routes) < 0)
        return -1;
    st->http_port = s_free_port();
    FILE *f = fopen(st->config, "w");
    if (!f || st->http_port <= 0)
        return -1;
    fprintf(f,
            "log:\n  level: info\ningest:\n  http_port: %d\nbus:\n  request_timeout: 3s\n"
            "notify:\n  routes_file: %s\n",
            st->http_port, routes);
    fclose(f);
    st->up = fork();
    if (st->up == 0) {
        FILE *log = freopen(st->log, "a", stderr);
        (void)log;
        char cairn[600];
        snprintf(cairn, sizeof cairn, "%s/cairn", bin);
        execl(cairn, "cairn", "up", "--config", st->config, "--data-dir", st->dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        char *resp = NULL;
        long code = stack_http(st, "GET", "/healthz", NULL, NULL, 0, &resp);
        free(resp);
        if (code == 200 && stack_daemon_pid(st, "cairn-notify") &&
            stack_daemon_pid(st, "cairn-policy"))
            return 0;
        sleep_ms(100);
    }
    char *log = slurp(st->log);
    fprintf(stderr, "stack did not start; log:\n%s\n", log ? log : "(none)");
    free(log);
    return -1;
}

static int s_teardown(void **state)
{
    int rc = stack_stop(&s.stack);
    if (rc != 0) {
        char *log = slurp(s.stack.log);
        fprintf(stderr, "cairn up exited with %d; log:\n%s\n", rc, log ? log : "(none)");
        free(log);
    }
    for (int i = 0; i < S_N; i++)
        s_stop_pid(&s.http[i].pid);
    s_stop_pid(&s.smtp);
    stack_cleanup(&s.stack);
    return rc == 0 ? 0 : -1;
}

/* ---- reading what the sinks saw ------------------------------------------ */

/* The sink's records of one phase ("arrived" / "answered"), as an array. */
static json_t *s_records(int sink, const char *phase)
{
    json_t *arr = json_array();
    char *text = slurp(s.http[sink].log);
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *ph = json_string_value(json_object_get(j, "phase"));
        if (j && ph && strcmp(ph, phase) == 0)
            json_array_append(arr, j);
        json_decref(j);
    }
    free(text);
    return arr;
}

/* Answered records whose body mentions needle. */
static json_t *s_answered(int sink, const char *needle)
{
    json_t *all = s_records(sink, "answered"), *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        const char *body = json_string_value(json_object_get(r, "body"));
        if (!needle || (body && strstr(body, needle)))
            json_array_append(out, r);
    }
    json_decref(all);
    return out;
}

static json_t *s_wait_answered(int sink, const char *needle, size_t count, int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        json_t *a = s_answered(sink, needle);
        if (json_array_size(a) >= count || waited >= timeout_ms)
            return a;
        json_decref(a);
        sleep_ms(100);
    }
}

static const char *s_header(json_t *rec, const char *name)
{
    return json_string_value(json_object_get(json_object_get(rec, "headers"), name));
}

/* A change created (no evidence yet): the policy answers with pending
 * verdicts and an approval request. */
static void s_create_change(const char *id, const char *service, const char *env)
{
    char body[1024], *resp = NULL;
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"%s-created\",\"source\":\"/ci/acme\","
             "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
             "\"subject\":{\"id\":\"%s\",\"content\":{}},\"customData\":{\"author\":\"dana\","
             "\"committers\":[\"dana\"],\"environment\":\"%s\",\"service\":\"%s\","
             "\"team\":\"payments-team\"}}}",
             id, id, env, service);
    assert_int_equal(stack_http(&s.stack, "POST", "/v1/events", "application/cloudevents+json",
                                body, strlen(body), &resp),
                     202);
    free(resp);
}

/* Decodes quoted-printable in place. */
static void s_unqp(char *text)
{
    char *w = text;
    for (char *r = text; *r;) {
        if (r[0] == '=' && r[1] == '\r' && r[2] == '\n') {
            r += 3;
        } else if (r[0] == '=' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
            char hex[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* ---- tests --------------------------------------------------------------- */

static void routes_test_names_the_receivers_an_alert_reaches(void **state)
{
    char *out = NULL;
    assert_int_equal(stack_cli(&s.stack, &out,
                               "notify routes test change=CHG-N9 kind=approval_requested env=prod"),
                     0);
    assert_int_equal(strncmp(out, "team\n", 5), 0);
    assert_non_null(strstr(out, "team/webhook"));
    free(out);
    json_t *j = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &j,
                                    "notify routes test escalation=overdue "
                                    "change=CHG-R9"),
                     0);
    json_t *r = json_array_get(json_object_get(j, "receivers"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "receiver")), "cab");
    json_decref(j);
    assert_int_equal(stack_cli(&s.stack, &out, "notify routes check"), 0);
    assert_non_null(strstr(out, "OK:"));
    free(out);
}

static void an_approval_request_reaches_every_channel_in_one_signed_grouped_message(void **state)
{
    /* The in-platform feed: a subscriber on bus.notify_feed. */
    char feed[300];
    snprintf(feed, sizeof feed, "ipc://%s/run/notify-feed.sock", s.stack.dir);
    zsock_t *sub = zsock_new_sub(feed, "feed.");
    assert_non_null(sub);
    sleep_ms(300);
    s_create_change("CHG-N1", "payments", "prod");

    /* Webhook: one message for the change, with every alert, signed both ways. */
    json_t *hooks = s_wait_answered(S_HOOK, "CHG-N1", 1, 20000);
    assert_true(json_array_size(hooks) >= 1);
    json_t *rec = json_array_get(hooks, 0);
    const char *id = s_header(rec, "webhook-id"), *ts = s_header(rec, "webhook-timestamp"),
               *sig = s_header(rec, "webhook-signature");
    const char *body = json_string_value(json_object_get(rec, "body"));
    assert_non_null(id);
    assert_non_null(ts);
    assert_non_null(sig);
    assert_non_null(strstr(s_header(rec, "content-type"), "application/cloudevents+json"));
    size_t signed_len = strlen(id) + strlen(ts) + strlen(body) + 3;
    char *content = malloc(signed_len);
    snprintf(content, signed_len, "%s.%s.%s", id, ts, body);
    bool v1 = false, v1a = false;
    char sigs[512];
    snprintf(sigs, sizeof sigs, "%s", sig);
    for (char *save = NULL, *t = strtok_r(sigs, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        uint8_t raw[128];
        size_t rawlen = 0;
        if (!strncmp(t, "v1,", 3)) {
            assert_int_equal(sodium_base642bin(raw, sizeof raw, t + 3, strlen(t + 3), NULL, &rawlen,
                                               NULL, sodium_base64_VARIANT_ORIGINAL),
                             0);
            uint8_t mac[crypto_auth_hmacsha256_BYTES];
            crypto_auth_hmacsha256_state st;
            crypto_auth_hmacsha256_init(&st, s.hmac_key, sizeof s.hmac_key);
            crypto_auth_hmacsha256_update(&st, (const uint8_t *)content, strlen(content));
            crypto_auth_hmacsha256_final(&st, mac);
            assert_int_equal(rawlen, sizeof mac);
            assert_int_equal(sodium_memcmp(mac, raw, sizeof mac), 0);
            v1 = true;
        } else if (!strncmp(t, "v1a,", 4)) {
            assert_int_equal(sodium_base642bin(raw, sizeof raw, t + 4, strlen(t + 4), NULL, &rawlen,
                                               NULL, sodium_base64_VARIANT_ORIGINAL),
                             0);
            assert_int_equal(rawlen, crypto_sign_BYTES);
            assert_int_equal(crypto_sign_verify_detached(raw, (const uint8_t *)content,
                                                         strlen(content), s.ed_pk),
                             0);
            v1a = true;
        }
    }
    assert_true(v1 && v1a);
    /* A tampered body does not verify. */
    content[strlen(content) - 2] ^= 1;
    uint8_t raw[128];
    size_t rawlen = 0;
    const char *v1a_sig = strstr(sig, "v1a,") + 4;
    sodium_base642bin(raw, sizeof raw, v1a_sig, strcspn(v1a_sig, " "), NULL, &rawlen, NULL,
                      sodium_base64_VARIANT_ORIGINAL);
    assert_int_not_equal(
        crypto_sign_verify_detached(raw, (const uint8_t *)content, strlen(content), s.ed_pk), 0);
    free(content);

    json_t *ce = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(ce, "specversion")), "1.0");
    assert_string_equal(json_string_value(json_object_get(ce, "id")), id);
    assert_string_equal(json_string_value(json_object_get(ce, "subject")), "CHG-N1");
    json_t *data = json_object_get(ce, "data");
    assert_non_null(strstr(json_string_value(json_object_get(data, "groupKey")), "CHG-N1"));
    json_t *alerts = json_object_get(data, "alerts");
    /* Grouped: the approval request and both pending verdicts in one message. */
    assert_true(json_array_size(alerts) >= 3);
    bool asked = false;
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        json_t *labels = json_object_get(a, "labels");
        const char *kind = json_string_value(json_object_get(labels, "kind"));
        assert_string_equal(json_string_value(json_object_get(labels, "service")), "payments");
        assert_string_equal(json_string_value(json_object_get(labels, "team")), "payments-team");
        if (kind && !strcmp(kind, "approval_requested")) {
            asked = true;
            const char *how =
                json_string_value(json_object_get(json_object_get(a, "annotations"), "how"));
            assert_non_null(how);
            assert_non_null(strstr(how, "cairn approve CHG-N1"));
        }
    }
    assert_true(asked);
    json_decref(ce);
    json_decref(hooks);

    /* Slack: Block Kit with a fallback text, escaped. */
    json_t *slack = s_wait_answered(S_SLACK, "CHG-N1", 1, 10000);
    assert_true(json_array_size(slack) >= 1);
    json_t *msg =
        json_loads(json_string_value(json_object_get(json_array_get(slack, 0), "body")), 0, NULL);
    assert_non_null(json_string_value(json_object_get(msg, "text")));
    assert_string_equal(json_string_value(json_object_get(msg, "channel")), "#releases");
    json_t *blocks = json_object_get(msg, "blocks");
    assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
                        "header");
    assert_true(json_array_size(blocks) <= 50);
    char *dump = json_dumps(msg, 0);
    assert_non_null(strstr(dump, "cairn approve CHG-N1 --as &lt;your user name&gt; --role dev"));
    free(dump);
    json_decref(msg);
    json_decref(slack);

    /* Alertmanager API. */
    json_t *am = s_wait_answered(S_AM, "CHG-N1", 1, 10000);
    assert_true(json_array_size(am) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(am, 0), "path")),
                        "/am/api/v2/alerts");
    json_t *posted =
        json_loads(json_string_value(json_object_get(json_array_get(am, 0), "body")), 0, NULL);
    assert_true(json_is_array(posted) && json_array_size(posted) >= 3);
    assert_non_null(json_string_value(
        json_object_get(json_object_get(json_array_get(posted, 0), "labels"), "alertname")));
    json_decref(posted);
    json_decref(am);

    /* E-mail: multipart text + HTML that says what is required and how to approve. */
    char *mail = NULL;
    for (int w = 0; w < 100 && !mail; w++) {
        char path[300];
        snprintf(path, sizeof path, "%s/1.eml", s.mail_dir);
        mail = slurp(path);
        if (!mail)
            sleep_ms(100);
    }
    assert_non_null(mail);
    assert_non_null(strstr(mail, "Subject: "));
    assert_non_null(strstr(mail, "Message-ID: <msg_"));
    assert_non_null(strstr(mail, "Content-Type: multipart/alternative"));
    assert_non_null(strstr(mail, "Content-Type: text/html"));
    s_unqp(mail);
    assert_non_null(strstr(mail, "CHG-N1 needs approval before deployment"));
    assert_non_null(strstr(mail, "Still required:"));
    assert_non_null(strstr(mail, "risk low"));
    assert_non_null(strstr(mail, "Who may approve: anyone with role dev or tech_lead except dana"));
    assert_non_null(strstr(mail, "cairn approve CHG-N1 --as <your user name> --role dev"));
    assert_non_null(strstr(mail, "&lt;your user name&gt;")); /* the HTML part, escaped */
    free(mail);

    /* The feed published the same item. */
    zsock_set_rcvtimeo(sub, 10000);
    char *feed_topic = zstr_recv(sub);
    assert_non_null(feed_topic);
    assert_string_equal(feed_topic, "feed.team");
    zframe_t *item = zframe_recv(sub);
    assert_non_null(item);
    assert_true(zframe_size(item) > 0);
    assert_non_null(memmem(zframe_data(item), zframe_size(item), "CHG-N1", 6));
    zframe_destroy(&item);
    zstr_free(&feed_topic);
    zsock_destroy(&sub);

    /* The in-platform inbox, for the role that may approve. */
    json_t *inbox = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &inbox, "inbox --role dev"), 0);
    assert_true(json_array_size(inbox) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(inbox, 0), "change_id")),
                        "CHG-N1");
    json_decref(inbox);
    assert_int_equal(stack_cli_json(&s.stack, &inbox, "inbox --role cab"), 0);
    assert_int_equal(json_array_size(inbox), 0);
    json_decref(inbox);

    /* Every delivery is in the ledger, under the change. */
    json_t *trail = NULL;
    int delivered = 0;
    for (int w = 0; w < 50 && delivered < 5; w++) {
        json_decref(trail);
        assert_int_equal(stack_cli_json(&s.stack, &trail, "trail CHG-N1"), 0);
        delivered = 0;
        json_array_foreach(trail, i, a)
        {
            const char *topic = json_string_value(json_object_get(a, "topic"));
            char *text = json_dumps(a, JSON_COMPACT);
            if (topic && !strncmp(topic, "receipt.team/", 13) && strstr(text, "\"delivered\""))
                delivered++;
            free(text);
        }
        if (delivered < 5)
            sleep_ms(200);
    }
    json_decref(trail);
    assert_true(delivered >= 5); /* slack, webhook, email, alertmanager, feed */
}

static void a_silence_holds_notifications_back_until_it_is_expired(void **state)
{
    json_t *j = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &j,
                                    "notify silence 'change=\"CHG-S1\"' --owner erin "
                                    "--reason 'maintenance window' --expires 1h"),
                     0);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    assert_int_equal(stack_cli_json(&s.stack, &j, "notify silences"), 0);
    bool listed = false;
    size_t i;
    json_t *x;
    json_array_foreach(j, i, x)
    {
        listed |= !strcmp(json_string_value(json_object_get(x, "id")), id);
    }
    assert_true(listed);
    json_decref(j);

    sleep_ms(500); /* notify reads the silence from the stream */
    s_create_change("CHG-S1", "ledger", "staging");
    sleep_ms(2500);
    json_t *got = s_answered(S_SILENCED, "CHG-S1");
    assert_int_equal(json_array_size(got), 0);
    json_decref(got);

    char *out = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "notify silence --expire %s", id);
    assert_int_equal(stack_cli(&s.stack, &out, "%s", cmd), 0);
    free(out);
    got = s_wait_answered(S_SILENCED, "CHG-S1", 1, 15000);
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);
}

/* The "reminder" flag of a webhook body. */
static bool s_is_reminder(json_t *rec)
{
    json_t *ce = json_loads(json_string_value(json_object_get(rec, "body")), 0, NULL);
    bool r = json_is_true(
        json_object_get(json_object_get(json_object_get(ce, "data"), "cairn"), "reminder"));
    json_decref(ce);
    return r;
}

static void reminders_repeat_and_a_waiting_approval_escalates_until_acknowledged(void **state)
{
    s_create_change("CHG-R1", "payments", "prod");
    json_t *got = s_wait_answered(S_REMIND, "CHG-R1", 3, 15000);
    assert_true(json_array_size(got) >= 3);
    assert_false(s_is_reminder(json_array_get(got, 0)));
    assert_true(s_is_reminder(json_array_get(got, 1)));
    /* One webhook-id per notification: reminders are new notifications. */
    assert_string_not_equal(s_header(json_array_get(got, 0), "webhook-id"),
                            s_header(json_array_get(got, 1), "webhook-id"));
    json_decref(got);

    json_t *cab = s_wait_answered(S_CAB, "CHG-R1", 1, 15000);
    assert_int_equal(json_array_size(cab), 1);
    json_t *ce =
        json_loads(json_string_value(json_object_get(json_array_get(cab, 0), "body")), 0, NULL);
    json_t *labels = json_object_get(
        json_array_get(json_object_get(json_object_get(ce, "data"), "alerts"), 0), "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "kind")), "escalation");
    assert_string_equal(json_string_value(json_object_get(labels, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(labels, "escalated_kind")),
                        "approval_requested");
    json_decref(ce);
    json_decref(cab);

    char *out = NULL;
    assert_int_equal(stack_cli(&s.stack, &out, "notify ack CHG-R1 --as lee --comment 'on it'"), 0);
    assert_non_null(strstr(out, "lee acknowledged"));
    free(out);
    sleep_ms(1500);
    size_t before = json_array_size(got = s_answered(S_REMIND, "CHG-R1"));
    json_decref(got);
    sleep_ms(3000);
    got = s_answered(S_REMIND, "CHG-R1");
    assert_int_equal(json_array_size(got), before);
    json_decref(got);
}

/* Every webhook-id in the sink's records was answered exactly once, and
 * all attempts of one id carried the same body. Returns the ids. */
static json_t *s_exactly_once(int sink, const char *needle)
{
    json_t *all = s_records(sink, "answered"), *ids = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        const char *body = json_string_value(json_object_get(r, "body"));
        if (needle && (!body || !strstr(body, needle)))
            continue;
        const char *id = s_header(r, "webhook-id");
        assert_non_null(id);
        json_t *seen = json_object_get(ids, id);
        if (!seen) {
            seen = json_pack("{s:i, s:s}", "ok", 0, "body", body);
            json_object_set_new(ids, id, seen);
        }
        assert_string_equal(json_string_value(json_object_get(seen, "body")), body);
        int st = (int)json_integer_value(json_object_get(r, "status"));
        if (json_is_true(json_object_get(r, "answered")) && st >= 200 && st < 300)
            json_object_set_new(seen, "ok",
                                json_integer(json_integer_value(json_object_get(seen, "ok")) + 1));
    }
    const char *id;
    json_t *v;
    json_object_foreach(ids, id, v)
    {
        if (json_integer_value(json_object_get(v, "ok")) != 1)
            fail_msg("webhook-id %s was answered %lld times", id,
                     (long long)json_integer_value(json_object_get(v, "ok")));
    }
    json_decref(all);
    return ids;
}

/* Receipt outcomes recorded for a change, as "outcome,outcome,...". */
static void s_receipts(const char *change, const char *target, char *out, size_t len)
{
    json_t *trail = NULL;
    out[0] = '\0';
    if (stack_cli_json(&s.stack, &trail, "trail %s", change) != 0)
        return;
    size_t i, used = 0;
    json_t *e;
    json_array_foreach(trail, i, e)
    {
        const char *topic = json_string_value(json_object_get(e, "topic"));
        json_t *rec = json_object_get(json_object_get(e, "record"), "receipt");
        if (!topic || strncmp(topic, "receipt.", 8) || strcmp(topic + 8, target) || !rec)
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
                                 json_string_value(json_object_get(rec, "outcome")));
    }
    json_decref(trail);
}

static void a_notify_killed_during_a_delivery_delivers_it_exactly_once(void **state)
{
    pid_t notify = stack_daemon_pid(&s.stack, "cairn-notify");
    assert_true(notify > 0);
    s_create_change("CHG-K1", "payments", "prod");
    /* Wait until the (held) request has arrived, then kill notify. */
    json_t *arrived = NULL;
    for (int w = 0; w < 150; w++) {
        json_decref(arrived);
        arrived = s_records(S_SLOW, "arrived");
        if (json_array_size(arrived) >= 1)
            break;
        sleep_ms(100);
    }
    assert_true(json_array_size(arrived) >= 1);
    json_decref(arrived);
    assert_int_equal(kill(notify, SIGKILL), 0);

    /* `cairn up` starts it again; it resumes the interrupted delivery. */
    json_t *got = s_wait_answered(S_SLOW, "CHG-K1", 2, 30000);
    assert_true(json_array_size(got) >= 2);
    json_decref(got);
    pid_t again = stack_daemon_pid(&s.stack, "cairn-notify");
    assert_true(again > 0 && again != notify);
    sleep_ms(1000);
    json_t *ids = s_exactly_once(S_SLOW, "CHG-K1");
    assert_int_equal(json_object_size(ids), 1);
    json_decref(ids);
    /* The first answer went to a dead process: it is marked unanswered. */
    json_t *first = json_array_get(got = s_records(S_SLOW, "answered"), 0);
    assert_false(json_is_true(json_object_get(first, "answered")));
    json_decref(got);

    char outcomes[512] = "";
    for (int w = 0; w < 50 && !strstr(outcomes, "delivered"); w++) {
        s_receipts("CHG-K1", "slow/webhook", outcomes, sizeof outcomes);
        sleep_ms(200);
    }
    assert_string_equal(outcomes, "interrupted,delivered");
}

static void a_failing_receiver_that_comes_back_gets_each_message_once(void **state)
{
    s_create_change("CHG-F1", "payments", "prod");
    s_create_change("CHG-F2", "ledger", "staging");
    json_t *got = s_wait_answered(S_FLAKY, NULL, 5, 30000);
    json_decref(got);
    sleep_ms(1500);
    json_t *ids = s_exactly_once(S_FLAKY, NULL);
    assert_int_equal(json_object_size(ids), 2);
    json_decref(ids);
    char outcomes[512] = "";
    s_receipts("CHG-F1", "flaky/webhook", outcomes, sizeof outcomes);
    assert_non_null(strstr(outcomes, "retry"));
    assert_non_null(strstr(outcomes, "delivered"));

    /* Down for a while (nothing listens), then back on the same port. */
    int port = s.http[S_FLAKY].port;
    s_stop_pid(&s.http[S_FLAKY].pid);
    s.http[S_FLAKY].args[0] = '\0';
    s_create_change("CHG-F3", "payments", "prod");
    sleep_ms(2500);
    assert_int_equal(s_start_http(S_FLAKY, port), 0);
    got = s_wait_answered(S_FLAKY, "CHG-F3", 1, 30000);
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);
    sleep_ms(1500);
    ids = s_exactly_once(S_FLAKY, NULL);
    assert_int_equal(json_object_size(ids), 3);
    json_decref(ids);
}

static void a_gone_endpoint_is_disabled_and_the_operator_is_told(void **state)
{
    s_create_change("CHG-G1", "payments", "prod");
    json_t *ops = s_wait_answered(S_OPS, "gone/webhook", 1, 20000);
    assert_true(json_array_size(ops) >= 1);
    const char *body = json_string_value(json_object_get(json_array_get(ops, 0), "body"));
    assert_non_null(strstr(body, "delivery_failed"));
    assert_non_null(strstr(body, "410"));
    json_decref(ops);
    json_t *gone = s_records(S_GONE, "answered");
    assert_int_equal(json_array_size(gone), 1);
    json_decref(gone);

    json_t *dead = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &dead, "notify dead"), 0);
    bool listed = false;
    size_t i;
    json_t *d;
    json_array_foreach(dead, i, d)
    {
        listed |= !strcmp(json_string_value(json_object_get(d, "receiver")), "gone/webhook");
    }
    assert_true(listed);
    json_decref(dead);

    /* Disabled: nothing more is sent to it. */
    s_create_change("CHG-G2", "payments", "prod");
    sleep_ms(3000);
    gone = s_records(S_GONE, "arrived");
    assert_int_equal(json_array_size(gone), 1);
    json_decref(gone);
    char outcomes[512] = "";
    s_receipts("CHG-G2", "gone/webhook", outcomes, sizeof outcomes);
    assert_string_equal(outcomes, "dead");
}

static void mail_that_requires_starttls_is_not_sent_in_the_clear(void **state)
{
    /* The SMTP sink offers no STARTTLS: the message is dead-lettered, not sent. */
    s_create_change("CHG-T1", "payments", "prod");
    json_t *ops = s_wait_answered(S_OPS, "tls/email", 1, 20000);
    assert_true(json_array_size(ops) >= 1);
    json_decref(ops);
    char path[300];
    snprintf(path, sizeof path, "%s/log.jsonl", s.mail_dir);
    char *mails = slurp(path);
    assert_true(!mails || !strstr(mails, "sec@example.org"));
    free(mails);
    json_t *dead = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &dead, "notify dead"), 0);
    bool listed = false;
    size_t i;
    json_t *d;
    json_array_foreach(dead, i, d)
    {
        if (!strcmp(json_string_value(json_object_get(d, "receiver")), "tls/email")) {
            listed = true;
            const char *why = json_string_value(json_object_get(d, "last_error"));
            if (!strstr(why, "SSL") && !strstr(why, "TLS"))
                fail_msg("unexpected reason: %s", why);
        }
    }
    assert_true(listed);
    json_decref(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_test_names_the_receivers_an_alert_reaches),
        cmocka_unit_test(an_approval_request_reaches_every_channel_in_one_signed_grouped_message),
        cmocka_unit_test(a_silence_holds_notifications_back_until_it_is_expired),
        cmocka_unit_test(reminders_repeat_and_a_waiting_approval_escalates_until_acknowledged),
        cmocka_unit_test(a_notify_killed_during_a_delivery_delivers_it_exactly_once),
        cmocka_unit_test(a_failing_receiver_that_comes_back_gets_each_message_once),
        cmocka_unit_test(a_gone_endpoint_is_disabled_and_the_operator_is_told),
        cmocka_unit_test(mail_that_requires_starttls_is_not_sent_in_the_clear),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
