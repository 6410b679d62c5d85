/* CURVE on the bus: the process-wide security settings cairn_bus_secure()
 * loads from the configuration (this process's key pair, the servers'
 * public keys, and for the sockets this process serves the allow-lists),
 * applied to every tcp:// socket cairn_bus_bind/cairn_bus_connect make.
 * The endpoint string names the socket: it is compared with the bus.*
 * endpoints of the same configuration. */
#include "bus_curve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/curve.h"
#include "cairn/error.h"
#include "cairn/partition.h"
#include "cairn/util.h"
#include "cairn/zap.h"

/* ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in libzmq 4.3: set when the
 * library knows it, so a missing ZAP handler fails closed. */
#define S_ZAP_ENFORCE_DOMAIN 93
#define S_REPEAT_WINDOW_MS 10000
#define S_RECENT 32

typedef struct {
    const char *name;           /* "ledger_api": the ZAP domain and the name in logs */
    const char *endpoint_key;   /* configuration key of the endpoint */
    const char *server;         /* the service that binds it */
    const char *public_key_key; /* configuration key of the server's public key file */
    const char *allow_key;      /* configuration key of the allow-list */
} s_role_t;

static const s_role_t s_roles[] = {
    {"ledger_api", "bus.ledger_api", "ledger", "bus.ledger_public_key", "bus.ledger_api_allow"},
    {"ledger_stream", "bus.ledger_stream", "ledger", "bus.ledger_public_key",
     "bus.ledger_stream_allow"},
    {"ingest_submit", "bus.ingest_submit", "ingest", "bus.ingest_public_key",
     "bus.ingest_submit_allow"},
    {"policy_query", "bus.policy_query", "policy", "bus.policy_public_key",
     "bus.policy_query_allow"},
    {"notify_api", "bus.notify_api", "notify", "bus.notify_public_key", "bus.notify_api_allow"},
    {"notify_feed", "bus.notify_feed", "notify", "bus.notify_public_key", "bus.notify_feed_allow"},
};
#define S_NROLES (sizeof s_roles / sizeof s_roles[0])

typedef struct {
    char *endpoint;                            /* the tcp:// endpoint, or NULL */
    bool has_server_key;                       /* server_key is set */
    uint8_t server_key[CAIRN_CURVE_KEY_BYTES]; /* what clients expect the server to hold */
    cairn_curve_allow_t *allow;                /* clients allowed, when we serve it */
} s_slot_t;

typedef struct {
    char domain[24];                   /* socket name */
    char key[CAIRN_CURVE_Z85_LEN + 1]; /* client key, or "" */
    char reason[80];                   /* why */
    int64_t last_ms;                   /* when last reported */
    uint64_t repeats;                  /* refusals since, not reported */
} s_recent_t;

static struct {
    pthread_mutex_t lock;             /* guards everything below but refusals */
    cairn_curve_keypair_t *keypair;   /* this process's key pair, or NULL */
    s_slot_t slot[S_NROLES];          /* per socket, indexed like s_roles */
    char *partitions;                 /* policy.partition_endpoints: policy_query too */
    cairn_zap_t *zap;                 /* started by the first CURVE bind */
    bool atexit_set;                  /* cairn_bus_secure_reset registered */
    bool wipe_set;                    /* s_wipe_keys registered */
    cairn_bus_refusal_fn *on_refusal; /* the daemon's report */
    void *on_refusal_arg;             /* its argument */
    s_recent_t recent[S_RECENT];      /* refusals reported lately */
    atomic_uint_fast64_t refusals;    /* refused connections, all sockets */
} s_sec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool s_is_tcp(const char *endpoint)
{
    return strncmp(endpoint, "tcp://", 6) == 0;
}

static void s_slots_clear(s_slot_t *slots)
{
    for (size_t i = 0; i < S_NROLES; i++) {
        free(slots[i].endpoint);
        cairn_curve_allow_destroy(&slots[i].allow);
        memset(&slots[i], 0, sizeof slots[i]);
    }
}

