/* json_check: what json-c lets through that a Bayeux server must not —
 * checked on the request text before parsing, and on strings after.
 *
 * Threads: any; no state.
 *
 * json-c (even with JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
 * accepts NaN and Infinity, which it would copy into replies as invalid
 * JSON; checks only the shape of UTF-8 sequences (overlong forms,
 * surrogates and code points past U+10FFFF pass); and silently clamps
 * integers beyond 64 bits. Strings may hold "\u0000", which C code reading
 * them as NUL-terminated would cut short.
 */
#ifndef BAYEUX_JSON_CHECK_H
#define BAYEUX_JSON_CHECK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Scans JSON text: valid UTF-8 (RFC 3629) everywhere, no NaN/Infinity
 * literals, integers within int64 (negative) or uint64 (positive). Returns
 * true, or false with *why set to a static reason. Does not validate the
 * JSON grammar itself (the parser does). */
bool json_text_check(const char *text, size_t len, const char **why);

/* True when the n bytes at s are valid UTF-8 (RFC 3629). */
bool json_utf8_valid(const char *s, size_t n);

/* The value of a string object as a C string, or NULL when v is not a
 * string or holds a NUL byte (which would cut it short). */
static inline const char *json_cstr(struct json_object *v)
{
    if (!v || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

#endif
