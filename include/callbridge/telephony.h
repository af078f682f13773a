/* The telephony interface. A provider is one src/telephony/<name>.c defining a
 * `struct cb_telephony_ops`; src/telephony/none.c is the template. */
#ifndef CALLBRIDGE_TELEPHONY_H
#define CALLBRIDGE_TELEPHONY_H

#include <jansson.h>
#include <stddef.h>

#include "callbridge/config.h"
#include "callbridge/util.h"

struct cb_telephony_ops {
        const char *name;
        /* NULL (reason logged) when the configuration is unusable; destroy(NULL) is safe. */
        void *(*create)(const struct cb_config *cfg);
        void (*destroy)(void *self);
        /* Place the outbound call described by `call` (cb_store_call_for_job JSON). On OK
         * `provider_call_id` holds the provider's id ("" when the softphone dials itself).
         * Must not place a second call when retried after an ambiguous failure. */
        enum cb_result (*place_call)(void *self, const json_t *call, char *provider_call_id,
                                     size_t id_size, char *err, size_t err_size);
};

struct cb_telephony {
        const struct cb_telephony_ops *ops;
        void *self;
};

/* The provider the configuration selects ([twilio] enabled → twilio, else none). */
struct cb_telephony *cb_telephony_create(const struct cb_config *cfg);
void cb_telephony_destroy(struct cb_telephony **tel);

extern const struct cb_telephony_ops cb_telephony_none;

#endif
