/*
 * secrets.c — master key file, HKDF, AES-256-GCM sealing, keyed hashes and
 * opaque tokens. The contract is in secrets.h.
 */
#include "auth/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/base64url.h"
#include "common/hex.h"
#include "common/xalloc.h"

/* A hex key file is at most 128 digits + CRLF; anything much larger is not a key file. */
#define MASTER_FILE_MAX 256

struct secrets_master {
    size_t len;
    unsigned char key[SECRETS_MASTER_MAX_LEN];
};

const char *secrets_status_name(enum secrets_status status)
{
    switch (status) {
    case SECRETS_OK:
        return "ok";
    case SECRETS_ERR_ARGS:
        return "bad_args";
    case SECRETS_ERR_VERSION:
        return "bad_version";
    case SECRETS_ERR_AUTH:
        return "auth_failed";
    case SECRETS_ERR_CRYPTO:
        return "crypto_error";
    }
    return "unknown";
}

void secrets_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

/* ---- master key ---- */

struct secrets_master *secrets_master_from_bytes(const unsigned char *key, size_t len)
{
    if (key == NULL || len < SECRETS_MASTER_MIN_LEN || len > SECRETS_MASTER_MAX_LEN)
        return NULL;
    struct secrets_master *master = xcalloc(1, sizeof(*master));
    memcpy(master->key, key, len);
    master->len = len;
    return master;
}

void secrets_master_free(struct secrets_master *master)
{
    if (master == NULL)
        return;
    secrets_wipe(master, sizeof(*master));
    free(master);
}

