/* Tests for `cairn gate` output on constructed verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/util.h"
#include "commands.h"

static char *s_render(const Cairn__V1__Verdict *v, const char *change, const char *gate)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_gate_render(out, v, change, gate);
    fclose(out);
    return text;
}

static void a_decision_comes_with_its_reasons_and_obligations(void **state)
{
    (void)state;
    char *roles[] = {"dev", "tech_lead"};
    Cairn__V1__Reason r = CAIRN__V1__REASON__INIT;
    r.rule_id = "peer";
    r.result = "missing";
    r.message = "0 of 1 approvals from dev, tech_lead";
    Cairn__V1__Reason *reasons[] = {&r};
    Cairn__V1__Obligation ob = CAIRN__V1__OBLIGATION__INIT;
    ob.kind = "approval";
    ob.rule_id = "peer";
    ob.roles = roles;
    ob.n_roles = 2;
    ob.missing = 1;
    Cairn__V1__Obligation *obs[] = {&ob};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.change_id = "CHG-1";
    v.gate = "deployment";
    v.environment = "prod";
    v.decision = CAIRN__V1__DECISION__DECISION_PENDING;
    v.reasons = reasons;
    v.n_reasons = 1;
    v.obligations = obs;
    v.n_obligations = 1;

    char *text = s_render(&v, "CHG-1", "deployment");
    assert_string_equal(text,
                        "CHG-1 gate deployment (prod): pending\n"
                        "  missing peer: 0 of 1 approvals from dev, tech_lead\n"
                        "  open    needs 1 more approval from dev or tech_lead (rule peer)\n");
    free(text);
}

static void an_unknown_change_is_pending_and_named_from_the_query(void **state)
{
    (void)state;
    Cairn__V1__Reason r = CAIRN__V1__REASON__INIT;
    r.rule_id = "events";
    r.result = "missing";
    r.message = "no events";
    Cairn__V1__Reason *reasons[] = {&r};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.decision = CAIRN__V1__DECISION__DECISION_PENDING;
    v.reasons = reasons;
    v.n_reasons = 1;
    char *text = s_render(&v, "CHG-404", "build");
    assert_string_equal(text, "CHG-404 gate build: pending\n"
                              "  missing events: no events\n");
    free(text);
}

/* --wait is driven against a scripted stand-in for cairn-policy and the
 * ledger's stream, because the test must control exactly when a verdict is
 * published relative to the query. */
typedef struct {
    char dir[64];         /* temporary data directory */
    bool publish;         /* publish verdicts after the first answer */
    volatile bool stop;   /* ends the thread */
    volatile int queries; /* gate queries answered */
    int ready_fd[2];      /* written once both sockets are bound */
} s_fake_t;

static void s_publish(zsock_t *pub, const char *change)
{
    Cairn__V1__Entry e = CAIRN__V1__ENTRY__INIT;
    e.index = 9;
    e.topic = "verdict.deployment";
    e.change_id = (char *)change;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&e.base, &buf, &len), 0);
    assert_int_equal(cairn_bus_publish(pub, "verdict.deployment", buf, len), 0);
    free(buf);
}

