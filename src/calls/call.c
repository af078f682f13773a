/* The call record as JSON: the shape the API's views give (store/calls.c's CALL_FIELDS), for
 * what matches a call's fields by name (NLP rules). */
#include "callbridge/calls.h"

/* A string, or null when unknown (""). */
static json_t *str_or_null(const char *s)
{
        return s[0] != '\0' ? json_string(s) : json_null();
}

/* A time as cb_ts_format writes it, or null when it has not happened (0). */
static json_t *ts_or_null(int64_t us)
{
        char ts[CB_TS_LEN + 1];

        if (us <= 0)
                return json_null();
        cb_ts_format(us, ts);
        return json_string(ts);
}

json_t *cb_calls_to_json(const struct cb_call *call)
{
        const char *status = cb_calls_status_name(call->status);
        const char *direction = cb_calls_direction_name(call->direction);

        if (status == NULL || direction == NULL)
                return NULL;
        /* json_pack's "o" steals each reference, also when packing fails. */
        return json_pack(
            "{s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:{s:s,s:o},s:{s:s,s:s,s:o},s:o,s:o,s:o,s:o,s:o,s:o}",
            "call_id", call->id, "agent", call->agent, "direction", direction, "to", call->to,
            "from", str_or_null(call->from), "status", status, "crm_record_id",
            str_or_null(call->crm_record_id), "telephony", "provider", call->telephony, "call_id",
            str_or_null(call->provider_call_id), "crm", "provider", call->crm, "state",
            call->crm_state, "log_id", str_or_null(call->crm_log_id), "duration_s",
            call->duration_s >= 0 ? json_integer(call->duration_s) : json_null(), "disposition",
            str_or_null(call->disposition), "answered_at", ts_or_null(call->answered_us),
            "ended_at", ts_or_null(call->ended_us), "created_at", ts_or_null(call->created_us),
            "updated_at", ts_or_null(call->updated_us));
}
