/*
 * test_secrets.c — HKDF, AES-256-GCM sealing, keyed hashes, tokens and the
 * master key file. Expected values come from RFC 5869 or were computed with
 * an independent implementation (Python's `cryptography` package), never by
 * this code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/secrets.h"
#include "common/base64url.h"
#include "tests/unit/test.h"

/* Decodes a hex literal into out; returns the byte count. */
static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void check_hex(const unsigned char *bytes, size_t len, const char *expected)
{
    char hex[2 * 64 + 1];
    secrets_hex_encode(bytes, len, hex);
    CHECK_STR_EQ(hex, expected);
}

static void fill_range(unsigned char *p, size_t len, unsigned char first)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(first + i);
}

/* RFC 5869 appendix A.1: Basic test case with SHA-256. */
static void test_hkdf_rfc5869_case1(void)
{
    unsigned char ikm[22], salt[13], info[10], okm[42];
    memset(ikm, 0x0b, sizeof(ikm));
    fill_range(salt, sizeof(salt), 0x00);
    fill_range(info, sizeof(info), 0xf0);
    CHECK_INT_EQ(secrets_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), okm, sizeof(okm)), 0);
    check_hex(okm, sizeof(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

static void test_derive(void)
{
    unsigned char master_bytes[32], index_key[SECRETS_KEY_LEN], enc_key[SECRETS_KEY_LEN];
    fill_range(master_bytes, sizeof(master_bytes), 0x00);
    struct secrets_master *master = secrets_master_from_bytes(master_bytes, sizeof(master_bytes));
    CHECK(master != NULL);
    CHECK_INT_EQ(secrets_derive(master, SECRETS_LABEL_ID_NUMBER_INDEX, index_key), 0);
    check_hex(index_key, sizeof(index_key), "3f021bfbc1d2d0e2a10c191f8ac24e665e38875eb6defa7969e2b232fcb5cb78");
    CHECK_INT_EQ(secrets_derive(master, SECRETS_LABEL_ID_NUMBER_ENC, enc_key), 0);
    check_hex(enc_key, sizeof(enc_key), "26989670267b513f333cafdbdaff67df93e3f7fa1a0b68effc22b303171e275d");
    CHECK_INT_EQ(secrets_derive(master, "", enc_key), -1);
    CHECK_INT_EQ(secrets_derive(master, NULL, enc_key), -1);
    CHECK_INT_EQ(secrets_derive(NULL, SECRETS_LABEL_TOKEN_HASH, enc_key), -1);
    secrets_master_free(master);

    /* Every label gives a different key. */
    const char *labels[] = {SECRETS_LABEL_SIGNING_KEY_ENC, SECRETS_LABEL_ID_NUMBER_ENC, SECRETS_LABEL_ID_NUMBER_INDEX,
                            SECRETS_LABEL_TOKEN_HASH};
    unsigned char keys[4][SECRETS_KEY_LEN];
    master = secrets_master_from_bytes(master_bytes, sizeof(master_bytes));
    for (size_t i = 0; i < 4; i++)
        CHECK_INT_EQ(secrets_derive(master, labels[i], keys[i]), 0);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = i + 1; j < 4; j++)
            CHECK(memcmp(keys[i], keys[j], SECRETS_KEY_LEN) != 0);
    secrets_master_free(master);

    CHECK(secrets_master_from_bytes(master_bytes, 31) == NULL);
    unsigned char long_key[65] = {1};
    CHECK(secrets_master_from_bytes(long_key, sizeof(long_key)) == NULL);
    secrets_master_free(NULL);
}

static const char id_ad[] = "account.id_number:1042";
static const char id_plain[] = "11010519491231002X";

static void test_key(unsigned char key[SECRETS_KEY_LEN])
{
    fill_range(key, SECRETS_KEY_LEN, 0x20);
}

static void test_seal_open_round_trip(void)
{
    unsigned char key[SECRETS_KEY_LEN], sealed[64], sealed2[64], plain[64];
    size_t sealed_len, sealed2_len, plain_len;
    test_key(key);
    CHECK_INT_EQ(secrets_seal(key, id_ad, strlen(id_ad), id_plain, strlen(id_plain), sealed, sizeof(sealed), &sealed_len),
                 SECRETS_OK);
    CHECK_INT_EQ(sealed_len, 1 + 12 + 18 + 16);
    CHECK_INT_EQ(sealed[0], 0x01);
    CHECK_INT_EQ(secrets_open(key, id_ad, strlen(id_ad), sealed, sealed_len, plain, sizeof(plain), &plain_len), SECRETS_OK);
    CHECK_INT_EQ(plain_len, strlen(id_plain));
    CHECK(memcmp(plain, id_plain, plain_len) == 0);

    /* A fresh nonce each time: the same value never seals to the same bytes. */
    CHECK_INT_EQ(secrets_seal(key, id_ad, strlen(id_ad), id_plain, strlen(id_plain), sealed2, sizeof(sealed2), &sealed2_len),
                 SECRETS_OK);
    CHECK(memcmp(sealed + 1, sealed2 + 1, SECRETS_NONCE_LEN) != 0);
    CHECK(memcmp(sealed, sealed2, sealed_len) != 0);

    /* Empty plaintext and empty associated data are allowed. */
    CHECK_INT_EQ(secrets_seal(key, NULL, 0, "", 0, sealed, sizeof(sealed), &sealed_len), SECRETS_OK);
    CHECK_INT_EQ(sealed_len, SECRETS_SEAL_OVERHEAD);
    CHECK_INT_EQ(secrets_open(key, NULL, 0, sealed, sealed_len, plain, sizeof(plain), &plain_len), SECRETS_OK);
    CHECK_INT_EQ(plain_len, 0);

    /* Output buffers too small. */
    CHECK_INT_EQ(secrets_seal(key, NULL, 0, id_plain, 18, sealed, SECRETS_SEALED_LEN(18) - 1, &sealed_len), SECRETS_ERR_ARGS);
    CHECK_INT_EQ(sealed_len, 0);
    CHECK_INT_EQ(secrets_seal(key, id_ad, strlen(id_ad), id_plain, 18, sealed, sizeof(sealed), &sealed_len), SECRETS_OK);
    CHECK_INT_EQ(secrets_open(key, id_ad, strlen(id_ad), sealed, sealed_len, plain, 17, &plain_len), SECRETS_ERR_ARGS);
}

/* A value sealed by an independent implementation (nonce a0..ab) opens: the stored layout is as documented. */
static void test_open_known_answer(void)
{
    unsigned char key[SECRETS_KEY_LEN], sealed[64], plain[64];
    size_t plain_len;
    test_key(key);
    size_t sealed_len =
        unhex("01a0a1a2a3a4a5a6a7a8a9aaab4f0d9405f4e2b19395119c88156c4696a3274cd0ff92b4788af0d577fa038fe771d5", sealed);
    CHECK_INT_EQ(sealed_len, 47);
    CHECK_INT_EQ(secrets_open(key, id_ad, strlen(id_ad), sealed, sealed_len, plain, sizeof(plain), &plain_len), SECRETS_OK);
    CHECK_INT_EQ(plain_len, 18);
    CHECK(memcmp(plain, id_plain, 18) == 0);
}

/* Opens a modified copy; expects `status`, no output length and no plaintext left in the buffer. */
static void expect_refused(const unsigned char *key, const char *ad, const unsigned char *sealed, size_t sealed_len,
                           enum secrets_status status)
{
    unsigned char plain[64];
    size_t plain_len = 99;
    memset(plain, 'Z', sizeof(plain));
    CHECK_STR_EQ(secrets_status_name(secrets_open(key, ad, strlen(ad), sealed, sealed_len, plain, sizeof(plain), &plain_len)),
                 secrets_status_name(status));
    CHECK_INT_EQ(plain_len, 0);
    CHECK(memmem(plain, sizeof(plain), "19491231", 8) == NULL);
}

static void test_tampering_refused(void)
{
    unsigned char key[SECRETS_KEY_LEN], other_key[SECRETS_KEY_LEN], sealed[64], copy[64];
    size_t len;
    test_key(key);
    CHECK_INT_EQ(secrets_seal(key, id_ad, strlen(id_ad), id_plain, strlen(id_plain), sealed, sizeof(sealed), &len), SECRETS_OK);
    /* byte offsets: 0 version, 1..12 nonce, 13..30 ciphertext, 31..46 tag */
    const struct {
        size_t offset;
        unsigned char xor_mask;
        enum secrets_status status;
    } flips[] = {
        {0, 0x03, SECRETS_ERR_VERSION}, {0, 0x01, SECRETS_ERR_VERSION}, {1, 0x01, SECRETS_ERR_AUTH},  {12, 0x80, SECRETS_ERR_AUTH},
        {13, 0x01, SECRETS_ERR_AUTH},   {30, 0x40, SECRETS_ERR_AUTH},   {31, 0x01, SECRETS_ERR_AUTH}, {46, 0x80, SECRETS_ERR_AUTH},
    };
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        memcpy(copy, sealed, len);
        copy[flips[i].offset] ^= flips[i].xor_mask;
        expect_refused(key, id_ad, copy, len, flips[i].status);
    }
    /* Moved to another row, or to another column of the same row. */
    expect_refused(key, "account.id_number:1043", sealed, len, SECRETS_ERR_AUTH);
    expect_refused(key, "signing_key.private:1042", sealed, len, SECRETS_ERR_AUTH);
    expect_refused(key, "", sealed, len, SECRETS_ERR_AUTH);
    /* Wrong key: the one derived for another purpose. */
    memcpy(other_key, key, sizeof(other_key));
    other_key[31] ^= 1;
    expect_refused(other_key, id_ad, sealed, len, SECRETS_ERR_AUTH);
    /* Truncated: by one byte (the tag no longer matches), or below the fixed overhead. */
    expect_refused(key, id_ad, sealed, len - 1, SECRETS_ERR_AUTH);
    expect_refused(key, id_ad, sealed, SECRETS_SEAL_OVERHEAD - 1, SECRETS_ERR_ARGS);
    expect_refused(key, id_ad, sealed, 0, SECRETS_ERR_ARGS);
    /* The untouched value still opens: every refusal above was caused by its modification. */
    unsigned char plain[64];
    size_t plain_len;
    CHECK_INT_EQ(secrets_open(key, id_ad, strlen(id_ad), sealed, len, plain, sizeof(plain), &plain_len), SECRETS_OK);
    CHECK_INT_EQ(plain_len, 18);
}

