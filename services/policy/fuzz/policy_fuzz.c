/* Fuzz target for the policy loader (policy_load.h): each input is loaded as
 * a policy file, with every validation the daemon runs before it puts a
 * policy in force. A refusal must list at least one problem; a policy that
 * loads is then evaluated, every gate, for one fixed change with an author,
 * a committer, changed paths, an approval and test evidence, at a fixed
 * time, so that anything the loader lets through is also safe to evaluate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "errlist.h"
#include "evaluate.h"
#include "policy_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cairn_change_t *s_change(void)
{
    static cairn_change_t *c;
    if (c)
        return c;
    c = cairn_change_new("github:acme/shop#42");
    cairn_change_approval_t a = {.user = "bob", .role = "reviewers", .commit_sha = "abc123",
                                 .index = 3, .at_ms = 1700000000000};
    cairn_change_evidence_t e = {.kind = "test_report", .index = 4,
                                 .received_at_ms = 1700000001000, .commit_sha = "abc123",
                                 .outcome = "success", .passed = 10};
    if (!c || cairn_change_set(&c->author, "alice") != 0 ||
        cairn_change_set(&c->commit_sha, "abc123") != 0 ||
        cairn_change_set(&c->environment, "prod") != 0 ||
        cairn_change_set(&c->service, "shop") != 0 ||
        cairn_change_add_str(&c->committers, &c->n_committers, "alice") != 0 ||
        cairn_change_add_str(&c->paths, &c->n_paths, "db/migrations/0042_cards.sql") != 0 ||
        cairn_change_add_str(&c->labels, &c->n_labels, "risk:high") != 0 ||
        cairn_change_add_approval(c, &a) != 0 || cairn_change_put_evidence(c, &e) != 0)
        abort();
    c->lines_changed = 120;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *policy = NULL;
    int rc = cairn_policy_load_string("fuzz.yaml", (const char *)data, size, &errs, &policy);
    if (rc != 0) {
        if (errs.count == 0 && !errs.oom)
            abort(); /* every refusal says why */
        goto out;
    }
    if (!policy)
        abort();
    cairn_eval_opts_t opts = {.now_ms = 1700000100000, .trigger_index = 4};
    cairn_evaluation_t ev;
    memset(&ev, 0, sizeof ev);
    if (cairn_evaluate_change(policy, "github:acme/shop#42", s_change(), &opts, &ev) == 0 &&
        ev.n != policy->n_gates)
        abort();
    cairn_evaluation_clear(&ev);
out:
    cairn_policy_unref(&policy);
    cairn_errlist_clear(&errs);
    return 0;
}

const char cairn_fuzz_target_name[] = "policy loader";
