/* Tests for queries over the secondary indexes and for export bundles,
 * which must verify offline with the bundle library and the log's vkey. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "export.h"
#include "query.h"
#include "store.h"
#include "testutil.h"

/* One entry the fixture appends. */
typedef struct {
    const char *type;    /* event type (topic) */
    const char *change;  /* change id or NULL */
    const char *release; /* release id or NULL */
    const char *actor;   /* actor or NULL */
    const char *env;     /* environment or NULL */
    int64_t time_ms;     /* ledger time */
} s_row_t;

static const s_row_t s_rows[] = {
    {"dev.cdevents.change.created.0.4.0", "CHG-1", NULL, "dana", NULL, 1000},
    {"dev.cdevents.change.created.0.4.0", "CHG-2", NULL, "erin", NULL, 2000},
    {"dev.cdevents.build.finished.0.2.0", "CHG-1", "REL-1", "ci-bot", NULL, 3000},
    {"dev.cdeventsx.cairn-approval.granted.0.1.0", "CHG-1", NULL, "lee", NULL, 4000},
    {"verdict.build", "CHG-1", NULL, NULL, "staging", 5000},
    {"dev.cdevents.service.deployed.0.2.0", "CHG-2", "REL-1", "ci-bot", "staging", 6000},
    {"dev.cdevents.service.deployed.0.2.0", "CHG-3", "REL-2", "ci-bot", "prod", 7000},
    {"dev.cdevents.change.created.0.4.0", "CHG-2", NULL, "erin", NULL, 8000},
};
#define S_NROWS (sizeof s_rows / sizeof s_rows[0])

/* Per-test state: a store holding s_rows. */
typedef struct {
    char dir[64];                /* mkdtemp directory */
    cairn_note_signer_t *signer; /* checkpoint key */
    cairn_ledger_store_t *store; /* open store */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    lt_mkdtemp(f->dir, "cairn-ledger-query");
    f->signer = lt_signer(LT_ORIGIN, 11);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     0);
    char id[16];
    for (size_t i = 0; i < S_NROWS; i++) {
        const s_row_t *row = &s_rows[i];
        uint8_t *rec = NULL;
        size_t len = 0;
        snprintf(id, sizeof id, "q%zu", i);
        lt_event_record_env(row->type, row->change, row->release, row->actor, row->env, id, &rec,
                            &len);
        cairn_ledger_record_t in = {
            .topic = row->type,
            .change_id = row->change,
            .release_id = row->release,
            .actors = {row->actor, NULL},
            .environment = row->env,
            .appended_at_ms = row->time_ms,
            .record = rec,
            .record_len = len,
        };
        cairn_ledger_append_t out;
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        assert_int_equal(cairn_ledger_store_append(f->store, &in, &out), 0);
        assert_int_equal(cairn_ledger_store_commit(f->store), 0);
        free(out.leaf);
        free(rec);
    }
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_store_destroy(&f->store);
    cairn_note_signer_destroy(&f->signer);
    lt_rmtree(f->dir);
    free(f);
    return 0;
}

/* Indexes served by a query. */
typedef struct {
    uint64_t items[32]; /* in order served */
    size_t n;           /* how many */
} s_found_t;

static int s_note(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_found_t *found = arg;
    Cairn__V1__Entry *e = NULL;
    assert_int_equal(cairn_codec_entry_unpack(entry, len, &e), 0);
    assert_int_equal(e->index, index);
    CAIRN_CODEC_FREE(&e);
    assert_true(found->n < 32);
    found->items[found->n++] = index;
    return 0;
}

