/* Tests for policy activation: the policy engine (in-process) against the
 * real cairn-ledger. The policy in force is recorded in the ledger; an
 * invalid edit of the file is refused loudly and the running policy kept;
 * a valid edit takes effect within about a second and is recorded; going
 * back to an earlier policy is recorded again; a restart with the same
 * policy records nothing new. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "engine.h"
#include "ledger_proc.h"

static tl_ledger_t s_ledger;
static char s_policy[128];

static char *s_source_policy(void)
{
    char path[1024], *text = NULL;
    size_t len = 0;
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/services/policy/testdata/lifecycle.yaml", src ? src : ".");
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    return text;
}

static void s_write(const char *text)
{
    FILE *f = fopen(s_policy, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_digest_of(const char *text, char out[80])
{
    uint8_t d[32];
    char hex[65];
    cairn_sha256(text, strlen(text), d);
    cairn_hex(d, 32, hex);
    snprintf(out, 80, "sha256:%s", hex);
}

/* The activations in the ledger, oldest first (up to 8). */
static size_t s_activations(Cairn__V1__PolicyActivation *out[8], char keys[8][200])
{
    Cairn__V1__Entry **entries = NULL;
    size_t n = 0, k = 0;
    assert_int_equal(tl_entries(&s_ledger, 0, &entries, &n), 0);
    for (size_t i = 0; i < n && k < 8; i++) {
        if (strcmp(entries[i]->topic, "policy.activated") != 0)
            continue;
        Cairn__V1__Record *rec = NULL;
        assert_int_equal(
            cairn_codec_record_unpack(entries[i]->record.data, entries[i]->record.len, &rec), 0);
        assert_int_equal(rec->body_case, CAIRN__V1__RECORD__BODY_ACTIVATION);
        if (out) {
            out[k] = rec->activation;
            rec->activation = NULL;
            rec->body_case = CAIRN__V1__RECORD__BODY__NOT_SET;
        }
        if (keys)
            snprintf(keys[k], 200, "%s", entries[i]->key);
        k++;
        CAIRN_CODEC_FREE(&rec);
    }
    tl_entries_free(&entries, n);
    return k;
}

static void s_free_activations(Cairn__V1__PolicyActivation *acts[8], size_t n)
{
    for (size_t i = 0; i < n; i++)
        CAIRN_CODEC_FREE(&acts[i]);
}

/* Runs the engine until the ledger holds `want` activations (or 10s pass). */
static size_t s_run_until(cairn_policy_engine_t *e, size_t want)
{
    int64_t deadline = cairn_mono_ms() + 10000;
    size_t have = 0;
    while ((have = s_activations(NULL, NULL)) < want && cairn_mono_ms() < deadline)
        cairn_policy_engine_run_once(e, 50);
    return have;
}

static void s_run_for(cairn_policy_engine_t *e, int ms)
{
    int64_t until = cairn_mono_ms() + ms;
    while (cairn_mono_ms() < until)
        cairn_policy_engine_run_once(e, 50);
}

/* The policy digest the engine's query socket answers with. */
static void s_digest_in_force(char out[80])
{
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/policy-query.sock", s_ledger.dir);
    cairn_client_t *client = cairn_client_new(endpoint);
    Cairn__V1__GateQuery q = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    q.change_id = "CHG-1";
    q.gate = "build";
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &q;
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, alen = 0;
    assert_int_equal(cairn_codec_pack(&req.base, &buf, &len), 0);
    assert_int_equal(cairn_client_call(client, buf, len, 2000, &answer, &alen), 0);
    Cairn__V1__PolicyReply *reply = NULL;
    assert_int_equal(cairn_codec_policy_reply_unpack(answer, alen, &reply), 0);
    assert_int_equal(reply->status, 0);
    snprintf(out, 80, "%s", reply->verdict->policy_digest);
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    free(answer);
    cairn_client_destroy(&client);
}

static int s_setup(void **state)
{
    cairn_log_init("policy-test", "warn");
    if (tl_ledger_start(&s_ledger, "cairn-activation") < 0)
        return -1;
    snprintf(s_policy, sizeof s_policy, "%s/policy.yaml", s_ledger.dir);
    return 0;
}

