/* The one-shot latch of synchronous callers (see latch.h). */
#include "latch.h"

void cairn_ingest_latch_init(cairn_ingest_latch_t *latch)
{
    latch->open = false;
    pthread_mutex_init(&latch->lock, NULL);
    pthread_cond_init(&latch->cond, NULL);
}

void cairn_ingest_latch_open(cairn_ingest_latch_t *latch)
{
    pthread_mutex_lock(&latch->lock);
    latch->open = true;
    pthread_cond_signal(&latch->cond);
    pthread_mutex_unlock(&latch->lock);
}

void cairn_ingest_latch_wait(cairn_ingest_latch_t *latch)
{
    pthread_mutex_lock(&latch->lock);
    while (!latch->open)
        pthread_cond_wait(&latch->cond, &latch->lock);
    pthread_mutex_unlock(&latch->lock);
    pthread_cond_destroy(&latch->cond);
    pthread_mutex_destroy(&latch->lock);
}
