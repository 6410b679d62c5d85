/* What the bus fuzz targets do with payload bytes: decode them as every
 * message type a daemon or the CLI accepts from the bus, and follow what a
 * decoded message carries (records inside appends and entries, leaf text,
 * tlog-proofs, checkpoints) into the parsers that read it. */
#ifndef CAIRN_FUZZ_CODEC_CHECK_H
#define CAIRN_FUZZ_CODEC_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Aborts if a decode that succeeded does not survive pack -> unpack -> pack
 * with the same bytes, or if a follow-on parser misbehaves. */
void cairn_fuzz_decode_all(const uint8_t *data, size_t size);

#endif
