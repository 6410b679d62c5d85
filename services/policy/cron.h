/* Cron schedules for recurring windows: five fields (minute hour
 * day-of-month month day-of-week) with `*`, numbers, ranges `a-b`, steps
 * `/n`, lists `a,b`, month names JAN..DEC and day names SUN..SAT (0 and 7
 * are Sunday). As in cron, when both day fields are restricted a day
 * matches either. Occurrences are local times in the policy's zone. */
#ifndef CAIRN_POLICY_CRON_H
#define CAIRN_POLICY_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

typedef struct {
    uint64_t minutes; /* bit m: minute m (0..59) */
    uint32_t hours;   /* bit h: hour h (0..23) */
    uint32_t mdays;   /* bit d: day of month d (1..31) */
    uint16_t months;  /* bit m: month m (1..12) */
    uint8_t wdays;    /* bit d: weekday d (0 = Sunday .. 6) */
    bool mday_any;    /* day-of-month field was `*` */
    bool wday_any;    /* day-of-week field was `*` */
} cairn_cron_t;

/* Parses text; on failure writes a sentence to err and returns CAIRN_EPARSE. */
int cairn_cron_parse(const char *text, cairn_cron_t *out, char *err, size_t errlen);

/* Whether the schedule fires on that local day (month 1..12, wday 0..6). */
bool cairn_cron_day_matches(const cairn_cron_t *c, unsigned month, unsigned mday, unsigned wday);

/* The latest occurrence at or before t_ms, looking back at most
 * lookback_ms; true with *start_ms set when there is one. */
bool cairn_cron_last(const cairn_cron_t *c, const cairn_tz_t *tz, int64_t t_ms, int64_t lookback_ms,
                     int64_t *start_ms);

/* The first occurrence after t_ms within horizon_days local days. */
bool cairn_cron_next(const cairn_cron_t *c, const cairn_tz_t *tz, int64_t t_ms, int horizon_days,
                     int64_t *start_ms);

#endif
