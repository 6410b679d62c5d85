/* Inhibition (Alertmanager's inhibit_rules): an alert matching a rule's
 * target_matchers is muted while some firing alert matches its
 * source_matchers and has the same values for every label in `equal` (a
 * missing label equals the empty value). An alert that matches both sides
 * cannot be inhibited by alerts that also match both sides, itself
 * included.
 *
 * The inhibitor keeps, per rule, how many firing sources there are for each
 * combination of `equal` values; the engine tells it when an alert starts or
 * stops firing. */
#ifndef CAIRN_NOTIFY_INHIBIT_H
#define CAIRN_NOTIFY_INHIBIT_H

#include <stdbool.h>

#include "labels.h"
#include "routes.h"

typedef struct cairn_inhibitor_t cairn_inhibitor_t;

/* rules must outlive the inhibitor. */
int cairn_inhibitor_new(const cairn_routes_t *routes, cairn_inhibitor_t **out);
void cairn_inhibitor_destroy(cairn_inhibitor_t **self_p);

/* An alert with these labels started (firing true) or stopped firing. */
int cairn_inhibitor_track(cairn_inhibitor_t *self, const cairn_labels_t *labels, bool firing);

/* True when an alert with these labels is inhibited now. */
bool cairn_inhibitor_inhibited(const cairn_inhibitor_t *self, const cairn_labels_t *labels);

#endif
