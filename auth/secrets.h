/*
 * secrets.h — secrets at rest, all derived from one master key that lives in a
 * file outside the database (identity.master_key_file).
 *
 * Master key file: exactly one format is accepted, hexadecimal text —
 * 64 to 128 hex digits (32 to 64 bytes of secret), upper or lower case, one
 * optional trailing "\n" or "\r\n", nothing else. Create it with
 *
 *     umask 077 && openssl rand -hex 32 > /etc/yiwang/master.key
 *
 * Raw binary and base64 are refused on purpose: a 64-character hex file is
 * also 64 "raw bytes", so accepting several formats would make the same file
 * mean two different keys depending on a guess. The file must be a regular
 * file with no permission bits for group or others (mode & 077 == 0);
 * anything else is refused before a byte is read. Error messages name the
 * file and the problem, never its content.
 *
 * Derived keys: HKDF-SHA256 (RFC 5869) with the master key as input keying
 * material, no salt (the master key is already uniformly random) and one
 * `info` label per purpose, so a key used for one purpose is useless for any
 * other and a new purpose never needs a new file. The labels below are part
 * of the stored data's format: changing one makes everything sealed or
 * hashed under it unreadable (see docs/identity-data.md on rotation).
 *
 * Sealing: AES-256-GCM with a fresh random 96-bit nonce per message. Stored
 * form: version (1 byte, 0x01) || nonce (12) || ciphertext || tag (16). The
 * version byte and the caller's associated data are authenticated; the
 * associated data is not stored. Callers pass what pins a ciphertext to its
 * place, "<table>.<column>:<row id>" (e.g. "account.id_number:1042"), so a
 * value copied into another row or column no longer opens. Random nonces are safe
 * for up to 2^32 messages per key (NIST SP 800-38D §8.3); that bound is far
 * above the number of citizens, and re-sealing everything under a new
 * master key resets it.
 *
 * Keyed hashes: HMAC-SHA256 under a derived key. Used as the searchable
 * index of values stored only sealed (resident ID numbers): equal inputs
 * give equal hashes, but without the key the 10^11-ish space of valid ID
 * numbers cannot be enumerated from a database dump. Callers hash the
 * normalised form (auth/identifiers.h), or "x" and "X" would differ.
 *
 * Tokens (refresh tokens, authorisation codes, session ids): 256 random bits
 * as 43 base64url characters. Only HMAC-SHA256(token-hash key, token) is
 * stored, not plain SHA-256. Both are one-way for a 256-bit random token,
 * so a stolen database yields no usable token either way; the key adds that
 * someone who can *write* the database (an injection elsewhere, a restored
 * backup) still cannot plant a token of their own choosing, since they
 * cannot compute its stored form without the master key. The cost is that a
 * new master key invalidates every outstanding token, which is what a key
 * compromise calls for anyway.
 *
 * Memory: the master key and derived keys are wiped (OPENSSL_cleanse) when
 * freed; callers holding derived keys in their own buffers wipe them with
 * secrets_wipe. Nothing here logs.
 *
 * Threads: every function is safe on any thread (OpenSSL 3 contexts are
 * created per call; RAND_bytes is thread-safe). A loaded master key is
 * immutable and may be shared. Loading reads a file: start-up or control
 * thread only.
 */
#ifndef YIWANG_AUTH_SECRETS_H
#define YIWANG_AUTH_SECRETS_H

#include <stddef.h>

/* Length of every derived key (AES-256, HMAC-SHA256). */
#define SECRETS_KEY_LEN 32
#define SECRETS_MASTER_MIN_LEN 32
#define SECRETS_MASTER_MAX_LEN 64

/* HKDF info labels: one per purpose. Part of the stored format, never change one in place. */
#define SECRETS_LABEL_SIGNING_KEY_ENC "yiwang signing-key encryption v1"
#define SECRETS_LABEL_ID_NUMBER_ENC "yiwang id-number encryption v1"
#define SECRETS_LABEL_ID_NUMBER_INDEX "yiwang id-number index v1"
#define SECRETS_LABEL_TOKEN_HASH "yiwang token hash v1"

#define SECRETS_SEAL_VERSION 0x01
#define SECRETS_NONCE_LEN 12
#define SECRETS_TAG_LEN 16
#define SECRETS_SEAL_OVERHEAD (1 + SECRETS_NONCE_LEN + SECRETS_TAG_LEN)
/* Bytes a sealed `plain_len`-byte value takes. */
#define SECRETS_SEALED_LEN(plain_len) ((plain_len) + SECRETS_SEAL_OVERHEAD)
/* Larger plaintexts are refused: what is sealed here is a key or an ID number, never a document. */
#define SECRETS_SEAL_MAX_PLAIN (1024 * 1024)

