/* auth: who a session is (its role, from the handshake's ext.auth and the
 * --auth-file secrets) and what a role may do (the --policy rules for
 * publish and subscribe).
 *
 * Threads: auth_load and auth_clear on the main thread, before the accept
 * threads start and after they stop; everything here is immutable in
 * between, so any thread calls the checks without a lock.
 * Ownership: the module owns the secrets, the interned role names and the
 * rules; a role pointer it hands out stays valid until auth_clear.
 */
#ifndef BAYEUX_AUTH_H
#define BAYEUX_AUTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

/* The role of a session that handshook without ext.auth. */
#define AUTH_ANONYMOUS "anonymous"

#define AUTH_ROLE_MAX 64        /* longest role name, bytes */
#define AUTH_SECRET_MIN 16      /* shortest secret accepted, bytes */
#define AUTH_SECRET_MAX 1024    /* longest secret accepted, bytes */

/* Reads the secrets file (lines "ROLE SECRET") and the policy file (lines
 * "allow|deny ACTIONS PATTERN ROLES"); either may be NULL. `required`
 * refuses handshakes without ext.auth and needs an auth file. Replaces what
 * an earlier call loaded. Returns 0, or -1 after writing "FILE:LINE: why"
 * to err (nothing is then loaded). Warnings (a file others may read, a role
 * no secret gives) go to err too and do not fail. */
int auth_load(const char *auth_file, const char *policy_file, bool required, FILE *err);

/* Decides a /meta/handshake from its `ext` member (NULL when absent).
 * Returns BERR_NONE with *role set (the module's string), or
 * BERR_HANDSHAKE_DENIED: ext.auth was not a string, matched no secret, or was
 * missing under --auth-required. Secrets are compared in constant time. */
enum bayeux_error auth_handshake(struct json_object *ext, const char **role);

/* True when `role` may publish to the concrete channel `channel`. Without a
 * policy every channel is allowed (the /meta and grammar checks of policy.c
 * come first and are not repeated here). A NULL role counts as anonymous. */
bool auth_may_publish(const char *role, const char *channel);

/* True when `role` may subscribe to `pattern` (a valid name, maybe ending
 * in * or **): the first rule that covers every channel of the pattern
 * allows it, unless a deny rule that meets any of them comes first. */
bool auth_may_subscribe(const char *role, const char *pattern);

/* True when a policy file is loaded. */
bool auth_has_policy(void);

/* Frees everything auth_load loaded; afterwards all is allowed again. */
void auth_clear(void);

#endif
