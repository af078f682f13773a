/* Chooses the speech-to-text engine [stt] engine names.
 *
 * TO BE MERGED: this is the `offline` branch's minimal chooser (none, offline). The `stt`
 * branch brings the full one (openai, google, audio helpers); on merge keep that one and add
 * its `cb_stt_offline` entry under #ifdef CB_HAVE_POCKETSPHINX as below. */
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "stt_int.h"

static void *none_create(const struct cb_config *cfg)
{
        static int token;

        return &token; /* no state; must not be NULL */
}

static void none_destroy(void *self)
{
}

static enum cb_result none_transcribe(void *self, const struct cb_stt_audio *audio,
                                      const struct cb_stt_request *req, json_t **result,
                                      long *retry_after_s, char *err, size_t err_size)
{
        *result = NULL;
        *retry_after_s = 0;
        snprintf(err, err_size, "no speech-to-text engine is configured ([stt] engine = none)");
        return CB_RESULT_FAIL;
}

const struct cb_stt_ops cb_stt_none = {
    .name = "none",
    .create = none_create,
    .destroy = none_destroy,
    .transcribe = none_transcribe,
};

static const struct cb_stt_ops *const engines[] = {
    &cb_stt_none,
#ifdef CB_HAVE_POCKETSPHINX
    &cb_stt_offline,
#endif
};

struct cb_stt *cb_stt_create(const struct cb_config *cfg)
{
        const char *want = cfg->stt.engine != NULL ? cfg->stt.engine : "none";
        struct cb_stt *stt = NULL;

        for (size_t i = 0; i < CB_ARRAY_LEN(engines); i++) {
                if (strcmp(engines[i]->name, want) != 0)
                        continue;
                stt = calloc(1, sizeof(*stt));
                if (stt == NULL)
                        return NULL;
                stt->ops = engines[i];
                stt->self = stt->ops->create(cfg);
                if (stt->self == NULL) {
                        free(stt);
                        return NULL;
                }
                return stt;
        }
        cb_error("stt engine %s is not part of this build", want);
        return NULL;
}

void cb_stt_destroy(struct cb_stt **sttp)
{
        struct cb_stt *stt = *sttp;

        if (stt == NULL)
                return;
        stt->ops->destroy(stt->self);
        free(stt);
        *sttp = NULL;
}
