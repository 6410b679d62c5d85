/* CURVE keys for the bus: a process's key pair (the secret half only in
 * guarded memory), servers' public keys, and allow-lists of client public
 * keys. All keys are written in Z85 (ZeroMQ RFC 32), 40 characters.
 *
 * Key pair file (`cairn keygen --curve -o FILE`, mode 0600):
 *   # comment lines
 *   public-key <Z85 public key>
 *   secret-key <Z85 secret key>
 * Public key file (FILE.pub, mode 0644), which is also a valid allow-list:
 *   # comment lines
 *   <Z85 public key> [label]
 * Allow-list: one Z85 public key per line, '#' comments and blank lines
 * allowed, any text after the key (a label) ignored; or a directory whose
 * *.pub files are read in that format. */
#ifndef CAIRN_CURVE_H
#define CAIRN_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAIRN_CURVE_KEY_BYTES 32 /* crypto_box_PUBLICKEYBYTES == SECRETKEYBYTES */
#define CAIRN_CURVE_Z85_LEN 40   /* Z85 text of a key, without the NUL */

typedef struct cairn_curve_keypair_t cairn_curve_keypair_t;

/* A fresh key pair. */
int cairn_curve_keypair_generate(cairn_curve_keypair_t **out);

/* Loads a key pair file. It must be owner-only (see cairn_secret_file_check)
 * and its public key must match its secret key. Returns 0, or a negative
 * code with one sentence in err. */
int cairn_curve_keypair_load(const char *path, cairn_curve_keypair_t **out, char *err,
                             size_t errlen);

/* Writes the key pair file (mode 0600) and the public key file (0644).
 * Existing files are kept (-EEXIST) unless force. label, if not NULL,
 * follows the key in the public file. */
int cairn_curve_keypair_save(const cairn_curve_keypair_t *self, const char *path,
                             const char *pub_path, const char *label, bool force);

const uint8_t *cairn_curve_keypair_public(const cairn_curve_keypair_t *self);
const uint8_t *cairn_curve_keypair_secret(const cairn_curve_keypair_t *self);

/* Wipes and frees. NULL-safe. */
void cairn_curve_keypair_destroy(cairn_curve_keypair_t **self_p);

/* The Z85 text of a 32-byte key into out (41 bytes). */
void cairn_curve_z85(const uint8_t key[CAIRN_CURVE_KEY_BYTES], char out[CAIRN_CURVE_Z85_LEN + 1]);

/* Decodes 40 Z85 characters; 0 or CAIRN_EPARSE. */
int cairn_curve_z85_decode(const char *text, size_t len, uint8_t key_out[CAIRN_CURVE_KEY_BYTES]);

typedef struct cairn_curve_allow_t cairn_curve_allow_t;

/* Parses allow-list text; name ("file") prefixes error positions
 * ("file:3: ..."). A list with no key is an error. */
int cairn_curve_allow_parse(const char *text, size_t len, const char *name,
                            cairn_curve_allow_t **out, char *err, size_t errlen);

/* Loads an allow-list file, or every *.pub file in a directory. */
int cairn_curve_allow_load(const char *path, cairn_curve_allow_t **out, char *err, size_t errlen);

bool cairn_curve_allow_contains(const cairn_curve_allow_t *self,
                                const uint8_t key[CAIRN_CURVE_KEY_BYTES]);
size_t cairn_curve_allow_count(const cairn_curve_allow_t *self);
void cairn_curve_allow_destroy(cairn_curve_allow_t **self_p);

/* Reads a server's public key from a public key file holding exactly one key. */
int cairn_curve_public_load(const char *path, uint8_t key_out[CAIRN_CURVE_KEY_BYTES], char *err,
                            size_t errlen);

#endif
