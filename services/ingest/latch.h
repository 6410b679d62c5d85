/* A one-shot latch: a caller that started asynchronous work (a request
 * handed to the handler's workers, an event handed to the recorder) blocks
 * until the thread that finishes it opens the latch. The finishing thread
 * writes its result into the caller's memory first, then opens; the caller
 * reads it after cairn_ingest_latch_wait returns. */
#ifndef CAIRN_INGEST_LATCH_H
#define CAIRN_INGEST_LATCH_H

#include <pthread.h>
#include <stdbool.h>

typedef struct {
    pthread_mutex_t lock; /* guards open */
    pthread_cond_t cond;  /* signalled when opened */
    bool open;            /* the result is in */
} cairn_ingest_latch_t;

/* Initializes a closed latch. */
void cairn_ingest_latch_init(cairn_ingest_latch_t *latch);

/* Opens the latch: everything written before is visible to the waiter. */
void cairn_ingest_latch_open(cairn_ingest_latch_t *latch);

/* Blocks until the latch is open, then releases its resources. */
void cairn_ingest_latch_wait(cairn_ingest_latch_t *latch);

#endif
