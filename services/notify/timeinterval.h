/* Named time intervals with Alertmanager's meaning, used by routes'
 * mute_time_intervals and active_time_intervals:
 *
 *   time_intervals:
 *     - name: office-hours
 *       time_intervals:
 *         - times: [{start_time: "09:00", end_time: "17:00"}]
 *           weekdays: ["monday:friday"]
 *           days_of_month: ["1:5", "-3:-1"]     # negative: from the month's end
 *           months: ["january:march", "12"]
 *           years: ["2026:2027"]
 *           location: Europe/Berlin             # IANA zone, default UTC
 *
 * Within one spec the fields AND (an absent field matches always), the specs
 * of an interval OR. Times are start-inclusive, end-exclusive ("24:00" is
 * the end of the day). The clock is read in the spec's location. */
#ifndef CAIRN_NOTIFY_TIMEINTERVAL_H
#define CAIRN_NOTIFY_TIMEINTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cairn_time_interval_t cairn_time_interval_t;
typedef struct cairn_time_spec_t cairn_time_spec_t;

cairn_time_interval_t *cairn_time_interval_new(const char *name);
void cairn_time_interval_destroy(cairn_time_interval_t **self_p);
const char *cairn_time_interval_name(const cairn_time_interval_t *self);

/* Adds an empty spec (matching always until fields are added); *out is
 * owned by the interval. */
int cairn_time_interval_add_spec(cairn_time_interval_t *self, cairn_time_spec_t **out);

/* Each adder parses one list item; CAIRN_EPARSE with a message in err. */
int cairn_time_spec_add_times(cairn_time_spec_t *spec, const char *start, const char *end,
                              char *err, size_t errlen);
int cairn_time_spec_add_weekdays(cairn_time_spec_t *spec, const char *range, char *err,
                                 size_t errlen);
int cairn_time_spec_add_days_of_month(cairn_time_spec_t *spec, const char *range, char *err,
                                      size_t errlen);
int cairn_time_spec_add_months(cairn_time_spec_t *spec, const char *range, char *err,
                               size_t errlen);
int cairn_time_spec_add_years(cairn_time_spec_t *spec, const char *range, char *err, size_t errlen);

/* An IANA zone name with a file under /usr/share/zoneinfo (or TZDIR), "UTC"
 * or "Local". */
int cairn_time_spec_set_location(cairn_time_spec_t *spec, const char *zone, char *err,
                                 size_t errlen);

/* True when unix_ms falls inside any spec of the interval. Not thread-safe:
 * it switches the process's TZ while it reads a zone's clock. */
bool cairn_time_interval_contains(const cairn_time_interval_t *self, int64_t unix_ms);

#endif
