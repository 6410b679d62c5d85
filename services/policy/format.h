/* Formatting the sentences of verdicts, faster than the C library.
 *
 * A verdict carries hundreds of sentences, and with glibc most of the time
 * writing them goes into vsnprintf's setup rather than into the text. These
 * functions write exactly what vsnprintf would write, with the same return
 * value, and do it directly for the conversions the sentences use: %s and
 * %.Ns, %d %u %ld %lu %lld %llu %zu, and %%. A format with anything else
 * (flags, widths, %g, ...) is handed to vsnprintf as it is. */
#ifndef CAIRN_POLICY_FORMAT_H
#define CAIRN_POLICY_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf: writes at most len bytes including the NUL, returns the
 * length the whole text has (or a negative value on an encoding error). */
int cairn_vformat(char *buf, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int cairn_format(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A double as "%g" writes it (integral values below a million directly). */
int cairn_format_g(char *buf, size_t len, double v);

#endif
