/* xmlcheck.h — a tiny strict well-formedness check for the XML the report
 * writes (SVG): balanced and properly nested elements, quoted attributes,
 * no duplicate attribute on one element, known entities only, no raw '<'
 * or '&' in text, exactly one root element. Enough to catch what a
 * hand-written SVG writer gets wrong; not a validating parser. Header-only,
 * for tests. */
#ifndef GPSC_TEST_XMLCHECK_H
#define GPSC_TEST_XMLCHECK_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Returns 0 when s is well-formed, else the byte offset + 1 of the first
 * problem, with a message in err. */
static inline long xmlcheck(const char *s, char *err, size_t errsz)
{
    char stack[64][64];
    int depth = 0, roots = 0;
    const char *p = s;
#define XFAIL(...)                                                                                 \
    do {                                                                                           \
        snprintf(err, errsz, __VA_ARGS__);                                                         \
        return (long)(p - s) + 1;                                                                  \
    } while (0)
    while (*p) {
        if (*p == '&') {
            const char *e = strchr(p, ';');
            if (!e || e - p > 10) XFAIL("bare '&'");
            size_t n = (size_t)(e - p - 1);
            if (!((n == 3 && !strncmp(p + 1, "amp", 3)) || (n == 2 && !strncmp(p + 1, "lt", 2)) ||
                  (n == 2 && !strncmp(p + 1, "gt", 2)) || (n == 4 && !strncmp(p + 1, "quot", 4)) ||
                  (n == 4 && !strncmp(p + 1, "apos", 4)) ||
                  (n >= 2 && p[1] == '#' && strspn(p + 2, "0123456789") == n - 1)))
                XFAIL("unknown entity");
            p = e + 1;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && !isspace((unsigned char)*p)) XFAIL("text outside the root element");
            p++;
            continue;
        }
        if (!strncmp(p, "<?", 2)) {
            const char *e = strstr(p, "?>");
            if (!e || depth > 0 || roots > 0) XFAIL("misplaced processing instruction");
            p = e + 2;
            continue;
        }
        if (!strncmp(p, "<!--", 4)) {
            const char *e = strstr(p + 4, "-->");
            if (!e) XFAIL("unterminated comment");
            p = e + 3;
            continue;
        }
        bool closing = p[1] == '/';
        const char *q = p + (closing ? 2 : 1);
        size_t nl = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.");
        if (nl == 0 || nl >= 64 || !isalpha((unsigned char)q[0])) XFAIL("bad element name");
        char name[64];
        memcpy(name, q, nl);
        name[nl] = '\0';
        q += nl;
        if (closing) {
            while (isspace((unsigned char)*q))
                q++;
            if (*q != '>') XFAIL("bad closing tag");
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
                XFAIL("</%s> does not close <%s>", name, depth ? stack[depth - 1] : "");
            depth--;
            p = q + 1;
            continue;
        }
        /* attributes */
        char seen[32][64];
        int nseen = 0;
        for (;;) {
            size_t ws = strspn(q, " \t\r\n");
            q += ws;
            if (*q == '>' || (q[0] == '/' && q[1] == '>')) break;
            if (ws == 0) XFAIL("attributes need white space between them");
            size_t an =
                strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.");
            if (an == 0 || an >= 64) XFAIL("bad attribute name");
            char an_s[64];
            memcpy(an_s, q, an);
            an_s[an] = '\0';
            for (int i = 0; i < nseen; i++)
                if (!strcmp(seen[i], an_s)) XFAIL("duplicate attribute %s", an_s);
            if (nseen < 32) strcpy(seen[nseen++], an_s);
            q += an;
            if (*q != '=' || (q[1] != '"' && q[1] != '\''))
                XFAIL("attribute %s is not quoted", an_s);
            char quote = q[1];
            const char *v = q + 2, *e = strchr(v, quote);
            if (!e) XFAIL("unterminated attribute value");
            for (const char *c = v; c < e; c++) {
                if (*c == '<') XFAIL("'<' inside an attribute value");
                if (*c == '&') {
                    const char *sc = memchr(c, ';', (size_t)(e - c));
                    if (!sc) XFAIL("bare '&' in an attribute value");
                }
            }
            q = e + 1;
        }
        if (depth == 0) {
            if (roots++ > 0) XFAIL("a second root element");
        }
        if (*q == '/') {
            p = q + 2;
            continue;
        }
        if (depth >= 64) XFAIL("nesting too deep");
        strcpy(stack[depth++], name);
        p = q + 1;
    }
    if (depth != 0) {
        snprintf(err, errsz, "<%s> is not closed", stack[depth - 1]);
        return (long)(p - s) + 1;
    }
    if (roots != 1) {
        snprintf(err, errsz, "no root element");
        return (long)(p - s) + 1;
    }
#undef XFAIL
    return 0;
}

/* Occurrences of needle in s. */
static inline int xmlcount(const char *s, const char *needle)
{
    int n = 0;
    size_t l = strlen(needle);
    for (const char *p = strstr(s, needle); p; p = strstr(p + l, needle))
        n++;
    return n;
}

#endif
