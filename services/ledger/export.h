/* Export bundles: every entry of a change or of a release, with its leaf,
 * payload and inclusion proof against one signed checkpoint, as the
 * cairn.bundle/v1 JSON document an auditor verifies offline (cairn/bundle.h). */
#ifndef CAIRN_LEDGER_EXPORT_H
#define CAIRN_LEDGER_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Builds the bundle for change_id or release_id (exactly one non-empty).
 * A release's bundle also holds every entry of each change its entries name,
 * so each change's prev chain is complete. *json_out is malloc'd; *size_out
 * is the size of the checkpoint the proofs are against. CAIRN_ENOTFOUND when
 * nothing matches; CAIRN_EINVALID for a bad selector. */
int cairn_ledger_export(cairn_ledger_store_t *store, const char *change_id, const char *release_id,
                        char **json_out, size_t *len_out, uint64_t *size_out, size_t *entries_out);

#endif
