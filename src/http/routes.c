/* The route table: every endpoint, its method, body, size cap and auth, in one place. */
#include "callbridge/http.h"
#include "handlers/handlers.h"

/* Method, pattern and handler, then the fields that differ from their zero (max_body 0:
 * [server] max_body_bytes; auth false: a public route; stream NULL). */
#define ROUTE(m, p, h, ...)                                                                        \
        {                                                                                          \
                .method = m, .pattern = p, .handler = h, __VA_ARGS__                               \
        }

const struct cb_route cb_routes[] = {
    ROUTE("POST", "/api/call/initiate", cb_handle_call_initiate, .body = CB_BODY_JSON,
          .auth = true),
    ROUTE("GET", "/api/calls", cb_handle_calls_list, .body = CB_BODY_NONE, .auth = true),
    ROUTE("GET", "/api/calls/{}", cb_handle_call_get, .body = CB_BODY_NONE, .auth = true),
    ROUTE("GET", "/healthz", cb_handle_healthz, .body = CB_BODY_NONE),
    ROUTE("GET", "/readyz", cb_handle_readyz, .body = CB_BODY_NONE),
    ROUTE("GET", "/metrics", cb_handle_metrics, .body = CB_BODY_NONE),
    ROUTE("GET", "/api/lookup", cb_handle_lookup, .body = CB_BODY_NONE, .auth = true),
    ROUTE("POST", "/webhooks/twilio/voice", cb_handle_twilio_voice, .body = CB_BODY_WEBHOOK,
          .max_body = 65536),
    ROUTE("POST", "/webhooks/twilio/status", cb_handle_twilio_status, .body = CB_BODY_WEBHOOK,
          .max_body = 65536),
    ROUTE("POST", "/webhooks/twilio/recording", cb_handle_twilio_recording, .body = CB_BODY_WEBHOOK,
          .max_body = 65536),
    ROUTE("POST", "/api/softphone/token", cb_handle_softphone_token, .body = CB_BODY_JSON_OPTIONAL,
          .max_body = 1024, .auth = true),
    ROUTE("GET", "/api/events", cb_handle_events, .body = CB_BODY_NONE, .auth = true),
    ROUTE("POST", "/api/call/record", cb_handle_call_record, .body = CB_BODY_STREAM, .auth = true,
          .stream = &cb_record_stream),
    ROUTE("GET", "/api/calls/{}/recording/{}", cb_handle_recording_get, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("POST", "/api/recordings/{}/link", cb_handle_recording_link, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("GET", "/r/{}", cb_handle_recording_public, .body = CB_BODY_NONE),
    ROUTE("POST", "/api/call/transcribe", cb_handle_call_transcribe, .body = CB_BODY_JSON,
          .auth = true),
    ROUTE("GET", "/api/admin/jobs", cb_handle_admin_jobs_list, .body = CB_BODY_NONE, .auth = true),
    ROUTE("POST", "/api/admin/jobs/{}/retry", cb_handle_admin_job_retry, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("POST", "/api/calls/{}/disposition", cb_handle_call_disposition, .body = CB_BODY_JSON,
          .max_body = 65536, .auth = true),
    ROUTE("GET", "/api/admin/agents", cb_handle_admin_agents_list, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("POST", "/api/admin/agents", cb_handle_admin_agent_create, .body = CB_BODY_JSON,
          .max_body = 4096, .auth = true),
    ROUTE("GET", "/api/admin/agents/{}", cb_handle_admin_agent_get, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("PATCH", "/api/admin/agents/{}", cb_handle_admin_agent_patch, .body = CB_BODY_JSON,
          .max_body = 4096, .auth = true),
    ROUTE("GET", "/api/agent", cb_handle_agent_me, .body = CB_BODY_NONE, .auth = true),
    ROUTE("GET", "/openapi.json", cb_handle_openapi, .body = CB_BODY_NONE),
    ROUTE("POST", "/api/calls/{}/hangup", cb_handle_call_hangup, .body = CB_BODY_JSON_OPTIONAL,
          .max_body = 1024, .auth = true),
    ROUTE("POST", "/api/calls/{}/hold", cb_handle_call_hold, .body = CB_BODY_JSON, .max_body = 1024,
          .auth = true),
    ROUTE("POST", "/api/calls/{}/transfer", cb_handle_call_transfer, .body = CB_BODY_JSON,
          .max_body = 1024, .auth = true),
    ROUTE("POST", "/api/calls/{}/recording", cb_handle_call_recording_control, .body = CB_BODY_JSON,
          .max_body = 1024, .auth = true),
    ROUTE("GET", "/api/agent/status", cb_handle_agent_status_get, .body = CB_BODY_NONE,
          .auth = true),
    ROUTE("PUT", "/api/agent/status", cb_handle_agent_status_put, .body = CB_BODY_JSON,
          .max_body = 4096, .auth = true),
    ROUTE("POST", "/webhooks/twilio/transcription", cb_handle_twilio_transcription,
          .body = CB_BODY_WEBHOOK, .max_body = 65536),
    ROUTE("GET", "/api/stats", cb_handle_stats, .body = CB_BODY_NONE, .auth = true),
    ROUTE("GET", "/console", cb_handle_console_redirect, .body = CB_BODY_NONE),
    ROUTE("GET", "/console/", cb_handle_console_index, .body = CB_BODY_NONE),
    ROUTE("GET", "/console/{}", cb_handle_console_file, .body = CB_BODY_NONE),
};
const size_t cb_routes_count = sizeof(cb_routes) / sizeof(cb_routes[0]);
