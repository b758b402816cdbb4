/* log: levelled logging to stderr with time, level and file:line.
 *
 * Threads: any; see log.h. The level is written only before threads start.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level log_get_level(void)
{
    return current_level;
}

int log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

/* One line: time, pid, level, file:line, the message and `note`. */
static void write_line(enum log_level level, const char *file, int line, const char *note,
                       const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    const char *base = strrchr(file, '/');
    fprintf(stderr, "%s.%03ldZ bayeux-fcgi[%ld] %s %s:%d: %s%s\n", when, ts.tv_nsec / 1000000,
            (long)getpid(), level_names[level], base ? base + 1 : file, line, msg, note);
}

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, file, line, "", fmt, ap);
    va_end(ap);
}

void log_write_held(enum log_level level, const char *file, int line, unsigned long long held,
                    const char *fmt, ...)
{
    char note[64] = "";
    if (held)
        snprintf(note, sizeof note, " (and %llu more since the last such line)", held);
    va_list ap;
    va_start(ap, fmt);
    write_line(level, file, line, note, fmt, ap);
    va_end(ap);
}

bool log_throttle_pass(struct log_throttle *t, unsigned long long *held_back)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long next = atomic_load_explicit(&t->next_ms, memory_order_relaxed);
    /* one thread wins the slot; the others count themselves held back */
    if (now < next || !atomic_compare_exchange_strong(&t->next_ms, &next, now + LOG_THROTTLE_MS)) {
        atomic_fetch_add_explicit(&t->held, 1, memory_order_relaxed);
        return false;
    }
    *held_back = atomic_exchange(&t->held, 0);
    return true;
}
