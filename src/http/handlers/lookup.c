/* GET /api/lookup?phone=: screen pop. The number is normalised to E.164 and answered from
 * the cache (in-process, then Redis) when cached, else from the CRM (the one request that may
 * wait on an upstream). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crm.h"
#include "callbridge/log.h"
#include "callbridge/phone.h"
#include "handlers/handlers.h"

#define PHONE_MAX  64
#define MEMO_SLOTS 256 /* per HTTP thread, direct-mapped */
#define ANSWER_MAX (1 << 20)

/* A raw `phone` as sent and what libphonenumber made of it: a softphone sends the same few
 * spellings again and again, and parsing costs more than the rest of a cached lookup. */
struct memo_slot {
        char raw[PHONE_MAX + 1];
        char region[8];
        char e164[32]; /* "" when the raw text is not a phone number */
};
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_key_create(void)
{
        (void)pthread_key_create(&memo_key, free); /* freed when the HTTP thread ends */
}

/* This thread's memo, made at its first lookup (only HTTP threads pay for one); NULL when
 * out of memory (then every number is parsed). */
static struct memo_slot *thread_memo(void)
{
        struct memo_slot *m;

        pthread_once(&memo_once, memo_key_create);
        m = pthread_getspecific(memo_key);
        if (m == NULL) {
                m = calloc(MEMO_SLOTS, sizeof(*m));
                if (m != NULL && pthread_setspecific(memo_key, m) != 0) {
                        free(m);
                        m = NULL;
                }
        }
        return m;
}

static size_t memo_index(const char *raw)
{
        size_t h = 5381;

        for (; *raw != '\0'; raw++)
                h = h * 33 + (unsigned char)*raw;
        return h % MEMO_SLOTS;
}

/* cb_phone_to_e164 through this thread's memo. 0 with `e164` filled, or -1. */
static int to_e164(const char *phone, const char *region, char *e164, size_t size)
{
        struct memo_slot *m = thread_memo();
        const char *reg = region != NULL ? region : "";

        if (m == NULL || strlen(reg) >= sizeof(m->region))
                return cb_phone_to_e164(phone, region, e164, size);
        m += memo_index(phone);
        if (strcmp(m->raw, phone) != 0 || strcmp(m->region, reg) != 0) {
                if (cb_phone_to_e164(phone, region, m->e164, sizeof(m->e164)) != 0)
                        m->e164[0] = '\0';
                cb_strlcpy(m->raw, phone, sizeof(m->raw));
                cb_strlcpy(m->region, reg, sizeof(m->region));
        }
        if (m->e164[0] == '\0' || strlen(m->e164) >= size)
                return -1;
        memcpy(e164, m->e164, strlen(m->e164) + 1);
        return 0;
}

enum MHD_Result cb_handle_lookup(struct cb_request *req)
{
        const struct cb_config *cfg = req->env->cfg;
        const char *phone = cb_request_arg(req, "phone");
        struct cb_buf body = {.max = ANSWER_MAX};
        char e164[32], err[512];
        enum cb_result r;
        enum MHD_Result ret;

        if (phone == NULL || phone[0] == '\0')
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "phone is required");
        if (strlen(phone) > PHONE_MAX)
                return cb_reply_error(req, CB_ERR_INVALID_QUERY, "phone is longer than %d bytes",
                                      PHONE_MAX);
        if (to_e164(phone, cfg->server.default_region, e164, sizeof(e164)) != 0)
                return cb_reply_error(req, CB_ERR_INVALID_PHONE, "phone is not a phone number");
        r = cb_lookup_answer(req->env->crm, cfg, e164, &body, err, sizeof(err));
        if (r != CB_RESULT_OK) {
                cb_buf_free(&body);
                cb_warn("lookup failed: %s", err);
                return cb_reply_error(req, CB_ERR_UPSTREAM_UNAVAILABLE,
                                      "the CRM cannot be asked right now; retry");
        }
        ret = cb_reply_text(req, 200, "application/json; charset=utf-8", body.data, body.len);
        cb_buf_free(&body);
        return ret;
}