/* Decodes the whole of text[0..len) as hex into out (len / 2 bytes). -1 on any non-hex character or odd length. */
static int hex_decode(const char *text, size_t len, unsigned char *out)
{
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit_value((unsigned char)text[i]), lo = hex_digit_value((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int all_bytes_equal(const unsigned char *p, size_t len)
{
    for (size_t i = 1; i < len; i++)
        if (p[i] != p[0])
            return 0;
    return 1;
}

/* Reads at most `max` bytes of fd into buf. Returns the count, or -1 (errno set). */
static ssize_t read_all(int fd, char *buf, size_t max)
{
    size_t got = 0;
    while (got < max) {
        ssize_t n = read(fd, buf + got, max - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/*
 * Checks an open key file's type and mode. fstat on the descriptor (not stat
 * on the path) so the file checked is the file read. Returns 0 or -1 with err.
 */
static int check_key_file(int fd, const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "master key file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "master key file %s: not a regular file", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, err_size, "master key file %s: accessible to group or others (mode %04o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* Turns the file's text into key bytes. Returns the key length, or 0 with err. */
static size_t parse_key_text(const char *text, size_t len, const char *path, unsigned char *key, char *err, size_t err_size)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;
    if (len < 2 * SECRETS_MASTER_MIN_LEN || len > 2 * SECRETS_MASTER_MAX_LEN) {
        snprintf(err, err_size, "master key file %s: need %d to %d hex digits (32 to 64 bytes), found %zu characters", path,
                 2 * SECRETS_MASTER_MIN_LEN, 2 * SECRETS_MASTER_MAX_LEN, len);
        return 0;
    }
    if (hex_decode(text, len, key) != 0) {
        snprintf(err, err_size, "master key file %s: not hex text (expected e.g. the output of `openssl rand -hex 32`)", path);
        return 0;
    }
    if (all_bytes_equal(key, len / 2)) {
        snprintf(err, err_size, "master key file %s: one byte repeated, not a random key", path);
        return 0;
    }
    return len / 2;
}

/* Checks, reads and parses the open key file. Returns the key or NULL with err. */
static struct secrets_master *read_key_file(int fd, const char *path, char *err, size_t err_size)
{
    struct secrets_master *master = NULL;
    char text[MASTER_FILE_MAX + 1];
    unsigned char key[SECRETS_MASTER_MAX_LEN];
    ssize_t n = read_all(fd, text, sizeof(text));
    if (n < 0) {
        snprintf(err, err_size, "master key file %s: %s", path, strerror(errno));
    } else if ((size_t)n > MASTER_FILE_MAX) {
        snprintf(err, err_size, "master key file %s: larger than %d bytes, not a key file", path, MASTER_FILE_MAX);
    } else {
        size_t key_len = parse_key_text(text, (size_t)n, path, key, err, err_size);
        if (key_len > 0)
            master = secrets_master_from_bytes(key, key_len);
    }
    secrets_wipe(text, sizeof(text));
    secrets_wipe(key, sizeof(key));
    return master;
}

struct secrets_master *secrets_master_load(const char *path, char *err, size_t err_size)
{
    char scratch[1];
    if (err == NULL || err_size == 0) {
        err = scratch;
        err_size = sizeof(scratch);
    }
    err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "master key file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct secrets_master *master = NULL;
    if (check_key_file(fd, path, err, err_size) == 0)
        master = read_key_file(fd, path, err, err_size);
    close(fd);
    return master;
}

/* ---- HKDF ---- */

int secrets_hkdf_sha256(const unsigned char *salt, size_t salt_len, const unsigned char *ikm, size_t ikm_len,
                        const unsigned char *info, size_t info_len, unsigned char *out, size_t out_len)
{
    static char digest[] = "SHA256";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5], *p = params;
    /* OSSL_PARAM takes non-const pointers; HKDF only reads them. */
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    if (salt_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p = OSSL_PARAM_construct_end();
    int ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    if (!ok)
        secrets_wipe(out, out_len);
    return ok ? 0 : -1;
}

int secrets_derive(const struct secrets_master *master, const char *label, unsigned char out[SECRETS_KEY_LEN])
{
    if (master == NULL || label == NULL || label[0] == '\0') {
        secrets_wipe(out, SECRETS_KEY_LEN);
        return -1;
    }
    return secrets_hkdf_sha256(NULL, 0, master->key, master->len, (const unsigned char *)label, strlen(label), out,
                               SECRETS_KEY_LEN);
}

/* ---- AES-256-GCM ---- */

/*
 * Starts a GCM operation and feeds the associated data: the version byte
 * first, so a value cannot be relabelled as another format version, then
 * the caller's. The version is fixed-length, so the concatenation is
 * unambiguous.
 */
static EVP_CIPHER_CTX *gcm_start(int encrypt, const unsigned char *key, const unsigned char *nonce, unsigned char version,
                                 const void *ad, size_t ad_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n;
    if (ctx == NULL)
        return NULL;
    /* The default GCM IV length is 12 bytes, which is SECRETS_NONCE_LEN. */
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, encrypt) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &n, &version, 1) != 1 ||
        (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, ad, (int)ad_len) != 1)) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

enum secrets_status secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const void *ad, size_t ad_len, const void *plain,
                                 size_t plain_len, unsigned char *out, size_t out_size, size_t *out_len)
{
    *out_len = 0;
    if (plain_len > SECRETS_SEAL_MAX_PLAIN || ad_len > SECRETS_SEAL_MAX_PLAIN || out_size < SECRETS_SEALED_LEN(plain_len))
        return SECRETS_ERR_ARGS;
    unsigned char *nonce = out + 1, *ciphertext = out + 1 + SECRETS_NONCE_LEN, *tag = ciphertext + plain_len;
    out[0] = SECRETS_SEAL_VERSION;
    if (RAND_bytes(nonce, SECRETS_NONCE_LEN) != 1)
        return SECRETS_ERR_CRYPTO;
    EVP_CIPHER_CTX *ctx = gcm_start(1, key, nonce, SECRETS_SEAL_VERSION, ad, ad_len);
    int n = 0, final_n = 0;
    int ok = ctx != NULL && (plain_len == 0 || EVP_CipherUpdate(ctx, ciphertext, &n, plain, (int)plain_len) == 1) &&
             EVP_CipherFinal_ex(ctx, ciphertext + n, &final_n) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETS_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        secrets_wipe(out, SECRETS_SEALED_LEN(plain_len));
        return SECRETS_ERR_CRYPTO;
    }
    *out_len = SECRETS_SEALED_LEN(plain_len);
    return SECRETS_OK;
}

enum secrets_status secrets_open(const unsigned char key[SECRETS_KEY_LEN], const void *ad, size_t ad_len,
                                 const unsigned char *sealed, size_t sealed_len, unsigned char *out, size_t out_size,
                                 size_t *out_len)
{
    *out_len = 0;
    if (sealed_len < SECRETS_SEAL_OVERHEAD || sealed_len - SECRETS_SEAL_OVERHEAD > SECRETS_SEAL_MAX_PLAIN ||
        ad_len > SECRETS_SEAL_MAX_PLAIN)
        return SECRETS_ERR_ARGS;
    size_t plain_len = sealed_len - SECRETS_SEAL_OVERHEAD;
    if (out_size < plain_len)
        return SECRETS_ERR_ARGS;
    if (sealed[0] != SECRETS_SEAL_VERSION)
        return SECRETS_ERR_VERSION;
    const unsigned char *nonce = sealed + 1, *ciphertext = sealed + 1 + SECRETS_NONCE_LEN;
    unsigned char tag[SECRETS_TAG_LEN];
    memcpy(tag, ciphertext + plain_len, sizeof(tag)); /* SET_TAG wants a writable buffer */
    EVP_CIPHER_CTX *ctx = gcm_start(0, key, nonce, sealed[0], ad, ad_len);
    if (ctx == NULL)
        return SECRETS_ERR_CRYPTO;
    int n = 0, final_n = 0;
    int ok = (plain_len == 0 || EVP_CipherUpdate(ctx, out, &n, ciphertext, (int)plain_len) == 1) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETS_TAG_LEN, tag) == 1;
    /* Final is where the tag is checked; until it passes, `out` holds unauthenticated plaintext. */
    int verified = ok && EVP_CipherFinal_ex(ctx, out + n, &final_n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!verified) {
        secrets_wipe(out, plain_len);
        return ok ? SECRETS_ERR_AUTH : SECRETS_ERR_CRYPTO;
    }
    *out_len = plain_len;
    return SECRETS_OK;
}

/* ---- keyed hashes and tokens ---- */

int secrets_keyed_hash(const unsigned char key[SECRETS_KEY_LEN], const void *data, size_t len, unsigned char out[SECRETS_HASH_LEN])
{
    static const unsigned char empty[1];
    unsigned int out_len = 0;
    /* HMAC() treats a NULL data pointer as "no data" only in some versions; pass a real one. */
    if (HMAC(EVP_sha256(), key, SECRETS_KEY_LEN, len > 0 ? data : empty, len, out, &out_len) == NULL ||
        out_len != SECRETS_HASH_LEN) {
        secrets_wipe(out, SECRETS_HASH_LEN);
        return -1;
    }
    return 0;
}

void secrets_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int secrets_token_generate(char out[SECRETS_TOKEN_BUFSIZE])
{
    unsigned char raw[SECRETS_TOKEN_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        out[0] = '\0';
        return -1;
    }
    size_t n = base64url_encode(raw, sizeof(raw), out);
    out[n] = '\0';
    secrets_wipe(raw, sizeof(raw));
    return 0;
}

int secrets_token_is_wellformed(const char *token, size_t len)
{
    unsigned char raw[BASE64URL_DECODED_MAX(SECRETS_TOKEN_LEN)];
    if (token == NULL || len != SECRETS_TOKEN_LEN)
        return 0;
    /* base64url_decode is strict (canonical trailing bits), so each token has one spelling. */
    int ok = base64url_decode(token, len, raw) == SECRETS_TOKEN_BYTES;
    secrets_wipe(raw, sizeof(raw));
    return ok;
}

int secrets_token_hash(const unsigned char key[SECRETS_KEY_LEN], const char *token, size_t len, unsigned char out[SECRETS_HASH_LEN])
{
    return secrets_keyed_hash(key, token, len, out);
}