#define SECRETS_HASH_LEN 32
/* 64 hex characters + NUL. */
#define SECRETS_HASH_HEX_BUFSIZE (2 * SECRETS_HASH_LEN + 1)

#define SECRETS_TOKEN_BYTES 32
#define SECRETS_TOKEN_LEN 43
#define SECRETS_TOKEN_BUFSIZE (SECRETS_TOKEN_LEN + 1)

enum secrets_status {
    SECRETS_OK = 0,
    SECRETS_ERR_ARGS,    /* a length out of range, an output buffer too small */
    SECRETS_ERR_VERSION, /* a sealed value of a format version this build does not know */
    SECRETS_ERR_AUTH,    /* tag mismatch: wrong key, wrong associated data or altered bytes */
    SECRETS_ERR_CRYPTO,  /* OpenSSL or the random generator failed */
};

/* A stable lower-case name for logs and metrics ("ok", "bad_args", "bad_version", "auth_failed", "crypto_error"). */
const char *secrets_status_name(enum secrets_status status);

/* The master key. Opaque; owned by whoever loaded it, freed (and wiped) with secrets_master_free. */
struct secrets_master;

/*
 * Loads the master key file described above. Returns NULL and writes a
 * one-line reason into err (err_size bytes, always NUL-terminated when
 * err_size > 0) if the file cannot be opened, is not a regular file, is
 * accessible to group or others, is too large, is not canonical hex, or
 * holds fewer than 32 or more than 64 bytes, or the same byte repeated.
 */
struct secrets_master *secrets_master_load(const char *path, char *err, size_t err_size);
/* A master key from bytes in memory (tests, tools). NULL if len is outside 32..64. The bytes are copied. */
struct secrets_master *secrets_master_from_bytes(const unsigned char *key, size_t len);
/* Wipes and frees. NULL is allowed. */
void secrets_master_free(struct secrets_master *master);

/* HKDF-SHA256 (RFC 5869): extract with `salt` (may be empty), expand with `info` to out_len bytes (at most 8160). 0 or -1. */
int secrets_hkdf_sha256(const unsigned char *salt, size_t salt_len, const unsigned char *ikm, size_t ikm_len,
                        const unsigned char *info, size_t info_len, unsigned char *out, size_t out_len);

/* Derives the 32-byte key for `label` (one of SECRETS_LABEL_*, non-empty). Returns 0, or -1 with `out` zeroed. */
int secrets_derive(const struct secrets_master *master, const char *label, unsigned char out[SECRETS_KEY_LEN]);

/*
 * Seals plain[0..plain_len) (0..SECRETS_SEAL_MAX_PLAIN bytes) under `key`,
 * binding it to ad[0..ad_len). Writes SECRETS_SEALED_LEN(plain_len) bytes to
 * `out` (out_size must allow that) and stores that length in *out_len.
 */
enum secrets_status secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const void *ad, size_t ad_len, const void *plain,
                                 size_t plain_len, unsigned char *out, size_t out_size, size_t *out_len);

/*
 * Opens a sealed value: checks the version byte, then the tag over version,
 * ad and ciphertext (OpenSSL compares tags in constant time). On success
 * writes sealed_len - SECRETS_SEAL_OVERHEAD bytes to `out`; on any failure
 * `out` is wiped, *out_len is 0 and nothing of the plaintext is returned.
 */
enum secrets_status secrets_open(const unsigned char key[SECRETS_KEY_LEN], const void *ad, size_t ad_len,
                                 const unsigned char *sealed, size_t sealed_len, unsigned char *out, size_t out_size,
                                 size_t *out_len);

/* HMAC-SHA256(key, data): the lookup index of a sealed value. 0 or -1. */
int secrets_keyed_hash(const unsigned char key[SECRETS_KEY_LEN], const void *data, size_t len, unsigned char out[SECRETS_HASH_LEN]);

/* Writes 2 * len lower-case hex characters and a NUL to `out`. */
void secrets_hex_encode(const unsigned char *in, size_t len, char *out);

/* A new random token: 43 base64url characters and a NUL. 0, or -1 if the random generator failed. */
int secrets_token_generate(char out[SECRETS_TOKEN_BUFSIZE]);
/* 1 if token[0..len) could have come from secrets_token_generate (43 canonical base64url characters), else 0. */
int secrets_token_is_wellformed(const char *token, size_t len);
/* The stored form of a token: HMAC-SHA256(token-hash key, token). 0 or -1. */
int secrets_token_hash(const unsigned char key[SECRETS_KEY_LEN], const char *token, size_t len,
                       unsigned char out[SECRETS_HASH_LEN]);

/* Overwrites len bytes in a way the compiler may not optimise away. */
void secrets_wipe(void *p, size_t len);

#endif