static void *s_fake_run(void *arg)
{
    s_fake_t *f = arg;
    char ep[256];
    zsock_t *router = NULL, *pub = NULL;
    snprintf(ep, sizeof ep, "ipc://%s/run/policy-query.sock", f->dir);
    assert_int_equal(cairn_bus_bind(ZMQ_ROUTER, ep, &router), 0);
    snprintf(ep, sizeof ep, "ipc://%s/run/ledger-stream.sock", f->dir);
    assert_int_equal(cairn_bus_bind(ZMQ_PUB, ep, &pub), 0);
    assert_int_equal(write(f->ready_fd[1], "r", 1), 1);

    while (!f->stop) {
        zmq_pollitem_t item = {zsock_resolve(router), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        zframe_t *peer = NULL;
        uint8_t *req_buf = NULL;
        size_t req_len = 0;
        Cairn__V1__PolicyRequest *req = NULL;
        assert_int_equal(cairn_bus_server_recv(router, &peer, &req_buf, &req_len), 0);
        assert_int_equal(cairn_codec_policy_request_unpack(req_buf, req_len, &req), 0);
        assert_int_equal(req->body_case, CAIRN__V1__POLICY_REQUEST__BODY_GATE);
        assert_string_equal(req->gate->change_id, "CHG-1");
        assert_string_equal(req->gate->gate, "deployment");

        int n = ++f->queries;
        Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
        v.change_id = "CHG-1";
        v.gate = "deployment";
        v.decision = n == 1 || !f->publish ? CAIRN__V1__DECISION__DECISION_PENDING
                                           : CAIRN__V1__DECISION__DECISION_ALLOW;
        Cairn__V1__PolicyReply reply = CAIRN__V1__POLICY_REPLY__INIT;
        reply.verdict = &v;
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(cairn_codec_pack(&reply.base, &buf, &len), 0);
        assert_int_equal(cairn_bus_server_reply(router, &peer, buf, len), 0);
        free(buf);
        free(req_buf);
        CAIRN_CODEC_FREE(&req);
        /* Right after the first answer: a verdict for another change (must
         * not wake the CLI), then one for ours. */
        if (n == 1 && f->publish) {
            s_publish(pub, "CHG-2");
            s_publish(pub, "CHG-1");
        }
    }
    zsock_destroy(&router);
    zsock_destroy(&pub);
    return NULL;
}

/* Runs `cairn gate CHG-1 --gate deployment --wait W` against the fake;
 * returns the exit code and the time it took. */
static int s_gate_wait(s_fake_t *f, const char *wait, int64_t *took_ms, char *err, size_t errlen)
{
    pthread_t th;
    char c;
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-gate-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(pipe(f->ready_fd), 0);
    assert_int_equal(pthread_create(&th, NULL, s_fake_run, f), 0);
    assert_int_equal(read(f->ready_fd[0], &c, 1), 1);

    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s/cairn' --data-dir '%s' gate CHG-1 --gate deployment --wait %s "
             ">'%s/out' 2>'%s/err'",
             getenv("CAIRN_BIN_DIR"), f->dir, wait, f->dir, f->dir);
    int64_t t0 = cairn_mono_ms();
    int status = system(cmd);
    *took_ms = cairn_mono_ms() - t0;
    f->stop = true;
    pthread_join(th, NULL);
    close(f->ready_fd[0]);
    close(f->ready_fd[1]);

    char path[128];
    snprintf(path, sizeof path, "%s/err", f->dir);
    FILE *fe = fopen(path, "r");
    size_t n = fe ? fread(err, 1, errlen - 1, fe) : 0;
    err[n] = '\0';
    if (fe)
        fclose(fe);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void wait_asks_again_when_a_verdict_for_the_change_is_recorded(void **state)
{
    (void)state;
    s_fake_t f = {.publish = true};
    int64_t took = 0;
    char err[1024];
    int code = s_gate_wait(&f, "20", &took, err, sizeof err);
    if (code != 0)
        print_error("exit %d, stderr: %s\n", code, err);
    assert_int_equal(code, 0);
    /* Woken by the stream, not by the timeout; the other change's verdict
     * did not cause a query of its own. */
    assert_true(took < 10000);
    assert_int_equal(f.queries, 2);
}

static void wait_gives_up_with_exit_3_at_the_deadline(void **state)
{
    (void)state;
    s_fake_t f = {.publish = false};
    int64_t took = 0;
    char err[1024];
    int code = s_gate_wait(&f, "700ms", &took, err, sizeof err);
    assert_int_equal(code, 3);
    assert_true(took >= 700);
    assert_non_null(strstr(err, "timed out"));
    assert_int_equal(f.queries, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_decision_comes_with_its_reasons_and_obligations),
        cmocka_unit_test(an_unknown_change_is_pending_and_named_from_the_query),
        cmocka_unit_test(wait_asks_again_when_a_verdict_for_the_change_is_recorded),
        cmocka_unit_test(wait_gives_up_with_exit_3_at_the_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
