/* log: levelled logging to stderr (the web server's error log).
 *
 * Threads: any. The level is set once at start-up before threads exist; each
 * line is written with one fprintf, which stdio locks, so lines never interleave.
 */
#ifndef BAYEUX_LOG_H
#define BAYEUX_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_parse_level(const char *name);
void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_at(lvl, ...) \
    do { if ((lvl) <= log_get_level()) log_write((lvl), __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
