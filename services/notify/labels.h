/* A label set: the name=value pairs an alert is routed, grouped, silenced
 * and inhibited by (Alertmanager's model on Cairn's vocabulary: service, env,
 * team, change, release, risk, change_type, decision, kind, severity, role,
 * gate). Pairs are kept sorted by name; an empty value is the same as no
 * label at all, so setting "" removes the name. */
#ifndef CAIRN_NOTIFY_LABELS_H
#define CAIRN_NOTIFY_LABELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cairn_labels_t cairn_labels_t;

cairn_labels_t *cairn_labels_new(void);
void cairn_labels_destroy(cairn_labels_t **self_p);

/* A deep copy, or NULL when out of memory. */
cairn_labels_t *cairn_labels_dup(const cairn_labels_t *self);

/* Sets name to value (copied); "" or NULL removes it. */
int cairn_labels_set(cairn_labels_t *self, const char *name, const char *value);

/* The value of name, or "" when it is not set (never NULL). */
const char *cairn_labels_get(const cairn_labels_t *self, const char *name);

size_t cairn_labels_count(const cairn_labels_t *self);
const char *cairn_labels_name(const cairn_labels_t *self, size_t i);
const char *cairn_labels_value(const cairn_labels_t *self, size_t i);

/* 64-bit FNV-1a over the sorted pairs: equal sets, equal fingerprints. */
uint64_t cairn_labels_fingerprint(const cairn_labels_t *self);

/* `{change="CHG-1", env="prod"}` (Alertmanager's rendering), malloc'd. */
char *cairn_labels_format(const cairn_labels_t *self);

/* {"change":"CHG-1",...}, or NULL when out of memory. */
json_t *cairn_labels_to_json(const cairn_labels_t *self);

/* Reads an object of strings (other values are skipped). */
int cairn_labels_from_json(const json_t *obj, cairn_labels_t **out);

#endif
