/* What a user signed in with the CRM may read, asked of the CRM as that user (the provider's
 * user_can_read with the user's own credential, opened from the session row) and remembered
 * briefly per instance, so a player page and its audio requests ask once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "callbridge/log.h"
#include "session.h"

#define SLOTS        256
#define ALLOW_TTL_US (60 * 1000000LL)
#define DENY_TTL_US  (10 * 1000000LL)

struct answer {
        char session[65];
        char record[24];
        bool can_read;
        int64_t expires_us;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct answer answers[SLOTS];

static size_t slot_of(const char *session, const char *record)
{
        size_t h = 5381;

        for (const char *p = session; *p != '\0'; p++)
                h = h * 33 + (unsigned char)*p;
        for (const char *p = record; *p != '\0'; p++)
                h = h * 33 + (unsigned char)*p;
        return h % SLOTS;
}

static bool remembered(const char *session, const char *record, bool *can_read)
{
        struct answer *a;
        bool hit = false;

        pthread_mutex_lock(&lock);
        a = &answers[slot_of(session, record)];
        if (a->expires_us > cb_mono_us() && strcmp(a->session, session) == 0 &&
            strcmp(a->record, record) == 0) {
                *can_read = a->can_read;
                hit = true;
        }
        pthread_mutex_unlock(&lock);
        return hit;
}

static void remember(const char *session, const char *record, bool can_read)
{
        struct answer *a;

        pthread_mutex_lock(&lock);
        a = &answers[slot_of(session, record)];
        cb_strlcpy(a->session, session, sizeof(a->session));
        cb_strlcpy(a->record, record, sizeof(a->record));
        a->can_read = can_read;
        a->expires_us = cb_mono_us() + (can_read ? ALLOW_TTL_US : DENY_TTL_US);
        pthread_mutex_unlock(&lock);
}

/* The credential of session `id` into `cred`: CB_ERR_NONE, UNAUTHORIZED (none kept or it does
 * not open) or DB_UNAVAILABLE. */
static enum cb_err user_cred(struct cb_http_env *env, const char *id, char *cred, size_t size)
{
        struct cb_db *db = cb_db_acquire(env->pool, CB_DB_WAIT_MS);
        char *sealed = NULL;
        enum cb_qs qs = CB_QS_HARD_ERROR;
        bool ok;

        if (db != NULL)
                qs = cb_store_session_crm_cred(db, id, &sealed);
        cb_db_release(&db);
        if (qs < 0)
                return CB_ERR_DB_UNAVAILABLE;
        ok = sealed != NULL && cb_session_cred_open(env->rec, sealed, cred, size);
        free(sealed);
        return ok ? CB_ERR_NONE : CB_ERR_UNAUTHORIZED;
}

enum cb_err cb_record_access_check(struct cb_http_env *env, const struct cb_session_info *s,
                                   const char *record_id, bool *can_read)
{
        const struct cb_crm *crm = env->crm;
        char cred[CB_CRM_USER_CRED_MAX];
        enum cb_result r;
        enum cb_err err;
        char why[256];

        *can_read = false;
        /* Only a session signed in with the CRM that runs can be asked about its records. */
        if (crm->ops->user_can_read == NULL || strcmp(s->row.how, crm->ops->name) != 0 ||
            s->row.crm_user_id[0] == '\0' || record_id == NULL || strlen(record_id) >= 24 ||
            !cb_str_charset(record_id, 23, ""))
                return CB_ERR_NONE;
        if (remembered(s->hash_hex, record_id, can_read))
                return CB_ERR_NONE;
        err = user_cred(env, s->row.id, cred, sizeof(cred));
        if (err == CB_ERR_UNAUTHORIZED)
                return CB_ERR_NONE; /* no credential kept: no CRM sharing */
        if (err != CB_ERR_NONE)
                return err;
        r = crm->ops->user_can_read(crm->self, cred, s->row.crm_user_id, record_id, can_read, why,
                                    sizeof(why));
        OPENSSL_cleanse(cred, sizeof(cred));
        if (r == CB_RESULT_RETRY || r == CB_RESULT_WAIT) {
                cb_warn("recording access: %s", why);
                return CB_ERR_UPSTREAM_UNAVAILABLE;
        }
        if (r == CB_RESULT_FAIL)
                cb_info("recording access: %s", why);
        remember(s->hash_hex, record_id, *can_read);
        return CB_ERR_NONE;
}
