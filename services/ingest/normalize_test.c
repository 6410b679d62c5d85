/* Tests for normalization: the lookup rule, evidence kinds by type, the
 * CDEvents defaults, and the shape checks that keep policy inputs honest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "normalize.h"

/* An event of the given type and subject, normalized from data. */
static int s_normalize(const char *type, const char *subject, const char *data_json,
                       Cairn__V1__Event **out, char *err, size_t errlen)
{
    Cairn__V1__Event *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    cairn__v1__event__init(ev);
    ev->type = strdup(type);
    if (subject)
        ev->subject = strdup(subject);
    char why[300];
    cJSON *data = NULL;
    if (data_json && cairn_ingest_json_parse(data_json, strlen(data_json), "test JSON", &data, why,
                                             sizeof why) != 0)
        fail_msg("bad test JSON: %s", why);
    int rc = cairn_normalize_event(ev, data, err, errlen);
    cJSON_Delete(data);
    *out = ev;
    return rc;
}

static Cairn__V1__Event *s_ok(const char *type, const char *subject, const char *data_json)
{
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    if (s_normalize(type, subject, data_json, &ev, err, sizeof err) != 0)
        fail_msg("normalize failed: %s", err);
    return ev;
}

static const char *s_fails(const char *type, const char *data_json)
{
    static char err[512];
    Cairn__V1__Event *ev = NULL;
    err[0] = '\0';
    assert_int_equal(s_normalize(type, NULL, data_json, &ev, err, sizeof err), CAIRN_EINVALID);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    return err;
}

static void s_free(Cairn__V1__Event *ev)
{
    protobuf_c_message_free_unpacked(&ev->base, NULL);
}

static void lookup_reads_custom_data_then_subject_content_of_a_cdevent(void **state)
{
    (void)state;
    cJSON *cd = cJSON_Parse("{\"context\":{},\"subject\":{\"content\":{\"risk\":\"low\","
                            "\"author\":\"content\"}},\"customData\":{\"author\":\"custom\"},"
                            "\"author\":\"top\"}");
    assert_true(cairn_normalize_is_cdevent(cd));
    assert_string_equal(cairn_json_str(cairn_normalize_lookup(cd, "author")), "custom");
    assert_string_equal(cairn_json_str(cairn_normalize_lookup(cd, "risk")), "low");
    assert_null(cairn_normalize_lookup(cd, "nothing"));
    cJSON_Delete(cd);

    cJSON *plain = cJSON_Parse("{\"author\":\"top\",\"risk\":null}");
    assert_false(cairn_normalize_is_cdevent(plain));
    assert_string_equal(cairn_json_str(cairn_normalize_lookup(plain, "author")), "top");
    assert_null(cairn_normalize_lookup(plain, "risk"));
    cJSON_Delete(plain);
    assert_null(cairn_normalize_lookup(NULL, "author"));
}

static void evidence_kind_follows_the_event_type(void **state)
{
    (void)state;
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.testsuiterun.finished.0.3.0"),
                        "test_report");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.testcaserun.finished.0.3.0"),
                        "test_report");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.build.finished.0.3.0"),
                        "build");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.pipelinerun.finished.0.3.0"),
                        "build");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.service.deployed.0.3.0"),
                        "deployment");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.service.upgraded.0.3.0"),
                        "deployment");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.service.rolledback.0.3.0"),
                        "deployment");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdeventsx.cairn-scan.finished.0.1.0"),
                        "scan");
    assert_string_equal(
        cairn_normalize_evidence_kind("dev.cdeventsx.cairn-verification.finished.0.1.0"),
        "verification");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.testsuiterun.started.0.3.0"),
                        "");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.mybuild.finished.0.3.0"), "");
    assert_string_equal(cairn_normalize_evidence_kind("dev.cdevents.change.created.0.4.0"), "");
}

static void a_service_deployment_takes_environment_artifact_and_service_from_cdevents(void **state)
{
    (void)state;
    Cairn__V1__Event *ev = s_ok(
        "dev.cdevents.service.deployed.0.3.0", NULL,
        "{\"context\":{},\"subject\":{\"id\":\"payments\",\"content\":{"
        "\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/payments@sha256:ab\"}},"
        "\"customData\":{\"change\":\"CHG-1\",\"deployer\":\"ci-bot\",\"outcome\":\"success\"}}");
    assert_string_equal(ev->evidence->kind, "deployment");
    assert_string_equal(ev->correlation->environment, "prod");
    assert_string_equal(ev->correlation->artifact_digest, "pkg:oci/payments@sha256:ab");
    assert_string_equal(ev->correlation->service, "payments");
    assert_string_equal(ev->correlation->change_id, "CHG-1");
    assert_string_equal(ev->governance->deployer, "ci-bot");
    assert_string_equal(ev->evidence->outcome, "success");
    s_free(ev);
}

static void an_artifact_event_takes_its_change_from_content_change_id(void **state)
{
    (void)state;
    Cairn__V1__Event *ev = s_ok("dev.cdevents.artifact.packaged.0.3.0", NULL,
                                "{\"context\":{},\"subject\":{\"id\":\"pkg:golang/x@v1\","
                                "\"content\":{\"change\":{\"id\":\"CHG-3\",\"source\":\"/s\"}}}}");
    assert_string_equal(ev->correlation->change_id, "CHG-3");
    assert_string_equal(ev->correlation->artifact_digest, "pkg:golang/x@v1");
    s_free(ev);
}

