/* The route table: every endpoint, its method, body, size cap and auth, in one place. */
#include "callbridge/http.h"
#include "http/handlers/handlers.h"

const struct cb_route cb_routes[] = {
    {"POST", "/api/call/initiate", cb_handle_call_initiate, CB_BODY_JSON, 0, true, NULL},
    {"GET", "/api/calls", cb_handle_calls_list, CB_BODY_NONE, 0, true, NULL},
    {"GET", "/api/calls/{}", cb_handle_call_get, CB_BODY_NONE, 0, true, NULL},
    {"GET", "/healthz", cb_handle_healthz, CB_BODY_NONE, 0, false, NULL},
    {"GET", "/readyz", cb_handle_readyz, CB_BODY_NONE, 0, false, NULL},
    {"GET", "/metrics", cb_handle_metrics, CB_BODY_NONE, 0, false, NULL},
    {"GET", "/api/lookup", cb_handle_lookup, CB_BODY_NONE, 0, true, NULL},
    {"POST", "/webhooks/twilio/voice", cb_handle_twilio_voice, CB_BODY_WEBHOOK, 65536, false, NULL},
    {"POST", "/webhooks/twilio/status", cb_handle_twilio_status, CB_BODY_WEBHOOK, 65536, false,
     NULL},
    {"POST", "/webhooks/twilio/recording", cb_handle_twilio_recording, CB_BODY_WEBHOOK, 65536,
     false, NULL},
    {"POST", "/api/softphone/token", cb_handle_softphone_token, CB_BODY_JSON_OPTIONAL, 1024, true,
     NULL},
    {"GET", "/api/events", cb_handle_events, CB_BODY_NONE, 0, true, NULL},
    {"POST", "/api/call/record", cb_handle_call_record, CB_BODY_STREAM, 0, true, &cb_record_stream},
    {"GET", "/api/calls/{}/recording/{}", cb_handle_recording_get, CB_BODY_NONE, 0, true, NULL},
    {"POST", "/api/recordings/{}/link", cb_handle_recording_link, CB_BODY_NONE, 0, true, NULL},
    {"GET", "/r/{}", cb_handle_recording_public, CB_BODY_NONE, 0, false, NULL},
    {"POST", "/api/call/transcribe", cb_handle_call_transcribe, CB_BODY_JSON, 0, true, NULL},
    {"GET", "/api/admin/jobs", cb_handle_admin_jobs_list, CB_BODY_NONE, 0, true, NULL},
    {"POST", "/api/admin/jobs/{}/retry", cb_handle_admin_job_retry, CB_BODY_NONE, 0, true, NULL},
};
const size_t cb_routes_count = sizeof(cb_routes) / sizeof(cb_routes[0]);
