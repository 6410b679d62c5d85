/* The per-thread arena behind cJSON's allocator (see json_arena.h). */
#include "json_arena.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Bytes in one thread's arena: the tree of a body up to about 40 KiB fits;
 * the rest of a larger one comes from malloc. */
#define S_ARENA_BYTES (256u * 1024u)
/* Alignment of every allocation (as malloc's). */
#define S_ALIGN 16u

typedef struct s_arena {
    struct s_arena *next_retired; /* in the retired list */
    size_t used;                  /* bytes handed out */
    size_t live;                  /* allocations not yet freed */
    _Alignas(16) unsigned char base[S_ARENA_BYTES];
} s_arena_t;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_key;             /* frees a thread's arena when it ends */
static _Thread_local s_arena_t *s_mine; /* this thread's arena, or NULL */
static _Thread_local bool s_open;       /* a window is open on this thread */
/* Arenas retired with allocations still live: kept forever, so their
 * memory stays valid and s_free still recognizes it. */
static pthread_mutex_t s_retired_lock = PTHREAD_MUTEX_INITIALIZER;
static s_arena_t *s_retired;
static atomic_bool s_any_retired;

static bool s_within(const s_arena_t *a, const void *p)
{
    uintptr_t at = (uintptr_t)p, lo = (uintptr_t)a->base;
    return at >= lo && at < lo + S_ARENA_BYTES;
}

static void *s_alloc(size_t n)
{
    s_arena_t *a = s_mine;
    if (s_open && a) {
        size_t size = (n + S_ALIGN - 1) & ~(size_t)(S_ALIGN - 1);
        if (size >= n && size <= S_ARENA_BYTES - a->used) {
            void *p = a->base + a->used;
            a->used += size;
            a->live++;
            return p;
        }
    }
    return malloc(n);
}

static void s_free(void *p)
{
    if (!p)
        return;
    s_arena_t *a = s_mine;
    if (a && s_within(a, p)) {
        a->live--;
        return;
    }
    if (atomic_load(&s_any_retired)) {
        pthread_mutex_lock(&s_retired_lock);
        bool retired = false;
        for (s_arena_t *r = s_retired; r && !retired; r = r->next_retired)
            retired = s_within(r, p);
        pthread_mutex_unlock(&s_retired_lock);
        if (retired)
            return;
    }
    free(p);
}

static void s_thread_end(void *arg)
{
    free(arg);
}

static void s_install(void)
{
    pthread_key_create(&s_key, s_thread_end);
    cJSON_Hooks hooks = {.malloc_fn = s_alloc, .free_fn = s_free};
    cJSON_InitHooks(&hooks);
}

void cairn_ingest_json_arena_install(void)
{
    pthread_once(&s_once, s_install);
}

void cairn_ingest_json_arena_begin(void)
{
    cairn_ingest_json_arena_install();
    if (!s_mine && (s_mine = malloc(sizeof *s_mine))) {
        s_mine->next_retired = NULL;
        s_mine->used = s_mine->live = 0;
        pthread_setspecific(s_key, s_mine);
    }
    s_open = true;
}

bool cairn_ingest_json_arena_end(void)
{
    s_open = false;
    s_arena_t *a = s_mine;
    if (!a)
        return true;
    if (a->live == 0) {
        a->used = 0;
        return true;
    }
    pthread_setspecific(s_key, NULL);
    s_mine = NULL;
    pthread_mutex_lock(&s_retired_lock);
    a->next_retired = s_retired;
    s_retired = a;
    atomic_store(&s_any_retired, true);
    pthread_mutex_unlock(&s_retired_lock);
    return false;
}