static void test_status_names(void)
{
    CHECK_STR_EQ(secrets_status_name(SECRETS_OK), "ok");
    CHECK_STR_EQ(secrets_status_name(SECRETS_ERR_ARGS), "bad_args");
    CHECK_STR_EQ(secrets_status_name(SECRETS_ERR_VERSION), "bad_version");
    CHECK_STR_EQ(secrets_status_name(SECRETS_ERR_AUTH), "auth_failed");
    CHECK_STR_EQ(secrets_status_name(SECRETS_ERR_CRYPTO), "crypto_error");
}

static void test_keyed_hash(void)
{
    unsigned char key[SECRETS_KEY_LEN], mac[SECRETS_HASH_LEN], mac2[SECRETS_HASH_LEN];
    char hex[SECRETS_HASH_HEX_BUFSIZE];
    test_key(key);
    CHECK_INT_EQ(secrets_keyed_hash(key, id_plain, strlen(id_plain), mac), 0);
    secrets_hex_encode(mac, sizeof(mac), hex);
    CHECK_STR_EQ(hex, "fba5d66927d236aa8d8de7b922c058889c33902f03403824df09500d92f777f2");
    CHECK_INT_EQ(strlen(hex), 64);
    /* Not normalised = a different index entry: callers must normalise first. */
    CHECK_INT_EQ(secrets_keyed_hash(key, "11010519491231002x", 18, mac2), 0);
    CHECK(memcmp(mac, mac2, sizeof(mac)) != 0);
    CHECK_INT_EQ(secrets_keyed_hash(key, NULL, 0, mac2), 0);
}

