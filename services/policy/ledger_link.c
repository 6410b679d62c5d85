/* Ledger requests for the policy daemon (see ledger_link.h). */
#include "ledger_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cairn/bus.h"
#include "cairn/error.h"

struct cairn_ledger_link_t {
    cairn_client_t *client; /* DEALER to bus.ledger_api */
    int timeout_ms;         /* bus.request_timeout, for appends */
    int replay_timeout_ms;  /* shorter, so a dead ledger cannot stall the loop */
};

#define S_REPLAY_TIMEOUT_MAX_MS 1000

cairn_ledger_link_t *cairn_ledger_link_new(const char *endpoint, int timeout_ms)
{
    cairn_ledger_link_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timeout_ms = timeout_ms;
    self->replay_timeout_ms =
        timeout_ms < S_REPLAY_TIMEOUT_MAX_MS ? timeout_ms : S_REPLAY_TIMEOUT_MAX_MS;
    if (!(self->client = cairn_client_new(endpoint))) {
        free(self);
        return NULL;
    }
    return self;
}

void cairn_ledger_link_destroy(cairn_ledger_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_client_destroy(&(*self_p)->client);
    free(*self_p);
    *self_p = NULL;
}

/* Sends req and decodes the reply; a non-zero status becomes the result. */
static int s_call(cairn_ledger_link_t *self, const Cairn__V1__LedgerRequest *req, int timeout_ms,
                  Cairn__V1__LedgerReply **reply_out, char *error, size_t error_len)
{
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    Cairn__V1__LedgerReply *reply = NULL;
    int rc = cairn_codec_pack(&req->base, &buf, &len);
    if (rc < 0)
        return rc;
    rc = cairn_client_call(self->client, buf, len, timeout_ms, &answer, &answer_len);
    free(buf);
    if (rc < 0)
        return rc;
    rc = cairn_codec_ledger_reply_unpack(answer, answer_len, &reply);
    free(answer);
    if (rc < 0)
        return rc;
    if (reply->status != 0) {
        rc = reply->status < 0 ? reply->status : CAIRN_EPROTO;
        if (error)
            snprintf(error, error_len, "%s", reply->error);
        CAIRN_CODEC_FREE(&reply);
        return rc;
    }
    *reply_out = reply;
    return 0;
}

int cairn_ledger_link_append(cairn_ledger_link_t *self, const char *key,
                             const Cairn__V1__Record *rec, uint64_t *index_out, bool *duplicate_out,
                             char *error, size_t error_len)
{
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    append.key = (char *)key;
    append.record = (Cairn__V1__Record *)rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;
    int rc = s_call(self, &req, self->timeout_ms, &reply, error, error_len);
    if (rc < 0)
        return rc;
    if (!reply->ack) {
        CAIRN_CODEC_FREE(&reply);
        return CAIRN_EPROTO;
    }
    if (index_out)
        *index_out = reply->ack->index;
    if (duplicate_out)
        *duplicate_out = reply->ack->duplicate;
    CAIRN_CODEC_FREE(&reply);
    return 0;
}

int cairn_ledger_link_replay(cairn_ledger_link_t *self, uint64_t from,
                             Cairn__V1__LedgerReply **reply_out)
{
    Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    replay.from_index = from;
    replay.limit = 0;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &replay;
    return s_call(self, &req, self->replay_timeout_ms, reply_out, NULL, 0);
}
