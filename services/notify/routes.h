/* The routes file (notify.routes_file): Alertmanager's routing tree,
 * receivers, inhibit rules and time intervals, over Cairn's labels, plus
 * escalations. The whole format is in docs/notify.md; in short:
 *
 *   global:       { resolve_timeout, http_timeout, smtp_*, slack_api_url, external_url, retry }
 *   route:        { receiver, group_by, group_wait, group_interval, repeat_interval,
 *                   matchers, continue, mute_time_intervals, active_time_intervals, routes }
 *   receivers:    [ { name, file_configs, slack_configs, webhook_configs, email_configs,
 *                     alertmanager_configs, feed_configs } ]
 *   inhibit_rules: [ { source_matchers, target_matchers, equal } ]
 *   time_intervals: [ { name, time_intervals: [...] } ]
 *   escalations:  [ { name, matchers, after, set_labels } ]
 *   service_teams: { <service>: <team> }
 *
 * An empty path loads the built-in default: every verdict and alert to the
 * file receiver, grouped by change, without waiting.
 *
 * Matching (cairn_routes_match) is Alertmanager's: an alert enters at the
 * root; children are tried in order and the alert descends into each child
 * whose matchers all match, stopping after the first such child unless it
 * has `continue: true`; a node none of whose children matched handles the
 * alert itself. Children inherit receiver, group_by and the three timers
 * from their parent; time intervals are not inherited.
 *
 * The structures below are read-only once loaded. */
#ifndef CAIRN_NOTIFY_ROUTES_H
#define CAIRN_NOTIFY_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "matcher.h"
#include "timeinterval.h"

typedef enum {
    CAIRN_INTEGRATION_FILE,
    CAIRN_INTEGRATION_SLACK,
    CAIRN_INTEGRATION_WEBHOOK,
    CAIRN_INTEGRATION_EMAIL,
    CAIRN_INTEGRATION_ALERTMANAGER,
    CAIRN_INTEGRATION_FEED,
} cairn_integration_type_t;

/* How failed deliveries are retried: delays grow from initial, doubling up
 * to max, with jitter; after max_attempts attempts or max_age since the
 * first, the message is dead-lettered. */
typedef struct {
    int64_t initial_ms;    /* delay after the first failure */
    int64_t max_ms;        /* longest delay */
    uint32_t max_attempts; /* attempts before dead-lettering */
    int64_t max_age_ms;    /* age after which no attempt is made */
} cairn_retry_policy_t;

/* One way of delivering to a receiver ("a Slack webhook", "an e-mail"). */
typedef struct {
    cairn_integration_type_t type; /* what kind */
    char *target; /* "<receiver>/<type>" (+ index from the second of a type): outbox and receipt
                     name */
    const char *receiver;       /* the receiver's name */
    bool send_resolved;         /* also notify when alerts resolve */
    int64_t timeout_ms;         /* per attempt */
    cairn_retry_policy_t retry; /* retry schedule */
    char *url;                  /* slack api_url, webhook url, alertmanager base url */
    uint8_t *hmac_key;          /* webhook: whsec_ key (sodium_malloc'd) or NULL */
    size_t hmac_key_len;        /* its length */
    uint8_t *ed25519_sk;        /* webhook: 64-byte Ed25519 secret key (sodium_malloc'd) or NULL */
    size_t max_alerts;          /* webhook: most alerts in one body (0: all) */
    char *channel;              /* slack: channel override, or NULL */
    char *username;             /* slack: bot name override, or NULL */
    char *path;                 /* file: the JSON Lines file */
    char *to;                   /* email: recipients, comma-separated */
    char *from;                 /* email: sender address */
    char *smarthost;            /* email: host:port of the SMTP server */
    char *hello;                /* email: EHLO name, or NULL */
    char *auth_username;        /* email: or NULL */
    char *auth_password;        /* email: or NULL */
    bool require_tls;           /* email: STARTTLS is required */
    char *tls_ca_file;          /* http/email: CA bundle to trust, or NULL for the system's */
} cairn_integration_t;

