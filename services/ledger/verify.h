/* Integrity at rest: a full check of a ledger directory, read-only, for
 * `cairn log verify` and for operators. It trusts nothing stored except
 * what it recomputes:
 *
 *   - every leaf hash, from the stored leaf bytes, equals the stored leaf hash;
 *   - every leaf parses, names its own index and the log's origin;
 *   - every payload hashes to its leaf's digest, or was deleted by a purge;
 *   - every stored perfect-subtree hash equals the one recomputed from leaves;
 *   - every stored checkpoint's root equals the recomputed root at its size,
 *     and its signature verifies (with the given vkey, or else with the
 *     vkeys the log recorded);
 *   - the last checkpoint is of the log's size, and every database holds as
 *     many rows as a walk over it finds;
 *   - the entries are keyed 0..size-1 with nothing else, and the databases
 *     derived from them (keys, times, lookup, heads, vkeys, holds, purged,
 *     meta) hold exactly the rows the leaves imply (verify_index.h).
 *
 * The report names the first index at which the log stops verifying. The
 * check runs in a child process: a file damaged so that LMDB gives up on
 * it (LMDB aborts on a B-tree that does not hold together) is reported as
 * damage instead of ending the caller. */
#ifndef CAIRN_LEDGER_VERIFY_H
#define CAIRN_LEDGER_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

/* What a verification found. */
typedef struct {
    uint64_t size;        /* entries in the log */
    uint64_t checkpoints; /* signed checkpoints checked */
    uint64_t payloads;    /* payloads checked against their digest */
    uint64_t purged;      /* payloads deleted by retention (not checkable) */
    bool has_bad_index;   /* a problem is tied to an entry */
    uint64_t bad_index;   /* with has_bad_index: the first entry that fails */
    char reason[512];     /* the first problem, for people ("" when all verified) */
    bool has_kept;        /* cairn_ledger_verify_kept found a checkpoint file */
    uint64_t kept_size;   /* with has_kept: the size of its checkpoint */
    bool kept_ahead;      /* with has_kept: the store holds fewer entries than that */
} cairn_ledger_verify_report_t;

/* Verifies the ledger in directory dir (opened read-only; a running ledger
 * may keep writing). vkey may be NULL to use the vkeys stored in the log;
 * a given vkey must have signed every checkpoint (a log verified with its
 * own stored keys proves consistency, not who signed).
 * Returns 0 when everything verified, CAIRN_EINTEGRITY when something did
 * not (the report says what and where), or another negative code when the
 * check could not run (reason says why). The report is always written. */
int cairn_ledger_verify(const char *dir, const char *vkey, cairn_ledger_verify_report_t *out);

/* After cairn_ledger_verify passed: checks the checkpoint the ledger kept
 * outside the store (ledger.checkpoint_file, docs/ledger.md) against the
 * store in dir. The file is read before the store, so a ledger running
 * meanwhile cannot make it look newer than the store. The store's checkpoint
 * of the same size must be that note byte for byte (the verification just
 * checked every stored checkpoint against the tree). 0 when it is, when
 * there is no file (has_kept stays false), or when the store holds fewer
 * entries than the note (kept_ahead: a backup, or a store rolled back; the
 * ledger refuses to start on it, but nothing in it is wrong);
 * CAIRN_EINTEGRITY with the reason when the store holds another checkpoint
 * of that size; another negative code when the file or the store cannot be
 * read. */
int cairn_ledger_verify_kept(const char *dir, const char *file, cairn_ledger_verify_report_t *out);

#endif
