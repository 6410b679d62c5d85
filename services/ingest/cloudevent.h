/* CloudEvents 1.0 parsing: structured mode (one JSON object), batched mode
 * (a JSON array of structured events) and binary mode (ce-* headers, the body
 * is the data) into canonical cairn.v1.Event messages.
 *
 * Errors: CAIRN_EPARSE when the input is not well-formed (malformed JSON,
 * with its line and column; a bad header encoding), CAIRN_EINVALID when it
 * is well-formed but not an acceptable CloudEvent (a missing or wrong
 * attribute, a data field of the wrong shape). err always receives one
 * sentence a sender can act on, e.g. "missing required attribute 'source'". */
#ifndef CAIRN_INGEST_CLOUDEVENT_H
#define CAIRN_INGEST_CLOUDEVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cairn/v1/event.pb-c.h"
#include "headers.h"
#include "json_body.h"

/* Builds an event from a decoded structured-mode JSON value
 * (cairn_ingest_json_parse, json_body.h). */
int cairn_cloudevent_from_cjson(const cJSON *obj, Cairn__V1__Event **out, char *err, size_t errlen);

/* The same for a value decoded by jansson (other daemons' callers): it is
 * encoded and decoded again under the same rules. */
int cairn_cloudevent_from_json(const json_t *obj, Cairn__V1__Event **out, char *err, size_t errlen);

/* Parses a structured-mode body (application/cloudevents+json). */
int cairn_cloudevent_parse(const void *body, size_t len, Cairn__V1__Event **out, char *err,
                           size_t errlen);

/* Parses a batched-mode body (application/cloudevents-batch+json). On
 * success *events_out holds *n_out events (free with cairn_cloudevent_free_all);
 * an empty batch is CAIRN_EINVALID. Errors name the failing event's position. */
int cairn_cloudevent_parse_batch(const void *body, size_t len, Cairn__V1__Event ***events_out,
                                 size_t *n_out, char *err, size_t errlen);

/* Parses a binary-mode request: attributes from ce-* headers (percent-decoded),
 * datacontenttype from content_type, data = body. JSON data (by content type)
 * must be well-formed and is normalized like structured data. */
int cairn_cloudevent_parse_binary(const cairn_ingest_header_t *headers, size_t n_headers,
                                  const char *content_type, const void *body, size_t len,
                                  Cairn__V1__Event **out, char *err, size_t errlen);

/* True when a media type (parameters ignored) denotes JSON: application/json,
 * text/json, or any "+json" suffix. */
bool cairn_cloudevent_is_json_type(const char *content_type);

/* Frees an event built here (NULL-safe, sets *ev_p to NULL). */
void cairn_cloudevent_free(Cairn__V1__Event **ev_p);

/* Frees an array of n events and the array itself (NULL-safe). */
void cairn_cloudevent_free_all(Cairn__V1__Event ***events_p, size_t n);

#endif
