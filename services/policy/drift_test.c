/* Tests for drift: production deployments without the policy's allow raise
 * a high-severity `drift` alert in the ledger, allowed ones do not, and a
 * policy that re-derives its state from the ledger raises the same alerts
 * under the same keys (nothing twice). The engine runs in-process against
 * the real cairn-ledger; the decision itself is also tested directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "drift.h"
#include "engine.h"
#include "ledger_proc.h"
#include "policy_load.h"

#define S_SHA "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
#define S_OTHER "0000000000000000000000000000000000000001"

static tl_ledger_t s_ledger;

static void s_allowed_change(const char *change)
{
    assert_int_equal(tl_append_change(&s_ledger, change, S_SHA), 0);
}

static void s_approve(const char *change)
{
    assert_int_equal(tl_append_lee_approval(&s_ledger, change), 0);
}

/* A deployment of change (NULL: none named) to env at commit. */
static uint64_t s_deploy(const char *id, const char *change, const char *env, const char *commit)
{
    char extra[256] = "";
    if (change)
        snprintf(extra, sizeof extra, "\"change\":\"%s\",", change);
    uint64_t index = 0;
    assert_int_equal(
        tl_append_eventf(
            &s_ledger, &index,
            "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/cd\","
            "\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"data\":{\"context\":{},"
            "\"subject\":{\"id\":\"payments\",\"content\":{\"environment\":{\"id\":\"%s\"}}},"
            "\"customData\":{%s\"commit\":\"%s\",\"deployer\":\"ci-bot\"}}}",
            id, env, extra, commit),
        0);
    return index;
}

static cairn_policy_engine_t *s_engine(const char *state_dir, cairn_config_t **cfg_out)
{
    char err[256], path[256];
    snprintf(path, sizeof path, "%s/%s", s_ledger.dir, state_dir);
    cairn_config_t *cfg = cairn_config_new();
    assert_int_equal(cairn_config_set(cfg, "cairn.data_dir", s_ledger.dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "policy.state_path", path, err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    cairn_policy_engine_t *e = NULL;
    assert_int_equal(cairn_policy_engine_new(cfg, &e), 0);
    *cfg_out = cfg;
    return e;
}

/* The drift alerts in the ledger. */
static size_t s_drift_alerts(Cairn__V1__Alert *out[8])
{
    Cairn__V1__Entry **entries = NULL;
    size_t n = 0, k = 0;
    assert_int_equal(tl_entries(&s_ledger, 0, &entries, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(entries[i]->topic, "alert.drift") != 0)
            continue;
        Cairn__V1__Record *rec = NULL;
        assert_int_equal(
            cairn_codec_record_unpack(entries[i]->record.data, entries[i]->record.len, &rec), 0);
        if (out && k < 8) {
            out[k] = rec->alert;
            rec->alert = NULL;
            rec->body_case = CAIRN__V1__RECORD__BODY__NOT_SET;
        }
        k++;
        CAIRN_CODEC_FREE(&rec);
    }
    tl_entries_free(&entries, n);
    return k;
}

static const char *s_label(const Cairn__V1__Alert *a, const char *key)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i]->key, key) == 0)
            return a->labels[i]->value;
    return NULL;
}

static int s_setup(void **state)
{
    cairn_log_init("policy-test", "error");
    return tl_ledger_start(&s_ledger, "cairn-drift") < 0 ? -1 : 0;
}

static int s_teardown(void **state)
{
    tl_ledger_stop(&s_ledger);
    return 0;
}

