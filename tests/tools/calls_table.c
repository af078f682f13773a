/* cb-calls-table: the call state machine (src/calls/) as JSON on stdout, for the integration
 * test that drives every move through the daemon and PostgreSQL and checks they agree:
 * {"statuses":[{name,rank,final}], "moves":[{from,to,direction,missed_task,advance,event,
 * answered,ended,duration,notify,jobs}], "fail":[{from,direction,...}], "created":[...]}. */
#include <stdio.h>

#include <jansson.h>

#include "callbridge/calls.h"

static json_t *move_json(const struct cb_call_move *m)
{
        json_t *jobs = json_array();

        for (size_t j = 0; j < m->job_count; j++)
                json_array_append_new(jobs, json_string(m->jobs[j]));
        return json_pack("{s:b,s:s,s:b,s:b,s:b,s:b,s:b,s:o}", "advance", m->advance, "status",
                         cb_calls_status_name(m->status), "event", m->event, "answered",
                         m->set_answered, "ended", m->set_ended, "duration", m->set_duration,
                         "notify", m->notify, "jobs", jobs);
}

int main(void)
{
        static const enum cb_call_direction dirs[] = {CB_CALL_OUTBOUND, CB_CALL_INBOUND};
        json_t *out = json_pack("{s:[],s:[],s:[],s:[]}", "statuses", "moves", "fail", "created");

        for (int f = 0; f < CB_CALL_STATUS_COUNT; f++) {
                enum cb_call_status from = (enum cb_call_status)f;

                json_array_append_new(json_object_get(out, "statuses"),
                                      json_pack("{s:s,s:i,s:b}", "name", cb_calls_status_name(from),
                                                "rank", cb_calls_status_rank(from), "final",
                                                cb_calls_status_final(from)));
                for (size_t d = 0; d < CB_ARRAY_LEN(dirs); d++) {
                        const char *dn = cb_calls_direction_name(dirs[d]);
                        struct cb_call_move fm = cb_calls_move_fail(from, dirs[d]);
                        json_t *fj = move_json(&fm);

                        json_object_set_new(fj, "from", json_string(cb_calls_status_name(from)));
                        json_object_set_new(fj, "direction", json_string(dn));
                        json_array_append_new(json_object_get(out, "fail"), fj);
                        for (int t = 0; t < CB_CALL_STATUS_COUNT; t++)
                                for (int missed = 0; missed < 2; missed++) {
                                        struct cb_call_move m = cb_calls_move(
                                            from, (enum cb_call_status)t, dirs[d], missed);
                                        json_t *mj = move_json(&m);

                                        json_object_set_new(
                                            mj, "from", json_string(cb_calls_status_name(from)));
                                        json_object_set_new(mj, "to",
                                                            json_string(cb_calls_status_name(
                                                                (enum cb_call_status)t)));
                                        json_object_set_new(mj, "direction", json_string(dn));
                                        json_object_set_new(mj, "missed_task",
                                                            json_boolean(missed));
                                        json_array_append_new(json_object_get(out, "moves"), mj);
                                }
                }
        }
        for (int o = 0; o < 2; o++)
                for (size_t d = 0; d < CB_ARRAY_LEN(dirs); d++) {
                        struct cb_call_move m = cb_calls_created((enum cb_call_origin)o, dirs[d]);
                        json_t *mj = move_json(&m);

                        json_object_set_new(
                            mj, "origin",
                            json_string(o == CB_CALL_ORIGIN_API ? "api" : "provider"));
                        json_object_set_new(mj, "direction",
                                            json_string(cb_calls_direction_name(dirs[d])));
                        json_array_append_new(json_object_get(out, "created"), mj);
                }
        if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) != 0)
                return 1;
        json_decref(out);
        putchar('\n');
        return 0;
}
