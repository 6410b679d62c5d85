/* Logging for daemons only: one logfmt line per event on stderr, e.g.
 *   ts=2026-11-25T21:50:01.123Z level=info service=ledger msg="appended entry" index=7
 * Libraries return codes and never log. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

typedef enum {
    CAIRN_LOG_DEBUG = 0,
    CAIRN_LOG_INFO = 1,
    CAIRN_LOG_WARN = 2,
    CAIRN_LOG_ERROR = 3,
} cairn_log_level_t;

/* Sets the service name and minimum level ("debug", "info", "warn", "error"). */
void cairn_log_init(const char *service, const char *level);

/* Writes one line: msg is quoted as needed; fields is a printf format for
 * already-formed key=value pairs (may be NULL or ""). String values that may
 * contain spaces or quotes should go through cairn_log_quote(). */
void cairn_log(cairn_log_level_t level, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns a logfmt-safe rendering of value (quoted and escaped when needed)
 * in a small thread-local rotating buffer; valid until 8 further calls. */
const char *cairn_log_quote(const char *value);

#define CAIRN_DEBUG(...) cairn_log(CAIRN_LOG_DEBUG, __VA_ARGS__)
#define CAIRN_INFO(...) cairn_log(CAIRN_LOG_INFO, __VA_ARGS__)
#define CAIRN_WARN(...) cairn_log(CAIRN_LOG_WARN, __VA_ARGS__)
#define CAIRN_ERROR(...) cairn_log(CAIRN_LOG_ERROR, __VA_ARGS__)

#endif
