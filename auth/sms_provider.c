#include "auth/sms_provider.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/secrets.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define MAX_HOST_LEN 255
#define STATUS_LINE_MAX 512

char *sms_provider_message_json(const struct sms_message *message, size_t *len)
{
    char time_text[LOG_TIME_BUFSIZE];
    log_format_time(time_text, (unsigned long long)message->time_ms);
    struct strbuf out = STRBUF_INIT;
    strbuf_append_str(&out, "{\"time\":");
    strbuf_append_json_string(&out, time_text, strlen(time_text));
    strbuf_append_str(&out, ",\"mobile\":");
    strbuf_append_json_string(&out, message->mobile, strlen(message->mobile));
    strbuf_append_str(&out, ",\"code\":");
    strbuf_append_json_string(&out, message->code, strlen(message->code));
    strbuf_append_str(&out, ",\"purpose\":");
    strbuf_append_json_string(&out, message->purpose, strlen(message->purpose));
    strbuf_appendf(&out, ",\"ttl_s\":%u}", message->ttl_s);
    return strbuf_detach(&out, len);
}

/* ---- outbox ---- */

static int send_outbox(const char *path, const char *json, size_t len, char **err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = xasprintf("sms outbox %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* one write per line: with O_APPEND, lines from parallel workers never interleave */
    char *line = xmalloc(len + 1);
    memcpy(line, json, len);
    line[len] = '\n';
    ssize_t n = write(fd, line, len + 1);
    int saved = errno;
    secrets_wipe(line, len + 1);
    free(line);
    close(fd);
    if (n != (ssize_t)(len + 1)) {
        *err = xasprintf("sms outbox %s: cannot write: %s", path, n < 0 ? strerror(saved) : "short write");
        return -1;
    }
    return 0;
}

/* ---- http ---- */

struct http_target {
    char host[MAX_HOST_LEN + 1];
    char port[6];
    const char *path;
    int tls; /* https:// */
};

/* Splits http(s)://host[:port][/path]; the schema already checked the shape. */
static int parse_url(const char *url, struct http_target *out)
{
    out->tls = strncmp(url, "https://", 8) == 0;
    if (!out->tls && strncmp(url, "http://", 7) != 0)
        return -1;
    const char *host = url + (out->tls ? 8 : 7), *end = host + strcspn(host, ":/");
    if (end == host || (size_t)(end - host) > MAX_HOST_LEN)
        return -1;
    memcpy(out->host, host, (size_t)(end - host));
    out->host[end - host] = '\0';
    snprintf(out->port, sizeof(out->port), out->tls ? "443" : "80");
    if (*end == ':') {
        size_t digits = strcspn(end + 1, "/");
        if (digits == 0 || digits > 5)
            return -1;
        memcpy(out->port, end + 1, digits);
        out->port[digits] = '\0';
        end += 1 + digits;
    }
    out->path = *end == '/' ? end : "/";
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` or the deadline passes: 0 ready, -1 timeout or error. */
static int wait_for(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int error = 0;
    socklen_t error_len = sizeof(error);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline) == 0 &&
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0))
        return fd;
    close(fd);
    return -1;
}

static int connect_target(const struct http_target *target, int64_t deadline, char **err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int rc = getaddrinfo(target->host, target->port, &hints, &list);
    if (rc != 0) {
        *err = xasprintf("sms provider %s: cannot resolve: %s", target->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline);
    freeaddrinfo(list);
    if (fd < 0)
        *err = xasprintf("sms provider %s:%s: cannot connect in time", target->host, target->port);
    return fd;
}

/* One connection to the provider: a socket, with TLS on it for an https:// URL. */
struct channel {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl; /* NULL: plain http */
};

static void channel_close(struct channel *ch)
{
    SSL_free(ch->ssl);
    SSL_CTX_free(ch->ctx);
    if (ch->fd >= 0)
        close(ch->fd);
}

/*
 * What an SSL call that returned `rc` <= 0 waits for: POLLIN or POLLOUT, or 0 when it failed for good. OpenSSL's error
 * queue is per thread; it is cleared so that the next call on this worker starts clean.
 */
static short tls_wants(SSL *ssl, int rc)
{
    int error = SSL_get_error(ssl, rc);
    ERR_clear_error();
    return error == SSL_ERROR_WANT_READ ? POLLIN : error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
}

/* The certificate must chain to ca_file (or the system's CAs) and name the host: an SMS code is a credential. */
static SSL *tls_new(SSL_CTX *ctx, int fd, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1
                   : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

static int tls_start(struct channel *ch, const struct sms_config *config, const struct http_target *target, int64_t deadline,
                     char **err)
{
    ch->ctx = SSL_CTX_new(TLS_client_method());
    int ok = ch->ctx != NULL && SSL_CTX_set_min_proto_version(ch->ctx, TLS1_2_VERSION) == 1 &&
             (config->ca_file != NULL ? SSL_CTX_load_verify_locations(ch->ctx, config->ca_file, NULL) == 1
                                      : SSL_CTX_set_default_verify_paths(ch->ctx) == 1);
    if (ok) {
        SSL_CTX_set_verify(ch->ctx, SSL_VERIFY_PEER, NULL);
        ok = (ch->ssl = tls_new(ch->ctx, ch->fd, target->host)) != NULL;
    }
    ERR_clear_error();
    if (!ok) {
        *err = xasprintf("sms provider %s:%s: cannot set up TLS (ca_file unreadable?)", target->host, target->port);
        return -1;
    }
    for (;;) {
        int rc = SSL_connect(ch->ssl);
        if (rc == 1)
            return 0;
        short wants = tls_wants(ch->ssl, rc);
        if (wants == 0 || wait_for(ch->fd, wants, deadline) != 0) {
            long verify = SSL_get_verify_result(ch->ssl);
            *err = xasprintf("sms provider %s:%s: TLS handshake failed: %s", target->host, target->port,
                             verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                             : wants != 0        ? "timed out"
                                                 : "refused");
            return -1;
        }
    }
}

/* Bytes written (> 0), or 0 to wait for `*wants`, or -1. */
static ssize_t channel_write(struct channel *ch, const char *data, size_t len, short *wants)
{
    if (ch->ssl == NULL) {
        ssize_t n = send(ch->fd, data, len, MSG_NOSIGNAL);
        *wants = POLLOUT;
        return n > 0 ? n : n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    int n = SSL_write(ch->ssl, data, len > INT32_MAX ? INT32_MAX : (int)len);
    return n > 0 ? n : (*wants = tls_wants(ch->ssl, n)) != 0 ? 0 : -1;
}

/* Bytes read (> 0), 0 to wait for `*wants`, or -1 (also at the end of the stream). */
static ssize_t channel_read(struct channel *ch, char *buf, size_t size, short *wants)
{
    if (ch->ssl == NULL) {
        ssize_t n = recv(ch->fd, buf, size, 0);
        *wants = POLLIN;
        return n > 0 ? n : n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    int n = SSL_read(ch->ssl, buf, size > INT32_MAX ? INT32_MAX : (int)size);
    return n > 0 ? n : (*wants = tls_wants(ch->ssl, n)) != 0 ? 0 : -1;
}

static int send_all(struct channel *ch, const char *data, size_t len, int64_t deadline)
{
    while (len > 0) {
        short wants = 0;
        ssize_t n = channel_write(ch, data, len, &wants);
        if (n < 0 || (n == 0 && wait_for(ch->fd, wants, deadline) != 0))
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until the end of the status line; returns the status code or -1. */
static int read_status(struct channel *ch, int64_t deadline)
{
    char buf[STATUS_LINE_MAX + 1] = "";
    size_t len = 0;
    while (len < STATUS_LINE_MAX && memchr(buf, '\n', len) == NULL) {
        short wants = 0;
        ssize_t n = channel_read(ch, buf + len, STATUS_LINE_MAX - len, &wants);
        if (n < 0 || (n == 0 && wait_for(ch->fd, wants, deadline) != 0))
            return -1;
        len += (size_t)n;
    }
    buf[len] = '\0';
    int status = 0;
    if (strncmp(buf, "HTTP/1.", 7) != 0 || sscanf(buf + 8, " %3d", &status) != 1)
        return -1;
    return status;
}

static int send_http(const struct sms_config *config, const char *json, size_t len, char **err)
{
    struct http_target target;
    if (config->url == NULL || parse_url(config->url, &target) != 0) {
        *err = xstrdup("sms provider: the url is not http(s)://host[:port][/path]");
        return -1;
    }
    int64_t deadline = now_ms() + config->timeout_ms;
    struct channel ch = {.fd = connect_target(&target, deadline, err)};
    if (ch.fd < 0)
        return -1;
    if (target.tls && tls_start(&ch, config, &target, deadline, err) != 0) {
        channel_close(&ch);
        return -1;
    }
    struct strbuf request = STRBUF_INIT;
    strbuf_appendf(&request,
                   "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\nUser-Agent: yiwang\r\n\r\n",
                   target.path, target.host, target.port, len);
    strbuf_append(&request, json, len);
    int status = send_all(&ch, request.data, request.len, deadline) == 0 ? read_status(&ch, deadline) : -1;
    secrets_wipe(request.data, request.len);
    strbuf_free(&request);
    channel_close(&ch);
    if (status < 200 || status > 299) {
        *err = status < 0 ? xasprintf("sms provider %s:%s: no answer in time", target.host, target.port)
                          : xasprintf("sms provider %s:%s: answered %d", target.host, target.port, status);
        return -1;
    }
    return 0;
}

int sms_provider_send(const struct sms_config *config, const struct sms_message *message, char **err)
{
    size_t len = 0;
    char *json = sms_provider_message_json(message, &len);
    int rc = -1;
    if (!config->enabled)
        *err = xstrdup("sms: no provider is configured");
    else if (config->provider == SMS_PROVIDER_HTTP)
        rc = send_http(config, json, len, err);
    else if (config->outbox_file == NULL)
        *err = xstrdup("sms outbox: no file is configured");
    else
        rc = send_outbox(config->outbox_file, json, len, err);
    secrets_wipe(json, len);
    free(json);
    return rc;
}