static void deployments_without_an_allow_raise_drift_alerts(void **state)
{
    cairn_config_t *cfg = NULL;
    cairn_policy_engine_t *e = s_engine("policy", &cfg);

    s_allowed_change("CHG-1");
    s_approve("CHG-1");
    assert_int_equal(tl_engine_settle(&s_ledger, e),
                     0); /* the allow must be published before the deployment arrives */
    s_deploy("d1", "CHG-1", "prod", S_SHA); /* allowed: no alert */
    s_allowed_change("CHG-2");              /* no approval: pending */
    uint64_t d2 = s_deploy("d2", "CHG-2", "prod", S_SHA);
    uint64_t d3 = s_deploy("d3", "CHG-9", "production", S_SHA); /* never seen */
    uint64_t d4 = s_deploy("d4", NULL, "prod", S_SHA);          /* names no change */
    s_allowed_change("CHG-3");
    s_approve("CHG-3");
    assert_int_equal(tl_engine_settle(&s_ledger, e), 0);
    s_deploy("d5", "CHG-3", "staging", S_SHA);              /* not production */
    uint64_t d6 = s_deploy("d6", "CHG-1", "prod", S_OTHER); /* another commit */
    assert_int_equal(tl_engine_settle(&s_ledger, e), 0);

    Cairn__V1__Alert *alerts[8];
    size_t n = s_drift_alerts(alerts);
    assert_int_equal(n, 4);
    const char *changes[] = {"CHG-2", "CHG-9", "", "CHG-1"};
    uint64_t triggers[] = {d2, d3, d4, d6};
    for (size_t i = 0; i < n; i++) {
        print_message("%s\n", alerts[i]->summary);
        assert_string_equal(alerts[i]->kind, "drift");
        assert_string_equal(alerts[i]->severity, "high");
        assert_string_equal(alerts[i]->change_id, changes[i]);
        assert_int_equal(alerts[i]->trigger_index, triggers[i]);
        assert_non_null(s_label(alerts[i], "environment"));
        assert_string_equal(s_label(alerts[i], "deployer"), "ci-bot");
    }
    assert_non_null(strstr(alerts[0]->summary, "without an allow at gate deployment (pending)"));
    assert_non_null(strstr(alerts[1]->summary, "has no events for it"));
    assert_non_null(strstr(alerts[2]->summary, "names no change"));
    assert_non_null(strstr(alerts[3]->summary, "at commit 000000000000, but the policy allowed"));
    for (size_t i = 0; i < n; i++)
        CAIRN_CODEC_FREE(&alerts[i]);
    cairn_policy_engine_destroy(&e);
    cairn_config_destroy(&cfg);

    /* A policy with no state re-derives everything: the same four alerts. */
    e = s_engine("policy-again", &cfg);
    assert_int_equal(tl_engine_settle(&s_ledger, e), 0);
    assert_int_equal(s_drift_alerts(NULL), 4);
    cairn_policy_engine_destroy(&e);
    cairn_config_destroy(&cfg);
}

static void the_decision_is_a_function_of_the_change_and_the_event(void **state)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    assert_int_equal(cairn_policy_load_default(&errs, &p), 0);
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Evidence evd = CAIRN__V1__EVIDENCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    corr.change_id = "CHG-1";
    corr.environment = "Prod";
    evd.kind = "deployment";
    ev.correlation = &corr;
    ev.evidence = &evd;
    ev.type = "dev.cdevents.service.upgraded.0.3.0";
    assert_true(cairn_drift_is_prod_deployment(&ev));
    evd.kind = "test_report";
    assert_false(cairn_drift_is_prod_deployment(&ev));
    evd.kind = "deployment";
    corr.environment = "staging";
    assert_false(cairn_drift_is_prod_deployment(&ev));
    corr.environment = "prod";

    cairn_change_t *c = cairn_change_new("CHG-1");
    cairn_alert_out_t out;
    assert_int_equal(cairn_drift_evaluate(p, c, &ev, 7, 1000, &out), 0);
    assert_non_null(out.alert); /* no decision published yet */
    assert_string_equal(out.key, "alert:drift:CHG-1:7");
    assert_string_equal(s_label(out.alert, "decision"), "none");
    cairn_alerts_clear(&out, 1);
    cairn_change_set_gate(c, "deployment", CAIRN__V1__DECISION__DECISION_ALLOW, false);
    assert_int_equal(cairn_drift_evaluate(p, c, &ev, 7, 1000, &out), 0);
    assert_null(out.alert);
    /* After a merge the deployment carries the merge commit: the allow
     * given for the head covers it; any other commit is drift. */
    cairn_change_set(&c->commit_sha, S_SHA);
    cairn_change_set(&c->merge_sha, S_OTHER);
    corr.commit_sha = S_OTHER;
    assert_int_equal(cairn_drift_evaluate(p, c, &ev, 7, 1000, &out), 0);
    assert_null(out.alert);
    corr.commit_sha = "0000000000000000000000000000000000000002";
    assert_int_equal(cairn_drift_evaluate(p, c, &ev, 7, 1000, &out), 0);
    assert_non_null(out.alert);
    cairn_alerts_clear(&out, 1);
    corr.commit_sha = "";
    cairn_change_set_gate(c, "deployment", CAIRN__V1__DECISION__DECISION_DENY, false);
    assert_int_equal(cairn_drift_evaluate(p, c, &ev, 7, 1000, &out), 0);
    assert_non_null(out.alert);
    assert_string_equal(s_label(out.alert, "decision"), "deny");
    cairn_alerts_clear(&out, 1);
    cairn_change_destroy(&c);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_decision_is_a_function_of_the_change_and_the_event),
        cmocka_unit_test(deployments_without_an_allow_raise_drift_alerts),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
