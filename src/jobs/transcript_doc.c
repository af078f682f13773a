/* What the batch and the live transcript have in common once analysed: the sealed document,
 * the row's analysis fields, and the clean-up of the document the save did not keep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/crypto.h"
#include "callbridge/jobs.h"
#include "callbridge/recordings.h"
#include "callbridge/storage.h"
#include "callbridge/store_transcripts.h"
#include "kinds.h"

enum cb_result cb_job_transcript_seal(struct cb_job *job, const json_t *doc, const char *what,
                                      char id[CB_UUID_LEN + 1], char key[64])
{
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        enum cb_result r = CB_RESULT_RETRY;
        char err[256];

        cb_uuid_v4(id);
        snprintf(key, 64, "transcripts/%s", id);
        if (cb_job_note_blob(job, key) != CB_RESULT_OK)
                goto out;
        if (text == NULL ||
            cb_rec_doc_put(job->env->rec, key, text, strlen(text), err, sizeof(err)) != 0) {
                snprintf(job->error, sizeof(job->error), "storing the %s: %s", what,
                         text ? err : "out of memory");
                goto out;
        }
        r = CB_RESULT_OK;
out:
        free(text);
        return r;
}

void cb_job_transcript_row_analysis(struct cb_transcript_row *row, const json_t *analysis)
{
        const json_t *sent = json_object_get(analysis, "sentiment");

        row->words = (int)json_integer_value(json_object_get(analysis, "words"));
        row->sentiment = json_number_value(json_object_get(sent, "score"));
        row->label = json_string_value(json_object_get(sent, "label")) ?: "neutral";
        row->intent = json_string_value(json_object_get(analysis, "intent"));
        row->tags = json_object_get(analysis, "tags");
        row->keywords = json_object_get(analysis, "keywords");
        row->entities = json_object_get(analysis, "entities");
        row->follow_ups = json_object_get(analysis, "follow_ups");
        row->transcribed_us = cb_now_us();
}

void cb_job_transcript_settle(struct cb_job *job, enum cb_qs qs, const char *key,
                              const char *old_key)
{
        struct cb_storage *st = job->env->rec->storage;
        char err[256];

        if (qs == CB_QS_NO_RESULTS || (qs > 0 && old_key[0] != '\0'))
                st->ops->remove(st->self, qs > 0 ? old_key : key, err, sizeof(err));
}