static void a_change_event_without_a_stated_change_uses_the_subject(void **state)
{
    (void)state;
    Cairn__V1__Event *ev = s_ok("dev.cdevents.change.merged.0.3.0", "CHG-5", "{\"pr\":42}");
    assert_string_equal(ev->correlation->change_id, "CHG-5");
    assert_string_equal(ev->correlation->pr_number, "42");
    s_free(ev);
    /* a stated change wins over the subject */
    ev = s_ok("dev.cdevents.change.merged.0.3.0", "CHG-5", "{\"change\":\"CHG-6\"}");
    assert_string_equal(ev->correlation->change_id, "CHG-6");
    s_free(ev);
    /* other types never guess a change */
    ev = s_ok("com.example.thing", "CHG-5", "{}");
    assert_string_equal(ev->correlation->change_id, "");
    s_free(ev);
}

static void governance_lists_counts_and_labels_are_read(void **state)
{
    (void)state;
    Cairn__V1__Event *ev =
        s_ok("com.example.pr", NULL,
             "{\"committers\":[\"dana\",\"erin\"],\"data_classes\":\"PII\","
             "\"paths\":[\"a.c\",\"b.c\"],\"labels\":{\"team\":\"pay\"},\"lines_changed\":\"12\","
             "\"change_type\":\"normal\",\"risk\":\"high\",\"actor\":\"dana\","
             "\"release\":\"r-1\",\"incident\":\"INC-1\",\"repository\":\"acme/payments\"}");
    Cairn__V1__Governance *g = ev->governance;
    assert_int_equal(g->n_committers, 2);
    assert_string_equal(g->committers[1], "erin");
    assert_int_equal(g->n_data_classes, 1);
    assert_string_equal(g->data_classes[0], "PII");
    assert_int_equal(g->n_paths, 2);
    assert_int_equal(g->n_labels, 1);
    assert_string_equal(g->labels[0], "team=pay");
    assert_int_equal(g->lines_changed, 12);
    assert_string_equal(g->change_type, "normal");
    assert_string_equal(g->risk, "high");
    assert_string_equal(g->actor, "dana");
    assert_string_equal(ev->correlation->release_id, "r-1");
    assert_string_equal(ev->correlation->incident_id, "INC-1");
    assert_string_equal(ev->correlation->repository, "acme/payments");
    s_free(ev);
}

static void cdevents_v0_4_outcomes_read_as_v0_5_outcomes(void **state)
{
    (void)state;
    Cairn__V1__Event *ev =
        s_ok("dev.cdevents.testsuiterun.finished.0.2.0", NULL,
             "{\"context\":{},\"subject\":{\"content\":{\"outcome\":\"fail\"}}}");
    assert_string_equal(ev->evidence->outcome, "failure");
    s_free(ev);
}

static void values_of_the_wrong_shape_are_refused_with_the_field_named(void **state)
{
    (void)state;
    assert_string_equal(s_fails("x", "{\"commit\":true}"),
                        "data field 'commit' must be a string, got a boolean");
    assert_string_equal(s_fails("x", "{\"committers\":{\"a\":1}}"),
                        "data field 'committers' must be a list of strings, got an object");
    assert_string_equal(s_fails("x", "{\"committers\":[\"a\",{}]}"),
                        "data field 'committers' item 1 must be a string, got an object");
    assert_non_null(strstr(s_fails("x", "{\"findings\":{\"critical\":\"many\"}}"),
                           "data field 'findings.critical' must be a non-negative integer"));
    assert_non_null(strstr(s_fails("x", "{\"findings\":3}"), "data field 'findings' must be"));
    assert_string_equal(s_fails("x", "{\"coverage_line_pct\":101}"),
                        "data field 'coverage_line_pct' must be a number from 0 to 100");
    assert_non_null(strstr(s_fails("x", "{\"tests_passed\":4294967296}"), "'tests_passed'"));
    assert_string_equal(s_fails("x", "{\"decision\":\"maybe\"}"),
                        "data field 'decision' is 'maybe'; use \"granted\" or \"rejected\"");
}

static void an_approval_whose_data_contradicts_its_type_is_refused(void **state)
{
    (void)state;
    const char *msg =
        s_fails("dev.cdeventsx.cairn-approval.granted.0.1.0",
                "{\"change\":\"CHG-1\",\"approver\":\"lee\",\"decision\":\"rejected\"}");
    assert_non_null(strstr(msg, "says 'rejected' but the event type says 'granted'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookup_reads_custom_data_then_subject_content_of_a_cdevent),
        cmocka_unit_test(evidence_kind_follows_the_event_type),
        cmocka_unit_test(a_service_deployment_takes_environment_artifact_and_service_from_cdevents),
        cmocka_unit_test(an_artifact_event_takes_its_change_from_content_change_id),
        cmocka_unit_test(a_change_event_without_a_stated_change_uses_the_subject),
        cmocka_unit_test(governance_lists_counts_and_labels_are_read),
        cmocka_unit_test(cdevents_v0_4_outcomes_read_as_v0_5_outcomes),
        cmocka_unit_test(values_of_the_wrong_shape_are_refused_with_the_field_named),
        cmocka_unit_test(an_approval_whose_data_contradicts_its_type_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
