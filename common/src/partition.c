/* Policy partitions: the hash that assigns a change to a partition and the
 * endpoint list (see cairn/partition.h). */
#include "cairn/partition.h"

#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

uint64_t cairn_partition_hash(const char *s)
{
    return cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, s, strlen(s));
}

uint32_t cairn_partition_of(const char *change_id, uint32_t count)
{
    if (count <= 1 || !change_id || !*change_id)
        return 0;
    return (uint32_t)(cairn_partition_hash(change_id) % count);
}

/* The bounds of item i of a comma-separated list, blanks trimmed. */
static bool s_item(const char *list, size_t i, const char **start, size_t *len)
{
    const char *p = list ? list : "";
    for (size_t k = 0;; k++) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (k == i) {
            *start = a;
            *len = (size_t)(b - a);
            /* "" holds nothing; an empty item before a comma still counts */
            return b > a || *end == ',';
        }
        if (!*end)
            return false;
        p = end + 1;
    }
}

size_t cairn_partition_endpoint_count(const char *list)
{
    const char *s = NULL;
    size_t len = 0, n = 0;
    while (s_item(list, n, &s, &len))
        n++;
    return n;
}

int cairn_partition_endpoint(const char *list, size_t i, char *out, size_t len)
{
    const char *s = NULL;
    size_t n = 0;
    if (!s_item(list, i, &s, &n))
        return CAIRN_ENOTFOUND;
    if (n >= len)
        return CAIRN_ETOOLARGE;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

bool cairn_partition_listed(const char *list, const char *endpoint)
{
    const char *s = NULL;
    size_t n = 0;
    for (size_t i = 0; s_item(list, i, &s, &n); i++)
        if (n && n == strlen(endpoint) && memcmp(s, endpoint, n) == 0)
            return true;
    return false;
}
