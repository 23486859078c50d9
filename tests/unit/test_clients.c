/*
 * test_clients.c — the pure parts of OAuth clients: exact redirect URI
 * matching (no prefix, case or trailing-slash games), what may be
 * registered, scope narrowing and grant checks, and secret hashing.
 */
#include <string.h>

#include "auth/clients.h"
#include "tests/unit/test.h"

int main(void)
{
    struct oauth_client client = {0};
    client.redirect_uris_json = (char *)"[\"https://hrss.example.gov.cn/cb\",\"cn.gov.hrss.app:/oauth\"]";
    CHECK(clients_redirect_uri_allowed(&client, "https://hrss.example.gov.cn/cb"));
    CHECK(clients_redirect_uri_allowed(&client, "cn.gov.hrss.app:/oauth"));
    static const char *const refused[] = {
        "https://hrss.example.gov.cn/cb/",     "https://hrss.example.gov.cn/cb?x=1",
        "https://HRSS.example.gov.cn/cb",      "https://hrss.example.gov.cn/cb/../cb",
        "https://hrss.example.gov.cn.evil/cb", "http://hrss.example.gov.cn/cb",
        "https://hrss.example.gov.cn/c",       "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK(!clients_redirect_uri_allowed(&client, refused[i]));
    client.redirect_uris_json = (char *)"not json";
    CHECK(!clients_redirect_uri_allowed(&client, "https://hrss.example.gov.cn/cb"));

    CHECK(clients_redirect_uri_problem("https://app.example/cb") == NULL);
    CHECK(clients_redirect_uri_problem("http://127.0.0.1:8765/cb") == NULL);
    CHECK(clients_redirect_uri_problem("http://[::1]/cb") == NULL);
    CHECK(clients_redirect_uri_problem("cn.gov.hrss.app:/oauth") == NULL);
    CHECK(clients_redirect_uri_problem("http://app.example/cb") != NULL);     /* cleartext to a real host */
    CHECK(clients_redirect_uri_problem("http://127.0.0.1.evil/cb") != NULL);  /* not loopback at all */
    CHECK(clients_redirect_uri_problem("https://app.example/cb#x") != NULL);  /* fragments */
    CHECK(clients_redirect_uri_problem("https://user@app.example/") != NULL); /* userinfo */
    CHECK(clients_redirect_uri_problem("https:///cb") != NULL);
    CHECK(clients_redirect_uri_problem("myapp:/cb") != NULL); /* private-use schemes need reverse-domain form */
    CHECK(clients_redirect_uri_problem("javascript:alert(1)") != NULL);
    CHECK(clients_redirect_uri_problem("https://app.example/a b") != NULL);

    strcpy(client.allowed_scopes, "openid hrss:read hrss:write");
    strcpy(client.grant_types, "authorization_code refresh_token");
    char scope[64];
    CHECK_INT_EQ(clients_resolve_scope(&client, NULL, scope, sizeof(scope)), 0);
    CHECK_STR_EQ(scope, "openid hrss:read hrss:write");
    CHECK_INT_EQ(clients_resolve_scope(&client, " hrss:read  hrss:read openid", scope, sizeof(scope)), 0);
    CHECK_STR_EQ(scope, "hrss:read openid");
    CHECK_INT_EQ(clients_resolve_scope(&client, "hrss:read tax:read", scope, sizeof(scope)), -1);
    CHECK_INT_EQ(clients_resolve_scope(&client, "hrss", scope, sizeof(scope)), -1); /* a prefix is not a scope */
    CHECK_INT_EQ(clients_resolve_scope(&client, NULL, scope, 8), -1);               /* does not fit */
    CHECK(clients_grant_allowed(&client, "refresh_token"));
    CHECK(!clients_grant_allowed(&client, "client_credentials"));
    CHECK(!clients_grant_allowed(&client, "refresh"));

    unsigned char key[SECRETS_KEY_LEN] = {1, 2, 3};
    char hash[65];
    CHECK_INT_EQ(clients_hash_secret(key, "s3cret", 6, hash), 0);
    client.confidential = 1;
    memcpy(client.secret_hash, hash, 65);
    CHECK(clients_secret_matches(&client, key, "s3cret", 6, 0));
    CHECK(!clients_secret_matches(&client, key, "s3cre", 5, 0));
    key[0] = 9; /* another master key: nothing matches */
    CHECK(!clients_secret_matches(&client, key, "s3cret", 6, 0));
    return TEST_REPORT();
}
