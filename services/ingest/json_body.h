/* Strict decoding of untrusted JSON (webhook bodies, CloudEvents, their
 * data) into cJSON trees, and the few accessors the normalizers share.
 *
 * cJSON parses fast but is lenient where Cairn must not be, so
 * cairn_ingest_json_parse adds the rules the rest of ingest relies on
 * (docs/events.md, "How JSON is read"):
 *   - the text is UTF-8 (checked with libunistring's u8_check), without a
 *     byte order mark and without raw control characters other than
 *     tab, line feed and carriage return;
 *   - strings have no \u0000 escape (a C string would silently end there)
 *     and every \u escape has four hex digits;
 *   - objects and lists nest at most CAIRN_JSON_MAX_DEPTH deep;
 *   - no object has the same key twice (two readers of the same bytes
 *     could otherwise see different values);
 *   - nothing but whitespace follows the value; any JSON value is
 *     decoded, so callers can tell valid JSON of the wrong shape (422)
 *     from malformed JSON (400).
 * Numbers are doubles: an integer is exact up to 2^53 in magnitude;
 * cairn_json_is_integer is false beyond that. */
#ifndef CAIRN_INGEST_JSON_BODY_H
#define CAIRN_INGEST_JSON_BODY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of objects and lists accepted (cJSON's own limit). */
#define CAIRN_JSON_MAX_DEPTH 1000

/* Largest integer magnitude a JSON number keeps exactly (2^53). */
#define CAIRN_JSON_MAX_EXACT 9007199254740992.0

/* Decodes len bytes of text. On success *out holds the tree (free with
 * cJSON_Delete). Malformed or refused text is CAIRN_EPARSE with one
 * sentence in err: "<what> is not valid JSON: line L, column C (byte B):
 * <reason>" (what is e.g. "the body"; lines and columns count from 1,
 * columns and the byte offset in bytes). */
int cairn_ingest_json_parse(const void *text, size_t len, const char *what, cJSON **out, char *err,
                            size_t errlen);

/* The member key of an object, or NULL (also when obj is not an object). */
static inline const cJSON *cairn_json_get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* The text of a string value, or NULL when v is not a string. */
static inline const char *cairn_json_str(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* True for a number with an integral value of magnitude at most 2^53. */
bool cairn_json_is_integer(const cJSON *v);

/* The value of an integer (cairn_json_is_integer), else 0. */
int64_t cairn_json_integer(const cJSON *v);

/* "an object", "a list", "a string", "an integer", "a number", "a boolean",
 * "null", for error sentences. */
const char *cairn_json_kind(const cJSON *v);

/* Iterates the members of an object (name = key) or the items of a list. */
#define cairn_json_foreach(item, container)                                                        \
    for ((item) = (container) ? (container)->child : NULL; (item); (item) = (item)->next)

#endif
