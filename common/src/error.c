/* cairn_strerror: one sentence for every error code Cairn returns. */
#include "cairn/error.h"

#include <lmdb.h>
#include <string.h>

const char *cairn_strerror(int code)
{
    switch (code) {
    case CAIRN_OK: return "success";
    case CAIRN_ECONFIG: return "invalid configuration";
    case CAIRN_EPARSE: return "input could not be parsed";
    case CAIRN_EINVALID: return "input is not valid";
    case CAIRN_EPROTO: return "malformed message on the bus";
    case CAIRN_ETIMEOUT: return "timed out waiting for an answer";
    case CAIRN_EUNREACHABLE: return "the daemon cannot be reached";
    case CAIRN_ENOTFOUND: return "not found";
    case CAIRN_ESTORE: return "the local store (LMDB) failed";
    case CAIRN_EPOLICY: return "the policy is invalid";
    case CAIRN_ECRYPTO: return "a cryptographic operation failed";
    case CAIRN_EINTEGRITY: return "stored data failed verification";
    case CAIRN_ETOOLARGE: return "input is larger than the configured limit";
    case CAIRN_EBUSY: return "temporarily unable to accept work";
    case CAIRN_EINTERNAL: return "internal error";
    case CAIRN_EPARTITION: return "the change belongs to another policy partition";
    default: break;
    }
    if (code < 0 && code > CAIRN_EBASE)
        return strerror(-code);
    if (code >= MDB_KEYEXIST && code <= MDB_LAST_ERRCODE)
        return mdb_strerror(code);
    return "unknown error";
}
