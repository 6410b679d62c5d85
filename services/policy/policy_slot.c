/* The shared, swappable policy (see policy_slot.h). */
#include "policy_slot.h"

#include <pthread.h>
#include <stdlib.h>

struct cairn_policy_slot_t {
    pthread_mutex_t lock;    /* guards current */
    cairn_policy_t *current; /* one reference held by the slot */
};

cairn_policy_slot_t *cairn_policy_slot_new(cairn_policy_t *initial)
{
    cairn_policy_slot_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->current = initial;
    return self;
}

void cairn_policy_slot_destroy(cairn_policy_slot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_policy_slot_t *self = *self_p;
    cairn_policy_unref(&self->current);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

cairn_policy_t *cairn_policy_slot_get(cairn_policy_slot_t *self)
{
    pthread_mutex_lock(&self->lock);
    cairn_policy_t *p = cairn_policy_ref(self->current);
    pthread_mutex_unlock(&self->lock);
    return p;
}

void cairn_policy_slot_set(cairn_policy_slot_t *self, cairn_policy_t *next)
{
    pthread_mutex_lock(&self->lock);
    cairn_policy_t *old = self->current;
    self->current = next;
    pthread_mutex_unlock(&self->lock);
    cairn_policy_unref(&old);
}
