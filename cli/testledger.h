/* Test support: a real cairn-ledger process for the tests of the commands
 * that ask it (`cairn log ...`), started from $CAIRN_BIN_DIR on a data
 * directory of the test's, and requests sent to it over its socket. */
#ifndef CAIRN_CLI_TESTLEDGER_H
#define CAIRN_CLI_TESTLEDGER_H

#include <sys/types.h>

#include "cairn/v1/ledger.pb-c.h"

/* The ledger API endpoint of a ledger on dir (a static buffer). */
const char *cli_test_ledger_endpoint(const char *dir);

/* Starts cairn-ledger with --data-dir dir and waits until it listens
 * (asserts it does within 5 s); returns its pid. */
pid_t cli_test_ledger_start(const char *dir);

/* Stops the ledger *pid (SIGTERM, waited for) and sets *pid to -1; nothing
 * when *pid is not a process. */
void cli_test_ledger_stop(pid_t *pid);

/* Sends req to the ledger on dir and returns its reply, asserting status 0.
 * Free it with CAIRN_CODEC_FREE. */
Cairn__V1__LedgerReply *cli_test_ledger_call(const char *dir, Cairn__V1__LedgerRequest *req);

#endif
