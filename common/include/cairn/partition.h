/* Which policy partition a change belongs to, and the list of the
 * partitions' query endpoints (policy.partition, policy.partition_endpoints).
 * One function for every process that routes by it: cairn-policy (which
 * changes it evaluates), the CLI and cairn-ingest (which instance to ask).
 *
 * A change belongs to partition fnv1a64(change id) mod N, where fnv1a64 is
 * the 64-bit FNV-1a hash of the id's bytes (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3); an empty id (entries that name
 * no change) belongs to partition 0. */
#ifndef CAIRN_PARTITION_H
#define CAIRN_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most partitions. */
#define CAIRN_PARTITION_MAX 1024

/* The 64-bit FNV-1a hash of s. */
uint64_t cairn_partition_hash(const char *s);

/* The partition (0..count-1) change_id belongs to; count 0 counts as 1. */
uint32_t cairn_partition_of(const char *change_id, uint32_t count);

/* How many endpoints a comma-separated list holds (blanks around items are
 * ignored; "" and NULL hold none). */
size_t cairn_partition_endpoint_count(const char *list);

/* Copies item i of a comma-separated list into out. 0, CAIRN_ENOTFOUND
 * (no item i) or CAIRN_ETOOLARGE (does not fit). */
int cairn_partition_endpoint(const char *list, size_t i, char *out, size_t len);

/* Whether endpoint is one of the list's items. */
bool cairn_partition_listed(const char *list, const char *endpoint);

#endif
