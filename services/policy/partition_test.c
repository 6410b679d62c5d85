/* Tests for policy partitions (the partition function itself is tested in
 * common/src/partition_test.c): "i/N", which changes an instance owns, the
 * query hook that points at another partition, and two partitioned engines against
 * the real cairn-ledger: each evaluates only its own changes, and together
 * they append exactly what a single instance appends (a single instance
 * started afterwards finds every one of its appends already there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "change.h"
#include "engine.h"
#include "ledger_proc.h"
#include "partition.h"
#include "state.h"

#define S_SHA "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"

static void an_instance_owns_its_partitions_changes(void **state)
{
    (void)state;
    cairn_partition_t p0 = {0, 2}, p1 = {1, 2}, all = {0, 1};
    assert_true(cairn_partition_owns(&p0, "CHG-2"));
    assert_false(cairn_partition_owns(&p0, "CHG-1"));
    assert_true(cairn_partition_owns(&p1, "CHG-1"));
    assert_true(cairn_partition_owns(&p0, ""));
    assert_false(cairn_partition_owns(&p1, ""));
    assert_true(cairn_partition_owns(&all, "CHG-1"));
    assert_true(cairn_partition_owns(NULL, "CHG-1"));
}

static void partitions_parse_as_index_slash_count(void **state)
{
    (void)state;
    cairn_partition_t p = {9, 9};
    assert_int_equal(cairn_partition_parse("0/1", &p), 0);
    assert_int_equal(p.index, 0);
    assert_int_equal(p.count, 1);
    assert_int_equal(cairn_partition_parse("1/2", &p), 0);
    assert_int_equal(p.index, 1);
    assert_int_equal(p.count, 2);
    const char *bad[] = {"",     "1",      "2/2", "0/0",   "-1/2", "1/-2", " 0/2",
                         "0/2 ", "0/1025", "a/2", "0/2/3", "/2",   "0/",   "99999999999/2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cairn_partition_parse(bad[i], &p), CAIRN_ECONFIG);
    assert_int_equal(p.index, 1); /* untouched on failure */
}

/* The PolicyReply for a gate query on key, or NULL when the hook let it pass. */
static Cairn__V1__PolicyReply *s_redirect(const cairn_partition_t *p, cairn_state_t *st,
                                          const char *key)
{
    Cairn__V1__GateQuery g = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest rq = CAIRN__V1__POLICY_REQUEST__INIT;
    g.change_id = (char *)key;
    g.gate = "deployment";
    rq.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    rq.gate = &g;
    uint8_t *req = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    assert_int_equal(cairn_codec_pack(&rq.base, &req, &len), 0);
    int rc = cairn_partition_redirect(p, "ipc:///p0, ipc:///p1", st, req, len, &out, &out_len);
    free(req);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0)
        return NULL;
    Cairn__V1__PolicyReply *r = NULL;
    assert_int_equal(cairn_codec_policy_reply_unpack(out, out_len, &r), 0);
    free(out);
    return r;
}

