/* channel_name: channel grammar, classification and wildcard matching.
 *
 * Threads: any; pure functions.
 */
#include "channel_name.h"

#include <string.h>

static bool segment_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("-_!~()$@.", c) != NULL;
}

enum channel_kind channel_name_check(const char *name, bool allow_wild, enum channel_wild *wild)
{
    enum channel_wild w = CHANNEL_WILD_NONE;
    if (wild)
        *wild = CHANNEL_WILD_NONE;
    if (!name || name[0] != '/')
        return CHANNEL_INVALID;
    size_t len = strlen(name);
    if (len > CHANNEL_NAME_MAX)
        return CHANNEL_INVALID;

    int depth = 0;
    const char *p = name;
    while (*p) {
        /* p points at a '/' */
        const char *seg = p + 1;
        const char *end = seg;
        while (*end && *end != '/')
            end++;
        size_t n = (size_t)(end - seg);
        if (n == 0)
            return CHANNEL_INVALID;   /* empty segment or trailing slash */
        if (++depth > CHANNEL_DEPTH_MAX)
            return CHANNEL_INVALID;
        if ((n == 1 && seg[0] == '*') || (n == 2 && seg[0] == '*' && seg[1] == '*')) {
            if (!allow_wild || *end != '\0')
                return CHANNEL_INVALID;  /* wildcards only as the last segment */
            w = n == 1 ? CHANNEL_WILD_ONE : CHANNEL_WILD_DEEP;
        } else {
            for (const char *c = seg; c < end; c++)
                if (!segment_char((unsigned char)*c))
                    return CHANNEL_INVALID;
        }
        p = end;
    }
    if (wild)
        *wild = w;
    if (strncmp(name, "/meta/", 6) == 0 || strcmp(name, "/meta") == 0)
        return CHANNEL_META;
    if (strncmp(name, "/service/", 9) == 0 || strcmp(name, "/service") == 0)
        return CHANNEL_SERVICE;
    return CHANNEL_BROADCAST;
}

size_t channel_name_expand(const char *name, const char **out, size_t max_out,
                           char *scratch, size_t scratch_len)
{
    size_t n = 0, used = 0;
    size_t len = strlen(name);

#define EMIT(prefix_len, suffix)                                              \
    do {                                                                      \
        size_t sl = strlen(suffix);                                           \
        if (n == max_out || used + (prefix_len) + sl + 1 > scratch_len)       \
            return n;                                                         \
        memcpy(scratch + used, name, (prefix_len));                           \
        memcpy(scratch + used + (prefix_len), suffix, sl + 1);                \
        out[n++] = scratch + used;                                            \
        used += (prefix_len) + sl + 1;                                        \
    } while (0)

    EMIT(len, "");
    /* the parent of the last segment, with the "*" and "**" wildcards */
    const char *last = strrchr(name, '/');
    size_t plen = (size_t)(last - name);
    EMIT(plen, "/*");
    EMIT(plen, "/**");
    /* every further ancestor with the "**" wildcard */
    while (plen > 0) {
        size_t q = plen;
        while (q > 0 && name[q - 1] != '/')
            q--;
        plen = q - 1;   /* position of the '/' that starts this segment */
        EMIT(plen, "/**");
    }
#undef EMIT
    return n;
}

bool channel_name_matches(const char *pattern, const char *name)
{
    size_t plen = strlen(pattern);
    if (plen >= 2 && strcmp(pattern + plen - 2, "/*") == 0) {
        size_t base = plen - 1;          /* keeps the trailing '/' */
        return strncmp(pattern, name, base) == 0 && name[base] != '\0' &&
               strchr(name + base, '/') == NULL;
    }
    if (plen >= 3 && strcmp(pattern + plen - 3, "/**") == 0) {
        size_t base = plen - 2;
        return strncmp(pattern, name, base) == 0 && name[base] != '\0';
    }
    return strcmp(pattern, name) == 0;
}
