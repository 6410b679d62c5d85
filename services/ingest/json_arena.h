/* A per-thread arena for the cJSON tree of one untrusted body (see
 * json_body.h). cJSON makes one malloc for every value, key and string it
 * parses, and frees each again when the tree goes; for a typical webhook
 * (a few KiB, hundreds of values) that is a good part of the parse.
 * Between begin() and end() on a thread, cJSON's allocations on that
 * thread are carved from the thread's arena and its frees of them cost
 * nothing; end() makes the arena empty again. Everywhere else (other
 * threads, outside the window, a window whose arena is full) cJSON uses
 * malloc and free as before. cJSON's allocator is process-wide
 * (cJSON_InitHooks), which is why the window is per thread.
 *
 * The rule for callers: nothing cJSON allocated inside the window may
 * outlive it (no cJSON_Print result, no tree kept). end() checks this:
 * when something was not freed, the arena is retired instead of reused,
 * so the memory stays valid and a late free of it is still safe. */
#ifndef CAIRN_INGEST_JSON_ARENA_H
#define CAIRN_INGEST_JSON_ARENA_H

#include <stdbool.h>

/* Points cJSON's allocator at the arena's (once per process; harmless
 * to call again). Call before threads start parsing, e.g. at startup. */
void cairn_ingest_json_arena_install(void);

/* Starts a window on this thread. Windows do not nest. */
void cairn_ingest_json_arena_begin(void);

/* Ends the window. Returns true when every arena allocation was freed
 * (the arena is reused), false when some were not (it was retired). */
bool cairn_ingest_json_arena_end(void);

#endif
