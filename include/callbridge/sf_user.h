/* Salesforce as the signed-in user (src/crm/sf_user.c): the OAuth 2.0 web server flow's code
 * exchange (with the PKCE verifier), who the user is (userinfo), and whether the user may read
 * a record (UserRecordAccess, with the user's own token). Blocking; every failure is a
 * cb_result with a reason in `err` that never holds a token or a code. */
#ifndef CALLBRIDGE_SF_USER_H
#define CALLBRIDGE_SF_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "callbridge/config.h"
#include "callbridge/upstream.h"

#define CB_SF_USER_TOKEN_MAX 1024
#define CB_SF_USER_URL_MAX   256

/* The user's access token and the instance it works against. Wipe after use. */
struct cb_sf_user_token {
        char access_token[CB_SF_USER_TOKEN_MAX];
        char instance_url[CB_SF_USER_URL_MAX];
};

/* POST [salesforce] login_url/services/oauth2/token grant_type=authorization_code with `code`,
 * `verifier` (PKCE), `redirect_uri`, client_id and `client_secret` (NULL: none sent). OK with
 * `out` filled; FAIL when Salesforce refused (err: its `error` code, e.g. invalid_grant);
 * RETRY when it did not answer usably. */
enum cb_result cb_sf_user_exchange(const struct cb_config *cfg, const char *code,
                                   const char *verifier, const char *redirect_uri,
                                   const char *client_secret, struct cb_sf_user_token *out,
                                   char *err, size_t err_size);
/* GET <instance>/services/oauth2/userinfo: OK with the User id (`user_id`, 19 bytes: 18 and
 * NUL; 15-character ids are returned as given), FAIL (token refused, no user_id), RETRY. */
enum cb_result cb_sf_user_whoami(const struct cb_config *cfg, const struct cb_sf_user_token *t,
                                 char user_id[19], char *err, size_t err_size);
/* SELECT RecordId, HasReadAccess FROM UserRecordAccess WHERE UserId = `user_id` AND RecordId =
 * `record_id` (both escaped), with the user's token. OK with *can_read; FAIL (refused: the
 * token is no longer valid, or a malformed id), RETRY. */
enum cb_result cb_sf_user_can_read(const struct cb_config *cfg, const struct cb_sf_user_token *t,
                                   const char *user_id, const char *record_id, bool *can_read,
                                   char *err, size_t err_size);

#endif
