/* json_check: one pass over request text — UTF-8, number literals.
 *
 * Threads: any; no state.
 */
#include "json_check.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one:
 * no overlong forms, no surrogates (U+D800..DFFF), nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;                    /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F;                    /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;                    /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F;                    /* past U+10FFFF */
    } else {
        return 0;                         /* 80..C1 and F5..FF never start one */
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

bool json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

/* True when the integer literal digits[0..n) (no sign, no leading zeros
 * removed) fits: at most `max` (a decimal string of the largest value). */
static bool digits_fit(const char *digits, size_t n, const char *max)
{
    while (n > 1 && digits[0] == '0') {
        digits++;
        n--;
    }
    size_t mlen = strlen(max);
    if (n != mlen)
        return n < mlen;
    return memcmp(digits, max, n) <= 0;
}

bool json_text_check(const char *text, size_t len, const char **why)
{
    const unsigned char *p = (const unsigned char *)text;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, len - i);
            if (!k) {
                *why = "invalid UTF-8";
                return false;
            }
            i += k;
            continue;
        }
        if (in_string) {
            if (c == '\\')
                i++;              /* the escaped character is ASCII or checked next */
            else if (c == '"')
                in_string = false;
            i++;
            continue;
        }
        if (c == '"') {
            in_string = true;
            i++;
        } else if (c == 'N' || c == 'I') {
            *why = "NaN and Infinity are not JSON";
            return false;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            bool negative = c == '-';
            size_t start = i + negative, j = start;
            bool integer = true;
            while (j < len && ((p[j] >= '0' && p[j] <= '9') || p[j] == '.' || p[j] == 'e' ||
                               p[j] == 'E' || p[j] == '+' || p[j] == '-')) {
                if (p[j] == '.' || p[j] == 'e' || p[j] == 'E')
                    integer = false;
                j++;
            }
            if (integer && j > start &&
                !digits_fit(text + start, j - start,
                            negative ? "9223372036854775808" : "18446744073709551615")) {
                *why = "integer out of the 64-bit range";
                return false;
            }
            if (j < len && negative && p[start] == 'I') {
                *why = "NaN and Infinity are not JSON";
                return false;
            }
            i = j > i ? j : i + 1;
        } else {
            i++;
        }
    }
    return true;
}
