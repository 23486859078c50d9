/*
 * test_authz_request.c — the authorization request's checks without a
 * database: the target (client, exact redirect URI) that decides between an
 * error page and a redirect, PKCE (required for public clients, S256 only),
 * prompt and max_age, scope, the legal person (org), and the redirect's parameters (percent-encoded,
 * appended to a registered query, state and iss included).
 */
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "gateway/authz_request.h"
#include "gateway/browser_pages.h"
#include "tests/unit/test.h"

#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static struct oauth_client client;

static void init_client(int confidential)
{
    memset(&client, 0, sizeof(client));
    strcpy(client.client_id, "h5");
    client.active = 1;
    client.confidential = confidential;
    client.redirect_uris_json = strdup("[\"https://h5.example/cb\",\"https://h5.example/cb2?x=1\"]");
    strcpy(client.allowed_scopes, "openid profile");
    strcpy(client.grant_types, "authorization_code refresh_token");
}

static int read_query(struct authz_request *r, const char *query)
{
    struct form form;
    if (form_parse(&form, query, strlen(query), NULL) != FORM_OK)
        return -1;
    int rc = authz_request_read(r, &form);
    form_clear(&form);
    return rc;
}

#define BASE "response_type=code&client_id=h5&redirect_uri=https%3A%2F%2Fh5.example%2Fcb"

/* The error code of a query checked against the public client, or "ok". */
static const char *verdict(const char *query)
{
    struct authz_request r;
    struct authz_decision d;
    const char *description = NULL;
    if (read_query(&r, query) != 0)
        return "unreadable";
    const char *error = authz_request_target_problem(&r, &client);
    if (error == NULL)
        error = authz_request_check(&r, &client, &d, &description);
    authz_request_free(&r);
    return error != NULL ? error : "ok";
}

static void test_target(void)
{
    CHECK_STR_EQ(verdict(BASE "&code_challenge=" CHALLENGE "&code_challenge_method=S256"), "ok");
    CHECK_STR_EQ(verdict("response_type=code&client_id=h5"), "invalid_redirect_uri");
    CHECK_STR_EQ(verdict("client_id=h5&redirect_uri=https%3A%2F%2Fh5.example%2Fcb%2F"), "invalid_redirect_uri");
    CHECK_STR_EQ(verdict("client_id=h5&redirect_uri=https%3A%2F%2FH5.example%2Fcb"), "invalid_redirect_uri");
    CHECK_STR_EQ(verdict("client_id=h5&redirect_uri=https%3A%2F%2Fh5.example%2Fcb2"), "invalid_redirect_uri");
    struct authz_request r;
    CHECK_INT_EQ(read_query(&r, BASE), 0);
    CHECK_STR_EQ(authz_request_target_problem(&r, NULL), "invalid_client");
    client.active = 0;
    CHECK_STR_EQ(authz_request_target_problem(&r, &client), "invalid_client");
    client.active = 1;
    authz_request_free(&r);
}