static void a_query_for_another_partition_names_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/cairn-partition-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cairn_state_t *st = NULL;
    assert_int_equal(cairn_state_open(dir, &st), 0);
    /* CHG-2 (partition 0) known by the correlation key "sha:<S_SHA>". */
    cairn_change_t *c = cairn_change_new("CHG-2");
    cairn_change_add_input(c, 0);
    const char *keys[] = {"sha:" S_SHA};
    assert_int_equal(cairn_state_commit_keys(st, c, (char **)keys, 1, 1), 0);
    cairn_change_destroy(&c);

    cairn_partition_t p0 = {0, 2}, all = {0, 1};
    assert_null(s_redirect(&p0, st, "CHG-2"));      /* its own, known */
    assert_null(s_redirect(&p0, st, "CHG-4"));      /* its own, no events yet */
    assert_null(s_redirect(&p0, st, "sha:" S_SHA)); /* found by key */
    assert_null(s_redirect(&all, st, "CHG-1"));     /* one instance answers all */
    Cairn__V1__PolicyReply *r = s_redirect(&p0, st, "CHG-1");
    assert_non_null(r);
    assert_int_equal(r->status, CAIRN_EPARTITION);
    assert_null(r->verdict);
    assert_string_equal(r->error, "no change 'CHG-1' in policy partition 0/2; a change of that "
                                  "id belongs to partition 1/2 at ipc:///p1");
    assert_int_equal(r->applied_index, 1);
    CAIRN_CODEC_FREE(&r);
    cairn_state_destroy(&st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- engines against the real ledger ------------------------------------- */

static tl_ledger_t s_ledger;
/* Appends a CloudEvent, one second after the previous one. */
#define S_EVENT(...) assert_int_equal(tl_append_eventf(&s_ledger, NULL, __VA_ARGS__), 0)

static void s_change(const char *change, bool approved)
{
    assert_int_equal(tl_append_change(&s_ledger, change, S_SHA), 0);
    if (approved)
        assert_int_equal(tl_append_lee_approval(&s_ledger, change), 0);
}

static void s_deploy(const char *id, const char *change)
{
    S_EVENT("{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/cd\","
            "\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"data\":{\"context\":{},"
            "\"subject\":{\"id\":\"payments\",\"content\":{\"environment\":{\"id\":\"prod\"}}},"
            "\"customData\":{\"change\":\"%s\",\"commit\":\"" S_SHA "\",\"deployer\":\"ci-bot\"}}}",
            id, change);
}

static cairn_policy_engine_t *s_engine(const char *name, const char *partition,
                                       cairn_config_t **cfg_out)
{
    char err[256], path[256], query[256];
    snprintf(path, sizeof path, "%s/%s", s_ledger.dir, name);
    snprintf(query, sizeof query, "ipc://%s/run/%s.sock", s_ledger.dir, name);
    cairn_config_t *cfg = cairn_config_new();
    assert_int_equal(cairn_config_set(cfg, "cairn.data_dir", s_ledger.dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "policy.state_path", path, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "bus.policy_query", query, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "policy.partition", partition, err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    cairn_policy_engine_t *e = NULL;
    assert_int_equal(cairn_policy_engine_new(cfg, &e), 0);
    *cfg_out = cfg;
    return e;
}

/* Verdicts and alerts in the ledger per partition of their change (2 partitions). */
static void s_count(size_t verdicts[2], size_t alerts[2])
{
    Cairn__V1__Entry **entries = NULL;
    size_t n = 0;
    verdicts[0] = verdicts[1] = alerts[0] = alerts[1] = 0;
    assert_int_equal(tl_entries(&s_ledger, 0, &entries, &n), 0);
    for (size_t i = 0; i < n; i++) {
        Cairn__V1__Record *rec = NULL;
        assert_int_equal(
            cairn_codec_record_unpack(entries[i]->record.data, entries[i]->record.len, &rec), 0);
        uint32_t part = cairn_partition_of(cairn_codec_record_change(rec), 2);
        if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT)
            verdicts[part]++;
        else if (rec->body_case == CAIRN__V1__RECORD__BODY_ALERT)
            alerts[part]++;
        CAIRN_CODEC_FREE(&rec);
    }
    tl_entries_free(&entries, n);
}

static void an_instance_evaluates_only_its_partition(void **state)
{
    (void)state;
    cairn_config_t *c0 = NULL, *c1 = NULL, *call = NULL;
    /* CHG-2, CHG-4 in partition 0; CHG-1, CHG-3 in partition 1. */
    s_change("CHG-1", true);
    s_change("CHG-2", true);
    s_change("CHG-3", false);
    s_change("CHG-4", false);
    s_deploy("d3", "CHG-3"); /* not allowed: a drift alert for partition 1 */
    s_deploy("d4", "CHG-4"); /* and one for partition 0 */

    cairn_policy_engine_t *e0 = s_engine("p0", "0/2", &c0);
    assert_int_equal(tl_engine_settle(&s_ledger, e0), 0);
    size_t v[2], a[2];
    s_count(v, a);
    assert_true(v[0] > 0);
    assert_true(a[0] > 0);
    assert_int_equal(v[1], 0); /* nothing for the other partition's changes */
    assert_int_equal(a[1], 0);

    cairn_policy_engine_t *e1 = s_engine("p1", "1/2", &c1);
    assert_int_equal(tl_engine_settle(&s_ledger, e1), 0);
    assert_int_equal(tl_engine_settle(&s_ledger, e0),
                     0); /* instance 0 follows the other's verdicts, and skips them */
    size_t v2[2], a2[2];
    s_count(v2, a2);
    assert_int_equal(v2[0], v[0]); /* instance 1 added nothing for partition 0 */
    assert_int_equal(a2[0], a[0]);
    assert_true(v2[1] > 0);
    assert_true(a2[1] > 0);

    /* One instance over the same ledger finds every append already made. */
    uint64_t before = 0, after = 0;
    assert_int_equal(tl_size(&s_ledger, &before), 0);
    cairn_policy_engine_t *eall = s_engine("all", "0/1", &call);
    assert_int_equal(tl_engine_settle(&s_ledger, eall), 0);
    assert_int_equal(tl_size(&s_ledger, &after), 0);
    assert_int_equal(after, before);

    cairn_policy_engine_destroy(&eall);
    cairn_policy_engine_destroy(&e1);
    cairn_policy_engine_destroy(&e0);
    cairn_config_destroy(&call);
    cairn_config_destroy(&c1);
    cairn_config_destroy(&c0);
}

static void an_invalid_partition_stops_the_engine(void **state)
{
    (void)state;
    char err[256];
    cairn_config_t *cfg = cairn_config_new();
    assert_int_equal(cairn_config_set(cfg, "cairn.data_dir", s_ledger.dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(cfg, "policy.partition", "2/2", err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    cairn_policy_engine_t *e = NULL;
    assert_int_equal(cairn_policy_engine_new(cfg, &e), CAIRN_ECONFIG);
    assert_null(e);
    assert_int_equal(cairn_config_set(cfg, "policy.partition", "0/2", err, sizeof err), 0);
    assert_int_equal(
        cairn_config_set(cfg, "policy.partition_endpoints", "ipc:///only-one", err, sizeof err), 0);
    assert_int_equal(cairn_policy_engine_new(cfg, &e), CAIRN_ECONFIG);
    assert_null(e);
    cairn_config_destroy(&cfg);
}

static int s_setup(void **state)
{
    (void)state;
    cairn_log_init("policy-test", "error");
    return tl_ledger_start(&s_ledger, "cairn-partition") < 0 ? -1 : 0;
}

static int s_teardown(void **state)
{
    (void)state;
    tl_ledger_stop(&s_ledger);
    return 0;
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(an_instance_owns_its_partitions_changes),
        cmocka_unit_test(partitions_parse_as_index_slash_count),
        cmocka_unit_test(a_query_for_another_partition_names_it),
    };
    const struct CMUnitTest engines[] = {
        cmocka_unit_test(an_instance_evaluates_only_its_partition),
        cmocka_unit_test(an_invalid_partition_stops_the_engine),
    };
    int failed = cmocka_run_group_tests_name("partition", pure, NULL, NULL);
    return failed + cmocka_run_group_tests_name("partition engines", engines, s_setup, s_teardown);
}
