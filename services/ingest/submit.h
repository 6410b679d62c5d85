/* The ZeroMQ submit socket: a ROUTER on bus.ingest_submit that takes
 * SubmitRequest messages (what `cairn submit` sends) and answers each with a
 * SubmitReply carrying exactly the status and JSON body HTTP would have
 * answered, by calling the same handler.
 *
 * All calls must come from one thread (the socket is not shared). */
#ifndef CAIRN_INGEST_SUBMIT_H
#define CAIRN_INGEST_SUBMIT_H

#include "handler.h"

typedef struct cairn_ingest_submit_t cairn_ingest_submit_t;

/* Binds endpoint. handler must outlive the submit socket. Returns a negative
 * code when the endpoint cannot be bound. */
int cairn_ingest_submit_new(const char *endpoint, cairn_ingest_handler_t *handler,
                            cairn_ingest_submit_t **out);

/* Closes the socket and frees (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_submit_destroy(cairn_ingest_submit_t **self_p);

/* Waits up to timeout_ms for one request and answers it. Returns 0 (also
 * when nothing arrived), or a negative code when the socket failed. A
 * malformed request is answered 400 and counted, never fatal. */
int cairn_ingest_submit_serve_once(cairn_ingest_submit_t *self, int timeout_ms);

#endif
