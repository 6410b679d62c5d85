/* What `cairn log` and `cairn export` share when they ask cairn-ledger for
 * its signed state: one request over bus.ledger_api with the reply's status
 * turned into a message and an exit code, and proof hashes as base64. */
#ifndef CAIRN_CLI_LEDGER_CLIENT_H
#define CAIRN_CLI_LEDGER_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/codec.h"
#include "options.h"

/* Loads the configuration, sends req to cairn-ledger and unpacks the reply.
 * Returns 0 with *reply_out set (status 0) and, when cfg_out is not NULL,
 * the configuration in *cfg_out; or the exit code after printing why on
 * stderr: 2 for a configuration error or a request the ledger refused as
 * out of range, 4 when it cannot be reached, 1 for anything else (also
 * "nothing matches"). */
int cli_ledger_call(const cli_args_t *args, const Cairn__V1__LedgerRequest *req,
                    Cairn__V1__LedgerReply **reply_out, cairn_config_t **cfg_out);

/* The exit code for a status cairn-ledger put in its reply to a proof or
 * export request: CAIRN_ENOTFOUND (nothing matches) is a failure, 1. */
int cli_ledger_status_exit(int status);

/* Standard base64 of len bytes, malloc'd (NULL when out of memory). */
char *cli_base64(const uint8_t *data, size_t len);

/* Writes each hash as base64, one per line. */
void cli_hashes_render(FILE *out, const ProtobufCBinaryData *hashes, size_t n);

/* A JSON array of the hashes as base64 strings. */
json_t *cli_hashes_json(const ProtobufCBinaryData *hashes, size_t n);

#endif
