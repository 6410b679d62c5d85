/* Test support: evidence bundles built with the library exactly as the
 * ledger builds them (leaves, an RFC 9162 tree, a signed checkpoint and
 * inclusion proofs), for the tests of `cairn verify` and `cairn export`.
 *
 * The log has CLI_TEST_LOG_SIZE entries; change CHG-1 owns entries 1, 3, 4
 * and 6 (a prev chain none <- 1 <- 3 <- 4), the others belong to CHG-2.
 * Every payload is a packed cairn.v1.Record holding an event. */
#ifndef CAIRN_CLI_TESTBUNDLE_H
#define CAIRN_CLI_TESTBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/bundle.h"
#include "cairn/note.h"

#define CLI_TEST_ORIGIN "cairn.test/ledger"
#define CLI_TEST_LOG_SIZE 7
#define CLI_TEST_COMMIT "0123456789abcdef0123456789abcdef01234567"

/* The bundle of change CHG-1 (entries 1, 3, 4, 6) signed by signer,
 * compact JSON, malloc'd. */
char *cli_test_bundle(const cairn_note_signer_t *signer);

/* The packed Record payload of entry index, malloc'd. */
uint8_t *cli_test_payload(uint64_t index, size_t *len_out);

#endif