static void s_expect(cairn_ledger_store_t *store, const cairn_ledger_query_t *q, size_t n, ...)
{
    s_found_t found = {.n = 0};
    assert_int_equal(cairn_ledger_query(store, q, s_note, &found), 0);
    va_list ap;
    va_start(ap, n);
    assert_int_equal(found.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(found.items[i], va_arg(ap, int));
    va_end(ap);
}

static void test_queries_select_by_environment(void **state)
{
    s_fixture_t *f = *state;
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "staging"}, 2, 4, 5);
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "prod"}, 1, 6);
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "dev"}, 0);
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "staging", .to_ms = 5500}, 1, 4);
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "staging", .from_index = 5}, 1, 5);
    /* Every deployment to staging: a topic prefix narrows the environment. */
    s_expect(f->store,
             &(cairn_ledger_query_t){.environment = "staging",
                                     .topic_prefix = "dev.cdevents.service.deployed."},
             1, 5);
    s_expect(f->store, &(cairn_ledger_query_t){.environment = "prod", .topic_prefix = "verdict."},
             0);
}

static void test_a_topic_prefix_narrows_any_selector(void **state)
{
    s_fixture_t *f = *state;
    s_expect(f->store,
             &(cairn_ledger_query_t){.actor = "ci-bot", .topic_prefix = "dev.cdevents.service."}, 2,
             5, 6);
    s_expect(f->store,
             &(cairn_ledger_query_t){
                 .actor = "ci-bot", .topic_prefix = "dev.cdevents.service.", .from_ms = 6500},
             1, 6);
    s_expect(f->store, &(cairn_ledger_query_t){.change_id = "CHG-1", .topic_prefix = "verdict."}, 1,
             4);
    s_expect(f->store,
             &(cairn_ledger_query_t){.release_id = "REL-1", .topic_prefix = "dev.cdevents.build."},
             1, 2);
    /* The whole topic matches too; a longer prefix than any topic, nothing. */
    s_expect(f->store,
             &(cairn_ledger_query_t){.change_id = "CHG-2",
                                     .topic_prefix = "dev.cdevents.change.created.0.4.0"},
             2, 1, 7);
    s_expect(f->store,
             &(cairn_ledger_query_t){.change_id = "CHG-2",
                                     .topic_prefix = "dev.cdevents.change.created.0.4.0.x"},
             0);

    s_found_t found = {.n = 0};
    assert_int_equal(
        cairn_ledger_query(f->store,
                           &(cairn_ledger_query_t){.environment = "prod", .actor = "ci-bot"},
                           s_note, &found),
        CAIRN_EINVALID);
    assert_int_equal(found.n, 0);
}

static void test_queries_select_by_release_actor_type_and_time_in_log_order(void **state)
{
    s_fixture_t *f = *state;
    s_expect(f->store, &(cairn_ledger_query_t){.change_id = "CHG-2"}, 3, 1, 5, 7);
    s_expect(f->store, &(cairn_ledger_query_t){.release_id = "REL-1"}, 2, 2, 5);
    s_expect(f->store, &(cairn_ledger_query_t){.actor = "ci-bot"}, 3, 2, 5, 6);
    s_expect(f->store, &(cairn_ledger_query_t){.topic_prefix = "dev.cdevents."}, 6, 0, 1, 2, 5, 6,
             7);
    s_expect(f->store, &(cairn_ledger_query_t){.topic_prefix = "dev.cdevents.change."}, 3, 0, 1, 7);
    s_expect(f->store, &(cairn_ledger_query_t){.topic_prefix = "verdict."}, 1, 4);
    s_expect(f->store, &(cairn_ledger_query_t){.from_ms = 3000, .to_ms = 6000}, 3, 2, 3, 4);
    s_expect(f->store, &(cairn_ledger_query_t){.from_ms = 7000}, 2, 6, 7);
    /* A selector filtered by time, and paged. */
    s_expect(f->store, &(cairn_ledger_query_t){.actor = "ci-bot", .to_ms = 6500}, 2, 2, 5);
    s_expect(f->store, &(cairn_ledger_query_t){.topic_prefix = "dev.cdevents.", .from_ms = 6000}, 3,
             5, 6, 7);
    s_expect(f->store, &(cairn_ledger_query_t){.topic_prefix = "dev.", .from_index = 3, .limit = 2},
             2, 3, 5);
    s_expect(f->store, &(cairn_ledger_query_t){.release_id = "REL-404"}, 0);

    s_found_t found = {.n = 0};
    assert_int_equal(cairn_ledger_query(f->store, &(cairn_ledger_query_t){0}, s_note, &found),
                     CAIRN_EINVALID);
    assert_int_equal(
        cairn_ledger_query(f->store, &(cairn_ledger_query_t){.change_id = "CHG-1", .actor = "dana"},
                           s_note, &found),
        CAIRN_EINVALID);
}

