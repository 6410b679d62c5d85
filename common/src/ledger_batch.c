/* Packing an append_batch request and checking its reply (ledger_batch.h). */
#include "cairn/ledger_batch.h"

#include "cairn/error.h"

int cairn_ledger_batch_pack(const Cairn__V1__AppendRequest *const *appends, size_t n,
                            uint8_t **buf_out, size_t *len_out)
{
    if (!appends || n == 0 || n > CAIRN_LEDGER_APPEND_BATCH_MAX)
        return CAIRN_EINVALID;
    Cairn__V1__AppendBatchRequest batch = CAIRN__V1__APPEND_BATCH_REQUEST__INIT;
    batch.appends = (Cairn__V1__AppendRequest **)appends;
    batch.n_appends = n;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH;
    req.append_batch = &batch;
    return cairn_codec_pack(&req.base, buf_out, len_out);
}

int cairn_ledger_batch_reply_unpack(const uint8_t *buf, size_t len, size_t n,
                                    Cairn__V1__LedgerReply **reply_out)
{
    Cairn__V1__LedgerReply *rep = NULL;
    int rc = cairn_codec_ledger_reply_unpack(buf, len, &rep);
    if (rc < 0)
        return CAIRN_EPROTO;
    if (rep->status == 0) {
        if (rep->n_results != n)
            rc = CAIRN_EPROTO;
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (!rep->results[i] || (rep->results[i]->status == 0 && !rep->results[i]->ack))
                rc = CAIRN_EPROTO;
    }
    if (rc < 0) {
        CAIRN_CODEC_FREE(&rep);
        return rc;
    }
    *reply_out = rep;
    return 0;
}
