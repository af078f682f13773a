/* [nlp] redact applied to a speech result before anything stores, analyses or sends it
 * (stt.transcribe): the analysis engines, the sealed document, the API and the CRM only ever
 * see the tokens. With [nlp] redact_keep_original the result as the engine gave it is kept
 * for the sealed document (encrypted like the recordings), nowhere else. */
#include "callbridge/config.h"
#include "callbridge/redact.h"
#include "kinds.h"

int cb_job_redact_result(const struct cb_config *cfg, json_t *result, json_t **original)
{
        unsigned kinds = 0, counts[CB_REDACT_NKINDS] = {0};
        char err[128];
        int n;

        *original = NULL;
        if (cb_redact_parse(cfg->nlp.redact, &kinds, err, sizeof(err)) != 0)
                kinds = CB_REDACT_ALL; /* --check-config refuses this; never fail open */
        if (kinds == 0)
                return 0;
        if (cfg->nlp.redact_keep_original && (*original = json_deep_copy(result)) == NULL)
                return -1;
        n = cb_redact_result(result, kinds, cfg->server.default_region, counts);
        if (n < 0) {
                json_decref(*original);
                *original = NULL;
                return -1;
        }
        cb_redact_count(counts);
        if (n == 0) { /* nothing to hide: nothing to keep */
                json_decref(*original);
                *original = NULL;
        }
        return n;
}
