/* Fuzz target for protobuf decoding (cairn/codec.h): each input is decoded
 * as every message type the daemons and the CLI accept from the bus
 * (LedgerRequest, and the ledger's own view of it, LedgerReply, Entry,
 * Record, PolicyRequest, PolicyReply, SubmitRequest, SubmitReply), and what
 * a message carries is followed into its parsers; see codec_check.c. */
#include <stdint.h>

#include "codec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_fuzz_decode_all(data, size);
    return 0;
}

const char cairn_fuzz_target_name[] = "protobuf decoders";
