/* The policy in force, shared between the follower (main thread) and the
 * query thread. A SIGHUP reload swaps it; holders of the old one keep a
 * reference until they finish. */
#ifndef CAIRN_POLICY_SLOT_H
#define CAIRN_POLICY_SLOT_H

#include "policy_model.h"

typedef struct cairn_policy_slot_t cairn_policy_slot_t;

/* Takes over the caller's reference to initial. */
cairn_policy_slot_t *cairn_policy_slot_new(cairn_policy_t *initial);
void cairn_policy_slot_destroy(cairn_policy_slot_t **self_p);

/* The current policy, with a new reference the caller drops (cairn_policy_unref). */
cairn_policy_t *cairn_policy_slot_get(cairn_policy_slot_t *self);

/* Replaces the current policy, taking over the caller's reference to next. */
void cairn_policy_slot_set(cairn_policy_slot_t *self, cairn_policy_t *next);

#endif