static int is_base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void test_tokens(void)
{
    enum { N = 200 };
    static char tokens[N][SECRETS_TOKEN_BUFSIZE];
    for (size_t i = 0; i < N; i++) {
        CHECK_INT_EQ(secrets_token_generate(tokens[i]), 0);
        CHECK_INT_EQ(strlen(tokens[i]), 43);
        size_t good = 0;
        for (size_t j = 0; j < 43; j++)
            good += (size_t)is_base64url_char(tokens[i][j]);
        CHECK_INT_EQ(good, 43);
        unsigned char raw[BASE64URL_DECODED_MAX(43)];
        CHECK_INT_EQ(base64url_decode(tokens[i], 43, raw), 32);
        CHECK_INT_EQ(secrets_token_is_wellformed(tokens[i], 43), 1);
    }
    size_t duplicates = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            duplicates += strcmp(tokens[i], tokens[j]) == 0;
    CHECK_INT_EQ(duplicates, 0);

    const char *fixed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    CHECK_INT_EQ(secrets_token_is_wellformed(fixed, 43), 1);
    CHECK_INT_EQ(secrets_token_is_wellformed(fixed, 42), 0);
    CHECK_INT_EQ(secrets_token_is_wellformed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR", 44), 0);
    /* Last character with its unused low bits set: the same bytes as ...Q, so not canonical. */
    CHECK_INT_EQ(secrets_token_is_wellformed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPR", 43), 0);
    CHECK_INT_EQ(secrets_token_is_wellformed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO+Q", 43), 0);
    CHECK_INT_EQ(secrets_token_is_wellformed(NULL, 0), 0);

    unsigned char key[SECRETS_KEY_LEN], hash[SECRETS_HASH_LEN];
    test_key(key);
    CHECK_INT_EQ(secrets_token_hash(key, fixed, 43, hash), 0);
    check_hex(hash, sizeof(hash), "dbe49e6cf2e9d8b7b2fea54907ca0f54c932d3eb40e1b655b18052f4b461a114");
}

/* ---- master key file ---- */

static char tmp_dir[] = "/tmp/yiwang-test-secrets-XXXXXX";

static char *write_key_file(const char *name, const void *content, size_t len, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return path;
    CHECK_INT_EQ(fwrite(content, 1, len, f), len);
    fclose(f);
    CHECK_INT_EQ(chmod(path, mode), 0);
    return path;
}

static const char key_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* Loads `content` written with `mode`; expects failure with `reason` in the message, or success if reason is NULL. */
static void expect_load(const char *name, const char *content, size_t len, mode_t mode, const char *reason)
{
    char err[512];
    const char *path = write_key_file(name, content, len, mode);
    struct secrets_master *master = secrets_master_load(path, err, sizeof(err));
    if (reason == NULL) {
        CHECK(master != NULL);
        CHECK_STR_EQ(err, "");
    } else {
        CHECK(master == NULL);
        if (strstr(err, reason) == NULL)
            fprintf(stderr, "%s: expected \"%s\" in: %s\n", name, reason, err);
        CHECK(strstr(err, reason) != NULL);
        CHECK(strstr(err, path) != NULL);
        CHECK(strstr(err, "0a0b0c0d") == NULL); /* never the key material */
    }
    secrets_master_free(master);
    unlink(path);
}

static void test_master_key_file(void)
{
    char text[300];
    snprintf(text, sizeof(text), "%s\n", key_hex);
    expect_load("good", text, strlen(text), 0600, NULL);
    expect_load("owner-only-read", text, strlen(text), 0400, NULL);
    expect_load("no-newline", key_hex, 64, 0600, NULL);
    snprintf(text, sizeof(text), "%s\r\n", key_hex);
    expect_load("crlf", text, strlen(text), 0600, NULL);
    expect_load("upper", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 64, 0600, NULL);
    snprintf(text, sizeof(text), "%s%s", key_hex, key_hex);
    expect_load("64-bytes", text, 128, 0600, NULL);

    snprintf(text, sizeof(text), "%s\n", key_hex);
    expect_load("world-readable", text, strlen(text), 0644, "group or others (mode 0644)");
    expect_load("group-readable", text, strlen(text), 0640, "mode 0640");
    expect_load("other-writable", text, strlen(text), 0602, "mode 0602");
    expect_load("too-short", key_hex, 62, 0600, "found 62 characters");
    expect_load("empty", "", 0, 0600, "found 0 characters");
    snprintf(text, sizeof(text), "%s%s00", key_hex, key_hex);
    expect_load("too-long", text, 130, 0600, "found 130 characters");
    expect_load("odd", key_hex, 63, 0600, "found 63");
    expect_load("not-hex", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", 64, 0600, "not hex");
    expect_load("inner-space", "00010203040506070809 a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, 0600, "not hex");
    expect_load("base64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 45, 0600, "found 44 characters");
    unsigned char raw[32];
    fill_range(raw, sizeof(raw), 0x00);
    expect_load("raw-bytes", (const char *)raw, sizeof(raw), 0600, "found 32 characters");
    expect_load("two-newlines", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n", 66, 0600, "not hex");
    memset(text, '0', 64);
    expect_load("zeros", text, 64, 0600, "one byte repeated");
    memset(text, 'f', 299);
    expect_load("huge", text, 299, 0600, "larger than 256 bytes");

    char err[512];
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/missing", tmp_dir);
    CHECK(secrets_master_load(missing, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "No such file") != NULL);
    CHECK(secrets_master_load(tmp_dir, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "not a regular file") != NULL);
    CHECK(secrets_master_load(missing, NULL, 0) == NULL);

    /* The file's key is the bytes it spells: derivations match a key given in memory. */
    snprintf(text, sizeof(text), "%s\n", key_hex);
    const char *path = write_key_file("derive", text, strlen(text), 0600);
    struct secrets_master *master = secrets_master_load(path, err, sizeof(err));
    unsigned char derived[SECRETS_KEY_LEN];
    CHECK(master != NULL);
    CHECK_INT_EQ(secrets_derive(master, SECRETS_LABEL_ID_NUMBER_INDEX, derived), 0);
    check_hex(derived, sizeof(derived), "3f021bfbc1d2d0e2a10c191f8ac24e665e38875eb6defa7969e2b232fcb5cb78");
    secrets_master_free(master);
    unlink(path);
}

int main(void)
{
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_hkdf_rfc5869_case1();
    test_derive();
    test_seal_open_round_trip();
    test_open_known_answer();
    test_tampering_refused();
    test_status_names();
    test_keyed_hash();
    test_tokens();
    test_master_key_file();
    rmdir(tmp_dir);
    return TEST_REPORT();
}
