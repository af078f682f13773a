/* callbridge-sandbox: the route table — every emulated endpoint (the control API, Salesforce,
 * Twilio, the speech engines, S3) with its handler, the name its requests are counted under,
 * the upstream its faults apply to and its body cap. sb_server.c dispatches on it. */
#include "sandbox.h"

#define CONTROL_MAX_BODY ((size_t)64 * 1024 * 1024)
#define S3_MAX_BODY      ((size_t)64 * 1024 * 1024) /* a part or a single PUT */
#define OPENAI_MAX_BODY  ((size_t)26214400)         /* OpenAI's request size limit */
#define GOOGLE_MAX_BODY  ((size_t)10485760)         /* Google's 10 MB inline content limit */

/* A Salesforce REST row: /services/data/<version><tail>, counted as salesforce.<endpoint>. */
#define SF_REST(method, tail, endpoint)                                                            \
        {                                                                                          \
                method, "/services/data/*" tail, sb_sf_rest, "salesforce." endpoint,               \
                    &sb_sf_rest_upstream, 0                                                        \
        }

/* A Twilio REST row: /2010-04-01/Accounts/<AC><tail>, counted as twilio.<endpoint>. */
#define TW_REST(method, tail, handler, endpoint)                                                   \
        {                                                                                          \
                method, "/2010-04-01/Accounts/*" tail, handler, "twilio." endpoint,                \
                    &sb_tw_upstream, 0                                                             \
        }

/* A HubSpot row: counted as "hubspot <method> <path>", with {id} or {name} for a variable
 * segment. */
#define HS_ROW(method, pattern, counted)                                                           \
        {                                                                                          \
                method, pattern, sb_hs_api, "hubspot " method " " counted, &sb_hs_upstream, 0      \
        }
/* The rows of one object type, /crm/v3/objects/<type>... and /crm/v3/properties/<type>... */
#define HS_OBJ(type)  "/crm/v3/objects/" type
#define HS_PROP(type) "/crm/v3/properties/" type
#define HS_TYPE_ROWS(type)                                                                         \
        HS_ROW("POST", HS_OBJ(type) "/search", HS_OBJ(type) "/search"),                            \
            HS_ROW("POST", HS_OBJ(type) "/batch/upsert", HS_OBJ(type) "/batch/upsert"),            \
            HS_ROW("POST", HS_OBJ(type) "/batch/read", HS_OBJ(type) "/batch/read"),                \
            HS_ROW("POST", HS_OBJ(type), HS_OBJ(type)),                                            \
            HS_ROW("GET", HS_OBJ(type) "/*", HS_OBJ(type) "/{id}"),                                \
            HS_ROW("PATCH", HS_OBJ(type) "/*", HS_OBJ(type) "/{id}"),                              \
            HS_ROW("GET", HS_PROP(type), HS_PROP(type)),                                           \
            HS_ROW("POST", HS_PROP(type), HS_PROP(type)),                                          \
            HS_ROW("POST", HS_PROP(type) "/groups", HS_PROP(type) "/groups"),                      \
            HS_ROW("GET", HS_PROP(type) "/*", HS_PROP(type) "/{name}")

/* The route table. Upstream emulations add their rows here (first match on the path wins for
 * a method; a path matched only under other methods answers 405 with Allow). */