typedef struct {
    char *name;                         /* unique */
    cairn_integration_t **integrations; /* how it is reached */
    size_t n_integrations;
} cairn_receiver_t;

typedef struct cairn_route_t cairn_route_t;
struct cairn_route_t {
    size_t id;                        /* depth-first position, 0 = root */
    char *key;                        /* Alertmanager route key: {}/{env="prod"}/... */
    cairn_matchers_t *matchers;       /* all must match (root: none) */
    bool cont;                        /* continue to later siblings after matching */
    const cairn_receiver_t *receiver; /* own or inherited */
    char **group_by;                  /* label names (own or inherited) */
    size_t n_group_by;
    bool group_by_all;     /* group_by: ['...'] */
    int64_t group_wait_ms; /* own or inherited */
    int64_t group_interval_ms;
    int64_t repeat_interval_ms;         /* 0: never repeat */
    const cairn_time_interval_t **mute; /* mute_time_intervals */
    size_t n_mute;
    const cairn_time_interval_t **active; /* active_time_intervals */
    size_t n_active;
    cairn_route_t **routes; /* children, in order */
    size_t n_routes;
    int line; /* where it is defined in the file (0: built in) */
};

typedef struct {
    cairn_matchers_t *source; /* alerts that inhibit */
    cairn_matchers_t *target; /* alerts that are inhibited */
    char **equal;             /* labels that must have equal values */
    size_t n_equal;
} cairn_inhibit_rule_t;

typedef struct {
    char *name;                 /* also the value of the label "escalation" */
    cairn_matchers_t *matchers; /* alerts it applies to */
    int64_t after_ms;           /* how long they may fire unacknowledged */
    cairn_labels_t *set_labels; /* labels the escalation alert gets on top */
} cairn_escalation_t;

typedef struct {
    char *path;            /* where it was loaded from ("" built in) */
    cairn_route_t *root;   /* the tree */
    cairn_route_t **by_id; /* every route, by id */
    size_t n_routes;
    cairn_receiver_t **receivers;
    size_t n_receivers;
    cairn_inhibit_rule_t **inhibit;
    size_t n_inhibit;
    cairn_time_interval_t **intervals;
    size_t n_intervals;
    cairn_escalation_t **escalations;
    size_t n_escalations;
    cairn_labels_t *service_teams; /* service -> team */
    int64_t resolve_timeout_ms;    /* firing alerts not updated this long resolve */
    char *external_url;            /* base for links in messages, or "" */
} cairn_routes_t;

/* Loads path ("" or NULL: the built-in default). file_path is the default
 * path of file receivers (notify.file). Errors are CAIRN_ECONFIG with
 * "file:line:col: what is wrong" in err. */
int cairn_routes_load(const char *path, const char *file_path, cairn_routes_t **out, char *err,
                      size_t errlen);

/* Parses YAML text (name is used in messages). */
int cairn_routes_parse(const char *yaml, size_t len, const char *name, const char *file_path,
                       cairn_routes_t **out, char *err, size_t errlen);

void cairn_routes_destroy(cairn_routes_t **self_p);

/* The routes that handle labels, in tree order; returns how many (at most
 * max are stored in out; the root always matches, so at least 1). */
size_t cairn_routes_match(const cairn_routes_t *self, const cairn_labels_t *labels,
                          const cairn_route_t **out, size_t max);

/* The group labels of an alert on a route: the group_by labels it has (all
 * its labels for '...'). */
int cairn_route_group_labels(const cairn_route_t *route, const cairn_labels_t *labels,
                             cairn_labels_t **out);

/* True when the route may notify at unix_ms: not inside a mute interval, and
 * inside an active interval when it has any. */
bool cairn_route_active_at(const cairn_route_t *route, int64_t unix_ms);

/* A route by its key (NULL when the tree has none). */
const cairn_route_t *cairn_routes_find(const cairn_routes_t *self, const char *key);

/* "slack", "webhook", "email", "alertmanager", "feed", "file". */
const char *cairn_integration_type_name(cairn_integration_type_t type);

#endif
