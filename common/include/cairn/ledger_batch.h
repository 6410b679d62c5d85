/* Several ledger appends in one request (LedgerRequest.append_batch), for
 * clients that have many records to append at once (ingest, bulk loads).
 *
 * The ledger handles each append of a batch exactly as a single append:
 * idempotent on its key, written in request order, acknowledged only after
 * its durable commit, with its own receipt. The reply carries one
 * AppendResult per append, in request order; a bad append is refused in its
 * own result and the others are still appended. A batch is never split
 * over two commits. See docs/ledger.md. */
#ifndef CAIRN_LEDGER_BATCH_H
#define CAIRN_LEDGER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"

/* Most appends the ledger takes in one append_batch request. */
#define CAIRN_LEDGER_APPEND_BATCH_MAX 256

/* Packs a LedgerRequest.append_batch of appends[0..n) (borrowed; each an
 * idempotency key and a record) into a malloc'd buffer. CAIRN_EINVALID when
 * n is 0 or above CAIRN_LEDGER_APPEND_BATCH_MAX. */
int cairn_ledger_batch_pack(const Cairn__V1__AppendRequest *const *appends, size_t n,
                            uint8_t **buf_out, size_t *len_out);

/* Unpacks the reply to an append_batch of n appends. The request as a whole
 * was refused (or its commit failed) when (*reply_out)->status != 0; it is
 * returned all the same, with the reason in error and, after a failed
 * commit, the same status in every result. Otherwise results[i] answers
 * appends[i]: status 0 with an ack (index, duplicate, hash, tlog_proof), or
 * a negative code and an error for people. CAIRN_EPROTO when the bytes are
 * not a reply, or when a reply with status 0 does not carry exactly n
 * results each with an ack where its status is 0. Free with
 * CAIRN_CODEC_FREE. */
int cairn_ledger_batch_reply_unpack(const uint8_t *buf, size_t len, size_t n,
                                    Cairn__V1__LedgerReply **reply_out);

#endif
