/* Protobuf-to-JSON rendering for the CLI's --json output, driven by the
 * protobuf-c descriptors so that new fields appear without code changes. */
#include "pbjson.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"

static json_t *s_message(const ProtobufCMessage *msg);

static json_t *s_base64(const ProtobufCBinaryData *b)
{
    size_t cap = sodium_base64_encoded_len(b->len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(cap);
    if (!text)
        return NULL;
    sodium_bin2base64(text, cap, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(text);
    free(text);
    return j;
}

static json_t *s_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return json_string(text);
}

static json_t *s_enum(const ProtobufCFieldDescriptor *f, int v)
{
    if (f->descriptor == &cairn__v1__decision__descriptor)
        return json_string(cairn_decision_name((Cairn__V1__Decision)v));
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value((const ProtobufCEnumDescriptor *)f->descriptor, v);
    return ev ? json_string(ev->name) : json_integer(v);
}

/* Strings from the bus are not guaranteed to be UTF-8: a string that is not
 * is shown with its non-ASCII bytes replaced by '?'. */
static char *s_ascii_copy(const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return copy;
}

static json_t *s_string(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = s_ascii_copy(s);
    j = copy ? json_string(copy) : NULL;
    free(copy);
    return j;
}

static int s_set(json_t *obj, const char *key, json_t *v)
{
    if (!key)
        key = "";
    json_t *probe = json_string(key);
    if (probe) {
        json_decref(probe);
        return json_object_set_new(obj, key, v);
    }
    char *copy = s_ascii_copy(key);
    if (!copy) {
        json_decref(v);
        return -1;
    }
    int rc = json_object_set_new(obj, copy, v);
    free(copy);
    return rc;
}

/* One value of field f stored at p. */
static json_t *s_value(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return json_integer((json_int_t) * (const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return s_u64(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;
        return isfinite(d) ? json_real(d) : json_null();
    }
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: return s_enum(f, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: return s_string(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES: return s_base64((const ProtobufCBinaryData *)p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? s_message(m) : json_null();
    }
    }
    return json_null();
}

static size_t s_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* Map fields are repeated "<Name>Entry" messages with a key and a value. */
static int s_is_map(const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n = strlen(d->name);
    return d->n_fields == 2 && n > 5 && strcmp(d->name + n - 5, "Entry") == 0 &&
           strcmp(d->fields[0].name, "key") == 0 && d->fields[0].type == PROTOBUF_C_TYPE_STRING &&
           strcmp(d->fields[1].name, "value") == 0;
}

static json_t *s_map(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *items, size_t n)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    for (size_t i = 0; i < n; i++) {
        const char *base = (const char *)items[i];
        const char *key = *(char *const *)(base + d->fields[0].offset);
        json_t *v = s_value(&d->fields[1], base + d->fields[1].offset);
        if (!v || s_set(obj, key, v) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *s_repeated(const ProtobufCFieldDescriptor *f, const char *base)
{
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(char *const *)(base + f->offset);
    if (s_is_map(f))
        return s_map(f, (ProtobufCMessage *const *)arr, n);
    json_t *list = json_array();
    if (!list)
        return NULL;
    size_t sz = s_elem_size(f->type);
    for (size_t i = 0; i < n; i++) {
        json_t *v = s_value(f, arr + i * sz);
        if (!v || json_array_append_new(list, v) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* Event.data: the event's data as received, JSON when it is JSON. */
static int s_event_data(json_t *obj, const ProtobufCBinaryData *data)
{
    if (data->len == 0)
        return json_object_set_new(obj, "data", json_null());
    json_t *parsed = json_loadb((const char *)data->data, data->len, JSON_DECODE_ANY, NULL);
    if (parsed)
        return json_object_set_new(obj, "data", parsed);
    json_t *b64 = s_base64(data);
    return b64 ? json_object_set_new(obj, "data_base64", b64) : -1;
}

static json_t *s_message(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        if (d == &cairn__v1__event__descriptor && strcmp(f->name, "data") == 0) {
            if (s_event_data(obj, (const ProtobufCBinaryData *)(base + f->offset)) < 0)
                goto fail;
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            v = s_repeated(f, base);
        else
            v = s_value(f, base + f->offset);
        if (!v || json_object_set_new(obj, f->name, v) < 0)
            goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

json_t *cli_pb_to_json(const ProtobufCMessage *msg)
{
    return msg ? s_message(msg) : json_null();
}

int cli_json_print(const json_t *value, FILE *out)
{
    if (json_dumpf(value, out, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0 || fputc('\n', out) == EOF)
        return -EIO;
    return 0;
}