static int s_teardown(void **state)
{
    tl_ledger_stop(&s_ledger);
    return 0;
}

static void the_policy_in_force_is_recorded_and_invalid_edits_are_refused(void **state)
{
    char *a = s_source_policy();
    char da[80], db[80], got[80];
    s_write(a);
    s_digest_of(a, da);
    cairn_config_t *cfg = tl_policy_config(&s_ledger, s_policy);
    cairn_policy_engine_t *e = NULL;
    assert_int_equal(cairn_policy_engine_new(cfg, &e), 0);

    /* Started: one activation, of A. */
    assert_int_equal(s_run_until(e, 1), 1);
    Cairn__V1__PolicyActivation *acts[8];
    char keys[8][200];
    size_t n = s_activations(acts, keys);
    assert_string_equal(acts[0]->digest, da);
    assert_string_equal(acts[0]->name, "lifecycle-example");
    assert_string_equal(acts[0]->revision, "2026-11-25.1");
    assert_string_equal(acts[0]->source_path, s_policy);
    assert_true(acts[0]->activated_at_ms > 0);
    char want_key[200];
    snprintf(want_key, sizeof want_key, "policy:%s:first", da);
    assert_string_equal(keys[0], want_key);
    s_free_activations(acts, n);

    /* An invalid edit: every problem is logged, A stays in force. */
    char *broken = strdup(a);
    char *req = strstr(broken, "require: { failed: 0");
    assert_non_null(req);
    memcpy(req, "requre:", 7);
    memmove(req + 6, req + 7, strlen(req + 7) + 1);
    char *role = strstr(broken, "from: [dev, tech_lead]");
    memcpy(role + 7, "dvv", 3);
    char log_path[160];
    snprintf(log_path, sizeof log_path, "%s/engine.log", s_ledger.dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    s_write(broken);
    s_run_for(e, 1500);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *log = NULL;
    size_t log_len = 0;
    assert_int_equal(cairn_read_file(log_path, 1 << 20, &log, &log_len), 0);
    print_message("%s", log);
    assert_non_null(strstr(log, "level=error"));
    assert_non_null(strstr(log, "unknown key 'requre'"));
    assert_non_null(strstr(log, "did you mean 'require'"));
    assert_non_null(strstr(log, "unknown role 'dvv'"));
    assert_non_null(strstr(log, "keeping the running policy"));
    assert_non_null(strstr(log, da));
    free(log);
    s_digest_in_force(got);
    assert_string_equal(got, da);
    assert_int_equal(s_activations(NULL, NULL), 1);

    /* A valid edit takes effect and is recorded after A. */
    char *b = strdup(a);
    char *rev = strstr(b, "2026-11-25.1");
    memcpy(rev, "2026-11-26.1", 12);
    s_write(b);
    s_digest_of(b, db);
    assert_int_equal(s_run_until(e, 2), 2);
    s_digest_in_force(got);
    assert_string_equal(got, db);
    n = s_activations(acts, keys);
    assert_string_equal(acts[1]->digest, db);
    assert_string_equal(acts[1]->revision, "2026-11-26.1");
    assert_non_null(strstr(keys[1], db));
    s_free_activations(acts, n);

    /* Back to A by SIGHUP: a new activation, not a duplicate of the first. */
    s_write(a);
    assert_int_equal(cairn_policy_engine_reload(e), 0);
    assert_int_equal(s_run_until(e, 3), 3);
    n = s_activations(acts, keys);
    assert_string_equal(acts[2]->digest, da);
    assert_string_not_equal(keys[2], keys[0]);
    s_free_activations(acts, n);
    cairn_policy_engine_destroy(&e);

    /* A restart with the policy last recorded adds nothing. */
    assert_int_equal(cairn_policy_engine_new(cfg, &e), 0);
    s_run_for(e, 1500);
    assert_int_equal(s_activations(NULL, NULL), 3);
    s_digest_in_force(got);
    assert_string_equal(got, da);
    cairn_policy_engine_destroy(&e);

    cairn_config_destroy(&cfg);
    free(a);
    free(b);
    free(broken);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_policy_in_force_is_recorded_and_invalid_edits_are_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
