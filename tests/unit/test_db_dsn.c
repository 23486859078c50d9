/*
 * test_db_dsn.c — db_dsn_parse: every form the config schema allows, percent
 * decoding, and a clear error (that never repeats the password) for each kind
 * of mistake. No server needed.
 */
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "tests/unit/test.h"

static void check_tcp(const char *text, const char *user, const char *password, const char *host, unsigned port,
                      const char *database)
{
    struct db_dsn dsn;
    char *err = NULL;
    CHECK_INT_EQ(db_dsn_parse(text, &dsn, &err), 0);
    CHECK(err == NULL);
    if (err != NULL) {
        fprintf(stderr, "  %s: %s\n", text, err);
        free(err);
        return;
    }
    CHECK_STR_EQ(dsn.user, user);
    CHECK_STR_EQ(dsn.password, password);
    CHECK_STR_EQ(dsn.host, host);
    CHECK_INT_EQ(dsn.port, port);
    CHECK(dsn.socket == NULL);
    CHECK_STR_EQ(dsn.database, database);
    db_dsn_clear(&dsn);
}

static void test_tcp_forms(void)
{
    check_tcp("mysql://yiwang:pw@db.example.gov.cn:3307/yiwang", "yiwang", "pw", "db.example.gov.cn", 3307, "yiwang");
    check_tcp("mysql://yiwang@10.0.0.5/yiwang", "yiwang", "", "10.0.0.5", 3306, "yiwang");
    check_tcp("mysql://yiwang:@localhost/yiwang_2", "yiwang", "", "localhost", 3306, "yiwang_2");
    check_tcp("mysql://u:p@[::1]:3308/d", "u", "p", "::1", 3308, "d");
    check_tcp("mysql://u:p@[fe80::1]/d", "u", "p", "fe80::1", 3306, "d");
    check_tcp("mysql://u:p@h:65535/d", "u", "p", "h", 65535, "d");
    /* encoded reserved characters, UTF-8 and a ':' inside the password */
    check_tcp("mysql://app%40gov:p%2Fa%3Fs%40s%3A%25w@h/d", "app@gov", "p/a?s@s:%w", "h", 3306, "d");
    check_tcp("mysql://%E4%B8%80%E7%BD%91:a:b:c@h/d", "一网", "a:b:c", "h", 3306, "d");
    /* an unencoded '@' in the password: the last one before the host counts */
    check_tcp("mysql://u:p@ss@h/d", "u", "p@ss", "h", 3306, "d");
}

static void test_socket_forms(void)
{
    struct db_dsn dsn;
    char *err = NULL;
    CHECK_INT_EQ(db_dsn_parse("mysql://root@/yiwang?socket=/work/var/mariadb/mysqld.sock", &dsn, &err), 0);
    CHECK_STR_EQ(dsn.user, "root");
    CHECK_STR_EQ(dsn.password, "");
    CHECK(dsn.host == NULL);
    CHECK_INT_EQ(dsn.port, 0);
    CHECK_STR_EQ(dsn.socket, "/work/var/mariadb/mysqld.sock");
    CHECK_STR_EQ(dsn.database, "yiwang");
    char *described = db_dsn_describe(&dsn);
    CHECK_STR_EQ(described, "mysql://root@/yiwang?socket=/work/var/mariadb/mysqld.sock");
    free(described);

    struct db_dsn copy;
    db_dsn_copy(&copy, &dsn);
    CHECK_STR_EQ(copy.socket, dsn.socket);
    CHECK(copy.socket != dsn.socket);
    db_dsn_clear(&copy);
    db_dsn_clear(&dsn);
    CHECK(dsn.user == NULL && dsn.socket == NULL);

    CHECK_INT_EQ(db_dsn_parse("mysql://u:s%20cret@/d?socket=/tmp/my%20dir/s.sock", &dsn, &err), 0);
    CHECK_STR_EQ(dsn.password, "s cret");
    CHECK_STR_EQ(dsn.socket, "/tmp/my dir/s.sock");
    db_dsn_clear(&dsn);
}

static void test_describe_hides_password(void)
{
    struct db_dsn dsn;
    char *err = NULL;
    CHECK_INT_EQ(db_dsn_parse("mysql://app:TopSecret@[::1]:3307/yiwang", &dsn, &err), 0);
    char *described = db_dsn_describe(&dsn);
    CHECK_STR_EQ(described, "mysql://app:***@[::1]:3307/yiwang");
    free(described);
    db_dsn_clear(&dsn);
}

