/* The in-platform feed: every notification to a `feed` receiver becomes an
 * InboxItem that is kept in the inbox (the store's newest notify.inbox_keep
 * items, answered to `cairn inbox` over bus.notify_api) and published on
 * bus.notify_feed as [topic "feed.<receiver>"][InboxItem] once the batch
 * that stored it is committed. */
#ifndef CAIRN_NOTIFY_FEED_H
#define CAIRN_NOTIFY_FEED_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "store.h"

typedef struct cairn_feed_t cairn_feed_t;

/* Binds the PUB socket at endpoint ("" or NULL: no socket, inbox only). */
int cairn_feed_new(const char *endpoint, cairn_notify_store_t *store, size_t keep,
                   cairn_feed_t **out);
void cairn_feed_destroy(cairn_feed_t **self_p);

/* Stores item in the inbox (its seq is assigned) and queues it for
 * publication after the commit. */
int cairn_feed_add(cairn_feed_t *self, Cairn__V1__InboxItem *item);

/* Publishes what was added since the last call (call after committing). */
void cairn_feed_publish(cairn_feed_t *self);

/* Fills reply->items with the newest items for the query (role, change),
 * at most limit (0: 20). Items are packed in *bufs_out for the caller to
 * free with cairn_feed_query_free. */
int cairn_feed_query(cairn_feed_t *self, const Cairn__V1__InboxQuery *q,
                     Cairn__V1__NotifyReply *reply);
void cairn_feed_query_free(Cairn__V1__NotifyReply *reply);

#endif
