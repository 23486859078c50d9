#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"

static enum log_level min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_min_level(enum log_level level)
{
    min_level = level;
}

int log_format_time(char *buf, unsigned long long unix_ms)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    /* the buffer is sized for any int the compiler can see here; real dates need 24 bytes */
    return snprintf(buf, LOG_TIME_BUFSIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(unix_ms % 1000));
}

void log_message(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char message[2048], now[LOG_TIME_BUFSIZE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    log_format_time(now, (unsigned long long)tv.tv_sec * 1000 + (unsigned long long)tv.tv_usec / 1000);

    struct strbuf line = STRBUF_INIT;
    strbuf_appendf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", now, level_names[level]);
    strbuf_append_json_string(&line, message, (size_t)n < sizeof(message) ? (size_t)n : sizeof(message) - 1);
    strbuf_append_str(&line, "}\n");
    /* One write per line keeps concurrent lines whole; a failed diagnostic write has nowhere to be reported. */
    ssize_t written = write(STDERR_FILENO, line.data, line.len);
    (void)written;
    strbuf_free(&line);
}