/* Each bad DSN fails, leaves nothing allocated, and says what is wrong without echoing the secret. */
static void check_error(const char *text, const char *expected)
{
    struct db_dsn dsn;
    char *err = NULL;
    CHECK_INT_EQ(db_dsn_parse(text, &dsn, &err), -1);
    CHECK(err != NULL);
    if (err == NULL)
        return;
    if (strstr(err, expected) == NULL)
        fprintf(stderr, "  %s: expected '%s' in: %s\n", text, expected, err);
    CHECK(strstr(err, expected) != NULL);
    CHECK(strstr(err, "hunter2") == NULL);
    CHECK(strncmp(err, "invalid database DSN: ", 22) == 0);
    CHECK(dsn.user == NULL && dsn.password == NULL && dsn.host == NULL && dsn.socket == NULL && dsn.database == NULL);
    free(err);
}

static void test_errors(void)
{
    check_error(NULL, "must start with mysql://");
    check_error("", "must start with mysql://");
    check_error("postgres://u:hunter2@h/d", "must start with mysql://");
    check_error("mysql://u:hunter2@h", "missing /DATABASE");
    check_error("mysql://u:hunter2/x@h/d", "missing USER@ before the host");
    check_error("mysql://h/d", "missing USER@");
    check_error("mysql://:hunter2@h/d", "the user name is empty");
    check_error("mysql://u%4:hunter2@h/d", "invalid percent-encoding in the user name");
    check_error("mysql://u:hunter2%zz@h/d", "invalid percent-encoding in the password");
    check_error("mysql://u:hunter2%00@h/d", "invalid percent-encoding in the password");
    check_error("mysql://u:hunter2%2@h/d", "invalid percent-encoding in the password");
    check_error("mysql://u:hunter2@h/", "the database name is empty");
    check_error("mysql://u:hunter2@h/my-db", "the database name must be");
    check_error("mysql://u:hunter2@h/d/e", "the database name must be");
    check_error("mysql://u:hunter2@h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "the database name must be");
    check_error("mysql://u:hunter2@/d", "no host");
    check_error("mysql://u:hunter2@:3306/d", "a port needs a host");
    check_error("mysql://u:hunter2@h:/d", "the port must be a number from 1 to 65535");
    check_error("mysql://u:hunter2@h:0/d", "the port must be a number from 1 to 65535");
    check_error("mysql://u:hunter2@h:65536/d", "the port must be a number from 1 to 65535");
    check_error("mysql://u:hunter2@h:33o6/d", "the port must be a number from 1 to 65535");
    check_error("mysql://u:hunter2@h:3306:1/d", "the port must be a number");
    check_error("mysql://u:hunter2@ho st/d", "invalid host name 'ho st'");
    check_error("mysql://u:hunter2@[::1/d", "unterminated [");
    check_error("mysql://u:hunter2@[]/d", "invalid IPv6 address");
    check_error("mysql://u:hunter2@[::g]/d", "invalid IPv6 address");
    check_error("mysql://u:hunter2@[::1]x/d", "unexpected characters after ]");
    check_error("mysql://u:hunter2@[::1]:/d", "the port must be");
    check_error("mysql://u:hunter2@h/d?socket=/s", "give a host or ?socket=, not both");
    check_error("mysql://u:hunter2@/d?socket=relative.sock", "the socket path must be absolute");
    check_error("mysql://u:hunter2@/d?socket=", "the socket path is empty");
    check_error("mysql://u:hunter2@/d?sock=/s", "unknown parameter 'sock'");
    check_error("mysql://u:hunter2@/d?socket=/a&socket=/b", "socket= is given twice");
    check_error("mysql://u:hunter2@/d?socket=/a%zz", "invalid percent-encoding in the socket path");
    check_error("mysql://u:hunter2@/d?ssl=1", "unknown parameter 'ssl'");
    check_error("mysql://u:hunter2@/d?socket=/"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "longer than 107 bytes");
}

int main(void)
{
    test_tcp_forms();
    test_socket_forms();
    test_describe_hides_password();
    test_errors();
    return TEST_REPORT();
}
