/* Renders any protobuf-c message as a JSON object for `--json` output,
 * walking the generated descriptors so every field is included.
 *
 * Field names are the .proto names (snake_case). Integers are JSON numbers,
 * enums their value names (Decision as "allow", "deny", ...), bytes base64,
 * maps objects, unset sub-messages null, and only the set member of a oneof
 * appears. Event.data, which holds the event's data as received, is embedded
 * as JSON when it parses, else given as "data_base64" (as CloudEvents does). */
#ifndef CAIRN_CLI_PBJSON_H
#define CAIRN_CLI_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

/* A new JSON object for msg (NULL only when out of memory). */
json_t *cli_pb_to_json(const ProtobufCMessage *msg);

/* Writes value as indented JSON and a newline; returns 0 or -EIO. */
int cli_json_print(const json_t *value, FILE *out);

#endif
