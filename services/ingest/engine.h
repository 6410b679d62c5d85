/* The ingest daemon's engine: owns the handler, the HTTP server (which runs
 * in its own thread pool) and the ZeroMQ submit socket (served from the
 * thread that calls run). */
#ifndef CAIRN_INGEST_ENGINE_H
#define CAIRN_INGEST_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/config.h"

typedef struct cairn_ingest_t cairn_ingest_t;

/* Loads the webhook secrets (ingest.*_secret, ingest.*_token), creates the
 * handler (ledger at bus.ledger_api, rejected input kept under
 * {cairn.data_dir}/ingest/rejected, the spool at {cairn.data_dir}/ingest/spool),
 * starts answering GitHub deployment protection rules when
 * ingest.github_token is set (protection.h), starts HTTP on
 * ingest.http_address:ingest.http_port and binds bus.ingest_submit. Logs the
 * reason and returns NULL on failure. */
cairn_ingest_t *cairn_ingest_new(const cairn_config_t *config);

/* Checks what the engine would refuse at start that is the operator's to
 * fix: a webhook secret or the GitHub token that cannot be resolved
 * (unreadable file, unset variable), a GitHub API URL that is not http(s),
 * an empty gate name. Returns 0, or CAIRN_ECONFIG with one sentence in err. */
int cairn_ingest_check_config(const cairn_config_t *config, char *err, size_t errlen);

/* Stops HTTP, closes the submit socket, frees (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_destroy(cairn_ingest_t **self_p);

/* Serves at most one submit request, waiting up to timeout_ms. Returns 0, or
 * a negative code when the submit socket failed. */
int cairn_ingest_run_once(cairn_ingest_t *self, int timeout_ms);

/* Runs until cairn_signals_stop_requested(). Returns 0 on a clean stop. */
int cairn_ingest_run(cairn_ingest_t *self);

/* The HTTP port actually bound. */
uint16_t cairn_ingest_port(const cairn_ingest_t *self);

#endif