/* path with every "{service}" replaced; malloc'd. */
static char *s_expand_service(const char *path, const char *service)
{
    static const char token[] = "{service}";
    size_t n = 0;
    for (const char *p = path; (p = strstr(p, token)); p += sizeof token - 1)
        n++;
    size_t len = strlen(path) + n * strlen(service) + 1;
    char *out = malloc(len), *o = out;
    if (!out)
        return NULL;
    for (const char *p = path;;) {
        const char *at = strstr(p, token);
        size_t pre = at ? (size_t)(at - p) : strlen(p);
        memcpy(o, p, pre);
        o += pre;
        if (!at)
            break;
        memcpy(o, service, strlen(service));
        o += strlen(service);
        p = at + sizeof token - 1;
    }
    *o = '\0';
    return out;
}

static int s_load_slot(const s_role_t *role, s_slot_t *slot, const cairn_config_t *config,
                       const char *service, const cairn_curve_keypair_t *keypair, char *err,
                       size_t errlen)
{
    char sub[512];
    int rc;
    const char *pub = cairn_config_str(config, role->public_key_key);
    const char *allow = cairn_config_str(config, role->allow_key);
    bool serves = strcmp(service, role->server) == 0;

    if (!(slot->endpoint = strdup(cairn_config_str(config, role->endpoint_key))))
        return -ENOMEM;
    if (serves && !*allow) {
        snprintf(err, errlen,
                 "%s is tcp:// but %s is empty: list the public keys of the clients allowed to "
                 "connect (see docs/operations.md, Securing the bus)",
                 role->endpoint_key, role->allow_key);
        return CAIRN_ECONFIG;
    }
    if (!serves && !*pub) {
        snprintf(err, errlen,
                 "%s is tcp:// but %s is empty: set it to the .pub file of cairn-%s's key "
                 "(see docs/operations.md, Securing the bus)",
                 role->endpoint_key, role->public_key_key, role->server);
        return CAIRN_ECONFIG;
    }
    if (*pub) {
        if ((rc = cairn_curve_public_load(pub, slot->server_key, sub, sizeof sub)) < 0) {
            snprintf(err, errlen, "%s: %s", role->public_key_key, sub);
            return CAIRN_ECONFIG;
        }
        slot->has_server_key = true;
        if (serves && memcmp(slot->server_key, cairn_curve_keypair_public(keypair),
                             CAIRN_CURVE_KEY_BYTES) != 0) {
            snprintf(err, errlen,
                     "%s (%s) is not the public key of this process's bus.curve_secret_key: its "
                     "clients would refuse it",
                     role->public_key_key, pub);
            return CAIRN_ECONFIG;
        }
    } else {
        memcpy(slot->server_key, cairn_curve_keypair_public(keypair), CAIRN_CURVE_KEY_BYTES);
        slot->has_server_key = true;
    }
    if (serves && (rc = cairn_curve_allow_load(allow, &slot->allow, sub, sizeof sub)) < 0) {
        snprintf(err, errlen, "%s: %s", role->allow_key, sub);
        return CAIRN_ECONFIG;
    }
    return 0;
}

static void s_wipe_keys(void);

