/* The policy loader: YAML (POLICY-FORMAT.md) -> policy model.
 *
 * Every problem is reported, not just the first, as
 * "file:line:col: unknown key 'requre' in gates.build — did you mean 'require'?".
 * The digest is "sha256:<hex>" of the exact bytes parsed. */
#ifndef CAIRN_POLICY_LOAD_H
#define CAIRN_POLICY_LOAD_H

#include <stddef.h>

#include "errlist.h"
#include "policy_model.h"

/* Largest policy file accepted. */
#define CAIRN_POLICY_MAX_BYTES (4u * 1024u * 1024u)

/* Loads the policy in path. On failure returns CAIRN_EPOLICY (or a read
 * error) and appends every problem to errs; *out is written only on success. */
int cairn_policy_load_file(const char *path, cairn_errlist_t *errs, cairn_policy_t **out);

/* Loads a policy from text; name is used in error messages and as source. */
int cairn_policy_load_string(const char *name, const char *text, size_t len, cairn_errlist_t *errs,
                             cairn_policy_t **out);

/* The built-in default policy (used when policy.file is empty). */
const char *cairn_policy_default_yaml(void);
int cairn_policy_load_default(cairn_errlist_t *errs, cairn_policy_t **out);

#endif
