/* The policy's requests to the ledger (bus.ledger_api): appending verdicts
 * and alerts and waiting for the durable ack, and replaying entries. */
#ifndef CAIRN_POLICY_LEDGER_LINK_H
#define CAIRN_POLICY_LEDGER_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/codec.h"

typedef struct cairn_ledger_link_t cairn_ledger_link_t;

cairn_ledger_link_t *cairn_ledger_link_new(const char *endpoint, int timeout_ms);
void cairn_ledger_link_destroy(cairn_ledger_link_t **self_p);

/* Appends rec under idempotency key and waits for the ack. A repeat of a key
 * the ledger has seen answers with the original index (*duplicate_out set).
 * Returns the ledger's status when it refused, CAIRN_EUNREACHABLE /
 * CAIRN_ETIMEOUT when it did not answer. error (may be NULL) receives the
 * ledger's sentence. */
int cairn_ledger_link_append(cairn_ledger_link_t *self, const char *key,
                             const Cairn__V1__Record *rec, uint64_t *index_out, bool *duplicate_out,
                             char *error, size_t error_len);

/* Entries [from, from + page) and the log size. Replays wait at most 1s
 * (less if bus.request_timeout is shorter): they are retried every second
 * anyway, and a dead ledger must not hold up a stop. */
int cairn_ledger_link_replay(cairn_ledger_link_t *self, uint64_t from,
                             Cairn__V1__LedgerReply **reply_out);

#endif