static cairn_bundle_report_t *s_verify_bundle(s_fixture_t *f, const char *json, size_t len)
{
    char *vkey = NULL;
    cairn_note_verifier_t *verifier = NULL;
    cairn_bundle_report_t *report = NULL;
    assert_int_equal(cairn_note_signer_vkey(f->signer, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &verifier), 0);
    assert_int_equal(cairn_bundle_verify(json, len, verifier, &report), 0);
    /* The bundle names the key it verifies with. */
    char needle[256];
    snprintf(needle, sizeof needle, "\"vkey\":\"%s\"", vkey);
    assert_non_null(strstr(json, needle));
    cairn_note_verifier_destroy(&verifier);
    free(vkey);
    return report;
}

static void test_an_export_bundle_for_a_change_verifies_offline(void **state)
{
    s_fixture_t *f = *state;
    char *json = NULL;
    size_t len = 0, entries = 0;
    uint64_t size = 0;
    assert_int_equal(cairn_ledger_export(f->store, "CHG-1", NULL, &json, &len, &size, &entries), 0);
    assert_int_equal(size, S_NROWS);
    assert_int_equal(entries, 4);
    assert_non_null(strstr(json, "\"format\":\"cairn.bundle/v1\""));
    cairn_bundle_report_t *report = s_verify_bundle(f, json, len);
    for (size_t i = 0; i < report->finding_count; i++)
        fprintf(stderr, "finding: %s\n", report->findings[i].reason);
    assert_true(report->checkpoint_ok);
    assert_int_equal(report->entry_count, 4);
    assert_int_equal(report->entries_ok, 4);
    assert_int_equal(report->finding_count, 0);
    cairn_bundle_report_destroy(&report);

    /* A payload changed in transit is found. */
    char *at = strstr(json, "\"payload\":\"");
    assert_non_null(at);
    at += strlen("\"payload\":\"") + 4;
    *at = *at == 'A' ? 'B' : 'A';
    report = s_verify_bundle(f, json, len);
    assert_true(report->finding_count > 0);
    assert_int_equal(report->findings[0].kind, CAIRN_FINDING_PAYLOAD);
    cairn_bundle_report_destroy(&report);
    free(json);
}

static void test_a_release_bundle_carries_the_whole_chain_of_its_changes(void **state)
{
    s_fixture_t *f = *state;
    char *json = NULL;
    size_t len = 0, entries = 0;
    uint64_t size = 0;
    assert_int_equal(cairn_ledger_export(f->store, NULL, "REL-1", &json, &len, &size, &entries), 0);
    /* REL-1 names entries 2 (CHG-1) and 5 (CHG-2): all of CHG-1 and CHG-2 come along. */
    assert_int_equal(entries, 7);
    cairn_bundle_report_t *report = s_verify_bundle(f, json, len);
    for (size_t i = 0; i < report->finding_count; i++)
        fprintf(stderr, "finding: %s\n", report->findings[i].reason);
    assert_int_equal(report->finding_count, 0);
    assert_int_equal(report->entries_ok, 7);
    cairn_bundle_report_destroy(&report);
    free(json);

    assert_int_equal(cairn_ledger_export(f->store, NULL, "REL-404", &json, &len, &size, &entries),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_ledger_export(f->store, "CHG-1", "REL-1", &json, &len, &size, &entries),
                     CAIRN_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_queries_select_by_release_actor_type_and_time_in_log_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_queries_select_by_environment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_topic_prefix_narrows_any_selector, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_an_export_bundle_for_a_change_verifies_offline,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_release_bundle_carries_the_whole_chain_of_its_changes, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
