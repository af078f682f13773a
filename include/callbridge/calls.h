/* The call, callbridge's central object (src/calls/): its typed record, its status model (the
 * statuses, their order, the moves allowed and what each move causes), how calls are created
 * and how an incoming call is routed. Pure: no I/O, so the whole state machine is unit-tested
 * without a database. Handlers, webhooks and jobs ask it what to do; the store (SQL) records
 * what it decided, with the decisions handed over as parameters. */
#ifndef CALLBRIDGE_CALLS_H
#define CALLBRIDGE_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbridge/util.h"

#define CB_AGENT_MAX       128 /* agent names are shorter than this */
#define CB_CRM_ID_MAX      65  /* CRM record ids (the API takes 64 characters), with their NUL */
#define CB_E164_MAX        32  /* an E.164 number (or "unknown"), with its NUL */
#define CB_PROVIDER_MAX    16  /* a provider's name ("twilio", "salesforce"), with its NUL */
#define CB_CALL_SID_MAX    65  /* a provider's call id, with its NUL */
#define CB_DISPOSITION_MAX 128

/* Where a call is, in the order a call goes through them; the five last ones are final. */
enum cb_call_status {
        CB_CALL_QUEUED = 0,
        CB_CALL_INITIATED,
        CB_CALL_RINGING,
        CB_CALL_IN_PROGRESS,
        CB_CALL_COMPLETED,
        CB_CALL_BUSY,
        CB_CALL_FAILED,
        CB_CALL_NO_ANSWER,
        CB_CALL_CANCELED,
        CB_CALL_STATUS_COUNT
};

enum cb_call_direction { CB_CALL_OUTBOUND = 0, CB_CALL_INBOUND };

/* One call as jobs and providers see it (cb_store_call_load fills it from its row). Strings
 * are "" when unknown (the row's NULL; no column holds an empty string); the record owns no
 * memory (copy it freely). */
struct cb_call {
        char id[CB_UUID_LEN + 1];
        char agent[CB_AGENT_MAX];
        enum cb_call_direction direction;
        enum cb_call_status status;
        char to[CB_E164_MAX];   /* the number called, E.164 ("unknown" when Twilio gave none) */
        char from[CB_E164_MAX]; /* the caller, E.164 */
        char crm_record_id[CB_CRM_ID_MAX];
        char telephony[CB_PROVIDER_MAX];        /* provider name */
        char provider_call_id[CB_CALL_SID_MAX]; /* e.g. the CallSid */
        char crm[CB_PROVIDER_MAX];              /* provider name */
        char crm_state[16];                     /* pending|synced|local|failed */
        char crm_log_id[CB_CRM_ID_MAX];
        long duration_s; /* talk time from the final status; -1 when unknown */
        char disposition[CB_DISPOSITION_MAX];
        /* Microseconds since the epoch; 0 when it has not happened. */
        int64_t created_us;
        int64_t answered_us;
        int64_t ended_us;
        int64_t updated_us;
};

/* The call as the API's views show it (src/calls/call.c): {"call_id", "agent", "direction",
 * "to", "from", "status", "crm_record_id", "telephony": {"provider", "call_id"}, "crm":
 * {"provider", "state", "log_id"}, "duration_s", "disposition", "answered_at", "ended_at",
 * "created_at", "updated_at"}, unknown values null, times as RFC 3339 UTC with microseconds
 * (cb_ts_format). The shape NLP rules and other name-keyed matches read. NULL when out of
 * memory or when the status or direction is out of range; the caller decrefs. */
json_t *cb_calls_to_json(const struct cb_call *call);

/* ---- statuses (src/calls/status.c) ---- */

/* The status's name as providers and the API spell it ("in-progress"); NULL when out of range. */
const char *cb_calls_status_name(enum cb_call_status s);
/* The status named `name`; false (and *out untouched) for anything else, NULL included. */
bool cb_calls_status_parse(const char *name, enum cb_call_status *out);
/* Its place in the lifecycle: a status only replaces one of lower rank; the final ones share
 * the top rank, so the first final status recorded stays. */
int cb_calls_status_rank(enum cb_call_status s);
bool cb_calls_status_final(enum cb_call_status s);

const char *cb_calls_direction_name(enum cb_call_direction d);
bool cb_calls_direction_parse(const char *name, enum cb_call_direction *out);

#endif
