/* Path glob matching (see glob.h). Recursive over the pattern; the depth is
 * bounded by the number of stars, and patterns come from the policy. */
#include "glob.h"

#include <stddef.h>
#include <string.h>

/* Matches one character class at *pp against ch; advances *pp past it. */
static bool s_class(const char **pp, char ch)
{
    const char *p = *pp + 1;
    bool negate = *p == '!' || *p == '^';
    if (negate)
        p++;
    bool hit = false, first = true;
    while (*p && (first || *p != ']')) {
        char lo = *p;
        if (lo == '\\' && p[1])
            lo = *++p;
        char hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            if (hi == '\\' && p[3])
                hi = p[3], p++;
            p += 2;
        }
        if (ch >= lo && ch <= hi)
            hit = true;
        p++;
        first = false;
    }
    *pp = *p == ']' ? p + 1 : p;
    return hit != negate;
}

static bool s_match(const char *p, const char *s, const char *pstart)
{
    while (*p) {
        bool seg_start = p == pstart || p[-1] == '/';
        if (p[0] == '*' && p[1] == '*' && seg_start && (p[2] == '/' || p[2] == '\0')) {
            if (p[2] == '\0')
                return true;
            const char *rest = p + 3;
            if (s_match(rest, s, pstart))
                return true;
            for (const char *q = s; *q; q++)
                if (*q == '/' && s_match(rest, q + 1, pstart))
                    return true;
            return false;
        }
        switch (*p) {
        case '*':
            while (*p == '*')
                p++;
            for (const char *q = s;; q++) {
                if (s_match(p, q, pstart))
                    return true;
                if (*q == '\0' || *q == '/')
                    return false;
            }
        case '?':
            if (*s == '\0' || *s == '/')
                return false;
            p++;
            s++;
            break;
        case '[':
            if (*s == '\0' || *s == '/' || !s_class(&p, *s))
                return false;
            s++;
            break;
        case '\\':
            if (p[1])
                p++;
            /* fall through */
        default:
            if (*p != *s)
                return false;
            p++;
            s++;
            break;
        }
    }
    return *s == '\0';
}

bool cairn_glob_match(const char *pattern, const char *path)
{
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    while (*path == '/')
        path++;
    return s_match(pattern, path, pattern);
}

bool cairn_glob_valid(const char *pattern)
{
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return false;
            p++;
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '!' || *q == '^')
                q++;
            if (*q == ']')
                q++;
            while (*q && *q != ']')
                q++;
            if (!*q)
                return false;
            p = q;
        }
    }
    return *pattern != '\0';
}
