/* Which policy is in force, and the ledger's record of it.
 *
 * - File watch: every second the policy file's identity (device, inode,
 *   size, modification time) is compared with the last one seen; when it
 *   moved and the bytes' digest differs from the policy in force, the
 *   engine reloads (cairn_policy_engine_reload: an invalid file is logged
 *   problem by problem and the running policy kept). A file that failed is
 *   not tried again until it changes again, so a broken edit is reported
 *   once, not every second. SIGHUP reloads through the same engine call.
 * - Activation record: whenever the digest in force differs from the last
 *   PolicyActivation the ledger holds (topic "policy.activated", found with
 *   a topic query over bus.ledger_api), a PolicyActivation{name, revision,
 *   digest, activated_at_ms, source_path} is appended under the key
 *   "policy:<digest>:<index of the previous activation, or 'first'>". The
 *   key makes a retry (or two daemons starting together) record one entry,
 *   while a return to an earlier policy is still recorded as a new
 *   activation. An unreachable ledger is retried every second. */
#ifndef CAIRN_POLICY_ACTIVATION_H
#define CAIRN_POLICY_ACTIVATION_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/config.h"
#include "engine.h"
#include "policy_slot.h"

typedef struct cairn_activation_t cairn_activation_t;

/* Watches policy.file (nothing to watch when it is empty) and records the
 * policies in slot through bus.ledger_api. slot and engine are not owned. */
int cairn_activation_new(const cairn_config_t *config, cairn_policy_slot_t *slot,
                         cairn_policy_engine_t *engine, cairn_activation_t **out);
void cairn_activation_destroy(cairn_activation_t **self_p);

/* One turn: checks the file when a second has passed since the last check,
 * and records the policy in force when it is not recorded yet (at most one
 * ledger attempt per second while the ledger does not answer). */
void cairn_activation_step(cairn_activation_t *self);

/* The digest of the last activation known to be in the ledger ("" before
 * the first is found or recorded). */
const char *cairn_activation_recorded(const cairn_activation_t *self);

#endif
