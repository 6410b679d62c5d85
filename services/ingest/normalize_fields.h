/* Helpers the per-source normalizers (normalize_<source>.c) share: reading
 * values out of a JSON payload by dotted path, filling event fields without
 * ever overwriting a value with an empty one, marking inferred correlation
 * keys, and the few text conventions every source needs (Cairn-Change
 * trailers, git URLs, full commit SHAs). All functions return 0 or a
 * negative code (-ENOMEM) unless they say otherwise. */
#ifndef CAIRN_INGEST_NORMALIZE_FIELDS_H
#define CAIRN_INGEST_NORMALIZE_FIELDS_H

#include "json_body.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/v1/event.pb-c.h"

/* The value at a dotted path ("workflow_run.pull_requests.0.number"; a
 * numeric segment indexes a list), or NULL when absent or JSON null. */
const cJSON *cairn_nf_at(const cJSON *root, const char *path);

/* The non-empty string at path, or NULL. */
const char *cairn_nf_str(const cJSON *root, const char *path);

/* A scalar as text: a string as it is, an integer in decimal (in buf), a
 * boolean as "true"/"false"; NULL for anything else or an empty string.
 * An integer is a number with an integral value of magnitude at most 2^53
 * (json_body.h), printed exactly; larger or fractional numbers give NULL. */
const char *cairn_nf_text(const cJSON *v, char buf[32]);

/* cairn_nf_text of the value at path. */
const char *cairn_nf_text_at(const cJSON *root, const char *path, char buf[32]);

/* Sets *field to value; NULL or "" leaves the field as it is. */
int cairn_nf_set(char **field, const char *value);

/* Sets *field to the text at path (cairn_nf_text_at); absent leaves it. */
int cairn_nf_set_at(char **field, const cJSON *root, const char *path);

/* Sets *field only while it is empty. */
int cairn_nf_default(char **field, const char *value);

/* Adds value to a string list unless NULL, empty or already there. */
int cairn_nf_add(char ***items, size_t *n, const char *value);

/* Sets ev->type (and webhookevent/webhookaction extensions are separate). */
int cairn_nf_type(Cairn__V1__Event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Names a correlation field ("commit_sha", ...) in correlation.inferred. */
int cairn_nf_infer(Cairn__V1__Event *ev, const char *key);

/* Adds (or replaces) the CloudEvents extension name = value; NULL or "" skips. */
int cairn_nf_ext(Cairn__V1__Event *ev, const char *name, const char *value);

/* Sets ev->time when text is an RFC 3339 timestamp; anything else is ignored
 * (the receive time is always in received_at_ms). */
int cairn_nf_time(Cairn__V1__Event *ev, const char *text);

/* Sets ev->time from Unix milliseconds (values <= 0 are ignored). */
int cairn_nf_time_ms(Cairn__V1__Event *ev, int64_t unix_ms);

/* The value of the last "<name>: value" trailer line in text (the name is
 * matched without regard to case; the value is its first word). False when
 * there is none. */
bool cairn_nf_trailer(const char *text, const char *name, char *out, size_t outlen);

/* "owner/name" from a repository URL: https://host/owner/name(.git),
 * git@host:owner/name.git, ssh://git@host/owner/name. False when the URL
 * has no path. */
bool cairn_nf_repo_from_url(const char *url, char *out, size_t outlen);

/* The host of an http(s) URL ("github.com"). False when there is none. */
bool cairn_nf_host(const char *url, char *out, size_t outlen);

/* True for a full commit SHA: 40 (SHA-1) or 64 (SHA-256) hex digits. */
bool cairn_nf_is_sha(const char *text);

/* Writes a ledger idempotency key: "<prefix>:<material>", or, when that
 * would not fit in keylen, "<prefix>:sha256:<hex of material>". */
void cairn_nf_key(char *key, size_t keylen, const char *prefix, const char *material);

/* Writes a sentence into err and returns CAIRN_EINVALID. */
int cairn_nf_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a CI result word to Cairn's outcome vocabulary: "success",
 * "failure", "error", "cancel", "skipped"; other words are returned lower-
 * cased into buf. NULL for NULL. */
const char *cairn_nf_outcome(const char *result, char *buf, size_t buflen);

#endif
