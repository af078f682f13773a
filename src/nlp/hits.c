/* Keyword hits of one live transcript segment: the rules file's dictionary terms found in it,
 * for the agent's live view to highlight. */
#include <string.h>

#include "callbridge/nlp.h"
#include "nlp_int.h"

/* Is `type` one of the rules' dictionaries (not a date, money or percent entity)? */
static bool is_dictionary(const struct cb_nlp_rules *r, const char *type)
{
        for (size_t k = 0; type != NULL && k < r->n_dicts; k++)
                if (strcmp(r->dicts[k].name, type) == 0)
                        return true;
        return false;
}

json_t *cb_nlp_keyword_hits(const struct cb_nlp_rules *rules, const char *text)
{
        json_t *analysis, *hits = json_array(), *e;
        size_t i;

        if (rules == NULL || hits == NULL)
                return hits;
        analysis = cb_nlp_analyse(rules, text, NULL);
        if (analysis == NULL) {
                json_decref(hits);
                return NULL;
        }
        json_array_foreach(json_object_get(analysis, "entities"), i, e)
        {
                const char *type = json_string_value(json_object_get(e, "type"));
                if (!is_dictionary(rules, type))
                        continue;
                if (json_array_append_new(hits, json_pack("{s:O,s:s}", "keyword",
                                                          json_object_get(e, "text"), "rule",
                                                          type)) != 0) {
                        json_decref(hits);
                        hits = NULL;
                        break;
                }
        }
        json_decref(analysis);
        return hits;
}