static void test_stage_two(void)
{
    CHECK_STR_EQ(verdict(BASE), "invalid_request"); /* a public client without PKCE */
    CHECK_STR_EQ(verdict(BASE "&code_challenge=" CHALLENGE), "invalid_request");
    CHECK_STR_EQ(verdict(BASE "&code_challenge=" CHALLENGE "&code_challenge_method=plain"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE "&code_challenge=abc&code_challenge_method=S256"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE "&code_challenge_method=S256"), "invalid_request");
#define PKCE "&code_challenge=" CHALLENGE "&code_challenge_method=S256"
    CHECK_STR_EQ(verdict("client_id=h5&redirect_uri=https%3A%2F%2Fh5.example%2Fcb" PKCE), "invalid_request");
    CHECK_STR_EQ(verdict("response_type=token&client_id=h5&redirect_uri=https%3A%2F%2Fh5.example%2Fcb" PKCE),
                 "unsupported_response_type");
    CHECK_STR_EQ(verdict(BASE PKCE "&scope=openid+admin"), "invalid_scope");
    CHECK_STR_EQ(verdict(BASE PKCE "&scope=openid"), "ok");
    CHECK_STR_EQ(verdict(BASE PKCE "&prompt=login+consent"), "ok");
    CHECK_STR_EQ(verdict(BASE PKCE "&prompt=none+login"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE PKCE "&prompt=select_account"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE PKCE "&max_age=0"), "ok");
    CHECK_STR_EQ(verdict(BASE PKCE "&max_age=-1"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE PKCE "&max_age=99999999999"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE PKCE "&client_id=h5"), "unreadable"); /* a parameter given twice */
    strcpy(client.grant_types, "refresh_token");
    CHECK_STR_EQ(verdict(BASE PKCE), "unauthorized_client");
    strcpy(client.grant_types, "authorization_code refresh_token");
    client.confidential = 1; /* may do without PKCE, never with plain */
    CHECK_STR_EQ(verdict(BASE), "ok");
    CHECK_STR_EQ(verdict(BASE "&code_challenge=" CHALLENGE "&code_challenge_method=plain"), "invalid_request");
    client.confidential = 0;

    struct authz_request r;
    struct authz_decision d;
    const char *description = NULL;
    CHECK_INT_EQ(read_query(&r, BASE PKCE "&prompt=none&max_age=300"), 0);
    CHECK(authz_request_check(&r, &client, &d, &description) == NULL);
    CHECK_INT_EQ(d.prompt, AUTHZ_PROMPT_NONE);
    CHECK_INT_EQ(d.max_age, 300);
    CHECK_STR_EQ(d.scope, "openid profile"); /* no scope: everything the client may have */
    CHECK(d.openid);
    CHECK_STR_EQ(d.org, "");
    authz_request_free(&r);
}

static void test_org(void)
{
    CHECK_STR_EQ(verdict(BASE PKCE "&org=91350100M000100Y44"), "invalid_request"); /* wrong check character */
    CHECK_STR_EQ(verdict(BASE PKCE "&org=91350100M000100Y4"), "invalid_request");
    CHECK_STR_EQ(verdict(BASE PKCE "&org=%3Cb%3E"), "invalid_request");
    struct authz_request r;
    struct authz_decision d;
    const char *description = NULL;
    CHECK_INT_EQ(read_query(&r, BASE PKCE "&org=91350100m000100y43"), 0);
    CHECK(authz_request_check(&r, &client, &d, &description) == NULL);
    CHECK_STR_EQ(d.org, "91350100M000100Y43");                    /* normalised; the agent is checked once the person is known */
    CHECK_STR_EQ(authz_get(&r, AUTHZ_ORG), "91350100m000100y43"); /* carried as given */
    authz_request_free(&r);
}

static void test_location(void)
{
    struct authz_request r;
    struct strbuf out = STRBUF_INIT;
    CHECK_INT_EQ(read_query(&r, BASE "&state=a%26b%3Dc+d%22%3C"), 0);
    authz_redirect_location(&out, &r, "CODE-1_x.y~", NULL, NULL, "https://id.example");
    strbuf_append_char(&out, '\0');
    CHECK_STR_EQ(out.data, "https://h5.example/cb?code=CODE-1_x.y~&state=a%26b%3Dc%20d%22%3C&iss=https%3A%2F%2Fid.example");
    authz_request_free(&r);
    strbuf_reset(&out);
    CHECK_INT_EQ(read_query(&r, "redirect_uri=https%3A%2F%2Fh5.example%2Fcb2%3Fx%3D1"), 0);
    authz_redirect_location(&out, &r, NULL, "access_denied", "No.", "https://id.example");
    strbuf_append_char(&out, '\0');
    CHECK_STR_EQ(out.data, "https://h5.example/cb2?x=1&error=access_denied&error_description=No.&iss=https%3A%2F%2Fid.example");
    authz_request_free(&r);
    strbuf_free(&out);
}

static void test_escaping(void)
{
    struct strbuf out = STRBUF_INIT;
    html_append_escaped(&out, "<a href=\"x\" title='y'>&amp;</a>");
    strbuf_append_char(&out, '\0');
    CHECK_STR_EQ(out.data, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    strbuf_free(&out);
}

int main(void)
{
    init_client(0);
    test_target();
    test_stage_two();
    test_org();
    test_location();
    test_escaping();
    oauth_client_clear(&client);
    return TEST_REPORT();
}
