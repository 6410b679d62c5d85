/* CloudEvents 1.0 parsing (structured, batched and binary HTTP modes) into
 * canonical events. JSON is decoded strictly (json_body.h: duplicate keys,
 * invalid UTF-8 and \u0000 are refused), so two readers of the same bytes
 * can never see different attributes. The built events own every string
 * (malloc'd) and are released with protobuf_c_message_free_unpacked, like
 * any unpacked message. */
#include "cloudevent.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "json_arena.h"
#include "normalize.h"

static int s_fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *s_kind(const cJSON *v)
{
    return cJSON_IsNumber(v) ? "a number" : cairn_json_kind(v);
}

static int s_set(char **field, const char *value, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return 0;
}

static int s_set_str(char **field, const char *value)
{
    return s_set(field, value, strlen(value));
}

static int s_event_new(Cairn__V1__Event **out)
{
    Cairn__V1__Event *ev = malloc(sizeof *ev);
    if (!ev)
        return -ENOMEM;
    cairn__v1__event__init(ev);
    *out = ev;
    return 0;
}

void cairn_cloudevent_free(Cairn__V1__Event **ev_p)
{
    if (!ev_p || !*ev_p)
        return;
    protobuf_c_message_free_unpacked(&(*ev_p)->base, NULL);
    *ev_p = NULL;
}

void cairn_cloudevent_free_all(Cairn__V1__Event ***events_p, size_t n)
{
    if (!events_p || !*events_p)
        return;
    for (size_t i = 0; i < n; i++)
        cairn_cloudevent_free(&(*events_p)[i]);
    free(*events_p);
    *events_p = NULL;
}

bool cairn_cloudevent_is_json_type(const char *content_type)
{
    if (!content_type)
        return false;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t len = strcspn(content_type, ";");
    while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
        len--;
    if ((len == 16 && strncasecmp(content_type, "application/json", 16) == 0) ||
        (len == 9 && strncasecmp(content_type, "text/json", 9) == 0))
        return true;
    return len > 5 && strncasecmp(content_type + len - 5, "+json", 5) == 0;
}

