/* chat_text: what the chat accepts as a user name, a chat text and a room
 * name. Pure functions; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "channel_name.h"
#include "chat.h"

/* Decodes one UTF-8 sequence (already validated by the JSON parser) at *p. */
static unsigned long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long c = *s++;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    c &= extra == 3 ? 0x07 : extra == 2 ? 0x0f : extra == 1 ? 0x1f : 0x7f;
    while (extra-- && (*s & 0xc0) == 0x80)
        c = (c << 6) | (*s++ & 0x3f);
    *p = s;
    return c;
}

static bool is_control(unsigned long c)
{
    return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029;
}

/* Counts characters; returns false on a control character. */
static bool text_scan(const char *s, size_t *chars, bool *all_space)
{
    const unsigned char *p = (const unsigned char *)s;
    *chars = 0;
    *all_space = true;
    while (*p) {
        unsigned long c = utf8_next(&p);
        if (is_control(c))
            return false;
        if (c != ' ')
            *all_space = false;
        (*chars)++;
    }
    return true;
}

bool chat_user_valid(const char *user)
{
    size_t chars;
    bool blank;
    return user && text_scan(user, &chars, &blank) && chars >= 1 &&
           chars <= CHAT_USER_MAX_CHARS && !blank;
}

bool chat_text_valid(const char *text)
{
    size_t chars;
    bool blank;
    return text && strlen(text) <= CHAT_TEXT_MAX_BYTES && text_scan(text, &chars, &blank) &&
           chars >= 1 && !blank;
}

bool chat_room_parse(const char *room, char *out)
{
    if (!room)
        return false;
    if (strncmp(room, "/chat/", 6) == 0)
        room += 6;
    size_t n = strlen(room);
    if (n == 0 || n > CHAT_ROOM_MAX || strchr(room, '/'))
        return false;
    char channel[CHAT_ROOM_MAX + 8];
    snprintf(channel, sizeof channel, "/chat/%s", room);
    enum channel_wild wild;
    if (channel_name_check(channel, true, &wild) != CHANNEL_BROADCAST || wild != CHANNEL_WILD_NONE)
        return false;
    memcpy(out, room, n + 1);
    return true;
}
