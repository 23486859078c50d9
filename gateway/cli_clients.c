/*
 * cli_clients.c — `yiwang clients add|list --config FILE`: registering the
 * apps and services that obtain tokens (auth/clients.h), until the admin API
 * takes this over.
 *
 *   add --id ID --name NAME --kind ios|android|mini_program|web|third_party|department_service
 *       [--owner DEPT] [--first-party] [--public] [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
 *       [--scopes "a b"] [--grants "authorization_code refresh_token client_credentials"]
 *       prints the client id and, for a confidential client, its secret — once: only a keyed hash is stored.
 *   list
 *
 * Exit status: 0 done, 1 failure, 2 usage or invalid configuration.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/clients.h"
#include "common/config.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define USAGE                                                                                                                      \
    "usage: yiwang clients add --config FILE --id ID --name NAME --kind KIND [--owner DEPT] [--first-party] [--public]\n"          \
    "                          [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--scopes \"a b\"]\n"                   \
    "                          [--grants \"g1 g2\"]\n"                                                                             \
    "       yiwang clients list --config FILE\n"

struct clients_args {
    const char *config_path;
    struct client_spec spec;
    json_t *redirect_uris;
    json_t *post_logout_redirect_uris;
    const char *kind;
};

static int parse_args(int argc, char **argv, struct clients_args *a)
{
    a->spec = (struct client_spec){.confidential = 1, .allowed_scopes = "", .grant_types = "client_credentials"};
    a->redirect_uris = json_array();
    a->post_logout_redirect_uris = json_array();
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--first-party") == 0) {
            a->spec.first_party = 1;
        } else if (strcmp(opt, "--public") == 0) {
            a->spec.confidential = 0;
        } else if (val == NULL) {
            return -1;
        } else if (strcmp(opt, "--config") == 0) {
            a->config_path = val, i++;
        } else if (strcmp(opt, "--id") == 0) {
            a->spec.client_id = val, i++;
        } else if (strcmp(opt, "--name") == 0) {
            a->spec.name = val, i++;
        } else if (strcmp(opt, "--kind") == 0) {
            a->kind = val, i++;
        } else if (strcmp(opt, "--owner") == 0) {
            a->spec.owner = val, i++;
        } else if (strcmp(opt, "--scopes") == 0) {
            a->spec.allowed_scopes = val, i++;
        } else if (strcmp(opt, "--grants") == 0) {
            a->spec.grant_types = val, i++;
        } else if (strcmp(opt, "--redirect-uri") == 0 || strcmp(opt, "--post-logout-redirect-uri") == 0) {
            /* the same rules for both: either one sends the browser to the URI */
            const char *problem = clients_redirect_uri_problem(val);
            if (problem != NULL) {
                fprintf(stderr, "yiwang clients add: %s %s %s\n", opt, val, problem);
                return -1;
            }
            json_array_append_new(strcmp(opt, "--redirect-uri") == 0 ? a->redirect_uris : a->post_logout_redirect_uris,
                                  json_string(val)),
                i++;
        } else {
            return -1;
        }
    }
    return a->config_path != NULL ? 0 : -1;
}

static int add(struct db *db, const struct config *config, void *arg)
{
    struct clients_args *a = arg;
    if (a->spec.client_id == NULL || a->spec.name == NULL || a->kind == NULL ||
        client_kind_from_name(a->kind, &a->spec.kind) != 0 || strlen(a->spec.client_id) > CLIENT_ID_MAX) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (config->identity.master_key_file == NULL) {
        fputs("yiwang clients add: identity.master_key_file is not configured\n", stderr);
        return 1;
    }
    char reason[256], secret[SECRETS_TOKEN_BUFSIZE], *err = NULL;
    unsigned char key[SECRETS_KEY_LEN];
    struct secrets_master *master = secrets_master_load(config->identity.master_key_file, reason, sizeof(reason));
    if (master == NULL || secrets_derive(master, SECRETS_LABEL_TOKEN_HASH, key) != 0) {
        fprintf(stderr, "yiwang clients add: %s\n", master == NULL ? reason : "cannot derive the secret hash key");
        secrets_master_free(master);
        return 1;
    }
    secrets_master_free(master);
    char *uris = json_dumps(a->redirect_uris, JSON_COMPACT);
    char *logout_uris = json_dumps(a->post_logout_redirect_uris, JSON_COMPACT);
    a->spec.redirect_uris_json = uris;
    a->spec.post_logout_redirect_uris_json = logout_uris;
    int rc = clients_create(db, &a->spec, key, secret, &err);
    secrets_wipe(key, sizeof(key));
    free(uris);
    free(logout_uris);
    if (rc != 0) {
        fprintf(stderr, "yiwang clients add: %s\n", err);
        free(err);
        return 1;
    }
    printf("client_id %s\n", a->spec.client_id);
    if (a->spec.confidential)
        printf("client_secret %s\n", secret); /* shown this once; only its keyed hash is stored */
    secrets_wipe(secret, sizeof(secret));
    return 0;
}

static int list(struct db *db, const struct config *config, void *arg)
{
    (void)config, (void)arg;
    struct db_result *res = db_query(db, DB_IDEMPOTENT,
                                     "SELECT client_id, kind, confidential, first_party, status, grant_types FROM oauth_clients "
                                     "ORDER BY client_id",
                                     DB_NO_ARGS);
    if (res == NULL) {
        fprintf(stderr, "yiwang clients list: %s\n", db_error(db));
        return 1;
    }
    while (db_result_next(res) == 1) {
        const char *cols[6] = {0};
        for (size_t i = 0; i < 6; i++)
            db_result_text(res, i, &cols[i], NULL);
        printf("%s %s %s%s %s %s\n", cols[0], cols[1], strcmp(cols[2], "1") == 0 ? "confidential" : "public",
               strcmp(cols[3], "1") == 0 ? " first-party" : "", cols[4], cols[5]);
    }
    return 0;
}

int cli_clients(int argc, char **argv)
{
    struct clients_args args = {0};
    if (argc < 1 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "list") != 0) || parse_args(argc - 1, argv + 1, &args) != 0) {
        fputs(USAGE, stderr);
        json_decref(args.redirect_uris);
        json_decref(args.post_logout_redirect_uris);
        return 2;
    }
    int rc = cli_run_with_database("yiwang clients", args.config_path, strcmp(argv[0], "add") == 0 ? add : list, &args);
    json_decref(args.redirect_uris);
    json_decref(args.post_logout_redirect_uris);
    return rc;
}