const struct sb_route sb_routes[] = {
    {"POST", "/__sandbox/seed", sb_control_seed, "sandbox.seed", NULL, CONTROL_MAX_BODY},
    {"GET", "/__sandbox/state", sb_control_state, "sandbox.state", NULL, 0},
    {"GET", "/__sandbox/summary", sb_control_summary, "sandbox.state", NULL, 0},
    {"GET", "/__sandbox/faults", sb_control_faults_get, "sandbox.faults", NULL, 0},
    {"POST", "/__sandbox/faults", sb_control_faults_set, "sandbox.faults", NULL, 0},
    {"POST", "/__sandbox/reset", sb_control_reset, "sandbox.reset", NULL, 0},
    {"GET", "/__sandbox/health", sb_control_health, "sandbox.health", NULL, 0},
    {"POST", "/__sandbox/salesforce/expire", sb_sf_control_expire, "sandbox.sf", NULL, 0},
    {"POST", "/__sandbox/salesforce/session", sb_sf_control_session, "sandbox.sf", NULL, 0},
    {"POST", "/__sandbox/salesforce/refresh_token", sb_sf_control_refresh_token, "sandbox.sf", NULL,
     0},
    {"POST", "/__sandbox/salesforce/revoke", sb_sf_control_revoke, "sandbox.sf", NULL, 0},
    {"POST", "/__sandbox/salesforce/schema", sb_sf_control_schema, "sandbox.sf", NULL, 0},
    {"POST", "/__sandbox/salesforce/limits", sb_sf_control_limits, "sandbox.sf", NULL, 0},
    /* Salesforce: OAuth, then REST (sb_sf_rest dispatches on the path itself). */
    {"POST", "/services/oauth2/token", sb_sf_token, "salesforce.token", &sb_sf_oauth_upstream, 0},
    {"GET", "/services/oauth2/authorize", sb_sf_authorize, "salesforce.authorize", NULL, 0},
    {"POST", "/services/oauth2/authorize", sb_sf_authorize, "salesforce.authorize", NULL, 0},
    {"GET", "/services/oauth2/userinfo", sb_sf_userinfo, "salesforce.userinfo",
     &sb_sf_oauth_upstream, 0},
    SF_REST("GET", "/query", "query"),
    SF_REST("GET", "/search", "search"),
    SF_REST("GET", "/sobjects/*/describe", "describe"),
    SF_REST("GET", "/sobjects/*/*", "sobject_get"),
    SF_REST("POST", "/sobjects/*", "sobject_create"),
    SF_REST("PATCH", "/sobjects/*/*", "sobject_update"),
    SF_REST("DELETE", "/sobjects/*/*", "sobject_delete"),
    SF_REST("PATCH", "/sobjects/*/*/*", "upsert"),
    SF_REST("POST", "/composite", "composite"),
    SF_REST("PATCH", "/composite/sobjects/*/*", "collections_upsert"),
    /* Twilio: Calls, Recordings (the .json rows first), the signed media links. */
    {"POST", "/__sandbox/twilio/outcome", sb_tw_control_outcome, "sandbox.twilio", NULL, 0},
    {"GET", "/__sandbox/twilio/calls", sb_tw_control_calls, "sandbox.twilio", NULL, 0},
    TW_REST("POST", "/Calls.json", sb_tw_calls_create, "calls.create"),
    TW_REST("GET", "/Calls.json", sb_tw_calls_list, "calls.list"),
    TW_REST("GET", "/Calls/*/Recordings.json", sb_tw_call_recordings, "calls.recordings"),
    TW_REST("GET", "/Calls/*.json", sb_tw_calls_fetch, "calls.fetch"),
    TW_REST("POST", "/Calls/*.json", sb_tw_calls_update, "calls.update"),
    TW_REST("POST", "/Calls/*/Recordings/*.json", sb_tw_call_recording_update,
            "calls.recordings.update"),
    TW_REST("GET", "/Conferences.json", sb_tw_conferences_list, "conferences.list"),
    TW_REST("GET", "/Conferences/*.json", sb_tw_conference_fetch, "conferences.fetch"),
    TW_REST("GET", "/Conferences/*/Participants.json", sb_tw_participants_list,
            "participants.list"),
    TW_REST("POST", "/Conferences/*/Participants.json", sb_tw_participant_create,
            "participants.create"),
    TW_REST("GET", "/Conferences/*/Participants/*.json", sb_tw_participant_fetch,
            "participants.fetch"),
    TW_REST("POST", "/Conferences/*/Participants/*.json", sb_tw_participant_update,
            "participants.update"),
    TW_REST("DELETE", "/Conferences/*/Participants/*.json", sb_tw_participant_delete,
            "participants.delete"),
    TW_REST("GET", "/Recordings/*.json", sb_tw_recording_fetch, "recordings.fetch"),
    TW_REST("DELETE", "/Recordings/*.json", sb_tw_recording_delete, "recordings.delete"),
    TW_REST("GET", "/Recordings/*", sb_tw_recording_media, "recordings.media"),
    {"GET", "/__media/*", sb_tw_media, "twilio.media", NULL, 0},
    /* Speech-to-text: OpenAI, Google (and the token endpoint of its service accounts). */
    {"POST", "/__sandbox/stt", sb_stt_control, "sandbox.stt", NULL, 0},
    {"POST", "/__sandbox/llm", sb_llm_control, "sandbox.llm", NULL, 0},
    {"GET", "/__sandbox/llm", sb_llm_control_get, "sandbox.llm", NULL, 0},
    {"POST", "/v1/chat/completions", sb_llm_chat, "openai.chat", &sb_llm_upstream, 4 << 20},
    {"POST", "/v1/audio/transcriptions", sb_stt_openai_transcribe, "openai.transcriptions",
     &sb_stt_openai_upstream, OPENAI_MAX_BODY},
    {"POST", "/v1/speech:recognize", sb_stt_google_recognize, "google.recognize",
     &sb_stt_google_upstream, GOOGLE_MAX_BODY},
    {"POST", "/google/oauth2/token", sb_stt_google_token, "google.token", &sb_stt_google_upstream,
     0},
    /* HubSpot: control, OAuth, account, CRM objects of the five types, associations, owners. */
    {"POST", "/__sandbox/hubspot/schema", sb_hs_control_schema, "sandbox.hubspot", NULL, 0},
    {"POST", "/__sandbox/hubspot/expire", sb_hs_control_expire, "sandbox.hubspot", NULL, 0},
    {"POST", "/__sandbox/hubspot/limits", sb_hs_control_limits, "sandbox.hubspot", NULL, 0},
    {"POST", "/oauth/v1/token", sb_hs_token, "hubspot POST /oauth/v1/token", &sb_hs_upstream, 0},
    {"GET", "/account-info/v3/details", sb_hs_api, "hubspot GET /account-info/v3/details",
     &sb_hs_upstream, 0},
    HS_TYPE_ROWS("contacts"),
    HS_TYPE_ROWS("companies"),
    HS_TYPE_ROWS("calls"),
    HS_TYPE_ROWS("tasks"),
    HS_TYPE_ROWS("notes"),
    /* Other object types: HubSpot's 400 "Unable to infer object type". */
    {"GET", "/crm/v3/objects/*/*", sb_hs_api, "hubspot GET /crm/v3/objects/{other}",
     &sb_hs_upstream, 0},
    {"POST", "/crm/v3/objects/*", sb_hs_api, "hubspot POST /crm/v3/objects/{other}",
     &sb_hs_upstream, 0},
    {"POST", "/crm/v3/objects/*/search", sb_hs_api, "hubspot POST /crm/v3/objects/{other}",
     &sb_hs_upstream, 0},
    {"PUT", "/crm/v4/objects/*/*/associations/default/*/*", sb_hs_api,
     "hubspot PUT /crm/v4/objects/{type}/{id}/associations/default/{type}/{id}", &sb_hs_upstream,
     0},
    {"POST", "/crm/v4/associations/*/*/batch/associate/default", sb_hs_api,
     "hubspot POST /crm/v4/associations/{type}/{type}/batch/associate/default", &sb_hs_upstream, 0},
    {"GET", "/crm/v3/owners/*", sb_hs_api, "hubspot GET /crm/v3/owners/{id}", &sb_hs_upstream, 0},
    {"GET", "/crm/v3/owners", sb_hs_api, "hubspot GET /crm/v3/owners", &sb_hs_upstream, 0},
    /* S3, path-style: the fallback for any other path (see route_lookup). */
    {"GET", "/**", sb_s3_handle, NULL, &sb_s3_upstream, 0},
    {"HEAD", "/**", sb_s3_handle, NULL, &sb_s3_upstream, 0},
    {"PUT", "/**", sb_s3_handle, NULL, &sb_s3_upstream, S3_MAX_BODY},
    {"POST", "/**", sb_s3_handle, NULL, &sb_s3_upstream, S3_MAX_BODY},
    {"DELETE", "/**", sb_s3_handle, NULL, &sb_s3_upstream, 0},
};
const size_t sb_routes_count = sizeof(sb_routes) / sizeof(sb_routes[0]);
