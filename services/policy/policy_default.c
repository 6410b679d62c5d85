/* The built-in policy used when policy.file is empty. It is YAML parsed by the
 * same loader as any file, so its digest is the digest of this text. */
#include "policy_load.h"

static const char s_default_policy[] =
    "# Cairn built-in default policy (used when policy.file is empty).\n"
    "apiVersion: cairn/v1\n"
    "kind: ReleasePolicy\n"
    "metadata: { name: default, revision: \"builtin-1\" }\n"
    "\n"
    "roles:\n"
    "  dev:              { users: [dana, erin, frank] }\n"
    "  tech_lead:        { users: [lee] }\n"
    "  service_accounts: { users: [ci-bot], kind: service_account }\n"
    "\n"
    "approvals:\n"
    "  distinct_persons: true\n"
    "  invalidate_on: [new_commit]\n"
    "  rules:\n"
    "    - { id: peer, from: [dev, tech_lead], count: 1 }\n"
    "\n"
    "separation_of_duties:\n"
    "  - { id: SOD1, role: approver, not: [author, committers] }\n"
    "  - { id: SOD3, role: approver, not_kind: [service_account] }\n"
    "\n"
    "gates:\n"
    "  build:\n"
    "    evidence:\n"
    "      - { id: unit-tests, type: test_report, require: { failed: 0, passed_min: 1 } }\n"
    "  deployment:\n"
    "    after: [build]\n"
    "    require: { approvals_satisfied: true }\n";

const char *cairn_policy_default_yaml(void)
{
    return s_default_policy;
}
