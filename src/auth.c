/* auth: handshake secrets -> roles, and the publish/subscribe policy.
 *
 * Threads: loaded and cleared on the main thread while no other runs; read
 * by every accept thread without locks (nothing changes in between).
 * Owns: the secrets (wiped when cleared), the interned role names, the rules.
 *
 * Files are read whole at load and never again: a changed file takes effect
 * at the next start, so a half-written file cannot be seen by a handshake.
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "channel_name.h"

#define FIELDS_MAX 8

struct secret {
    const char *role;          /* interned */
    unsigned char *bytes;
    size_t len;
};

/* A channel name or pattern cut into what matching needs. */
struct pattern {
    char *text;
    size_t base;               /* length without the wildcard segment; all of it if none */
    enum channel_wild wild;
};

struct rule {
    bool allow;
    bool publish, subscribe;
    struct pattern pat;
    bool any_role;             /* ROLES was "*" */
    const char **roles;        /* interned */
    size_t nroles;
    int line;                  /* for warnings */
};

struct auth_state {
    bool have_secrets;         /* an --auth-file was loaded */
    bool required;
    bool have_policy;
    char **roles;              /* interned role names */
    size_t nroles;
    struct secret *secrets;
    size_t nsecrets;
    struct rule *rules;
    size_t nrules;
};

static struct auth_state state;
static const char anonymous[] = AUTH_ANONYMOUS;

/* ------------------------------------------------------------ helpers --- */

static const char *intern(struct auth_state *st, const char *name)
{
    if (strcmp(name, anonymous) == 0)
        return anonymous;
    for (size_t i = 0; i < st->nroles; i++)
        if (strcmp(st->roles[i], name) == 0)
            return st->roles[i];
    st->roles = xrealloc(st->roles, (st->nroles + 1) * sizeof *st->roles);
    st->roles[st->nroles] = xstrdup(name);
    return st->roles[st->nroles++];
}

static bool role_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AUTH_ROLE_MAX)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static void state_free(struct auth_state *st)
{
    for (size_t i = 0; i < st->nsecrets; i++) {
        explicit_bzero(st->secrets[i].bytes, st->secrets[i].len);
        free(st->secrets[i].bytes);
    }
    free(st->secrets);
    for (size_t i = 0; i < st->nrules; i++) {
        free(st->rules[i].pat.text);
        free(st->rules[i].roles);
    }
    free(st->rules);
    for (size_t i = 0; i < st->nroles; i++)
        free(st->roles[i]);
    free(st->roles);
    memset(st, 0, sizeof *st);
}

/* Splits line into whitespace-separated fields in place; a field starting
 * with '#' ends the line. Returns the count, FIELDS_MAX + 1 when there are
 * more than FIELDS_MAX. */
