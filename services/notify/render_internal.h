/* Pieces the renderers share (render.c) but nothing else needs. */
#ifndef CAIRN_NOTIFY_RENDER_INTERNAL_H
#define CAIRN_NOTIFY_RENDER_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "render.h"

#define CAIRN_RENDER_MAX_FIELDS 16

/* One "name: value" line about an alert. */
typedef struct {
    const char *name; /* "Still required", "Who may approve", ... */
    char value[1024]; /* plain text (escape it for the channel) */
} cairn_render_field_t;

/* The facts to show for an alert, in order; returns how many. */
size_t cairn_render_fields(const cairn_note_alert_t *a, cairn_render_field_t *f, size_t max);

/* A string member of obj, or "". */
const char *cairn_render_str(const json_t *obj, const char *key);

#endif
