/* Small helpers used across Cairn: time, hex, files, SHA-256. */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall-clock Unix time in milliseconds. */
int64_t cairn_now_ms(void);

/* Monotonic milliseconds for timeouts. */
int64_t cairn_mono_ms(void);

/* Formats Unix ms as RFC 3339 UTC ("2026-11-25T21:50:01.123Z"). */
void cairn_format_time(int64_t unix_ms, char out[32]);

/* Parses RFC 3339 ("2026-11-25T21:50:01Z", fractional seconds and offsets
 * allowed) into Unix ms. */
int cairn_parse_time(const char *text, int64_t *unix_ms_out);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void cairn_hex(const uint8_t *bytes, size_t len, char *out);

/* SHA-256 (OpenSSL, with the CPU's SHA extensions where present; sha256.c). */
void cairn_sha256(const void *data, size_t len, uint8_t out[32]);

/* SHA-256 of a_len bytes of a followed by b_len bytes of b (either may be 0). */
void cairn_sha256_2(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t out[32]);

/* True if len bytes of text are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). NUL bytes are allowed. */
bool cairn_utf8_valid(const void *text, size_t len);

/* The offset of the first byte of text that is not part of well-formed
 * UTF-8 (as cairn_utf8_valid judges), or len when all of it is. */
size_t cairn_utf8_invalid_at(const void *text, size_t len);

/* The 64-bit FNV-1a offset basis, and the hash h continued over len bytes
 * (start with CAIRN_FNV1A64_OFFSET). Not for anything an adversary must not
 * collide. */
#define CAIRN_FNV1A64_OFFSET 0xcbf29ce484222325ULL
uint64_t cairn_fnv1a64(uint64_t h, const void *data, size_t len);

/* Writes len bytes of data to path with exactly mode (umask does not
 * apply): to a temporary file beside it, synced, then moved into place, so
 * a reader never sees half a file and a crash never leaves one behind.
 * Without replace an existing path is kept and -EEXIST returned; with it
 * the file is replaced atomically. The directory must exist. Returns 0 or
 * -errno. */
int cairn_write_file(const char *path, const void *data, size_t len, unsigned mode, bool replace);

/* Reads a whole file into a malloc'd NUL-terminated buffer (limit: max bytes). */
int cairn_read_file(const char *path, size_t max, char **buf_out, size_t *len_out);

/* mkdir -p with mode for every created directory. */
int cairn_mkdir_p(const char *path, unsigned mode);

/* Creates the directory that holds path, and any missing parents, with
 * mode (existing ones are kept). Returns 0 or -errno. */
int cairn_mkdir_parent(const char *path, unsigned mode);

#endif