static int split_fields(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == FIELDS_MAX)
            return FIELDS_MAX + 1;
        f[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

/* Opens a configuration file; warns when every user may read it. */
static FILE *open_config(const char *path, bool secret, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "bayeux-fcgi: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
        fprintf(err, "bayeux-fcgi: warning: %s is readable by every user; "
                     "chmod o-r it\n", path);
    return f;
}

typedef int (*line_fn)(struct auth_state *st, char **fld, int n, const char *path,
                       int lineno, FILE *err);

/* Reads a configuration file line by line, handing each non-empty line's
 * fields to fn until one fails. Returns 0, or -1 after a message on err.
 * A secret file's line buffer is wiped before it is freed. */
static int read_config(struct auth_state *st, const char *path, bool secret, line_fn fn, FILE *err)
{
    FILE *f = open_config(path, secret, err);
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *fld[FIELDS_MAX];
        int n = split_fields(line, fld);
        if (n > 0)
            rc = fn(st, fld, n, path, lineno, err);
    }
    if (rc == 0 && ferror(f)) {
        fprintf(err, "bayeux-fcgi: cannot read %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (line && secret)
        explicit_bzero(line, cap);
    free(line);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------ secrets --- */

static int secret_line(struct auth_state *st, char **fld, int n, const char *path, int lineno,
                       FILE *err)
{
    if (n != 2) {
        fprintf(err, "%s:%d: expected \"ROLE SECRET\"\n", path, lineno);
        return -1;
    }
    if (!role_name_valid(fld[0])) {
        fprintf(err, "%s:%d: role '%s' is not 1-%d of [A-Za-z0-9_.-]\n", path, lineno,
                fld[0], AUTH_ROLE_MAX);
        return -1;
    }
    size_t len = strlen(fld[1]);
    if (len < AUTH_SECRET_MIN || len > AUTH_SECRET_MAX) {
        /* handshakes are not throttled here: a short secret can be guessed */
        fprintf(err, "%s:%d: the secret of role '%s' must be %d-%d bytes\n", path, lineno,
                fld[0], AUTH_SECRET_MIN, AUTH_SECRET_MAX);
        return -1;
    }
    for (size_t i = 0; i < st->nsecrets; i++) {
        if (st->secrets[i].len == len && memcmp(st->secrets[i].bytes, fld[1], len) == 0) {
            fprintf(err, "%s:%d: this secret is given twice (roles '%s' and '%s')\n",
                    path, lineno, st->secrets[i].role, fld[0]);
            return -1;
        }
    }
    st->secrets = xrealloc(st->secrets, (st->nsecrets + 1) * sizeof *st->secrets);
    struct secret *s = &st->secrets[st->nsecrets++];
    s->role = intern(st, fld[0]);
    s->bytes = xmalloc(len);
    memcpy(s->bytes, fld[1], len);
    s->len = len;
    return 0;
}

static int load_secrets(struct auth_state *st, const char *path, FILE *err)
{
    int rc = read_config(st, path, true, secret_line, err);
    if (rc == 0 && st->nsecrets == 0) {
        fprintf(err, "%s: no \"ROLE SECRET\" line\n", path);
        rc = -1;
    }
    st->have_secrets = rc == 0;
    return rc;
}

/* ------------------------------------------------------------- policy --- */

/* True when a comma list has an empty item ("a,,b", ",a", "a,"). */
static bool list_has_empty(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || s[0] == ',' || s[n - 1] == ',' || strstr(s, ",,") != NULL;
}

static int parse_actions(char *s, struct rule *r)
{
    if (list_has_empty(s))
        return -1;
    for (char *save = NULL, *a = strtok_r(s, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (strcmp(a, "publish") == 0)
            r->publish = true;
        else if (strcmp(a, "subscribe") == 0)
            r->subscribe = true;
        else
            return -1;
    }
    return r->publish || r->subscribe ? 0 : -1;
}

static int parse_roles(struct auth_state *st, char *s, struct rule *r)
{
    if (strcmp(s, "*") == 0) {
        r->any_role = true;
        return 0;
    }
    if (list_has_empty(s))
        return -1;
    for (char *save = NULL, *a = strtok_r(s, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (!role_name_valid(a))
            return -1;
        r->roles = xrealloc(r->roles, (r->nroles + 1) * sizeof *r->roles);
        r->roles[r->nroles++] = intern(st, a);
    }
    return r->nroles ? 0 : -1;
}

/* Length of a valid pattern without its final wildcard segment and slash. */
static size_t pattern_base(const char *text, enum channel_wild wild)
{
    size_t n = strlen(text);
    return wild == CHANNEL_WILD_ONE ? n - 2 : wild == CHANNEL_WILD_DEEP ? n - 3 : n;
}

/* Parses one policy line already split into n fields; 0 or -1 after a message. */
static int parse_rule(struct auth_state *st, char **fld, int n, struct rule *r,
                      const char *path, int lineno, FILE *err)
{
    memset(r, 0, sizeof *r);
    r->line = lineno;
    if (n != 4) {
        fprintf(err, "%s:%d: expected \"allow|deny ACTIONS PATTERN ROLES\"\n", path, lineno);
        return -1;
    }
    if (strcmp(fld[0], "allow") == 0) {
        r->allow = true;
    } else if (strcmp(fld[0], "deny") != 0) {
        fprintf(err, "%s:%d: '%s' is neither allow nor deny\n", path, lineno, fld[0]);
        return -1;
    }
    if (parse_actions(fld[1], r) < 0) {
        fprintf(err, "%s:%d: ACTIONS must be publish, subscribe or publish,subscribe\n",
                path, lineno);
        return -1;
    }
    enum channel_wild wild;
    enum channel_kind kind = channel_name_check(fld[2], true, &wild);
    if (kind == CHANNEL_INVALID) {
        fprintf(err, "%s:%d: '%s' is not a channel name or pattern\n", path, lineno, fld[2]);
        return -1;
    }
    if (kind == CHANNEL_META) {
        fprintf(err, "%s:%d: '%s': clients never publish or subscribe to /meta channels; "
                     "no rule applies there\n", path, lineno, fld[2]);
        return -1;
    }
    if (parse_roles(st, fld[3], r) < 0) {
        fprintf(err, "%s:%d: ROLES must be * or a comma list of names of [A-Za-z0-9_.-]\n",
                path, lineno);
        free(r->roles);
        r->roles = NULL;
        return -1;
    }
    r->pat = (struct pattern){ .text = xstrdup(fld[2]), .wild = wild,
                               .base = pattern_base(fld[2], wild) };
    return 0;
}

static int rule_line(struct auth_state *st, char **fld, int n, const char *path, int lineno,
                     FILE *err)
{
    struct rule r;
    int rc = parse_rule(st, fld, n, &r, path, lineno, err);
    if (rc == 0) {
        st->rules = xrealloc(st->rules, (st->nrules + 1) * sizeof *st->rules);
        st->rules[st->nrules++] = r;
    }
    return rc;
}

static int load_policy(struct auth_state *st, const char *path, FILE *err)
{
    int rc = read_config(st, path, false, rule_line, err);
    st->have_policy = rc == 0;
    return rc;
}

/* A rule naming a role that no secret gives can never apply: a typo. */
static void warn_unknown_roles(const struct auth_state *st, const char *policy_file, FILE *err)
{
    for (size_t i = 0; i < st->nrules; i++) {
        const struct rule *r = &st->rules[i];
        for (size_t j = 0; j < r->nroles; j++) {
            if (r->roles[j] == anonymous)
                continue;
            bool given = false;
            for (size_t k = 0; k < st->nsecrets && !given; k++)
                given = st->secrets[k].role == r->roles[j];
            if (!given)
                fprintf(err, "%s:%d: warning: no secret gives role '%s'%s\n", policy_file,
                        r->line, r->roles[j],
                        st->have_secrets ? "" : " (without --auth-file every session is anonymous)");
        }
    }
}

int auth_load(const char *auth_file, const char *policy_file, bool required, FILE *err)
{
    struct auth_state st = { .required = required };
    auth_clear();
    if (required && !auth_file) {
        fprintf(err, "bayeux-fcgi: --auth-required needs --auth-file\n");
        return -1;
    }
    if ((auth_file && load_secrets(&st, auth_file, err) < 0) ||
        (policy_file && load_policy(&st, policy_file, err) < 0)) {
        state_free(&st);
        return -1;
    }
    if (policy_file)
        warn_unknown_roles(&st, policy_file, err);
    state = st;
    return 0;
}

void auth_clear(void)
{
    state_free(&state);
}

bool auth_has_policy(void)
{
    return state.have_policy;
}

/* ---------------------------------------------------------- handshake --- */

/* Compares a candidate with a secret in time that depends only on their
 * lengths, never on where they differ. */
static bool secret_equal(const unsigned char *cand, size_t clen, const struct secret *s)
{
    unsigned char diff = clen != s->len;
    for (size_t i = 0; i < s->len; i++)
        diff |= s->bytes[i] ^ (i < clen ? cand[i] : 0);
    return diff == 0;
}

enum bayeux_error auth_handshake(struct json_object *ext, const char **role)
{
    *role = anonymous;
    if (!state.have_secrets)
        return BERR_NONE;
    struct json_object *a;
    if (!ext || !json_object_is_type(ext, json_type_object) ||
        !json_object_object_get_ex(ext, "auth", &a))
        return state.required ? BERR_HANDSHAKE_DENIED : BERR_NONE;
    if (!json_object_is_type(a, json_type_string))
        return BERR_HANDSHAKE_DENIED;
    const unsigned char *cand = (const unsigned char *)json_object_get_string(a);
    size_t clen = (size_t)json_object_get_string_len(a);
    /* every secret is compared, so the time does not tell which one matched */
    const char *found = NULL;
    for (size_t i = 0; i < state.nsecrets; i++) {
        bool eq = secret_equal(cand, clen, &state.secrets[i]);
        if (eq && !found)
            found = state.secrets[i].role;
    }
    if (!found)
        return BERR_HANDSHAKE_DENIED;
    *role = found;
    return BERR_NONE;
}

/* ------------------------------------------------------------- checks --- */

static bool rule_has_role(const struct rule *r, const char *role)
{
    if (r->any_role)
        return true;
    for (size_t i = 0; i < r->nroles; i++)
        if (strcmp(r->roles[i], role) == 0)
            return true;
    return false;
}

/* True when channel name x (of length xl) is y or lies below y. */
static bool at_or_below(const char *x, size_t xl, const char *y, size_t yl)
{
    return xl >= yl && memcmp(x, y, yl) == 0 && (xl == yl || x[yl] == '/');
}

/* True when every channel that pattern s matches is matched by p. */
static bool covers(const struct pattern *p, const struct pattern *s)
{
    switch (s->wild) {
    case CHANNEL_WILD_NONE:
        return channel_name_matches(p->text, s->text);
    case CHANNEL_WILD_ONE:
        if (p->wild == CHANNEL_WILD_ONE)
            return p->base == s->base && memcmp(p->text, s->text, p->base) == 0;
        return p->wild == CHANNEL_WILD_DEEP && at_or_below(s->text, s->base, p->text, p->base);
    default:
        return p->wild == CHANNEL_WILD_DEEP && at_or_below(s->text, s->base, p->text, p->base);
    }
}

/* True when some channel is matched by both p and s. */
static bool meets(const struct pattern *p, const struct pattern *s)
{
    if (s->wild == CHANNEL_WILD_NONE)
        return channel_name_matches(p->text, s->text);
    if (p->wild == CHANNEL_WILD_NONE)
        return channel_name_matches(s->text, p->text);
    if (p->wild == CHANNEL_WILD_ONE && s->wild == CHANNEL_WILD_ONE)
        return p->base == s->base && memcmp(p->text, s->text, p->base) == 0;
    if (p->wild == CHANNEL_WILD_ONE)   /* its channels lie one below p's base */
        return at_or_below(p->text, p->base, s->text, s->base);
    if (s->wild == CHANNEL_WILD_ONE)
        return at_or_below(s->text, s->base, p->text, p->base);
    return at_or_below(p->text, p->base, s->text, s->base) ||
           at_or_below(s->text, s->base, p->text, p->base);
}

bool auth_may_publish(const char *role, const char *channel)
{
    if (!state.have_policy)
        return true;
    if (!role)
        role = anonymous;
    for (size_t i = 0; i < state.nrules; i++) {
        const struct rule *r = &state.rules[i];
        if (r->publish && rule_has_role(r, role) && channel_name_matches(r->pat.text, channel))
            return r->allow;
    }
    return false;
}

bool auth_may_subscribe(const char *role, const char *pattern)
{
    if (!state.have_policy)
        return true;
    if (!role)
        role = anonymous;
    enum channel_wild wild;
    if (channel_name_check(pattern, true, &wild) == CHANNEL_INVALID)
        return false;
    struct pattern s = { .text = (char *)pattern, .wild = wild,
                         .base = pattern_base(pattern, wild) };
    /* a deny that meets part of the subscription refuses it whole: what it
     * denies would otherwise arrive through a broader allow further down */
    for (size_t i = 0; i < state.nrules; i++) {
        const struct rule *r = &state.rules[i];
        if (!r->subscribe || !rule_has_role(r, role))
            continue;
        if (r->allow ? covers(&r->pat, &s) : meets(&r->pat, &s))
            return r->allow;
    }
    return false;
}
