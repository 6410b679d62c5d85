/* Real Cairn daemons for ingest's tests: starts cairn-ledger (or
 * cairn-policy) from $CAIRN_BIN_DIR as a child process on the default
 * ipc:// endpoints under a data directory, waits until it answers, and can
 * pause (SIGSTOP), resume and stop it. Also reads the ledger back (replay),
 * so a test can check what was recorded and in which order. */
#ifndef CAIRN_INGEST_DAEMON_PROC_H
#define CAIRN_INGEST_DAEMON_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "cairn/codec.h"

/* Starts $CAIRN_BIN_DIR/<name> --data-dir data_dir --set log.level=warn plus
 * the given extra "--set" values (NULL-terminated, may be NULL), and waits
 * until its request endpoint (ready_endpoint, an ipc:// path) exists.
 * Returns the pid, or -1. */
pid_t daemon_start(const char *name, const char *data_dir, const char *ready_endpoint,
                   const char *const *sets);

/* SIGTERM and wait; returns the exit status (or -1). */
int daemon_stop(pid_t pid);

/* SIGSTOP / SIGCONT. */
void daemon_pause(pid_t pid);
void daemon_resume(pid_t pid);

/* Every entry of the ledger at endpoint (replayed page by page), unpacked
 * into *entries_out (free each with CAIRN_CODEC_FREE and the array with
 * free). Returns 0 or a negative code. */
int ledger_read_all(const char *endpoint, Cairn__V1__Entry ***entries_out, size_t *n_out);

/* Frees what ledger_read_all returned. */
void ledger_entries_free(Cairn__V1__Entry **entries, size_t n);

/* The event recorded in an entry (unpacked; free with CAIRN_CODEC_FREE on
 * the record), or NULL when the entry holds no event. */
Cairn__V1__Record *ledger_entry_record(const Cairn__V1__Entry *entry);

#endif
