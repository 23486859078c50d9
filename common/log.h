/*
 * log.h — the gateway's own diagnostic log (not the access log).
 *
 * One JSON object per line on stderr: {"time":…,"level":…,"msg":…}, written
 * with a single write(2) so lines from different threads never interleave.
 * Any thread may call it, but event-loop threads should log only state
 * changes (a target ejected, a reload), never once per request.
 */
#ifndef YIWANG_COMMON_LOG_H
#define YIWANG_COMMON_LOG_H

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

/* Messages below this level are dropped. Set once at start-up, before threads. */
void log_set_min_level(enum log_level level);

void log_message(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_message(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_message(LOG_LEVEL_ERROR, __VA_ARGS__)

#define LOG_TIME_BUFSIZE 80

/* Formats `unix_ms` as RFC 3339 UTC with milliseconds ("2026-11-25T15:04:05.123Z")
 * into buf (LOG_TIME_BUFSIZE bytes). Returns the length written. */
int log_format_time(char *buf, unsigned long long unix_ms);

#endif
