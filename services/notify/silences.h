/* Silences and acknowledgements, as recorded in the ledger by `cairn notify
 * silence` and `cairn notify ack` and read back from the stream, so every
 * notify instance holds the same set.
 *
 * A silence holds back notifications for alerts matching all its matchers
 * between starts_at and ends_at; a later record with the same id replaces
 * it (that is how a silence is expired early).
 *
 * An acknowledgement says someone owns the alerts of a change (narrowed by
 * matchers): reminders (repeat_interval) and escalations stop for those
 * alerts until one of them changes (is updated after the acknowledgement)
 * or the acknowledgement expires. New or changed alerts still notify. */
#ifndef CAIRN_NOTIFY_SILENCES_H
#define CAIRN_NOTIFY_SILENCES_H

#include <stdint.h>

#include "cairn/codec.h"
#include "labels.h"
#include "store.h"

typedef struct cairn_silences_t cairn_silences_t;

/* Loads the silences and acknowledgements kept in store. */
int cairn_silences_new(cairn_notify_store_t *store, cairn_silences_t **out);
void cairn_silences_destroy(cairn_silences_t **self_p);

/* Adds or replaces a silence and persists it in the store's open batch.
 * CAIRN_EINVALID (nothing kept) for a silence without matchers or with a
 * matcher that does not parse. */
int cairn_silences_apply_silence(cairn_silences_t *self, const Cairn__V1__Silence *s,
                                 int64_t now_ms);

/* Adds an acknowledgement (same rules). */
int cairn_silences_apply_ack(cairn_silences_t *self, const Cairn__V1__Acknowledgement *a,
                             int64_t now_ms);

/* The id of an active silence matching labels at now_ms, or NULL. */
const char *cairn_silences_silenced(const cairn_silences_t *self, const cairn_labels_t *labels,
                                    int64_t now_ms);

/* Who acknowledged an alert with these labels that last changed at
 * updated_ms, or NULL when nobody did (or the alert changed since). */
const char *cairn_silences_acked(const cairn_silences_t *self, const cairn_labels_t *labels,
                                 int64_t updated_ms, int64_t now_ms);

/* The next time after now_ms a silence starts or ends (INT64_MAX: none),
 * so the engine can look at held-back groups again. */
int64_t cairn_silences_next_change(const cairn_silences_t *self, int64_t now_ms);

/* Forgets silences and acknowledgements that ended before now_ms - keep_ms. */
int cairn_silences_prune(cairn_silences_t *self, int64_t now_ms, int64_t keep_ms);

/* How many are held. */
size_t cairn_silences_count(const cairn_silences_t *self);
size_t cairn_silences_ack_count(const cairn_silences_t *self);

#endif
