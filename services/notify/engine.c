/* The notify engine (see engine.h): ties the follower, the outbox, the file
 * receiver and the receipt appends together. */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "file_receiver.h"
#include "follower.h"
#include "outbox.h"

static const char *const s_prefixes[] = {"verdict.", "alert."};

struct cairn_notify_engine_t {
    cairn_notify_outbox_t *outbox;     /* next index and delivery marks */
    cairn_file_receiver_t *file;       /* the "file" receiver */
    cairn_notify_follower_t *follower; /* feeds entries in log order */
    cairn_client_t *ledger;            /* appends receipts to bus.ledger_api */
    int timeout_ms;                    /* bus.request_timeout */
    bool receipts_failing;             /* last receipt append failed (log changes only) */
    uint64_t delivered;                /* delivered and receipted */
    uint64_t bad;                      /* records that were not a verdict or an alert */
    uint64_t retries;                  /* deliveries left pending */
};

/* Appends the receipt for index to the ledger and waits for its ack. A
 * repeat (after a crash before "sent" was committed) is answered by the
 * ledger as a duplicate of the first, which is just as good. */
static int s_append_receipt(cairn_notify_engine_t *self, const char *receiver, uint64_t index,
                            const char *change)
{
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__Record record = CAIRN__V1__RECORD__INIT;
    Cairn__V1__DeliveryReceipt receipt = CAIRN__V1__DELIVERY_RECEIPT__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    char key[128];
    int rc;

    snprintf(key, sizeof(key), "receipt:%s:%" PRIu64, receiver, index);
    receipt.receiver = (char *)receiver;
    receipt.subject_index = index;
    receipt.outcome = "delivered";
    receipt.detail = "";
    receipt.delivered_at_ms = cairn_now_ms();
    receipt.attempt = 1;
    receipt.change_id = (char *)change;
    record.body_case = CAIRN__V1__RECORD__BODY_RECEIPT;
    record.receipt = &receipt;
    append.key = key;
    append.record = &record;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;

    if ((rc = cairn_codec_pack(&req.base, &buf, &len)) < 0)
        goto out;
    if ((rc = cairn_client_call(self->ledger, buf, len, self->timeout_ms, &answer, &answer_len)) <
        0)
        goto fail;
    if ((rc = cairn_codec_ledger_reply_unpack(answer, answer_len, &reply)) < 0)
        goto fail;
    if (reply->status != 0 || !reply->ack) {
        rc = reply->status < 0 ? reply->status : CAIRN_EPROTO;
        goto fail;
    }
    if (self->receipts_failing)
        CAIRN_INFO("ledger takes receipts again", "key=%s", cairn_log_quote(key));
    self->receipts_failing = false;
    CAIRN_DEBUG("appended receipt", "key=%s ledger_index=%" PRIu64 " duplicate=%d",
                cairn_log_quote(key), reply->ack->index, (int)reply->ack->duplicate);
    goto out;
fail:
    if (!self->receipts_failing)
        CAIRN_WARN("cannot append receipt; will retry", "key=%s error=%s", cairn_log_quote(key),
                   cairn_log_quote(reply && reply->error && *reply->error ? reply->error
                                                                          : cairn_strerror(rc)));
    self->receipts_failing = true;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    free(answer);
    return rc;
}

/* Delivers one verdict or alert to the file receiver, exactly once in effect. */
static int s_deliver_file(cairn_notify_engine_t *self, const Cairn__V1__Entry *entry,
                          const Cairn__V1__Record *rec)
{
    const char *receiver = CAIRN_FILE_RECEIVER_NAME;
    cairn_notify_mark_t mark = CAIRN_NOTIFY_MARK_NONE;
    char *line = NULL;
    int rc;

    if ((rc = cairn_notify_outbox_mark(self->outbox, receiver, entry->index, &mark)) < 0)
        goto out;
    if (mark == CAIRN_NOTIFY_MARK_SENT) {
        rc = cairn_notify_outbox_set_next(self->outbox, entry->index + 1);
        goto out;
    }
    if (mark == CAIRN_NOTIFY_MARK_NONE) {
        if ((rc = cairn_file_receiver_format(entry, rec, &line)) < 0)
            goto out;
        if ((rc = cairn_file_receiver_write(self->file, line)) < 0) {
            CAIRN_ERROR("cannot write notification file; will retry", "index=%" PRIu64 " error=%s",
                        entry->index, cairn_log_quote(cairn_strerror(rc)));
            goto out;
        }
        /* From here on a retry repeats only the receipt, never the line. */
        if ((rc = cairn_notify_outbox_mark_written(self->outbox, receiver, entry->index)) < 0)
            goto out;
    }
    if ((rc = s_append_receipt(self, receiver, entry->index, cairn_codec_record_change(rec))) < 0)
        goto out;
    if ((rc = cairn_notify_outbox_commit_sent(self->outbox, receiver, entry->index, true)) < 0)
        goto out;
    self->delivered++;
    CAIRN_INFO("delivered notification", "index=%" PRIu64 " topic=%s change=%s receiver=%s",
               entry->index, cairn_log_quote(entry->topic),
               cairn_log_quote(cairn_codec_record_change(rec)), receiver);
out:
    free(line);
    return rc;
}

