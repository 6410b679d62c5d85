/* Cairn error codes: every function returns 0 or a negative code, and
 * cairn_strerror() turns any of them into a sentence. Negative errno values
 * are valid codes too (e.g. -ENOENT). */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

enum {
    CAIRN_OK = 0,
    CAIRN_EBASE = -10000,
    CAIRN_ECONFIG = -10001,      /* invalid configuration */
    CAIRN_EPARSE = -10002,       /* input could not be parsed */
    CAIRN_EINVALID = -10003,     /* input parsed but is not acceptable */
    CAIRN_EPROTO = -10004,       /* malformed bus message / protobuf */
    CAIRN_ETIMEOUT = -10005,     /* peer did not answer in time */
    CAIRN_EUNREACHABLE = -10006, /* peer cannot be reached */
    CAIRN_ENOTFOUND = -10007,    /* no such change, entry or key */
    CAIRN_ESTORE = -10008,       /* the LMDB store failed */
    CAIRN_EPOLICY = -10009,      /* the policy is invalid */
    CAIRN_ECRYPTO = -10010,      /* a cryptographic operation failed */
    CAIRN_EINTEGRITY = -10011,   /* stored data does not verify */
    CAIRN_ETOOLARGE = -10012,    /* input over a configured limit */
    CAIRN_EBUSY = -10013,        /* temporarily cannot accept work */
    CAIRN_EINTERNAL = -10014,    /* a bug: please report it */
    CAIRN_EPARTITION = -10015,   /* the change belongs to another policy partition */
};

/* A sentence for any Cairn code, negative errno, or LMDB code. Never NULL. */
const char *cairn_strerror(int code);

#endif