static int s_add_extension(Cairn__V1__Event *ev, const char *name, const char *value)
{
    Cairn__V1__Event__ExtensionsEntry **grown =
        realloc(ev->extensions, (ev->n_extensions + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    ev->extensions = grown;
    Cairn__V1__Event__ExtensionsEntry *entry = malloc(sizeof *entry);
    if (!entry)
        return -ENOMEM;
    cairn__v1__event__extensions_entry__init(entry);
    grown[ev->n_extensions++] = entry;
    int rc = s_set_str(&entry->key, name);
    return rc < 0 ? rc : s_set_str(&entry->value, value);
}

/* The four required context attributes, checked in this order. */
static const char *const s_required_names[] = {"specversion", "id", "source", "type"};

static int s_check_specversion(const char *value, const char *where, char *err, size_t errlen)
{
    if (strcmp(value, "1.0") == 0)
        return 0;
    return s_fail(CAIRN_EINVALID, err, errlen,
                  "unsupported specversion '%.40s'%s; Cairn accepts CloudEvents 1.0 "
                  "(\"specversion\":\"1.0\")",
                  value, where);
}

static int s_check_time(const char *value, char *err, size_t errlen)
{
    int64_t ms;
    if (cairn_parse_time(value, &ms) == 0)
        return 0;
    return s_fail(CAIRN_EINVALID, err, errlen,
                  "attribute 'time' is not an RFC 3339 timestamp: '%.64s' (expected e.g. "
                  "\"2026-11-25T10:00:00Z\")",
                  value);
}

/* A required string attribute of a structured event. */
static int s_required(const cJSON *obj, const char *name, const char **out, char *err,
                      size_t errlen)
{
    const cJSON *v = cairn_json_get(obj, name);
    if (!v || cJSON_IsNull(v))
        return s_fail(CAIRN_EINVALID, err, errlen, "missing required attribute '%s'", name);
    if (!cJSON_IsString(v))
        return s_fail(CAIRN_EINVALID, err, errlen, "attribute '%s' must be a string, got %s", name,
                      s_kind(v));
    if (!*v->valuestring) /* json_body.h refuses \u0000, so the length is the whole string */
        return s_fail(CAIRN_EINVALID, err, errlen, "attribute '%s' must not be empty", name);
    *out = cairn_json_str(v);
    return 0;
}

/* An optional string attribute: absent or null leaves *field alone. */
static int s_optional(const cJSON *obj, const char *name, char **field, char *err, size_t errlen)
{
    const cJSON *v = cairn_json_get(obj, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return s_fail(CAIRN_EINVALID, err, errlen, "attribute '%s' must be a string, got %s", name,
                      s_kind(v));
    return s_set_str(field, cairn_json_str(v));
}

static bool s_is_context_attribute(const char *name)
{
    static const char *const known[] = {
        "specversion",     "id",         "source", "type",       "subject", "time",
        "datacontenttype", "dataschema", "data",   "data_base64"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i]) == 0)
            return true;
    return false;
}

/* A decoded value as a jansson value, to encode it: cJSON's own printer
 * rounds numbers to 15 significant digits when they read back within
 * DBL_EPSILON, which would change integers of 16 digits. Integers
 * (json_body.h) stay integers; other numbers are printed with jansson's 17
 * significant digits, which read back as the same double. NULL when out of
 * memory. */
static json_t *s_to_jansson(const cJSON *v)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        json_t *out = cJSON_IsObject(v) ? json_object() : json_array();
        const cJSON *item;
        cairn_json_foreach(item, v)
        {
            json_t *j = out ? s_to_jansson(item) : NULL;
            /* jansson takes j (and frees it) even when adding fails */
            if (!j || (cJSON_IsObject(v) ? json_object_set_new(out, item->string, j)
                                         : json_array_append_new(out, j)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (cJSON_IsString(v))
        return json_string(v->valuestring);
    if (cairn_json_is_integer(v))
        return json_integer((json_int_t)cairn_json_integer(v));
    if (cJSON_IsNumber(v))
        return json_real(v->valuedouble);
    if (cJSON_IsBool(v))
        return json_boolean(cJSON_IsTrue(v));
    return json_null();
}

/* Compact JSON text of a decoded value (free with free), or NULL. */
static char *s_encode(const cJSON *v)
{
    json_t *j = s_to_jansson(v);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return text;
}

/* Extension values are kept as text: strings as they are, everything else as
 * compact JSON ("true", "42", "[1,2]"). */
static int s_extensions(Cairn__V1__Event *ev, const cJSON *obj)
{
    const char *name;
    const cJSON *v;
    cairn_json_foreach(v, obj)
    {
        name = v->string;
        if (s_is_context_attribute(name) || cJSON_IsNull(v))
            continue;
        int rc;
        if (cJSON_IsString(v)) {
            rc = s_add_extension(ev, name, cairn_json_str(v));
        } else {
            char *text = s_encode(v);
            if (!text)
                return -ENOMEM;
            rc = s_add_extension(ev, name, text);
            free(text);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Decodes data_base64 into ev->data; *json_out receives the decoded JSON when
 * the datacontenttype says JSON (caller decrefs). */
static int s_data_base64(Cairn__V1__Event *ev, const cJSON *v, cJSON **json_out, char *err,
                         size_t errlen)
{
    if (!cJSON_IsString(v))
        return s_fail(CAIRN_EINVALID, err, errlen,
                      "attribute 'data_base64' must be a base64 string, got %s", s_kind(v));
    const char *b64 = cairn_json_str(v);
    size_t b64_len = strlen(b64);
    size_t max = b64_len / 4 * 3 + 3;
    uint8_t *bin = malloc(max ? max : 1);
    if (!bin)
        return -ENOMEM;
    size_t bin_len = 0;
    const char *end = NULL;
    int ok = sodium_base642bin(bin, max, b64, b64_len, " \r\n\t", &bin_len, &end,
                               sodium_base64_VARIANT_ORIGINAL);
    if (ok != 0 || end != b64 + b64_len) {
        ok = sodium_base642bin(bin, max, b64, b64_len, " \r\n\t", &bin_len, &end,
                               sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    }
    if (ok != 0 || end != b64 + b64_len) {
        free(bin);
        return s_fail(CAIRN_EINVALID, err, errlen,
                      "attribute 'data_base64' is not valid base64 (RFC 4648)");
    }
    ev->data.data = bin;
    ev->data.len = bin_len;

    if (cairn_cloudevent_is_json_type(ev->data_content_type) && bin_len > 0) {
        char why[300];
        int rc = cairn_ingest_json_parse(bin, bin_len, "the decoded data_base64", json_out, why,
                                         sizeof why);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0)
            return s_fail(CAIRN_EINVALID, err, errlen, "%s (datacontenttype is '%.64s')", why,
                          ev->data_content_type);
    }
    return 0;
}

static int s_data_json(Cairn__V1__Event *ev, const cJSON *v)
{
    char *text = s_encode(v);
    if (!text)
        return -ENOMEM;
    ev->data.data = (uint8_t *)text;
    ev->data.len = strlen(text);
    return 0;
}

static int s_from_json(const cJSON *obj, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    if (!cJSON_IsObject(obj))
        return s_fail(CAIRN_EINVALID, err, errlen,
                      "expected a CloudEvent (a JSON object with specversion, id, source and "
                      "type), got %s",
                      s_kind(obj));

    const char *values[4];
    for (size_t i = 0; i < 4; i++) {
        int rc = s_required(obj, s_required_names[i], &values[i], err, errlen);
        if (rc < 0)
            return rc;
        if (i == 0 && (rc = s_check_specversion(values[0], "", err, errlen)) < 0)
            return rc;
    }
    char **fields[4] = {&ev->spec_version, &ev->id, &ev->source, &ev->type};
    for (size_t i = 0; i < 4; i++) {
        int rc = s_set_str(fields[i], values[i]);
        if (rc < 0)
            return rc;
    }

    int rc = s_optional(obj, "subject", &ev->subject, err, errlen);
    if (rc == 0)
        rc = s_optional(obj, "time", &ev->time, err, errlen);
    if (rc == 0 && *ev->time)
        rc = s_check_time(ev->time, err, errlen);
    if (rc == 0)
        rc = s_optional(obj, "datacontenttype", &ev->data_content_type, err, errlen);
    if (rc == 0)
        rc = s_optional(obj, "dataschema", &ev->data_schema, err, errlen);
    if (rc == 0)
        rc = s_extensions(ev, obj);
    if (rc == 0)
        rc = s_set_str(&ev->ingest_source, "cloudevents");
    if (rc < 0)
        return rc;

    const cJSON *data = cairn_json_get(obj, "data");
    const cJSON *data_b64 = cairn_json_get(obj, "data_base64");
    if (data && cJSON_IsNull(data))
        data = NULL;
    if (data_b64 && cJSON_IsNull(data_b64))
        data_b64 = NULL;
    if (data && data_b64)
        return s_fail(CAIRN_EINVALID, err, errlen,
                      "attributes 'data' and 'data_base64' are both present; send only one");

    cJSON *decoded = NULL;
    if (data)
        rc = s_data_json(ev, data);
    else if (data_b64)
        rc = s_data_base64(ev, data_b64, &decoded, err, errlen);
    if (rc == 0)
        rc = cairn_normalize_event(ev, decoded ? decoded : data, err, errlen);
    cJSON_Delete(decoded);
    return rc;
}

static int s_finish(int rc, Cairn__V1__Event **ev_p, Cairn__V1__Event **out, char *err,
                    size_t errlen)
{
    if (rc == -ENOMEM)
        s_fail(rc, err, errlen, "out of memory while parsing the event");
    if (rc < 0) {
        cairn_cloudevent_free(ev_p);
        return rc;
    }
    *out = *ev_p;
    *ev_p = NULL;
    return 0;
}

int cairn_cloudevent_from_cjson(const cJSON *obj, Cairn__V1__Event **out, char *err, size_t errlen)
{
    Cairn__V1__Event *ev = NULL;
    int rc = s_event_new(&ev);
    if (rc == 0)
        rc = s_from_json(obj, ev, err, errlen);
    return s_finish(rc, &ev, out, err, errlen);
}

int cairn_cloudevent_from_json(const json_t *obj, Cairn__V1__Event **out, char *err, size_t errlen)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return s_fail(-ENOMEM, err, errlen, "out of memory while parsing the event");
    cJSON *root = NULL;
    int rc = cairn_ingest_json_parse(text, strlen(text), "the event", &root, err, errlen);
    free(text);
    if (rc == 0)
        rc = cairn_cloudevent_from_cjson(root, out, err, errlen);
    cJSON_Delete(root);
    return rc;
}

int cairn_cloudevent_parse(const void *body, size_t len, Cairn__V1__Event **out, char *err,
                           size_t errlen)
{
    /* The tree lives only in this call: it comes from this thread's arena. */
    cJSON *root = NULL;
    cairn_ingest_json_arena_begin();
    int rc = cairn_ingest_json_parse(body, len, "the body", &root, err, errlen);
    if (rc == 0)
        rc = cairn_cloudevent_from_cjson(root, out, err, errlen);
    cJSON_Delete(root);
    cairn_ingest_json_arena_end();
    return rc;
}

int cairn_cloudevent_parse_batch(const void *body, size_t len, Cairn__V1__Event ***events_out,
                                 size_t *n_out, char *err, size_t errlen)
{
    Cairn__V1__Event **events = NULL;
    size_t n = 0;
    cJSON *root = NULL;
    cairn_ingest_json_arena_begin();
    int rc = cairn_ingest_json_parse(body, len, "the body", &root, err, errlen);
    if (rc < 0)
        goto out;
    if (!cJSON_IsArray(root)) {
        rc = s_fail(CAIRN_EINVALID, err, errlen,
                    "a batch (application/cloudevents-batch+json) must be a JSON list of "
                    "events, got %s",
                    s_kind(root));
        goto out;
    }
    size_t count = 0;
    const cJSON *item;
    cairn_json_foreach(item, root)
    {
        count++;
    }
    if (count == 0) {
        rc = s_fail(CAIRN_EINVALID, err, errlen, "the batch holds no events; send at least one");
        goto out;
    }
    events = calloc(count, sizeof *events);
    if (!events) {
        rc = s_fail(-ENOMEM, err, errlen, "out of memory while parsing the batch");
        goto out;
    }
    cairn_json_foreach(item, root)
    {
        char inner[400];
        rc = cairn_cloudevent_from_cjson(item, &events[n], inner, sizeof inner);
        if (rc < 0) {
            s_fail(rc, err, errlen, "event %zu in the batch: %s", n, inner);
            goto out;
        }
        n++;
    }
    *events_out = events;
    *n_out = n;
    events = NULL;
out:
    cairn_cloudevent_free_all(&events, n);
    cJSON_Delete(root);
    cairn_ingest_json_arena_end();
    return rc;
}

/* --- binary mode -------------------------------------------------------- */

static int s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes a ce-* header value: an RFC 7230 quoted string is unquoted first,
 * then one round of percent-decoding; the result must be UTF-8 without NULs. */
static int s_header_decode(const char *name, const char *raw, char **out, char *err, size_t errlen)
{
    size_t len = strlen(raw);
    char *unquoted = malloc(len + 1);
    char *decoded = malloc(len + 1);
    int rc = 0;
    if (!unquoted || !decoded) {
        rc = -ENOMEM;
        goto out;
    }
    size_t u = 0;
    if (len >= 2 && raw[0] == '"' && raw[len - 1] == '"') {
        for (size_t i = 1; i + 1 < len; i++) {
            if (raw[i] == '\\' && i + 2 < len)
                i++;
            unquoted[u++] = raw[i];
        }
    } else {
        memcpy(unquoted, raw, len);
        u = len;
    }
    unquoted[u] = '\0';

    size_t d = 0;
    for (size_t i = 0; i < u; i++) {
        if (unquoted[i] != '%') {
            decoded[d++] = unquoted[i];
            continue;
        }
        int hi = i + 2 < u ? s_hex((unsigned char)unquoted[i + 1]) : -1;
        int lo = hi >= 0 ? s_hex((unsigned char)unquoted[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            rc = s_fail(CAIRN_EPARSE, err, errlen,
                        "header %s has an invalid percent-encoding at byte %zu", name, i);
            goto out;
        }
        decoded[d++] = (char)(hi * 16 + lo);
        i += 2;
    }
    decoded[d] = '\0';
    if (u8_check((const uint8_t *)decoded, d)) {
        rc = s_fail(CAIRN_EPARSE, err, errlen, "header %s is not valid UTF-8 after decoding", name);
        goto out;
    }
    *out = decoded;
    decoded = NULL;
out:
    free(unquoted);
    free(decoded);
    return rc;
}

static int s_from_headers(const cairn_ingest_header_t *headers, size_t n_headers,
                          Cairn__V1__Event *ev, char *err, size_t errlen)
{
    static const char *const required[] = {"ce-specversion", "ce-id", "ce-source", "ce-type"};
    char **req_fields[] = {&ev->spec_version, &ev->id, &ev->source, &ev->type};
    int rc = 0;
    for (size_t i = 0; i < 4 && rc == 0; i++) {
        const char *raw = cairn_ingest_header(headers, n_headers, required[i]);
        char *value = NULL;
        if (!raw || !*raw)
            return s_fail(CAIRN_EINVALID, err, errlen,
                          "missing required attribute '%s' (send it in the %s header)",
                          s_required_names[i], required[i]);
        if ((rc = s_header_decode(required[i], raw, &value, err, errlen)) < 0)
            return rc;
        if (!*value)
            rc = s_fail(CAIRN_EINVALID, err, errlen, "attribute '%s' must not be empty",
                        s_required_names[i]);
        else if (i == 0)
            rc = s_check_specversion(value, " in the ce-specversion header", err, errlen);
        if (rc == 0)
            rc = s_set_str(req_fields[i], value);
        free(value);
    }
    if (rc < 0)
        return rc;

    for (size_t i = 0; i < n_headers && rc == 0; i++) {
        const char *name = headers[i].name;
        if (!name || strncasecmp(name, "ce-", 3) != 0 || !headers[i].value)
            continue;
        const char *attr = name + 3;
        bool core = false;
        for (size_t k = 0; k < 4; k++)
            core = core || strcasecmp(attr, s_required_names[k]) == 0;
        if (core || strcasecmp(attr, "datacontenttype") == 0)
            continue; /* the Content-Type header is the datacontenttype */
        char *value = NULL;
        if ((rc = s_header_decode(name, headers[i].value, &value, err, errlen)) < 0)
            return rc;
        if (strcasecmp(attr, "subject") == 0) {
            rc = s_set_str(&ev->subject, value);
        } else if (strcasecmp(attr, "time") == 0) {
            rc = s_check_time(value, err, errlen);
            if (rc == 0)
                rc = s_set_str(&ev->time, value);
        } else if (strcasecmp(attr, "dataschema") == 0) {
            rc = s_set_str(&ev->data_schema, value);
        } else {
            char lower[64];
            size_t k = 0;
            for (; attr[k] && k < sizeof lower - 1; k++)
                lower[k] = (char)tolower((unsigned char)attr[k]);
            lower[k] = '\0';
            rc = s_add_extension(ev, lower, value);
        }
        free(value);
    }
    return rc;
}

int cairn_cloudevent_parse_binary(const cairn_ingest_header_t *headers, size_t n_headers,
                                  const char *content_type, const void *body, size_t len,
                                  Cairn__V1__Event **out, char *err, size_t errlen)
{
    Cairn__V1__Event *ev = NULL;
    cJSON *data = NULL;
    int rc = s_event_new(&ev);
    if (rc == 0)
        rc = s_from_headers(headers, n_headers, ev, err, errlen);
    if (rc == 0 && content_type && *content_type)
        rc = s_set_str(&ev->data_content_type, content_type);
    if (rc == 0)
        rc = s_set_str(&ev->ingest_source, "cloudevents");
    if (rc == 0 && len > 0) {
        ev->data.data = malloc(len);
        if (!ev->data.data) {
            rc = -ENOMEM;
        } else {
            memcpy(ev->data.data, body, len);
            ev->data.len = len;
        }
    }
    cairn_ingest_json_arena_begin();
    if (rc == 0 && len > 0 && cairn_cloudevent_is_json_type(content_type)) {
        rc = cairn_ingest_json_parse(body, len, "the body (binary-mode data)", &data, err, errlen);
    }
    if (rc == 0)
        rc = cairn_normalize_event(ev, data, err, errlen);
    cJSON_Delete(data);
    cairn_ingest_json_arena_end();
    return s_finish(rc, &ev, out, err, errlen);
}
