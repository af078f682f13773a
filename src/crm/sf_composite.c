/* Salesforce's Composite resource carrying sObject Collections upserts: the collections of a
 * batch (transcript parts, call log Tasks, follow-up Tasks) in one POST composite — one API
 * request for up to 5 collections of up to 200 records — in dependency order, with
 * collateSubrequests false so that Salesforce runs them in that order. Each record keeps its
 * own UpsertResult (allOrNone false at both levels): one bad record never fails or repeats the
 * others, and a subrequest's own error goes to its records only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/log.h"
#include "sf.h"

#define COLLECTION_MAX 200 /* records a Collections subrequest may carry */
#define COMPOSITE_MAX  5   /* Collections subrequests a Composite request may carry */
#define ROUNDS         2   /* a record sent again after a refused field, owner or link */

static const char *str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* One Collections subrequest: `k` items of collection `coll`, their indexes from `idx`. */
struct chunk {
        size_t coll;
        const size_t *idx;
        size_t k;
};

/* The subrequest of `c` as a new JSON object; NULL when out of memory. */
static json_t *subrequest(struct sf *sf, const struct sf_collection *col, const struct chunk *c,
                          size_t ref)
{
        json_t *records = json_array(), *sub;
        char url[512], refid[32];

        for (size_t j = 0; records != NULL && j < c->k; j++) {
                const struct sf_upsert_item *it = &col->items[c->idx[j]];
                json_t *rec = json_copy(it->record);
                if (rec == NULL || json_array_append_new(records, rec) != 0) {
                        json_decref(records);
                        return NULL;
                }
                json_object_set_new(rec, "attributes", json_pack("{s:s}", "type", col->object));
                json_object_set_new(rec, col->field, json_string(it->value));
        }
        snprintf(url, sizeof(url), "/services/data/%s/composite/sobjects/%s/%s",
                 sf->cfg->salesforce.api_version, col->object, col->field);
        snprintf(refid, sizeof(refid), "c%zu", ref);
        sub = json_pack("{s:s,s:s,s:s,s:{s:b,s:o}}", "method", "PATCH", "url", url, "referenceId",
                        refid, "body", "allOrNone", 0, "records", records);
        return sub;
}

/* Every item of `c` gets outcome `r` with `err`. */
static void fail_chunk(struct sf_collection *colls, const struct chunk *c, enum cb_result r,
                       const char *err)
{
        for (size_t j = 0; j < c->k; j++) {
                struct sf_upsert_item *it = &colls[c->coll].items[c->idx[j]];
                it->r = r;
                cb_strlcpy(it->err, err, sizeof(it->err));
        }
}

/* What subrequest answer `entry` says of the records of `c`; `again` as sf_upsert_settle. */
static void settle_chunk(struct sf *sf, struct sf_collection *colls, const struct chunk *c,
                         const json_t *entry, bool last, bool **again)
{
        const json_t *body = json_object_get(entry, "body");
        long status = (long)json_integer_value(json_object_get(entry, "httpStatusCode"));
        const json_t *e = json_array_get(body, 0);
        char err[256];
        bool spent = false;

        if (status >= 200 && status < 300 && json_array_size(body) == c->k) {
                for (size_t j = 0; j < c->k; j++)
                        again[c->coll][c->idx[j]] = sf_upsert_settle(
                            sf, colls[c->coll].object, &colls[c->coll].items[c->idx[j]],
                            json_array_get(body, j), last);
                return;
        }
        if (status >= 200 && status < 300) {
                snprintf(err, sizeof(err), "Collections answered %zu results for %zu records",
                         json_array_size(body), c->k);
                fail_chunk(colls, c, CB_RESULT_RETRY, err);
                return;
        }
        /* The subrequest's own error: its records alone share it. */
        snprintf(err, sizeof(err), "salesforce %ld %s: %s", status, str(e, "errorCode") ?: "error",
                 str(e, "message") ?: "no message");
        fail_chunk(colls, c,
                   sf_classify(status, str(e, "errorCode") ?: "", str(e, "message") ?: "",
                               atomic_load(&sf->api_used), atomic_load(&sf->api_max), &spent),
                   err);
}

