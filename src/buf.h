/* buf: a growable byte buffer for building JSON replies and FastCGI records.
 *
 * Threads: none of its own; a buf belongs to the thread that created it.
 * Ownership: the buf owns `data`; buf_release frees it, buf_steal hands it over.
 * Allocation failure aborts (see buf.c): replies are small and a responder that
 * cannot allocate a few KB cannot serve anyone anyway.
 */
#ifndef BAYEUX_BUF_H
#define BAYEUX_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct buf {
    char *data;    /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT { NULL, 0, 0 }

void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included), escaping as RFC 8259
 * requires; bytes >= 0x80 are copied as they are (the input is UTF-8). */
void buf_put_json_string(buf_t *b, const char *s);
void buf_reset(buf_t *b);
/* Cuts b back to its first len bytes (len <= b->len). */
void buf_truncate(buf_t *b, size_t len);
void buf_release(buf_t *b);
/* Returns the data (caller frees) and leaves b empty. Never NULL. */
char *buf_steal(buf_t *b, size_t *len);

/* Allocation helpers that abort on failure (out of memory is fatal here). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