/* The follower's callback: one wanted entry, in log order. */
static int s_apply(void *arg, const Cairn__V1__Entry *entry)
{
    cairn_notify_engine_t *self = arg;
    Cairn__V1__Record *rec = NULL;
    int rc = cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec);
    if (rc < 0 || (rec->body_case != CAIRN__V1__RECORD__BODY_VERDICT &&
                   rec->body_case != CAIRN__V1__RECORD__BODY_ALERT)) {
        /* Nothing to deliver: count it and move on, never stall the stream. */
        self->bad++;
        CAIRN_WARN("skipping entry that is not a verdict or an alert",
                   "index=%" PRIu64 " topic=%s bad=%" PRIu64, entry->index,
                   cairn_log_quote(entry->topic), self->bad);
        rc = cairn_notify_outbox_set_next(self->outbox, entry->index + 1);
        goto out;
    }
    rc = s_deliver_file(self, entry, rec);
    if (rc < 0)
        self->retries++;
out:
    CAIRN_CODEC_FREE(&rec);
    return rc;
}

int cairn_notify_engine_new(const cairn_config_t *config, cairn_notify_engine_t **out)
{
    cairn_notify_engine_t *self = calloc(1, sizeof(*self));
    int rc = 0;
    if (!self)
        return -ENOMEM;
    self->timeout_ms = (int)cairn_config_int(config, "bus.request_timeout");

    rc = cairn_notify_outbox_open(cairn_config_str(config, "notify.state_path"), &self->outbox);
    if (rc < 0)
        goto out;
    rc = cairn_file_receiver_open(cairn_config_str(config, "notify.file"), &self->file);
    if (rc < 0)
        goto out;
    self->ledger = cairn_client_new(cairn_config_str(config, "bus.ledger_api"));
    if (!self->ledger) {
        rc = -ENOMEM;
        goto out;
    }
    cairn_notify_follower_config_t fc = {
        .stream_endpoint = cairn_config_str(config, "bus.ledger_stream"),
        .api_endpoint = cairn_config_str(config, "bus.ledger_api"),
        .prefixes = s_prefixes,
        .n_prefixes = sizeof(s_prefixes) / sizeof(s_prefixes[0]),
        .request_timeout_ms = self->timeout_ms,
        .outbox = self->outbox,
        .apply = s_apply,
        .arg = self,
    };
    if ((rc = cairn_notify_follower_new(&fc, &self->follower)) < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    cairn_notify_engine_destroy(&self);
    return rc;
}

void cairn_notify_engine_destroy(cairn_notify_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_notify_engine_t *self = *self_p;
    cairn_notify_follower_destroy(&self->follower);
    cairn_client_destroy(&self->ledger);
    cairn_file_receiver_destroy(&self->file);
    cairn_notify_outbox_destroy(&self->outbox);
    free(self);
    *self_p = NULL;
}

int cairn_notify_engine_run_once(cairn_notify_engine_t *self, int timeout_ms)
{
    return cairn_notify_follower_poll(self->follower, timeout_ms);
}

void cairn_notify_engine_stats(const cairn_notify_engine_t *self, cairn_notify_stats_t *out)
{
    out->next = cairn_notify_follower_next(self->follower);
    out->delivered = self->delivered;
    out->skipped = cairn_notify_follower_skipped(self->follower);
    out->bad = self->bad + cairn_notify_follower_bad(self->follower);
    out->retries = self->retries;
}