/* Send chunks[0..n) (n <= COMPOSITE_MAX) in one Composite request and settle their items. */
static void send_composite(struct sf *sf, struct sf_collection *colls, const struct chunk *chunks,
                           size_t n, enum cb_crm_priority prio, bool last, bool **again)
{
        json_t *subs = json_array(), *body = NULL, *out = NULL, *answers;
        char path[256], err[256] = "out of memory";
        struct sf_answer ans;
        enum cb_result r = CB_RESULT_RETRY;

        for (size_t i = 0; subs != NULL && i < n; i++)
                if (json_array_append_new(
                        subs, subrequest(sf, &colls[chunks[i].coll], &chunks[i], i)) != 0) {
                        json_decref(subs);
                        subs = NULL;
                }
        if (subs != NULL)
                body = json_pack("{s:b,s:b,s:o}", "allOrNone", 0, "collateSubrequests", 0,
                                 "compositeRequest", subs);
        snprintf(path, sizeof(path), "/services/data/%s/composite",
                 sf->cfg->salesforce.api_version);
        if (body != NULL)
                r = sf_rest(sf, "POST", path, body, prio, &ans, &out, err, sizeof(err));
        answers = json_object_get(out, "compositeResponse");
        if (r == CB_RESULT_OK && json_array_size(answers) != n) {
                snprintf(err, sizeof(err), "Composite answered %zu results for %zu subrequests",
                         json_array_size(answers), n);
                r = CB_RESULT_RETRY;
        }
        for (size_t i = 0; i < n; i++) {
                if (r != CB_RESULT_OK)
                        fail_chunk(colls, &chunks[i], r, err);
                else
                        settle_chunk(sf, colls, &chunks[i], json_array_get(answers, i), last,
                                     again);
        }
        json_decref(out);
        json_decref(body);
}

/* One round: the items still to send (`again`), in chunks of COLLECTION_MAX, COMPOSITE_MAX
 * chunks a request. `idx` holds every item's index (sized for all), `chunks` as many chunks
 * as can be. */
static void send_round(struct sf *sf, struct sf_collection *colls, size_t ncolls,
                       enum cb_crm_priority prio, bool last, bool **again, size_t *idx,
                       struct chunk *chunks)
{
        size_t used = 0, nchunks = 0;

        for (size_t c = 0; c < ncolls; c++) {
                struct chunk cur = {.coll = c, .idx = idx + used, .k = 0};
                for (size_t i = 0; i < colls[c].n; i++) {
                        struct sf_upsert_item *it = &colls[c].items[i];
                        if (it->same != i || !again[c][i])
                                continue;
                        again[c][i] = false;
                        sf_schema_filter(sf, colls[c].object, it->record);
                        idx[used++] = i;
                        if (++cur.k == COLLECTION_MAX) {
                                chunks[nchunks++] = cur;
                                cur = (struct chunk){.coll = c, .idx = idx + used, .k = 0};
                        }
                }
                if (cur.k > 0)
                        chunks[nchunks++] = cur;
        }
        for (size_t i = 0; i < nchunks; i += COMPOSITE_MAX)
                send_composite(sf, colls, chunks + i,
                               nchunks - i < COMPOSITE_MAX ? nchunks - i : COMPOSITE_MAX, prio,
                               last, again);
}

void sf_upsert_composite(struct sf *sf, struct sf_collection *colls, size_t ncolls,
                         enum cb_crm_priority prio)
{
        bool **again = calloc(ncolls ? ncolls : 1, sizeof(*again));
        size_t total = 0, *idx = NULL;
        struct chunk *chunks = NULL;
        bool ok = again != NULL;

        for (size_t c = 0; c < ncolls; c++) {
                total += colls[c].n;
                for (size_t i = 0; i < colls[c].n; i++) {
                        struct sf_upsert_item *it = &colls[c].items[i];
                        it->r = CB_RESULT_RETRY;
                        it->id[0] = it->unlinked[0] = '\0';
                        cb_strlcpy(it->err, "out of memory", sizeof(it->err));
                }
                if (ok && (again[c] = calloc(colls[c].n + 1, sizeof(**again))) == NULL)
                        ok = false;
                for (size_t i = 0; ok && i < colls[c].n; i++)
                        again[c][i] = true;
                sf_upsert_merge(colls[c].items, colls[c].n);
        }
        idx = calloc(total + 1, sizeof(*idx));
        chunks = calloc(total + ncolls + 1, sizeof(*chunks));
        for (int round = 0; ok && idx != NULL && chunks != NULL && round < ROUNDS; round++)
                send_round(sf, colls, ncolls, prio, round == ROUNDS - 1, again, idx, chunks);
        for (size_t c = 0; c < ncolls; c++) {
                sf_upsert_share(colls[c].items, colls[c].n);
                if (again != NULL)
                        free(again[c]);
        }
        free(again);
        free(idx);
        free(chunks);
}