int cairn_bus_secure(const cairn_config_t *config, const char *service, char *err, size_t errlen)
{
    int rc = 0;
    char sub[512];
    const char *first_tcp = NULL;
    char *key_path = NULL;
    char *partitions = NULL;
    cairn_curve_keypair_t *keypair = NULL;
    s_slot_t slots[S_NROLES];
    memset(slots, 0, sizeof slots);

    for (size_t i = 0; i < S_NROLES; i++) {
        const char *ep = cairn_config_str(config, s_roles[i].endpoint_key);
        if (s_is_tcp(ep)) {
            if (!first_tcp)
                first_tcp = s_roles[i].endpoint_key;
        } else if (strncmp(ep, "ipc://", 6) != 0 && strncmp(ep, "inproc://", 9) != 0) {
            snprintf(err, errlen, "%s: '%s' is not an ipc:// or tcp:// endpoint",
                     s_roles[i].endpoint_key, ep);
            rc = CAIRN_ECONFIG;
            goto out;
        }
    }
    const char *secret = cairn_config_str(config, "bus.curve_secret_key");
    if (first_tcp && !*secret) {
        snprintf(err, errlen,
                 "%s is tcp:// but bus.curve_secret_key is empty: the bus never runs unencrypted "
                 "over the network; create a key pair with 'cairn keygen --curve -o FILE' and set "
                 "bus.curve_secret_key (see docs/operations.md, Securing the bus)",
                 first_tcp);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    if (*secret) {
        if (!(key_path = s_expand_service(secret, service))) {
            rc = -ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (cairn_curve_keypair_load(key_path, &keypair, sub, sizeof sub) < 0) {
            snprintf(err, errlen, "bus.curve_secret_key: %s", sub);
            rc = CAIRN_ECONFIG;
            goto out;
        }
    }
    for (size_t i = 0; i < S_NROLES; i++) {
        if (!s_is_tcp(cairn_config_str(config, s_roles[i].endpoint_key)))
            continue;
        if ((rc = s_load_slot(&s_roles[i], &slots[i], config, service, keypair, err, errlen)) < 0) {
            if (rc == -ENOMEM)
                snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!(partitions = strdup(cairn_config_str(config, "policy.partition_endpoints")))) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&s_sec.lock);
    cairn_curve_keypair_t *old_keypair = s_sec.keypair;
    s_slot_t old[S_NROLES];
    memcpy(old, s_sec.slot, sizeof old);
    s_sec.keypair = keypair;
    if (keypair && !s_sec.wipe_set && atexit(s_wipe_keys) == 0)
        s_sec.wipe_set = true;
    memcpy(s_sec.slot, slots, sizeof slots);
    char *old_partitions = s_sec.partitions;
    s_sec.partitions = partitions;
    partitions = old_partitions;
    pthread_mutex_unlock(&s_sec.lock);
    keypair = old_keypair;
    memcpy(slots, old, sizeof slots);
out:
    s_slots_clear(slots);
    cairn_curve_keypair_destroy(&keypair);
    free(key_path);
    free(partitions);
    return rc;
}

void cairn_bus_secure_reset(void)
{
    pthread_mutex_lock(&s_sec.lock);
    cairn_zap_t *zap = s_sec.zap;
    s_sec.zap = NULL;
    cairn_curve_keypair_destroy(&s_sec.keypair);
    s_slots_clear(s_sec.slot);
    free(s_sec.partitions);
    s_sec.partitions = NULL;
    memset(s_sec.recent, 0, sizeof s_sec.recent);
    pthread_mutex_unlock(&s_sec.lock);
    cairn_zap_destroy(&zap);
}

void cairn_bus_on_refusal(cairn_bus_refusal_fn *fn, void *arg)
{
    pthread_mutex_lock(&s_sec.lock);
    s_sec.on_refusal = fn;
    s_sec.on_refusal_arg = arg;
    pthread_mutex_unlock(&s_sec.lock);
}

uint64_t cairn_bus_refusals(void)
{
    return atomic_load(&s_sec.refusals);
}

/* ZAP check, on the handler's thread. */
static bool s_check(const char *domain, const uint8_t key[CAIRN_CURVE_KEY_BYTES], void *arg)
{
    (void)arg;
    bool ok = false;
    pthread_mutex_lock(&s_sec.lock);
    for (size_t i = 0; i < S_NROLES; i++)
        if (strcmp(s_roles[i].name, domain) == 0 && s_sec.slot[i].allow &&
            cairn_curve_allow_contains(s_sec.slot[i].allow, key))
            ok = true;
    pthread_mutex_unlock(&s_sec.lock);
    return ok;
}

/* Counts a refusal and reports it, at most once per socket, key and reason
 * in S_REPEAT_WINDOW_MS: a refused client retries every few hundred
 * milliseconds, and one line says as much as a thousand. */
static void s_refused(const char *domain, const char *key_z85, const char *address,
                      const char *reason, void *arg)
{
    (void)arg;
    atomic_fetch_add(&s_sec.refusals, 1);
    int64_t now = cairn_mono_ms();
    uint64_t repeats = 0;
    bool report = true;
    pthread_mutex_lock(&s_sec.lock);
    cairn_bus_refusal_fn *fn = s_sec.on_refusal;
    void *fn_arg = s_sec.on_refusal_arg;
    s_recent_t *slot = NULL, *oldest = &s_sec.recent[0];
    for (size_t i = 0; i < S_RECENT; i++) {
        s_recent_t *r = &s_sec.recent[i];
        if (strcmp(r->domain, domain) == 0 && strcmp(r->key, key_z85) == 0 &&
            strcmp(r->reason, reason) == 0 && r->last_ms) {
            slot = r;
            break;
        }
        if (r->last_ms < oldest->last_ms)
            oldest = r;
    }
    if (slot && now - slot->last_ms < S_REPEAT_WINDOW_MS) {
        slot->repeats++;
        report = false;
    } else if (slot) {
        repeats = slot->repeats;
        slot->repeats = 0;
        slot->last_ms = now;
    } else {
        snprintf(oldest->domain, sizeof oldest->domain, "%s", domain);
        snprintf(oldest->key, sizeof oldest->key, "%s", key_z85);
        snprintf(oldest->reason, sizeof oldest->reason, "%s", reason);
        oldest->last_ms = now;
        oldest->repeats = 0;
    }
    pthread_mutex_unlock(&s_sec.lock);
    if (report && fn)
        fn(domain, key_z85, address, reason, repeats, atomic_load(&s_sec.refusals), fn_arg);
}

/* At exit, when no ZAP handler ever started (a client-only process): wipe
 * the key pair. Registered before czmq's handler, so it runs after it. */
static void s_wipe_keys(void)
{
    pthread_mutex_lock(&s_sec.lock);
    cairn_curve_keypair_destroy(&s_sec.keypair);
    pthread_mutex_unlock(&s_sec.lock);
}

static void s_atexit(void)
{
    cairn_bus_secure_reset();
}

int cairn_bus_curve_prepare(zsock_t *sock, const char *endpoint, bool server)
{
    if (!s_is_tcp(endpoint))
        return 0;
    int rc = 0;
    const s_role_t *role = NULL;
    cairn_zap_t *zap = NULL;
    pthread_mutex_lock(&s_sec.lock);
    const s_slot_t *slot = NULL;
    for (size_t i = 0; i < S_NROLES; i++)
        if (s_sec.slot[i].endpoint && strcmp(s_sec.slot[i].endpoint, endpoint) == 0) {
            slot = &s_sec.slot[i];
            role = &s_roles[i];
        }
    /* Another policy partition's query endpoint: the policy's key. */
    for (size_t i = 0; !slot && !server && i < S_NROLES; i++)
        if (strcmp(s_roles[i].name, "policy_query") == 0 && s_sec.slot[i].endpoint &&
            cairn_partition_listed(s_sec.partitions, endpoint)) {
            slot = &s_sec.slot[i];
            role = &s_roles[i];
        }
    if (!slot || !s_sec.keypair || (server && !slot->allow) || (!server && !slot->has_server_key)) {
        rc = CAIRN_ECONFIG;
        goto out;
    }
    const uint8_t *secret = cairn_curve_keypair_secret(s_sec.keypair);
    if (!server) {
        zsock_set_curve_serverkey_bin(sock, slot->server_key);
        zsock_set_curve_publickey_bin(sock, cairn_curve_keypair_public(s_sec.keypair));
        zsock_set_curve_secretkey_bin(sock, secret);
        goto out;
    }
    if (!s_sec.zap) {
        if (!(s_sec.zap = cairn_zap_new(s_check, s_refused, NULL))) {
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        /* After czmq's own exit handler, so it runs before czmq shuts down. */
        if (!s_sec.atexit_set && atexit(s_atexit) == 0)
            s_sec.atexit_set = true;
    }
    zap = s_sec.zap;
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_secretkey_bin(sock, secret);
    zsock_set_zap_domain(sock, role->name);
    int enforce = 1;
    zmq_setsockopt(zsock_resolve(sock), S_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce);
out:
    pthread_mutex_unlock(&s_sec.lock);
    /* Outside the lock: the handler's thread takes it to answer requests. */
    if (rc == 0 && zap)
        rc = cairn_zap_watch(zap, sock, role->name);
    return rc;
}
