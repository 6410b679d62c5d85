/* Time zones for the policy: local wall-clock time in `defaults.timezone`,
 * for cron freeze windows and times written without an offset.
 *
 * The rules come from the system's time zone database: the compiled TZif
 * file (RFC 8536) under $TZDIR or /usr/share/zoneinfo is read once when the
 * policy loads, and times past its last transition follow the POSIX TZ
 * rule in the file's footer. Nothing here touches the process-wide TZ
 * variable or localtime(), so the query thread and the follower can both
 * convert times at once, and the answer depends only on the file read.
 * "UTC" (and "Etc/UTC") need no file. */
#ifndef CAIRN_POLICY_TZ_H
#define CAIRN_POLICY_TZ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cairn_tz_t cairn_tz_t;

/* Loads zone `name` (e.g. "Europe/Berlin"). CAIRN_ENOTFOUND when the
 * database has no such zone, CAIRN_EINVALID for a name that is not a zone
 * name (absolute, "..") or a file that is not TZif. */
int cairn_tz_load(const char *name, cairn_tz_t **out);
void cairn_tz_destroy(cairn_tz_t **self_p);

const char *cairn_tz_name(const cairn_tz_t *self);

/* Seconds east of UTC in force at the Unix time utc_s. */
int32_t cairn_tz_offset(const cairn_tz_t *self, int64_t utc_s);

/* The Unix time of a local wall-clock time, given as seconds since
 * 1970-01-01T00:00 local. A time that occurs twice (clocks going back)
 * is the earlier instant; a time skipped by clocks going forward is read
 * with the offset in force before the change (02:30 becomes 03:30). */
int64_t cairn_tz_local_to_utc(const cairn_tz_t *self, int64_t local_s);

/* Calendar helpers (proleptic Gregorian, no time zone). */
int64_t cairn_days_from_civil(int64_t y, unsigned m, unsigned d);
void cairn_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* 0 = Sunday. */
unsigned cairn_weekday_from_days(int64_t days);

/* "2026-11-27T18:00:00+01:00" for utc_ms in the zone. */
void cairn_tz_format(const cairn_tz_t *self, int64_t utc_ms, char out[40]);

/* Parses a policy time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM" or
 * "YYYY-MM-DDTHH:MM:SS", each optionally followed by "Z" or "+HH:MM" /
 * "-HH:MM". Without an offset the time is local to the zone. */
int cairn_tz_parse_time(const cairn_tz_t *self, const char *text, int64_t *utc_ms_out);

#endif
