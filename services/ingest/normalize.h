/* Normalization: fills the canonical Correlation, Governance and Evidence of
 * an event from its type, its CloudEvents subject and its JSON data.
 *
 * Field lookup lookup(K): when data is a CDEvent (an object with "context"
 * and "subject"), K is looked up in data.customData, then in
 * data.subject.content; otherwise in data itself. docs/events.md has the
 * full table of keys and the CDEvents-specific defaults. Tekton's
 * dev.tekton.event.* types then get their own pass (normalize_tekton.c). */
#ifndef CAIRN_INGEST_NORMALIZE_H
#define CAIRN_INGEST_NORMALIZE_H

#include "json_body.h"
#include <stdbool.h>
#include <stddef.h>

#include "cairn/v1/event.pb-c.h"

/* True when data has the CDEvents shape (object with "context" and "subject"). */
bool cairn_normalize_is_cdevent(const cJSON *data);

/* lookup(K) as described above; NULL when absent or JSON null. Borrowed. */
const cJSON *cairn_normalize_lookup(const cJSON *data, const char *key);

/* Evidence kind implied by a CloudEvents type ("test_report", "build",
 * "deployment", "scan", "verification"), or "" when the type carries none. */
const char *cairn_normalize_evidence_kind(const char *type);

/* Fills ev->correlation, ev->governance and ev->evidence (allocating them)
 * from ev->type, ev->subject and data (may be NULL for non-JSON data).
 * A known key with a value of the wrong shape, or an approval event without
 * its approver or change, is CAIRN_EINVALID with a sentence naming the field
 * in err. ev keeps whatever was filled either way; the caller frees it. */
int cairn_normalize_event(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen);

#endif
