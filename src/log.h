/* log: levelled logging to stderr (the web server's error log).
 *
 * Threads: any. The level is set once at start-up before threads exist; each
 * line is written with one fprintf, which stdio locks, so lines never interleave.
 */
#ifndef BAYEUX_LOG_H
#define BAYEUX_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_parse_level(const char *name);
void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* At most one line per LOG_THROTTLE_MS from one source, for events a busy
 * or hostile client can repeat thousands of times a second (limits hit, bad
 * requests, full queues): the log keeps saying that they happen without
 * growing with them. Zero-initialised; any thread. */
#define LOG_THROTTLE_MS 10000
struct log_throttle {
    _Atomic long long next_ms;            /* monotonic; no line before then */
    _Atomic unsigned long long held;      /* events since the last line */
};
/* True when a line may go out now; *held_back gets the events that were not
 * logged since the previous line. */
bool log_throttle_pass(struct log_throttle *t, unsigned long long *held_back);

/* log_at through a throttle; the line ends with how many like it were held
 * back (" (and N more since the last such line)"). */
#define log_throttled(t, lvl, ...) \
    do { \
        unsigned long long held_; \
        if ((lvl) <= log_get_level() && log_throttle_pass((t), &held_)) \
            log_write_held((lvl), __FILE__, __LINE__, held_, __VA_ARGS__); \
    } while (0)
void log_write_held(enum log_level level, const char *file, int line, unsigned long long held,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_at(lvl, ...) \
    do { if ((lvl) <= log_get_level()) log_write((lvl), __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
