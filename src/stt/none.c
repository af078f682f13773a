/* The `none` engine: every transcription FAILs with a clear reason. The template for a new
 * engine: copy this file, fill the ops, list them in stt.c. */
#include <stdio.h>
#include <stdlib.h>

#include "stt_int.h"

static void *none_create(const struct cb_config *cfg)
{
        static int token;

        (void)cfg;
        return &token; /* no state; never freed */
}

static void none_destroy(void *self)
{
        (void)self;
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
    .metrics = NULL,
};
