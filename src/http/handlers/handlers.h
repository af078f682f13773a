/* One handler per endpoint, one file each. */
#ifndef CB_HTTP_HANDLERS_H
#define CB_HTTP_HANDLERS_H

#include "callbridge/http.h"

enum MHD_Result cb_handle_call_initiate(struct cb_request *req);
enum MHD_Result cb_handle_call_get(struct cb_request *req);
enum MHD_Result cb_handle_calls_list(struct cb_request *req);
enum MHD_Result cb_handle_call_disposition(struct cb_request *req);
enum MHD_Result cb_handle_stats(struct cb_request *req);
enum MHD_Result cb_handle_lookup(struct cb_request *req);
enum MHD_Result cb_handle_healthz(struct cb_request *req);
enum MHD_Result cb_handle_readyz(struct cb_request *req);
enum MHD_Result cb_handle_metrics(struct cb_request *req);
enum MHD_Result cb_handle_twilio_voice(struct cb_request *req);
enum MHD_Result cb_handle_twilio_status(struct cb_request *req);
/* Prometheus text: status callbacks answered from the duplicate memo. */
void cb_twilio_status_metrics_write(struct cb_buf *out);
enum MHD_Result cb_handle_twilio_recording(struct cb_request *req);
enum MHD_Result cb_handle_twilio_transcription(struct cb_request *req);
enum MHD_Result cb_handle_softphone_token(struct cb_request *req);
enum MHD_Result cb_handle_events(struct cb_request *req);

enum MHD_Result cb_handle_call_record(struct cb_request *req);
extern const struct cb_stream_ops cb_record_stream;
enum MHD_Result cb_handle_recording_get(struct cb_request *req);
enum MHD_Result cb_handle_recording_link(struct cb_request *req);
enum MHD_Result cb_handle_recording_public(struct cb_request *req);
enum MHD_Result cb_handle_call_transcribe(struct cb_request *req);
enum MHD_Result cb_handle_admin_jobs_list(struct cb_request *req);
enum MHD_Result cb_handle_admin_job_retry(struct cb_request *req);
enum MHD_Result cb_handle_admin_agents_list(struct cb_request *req);
enum MHD_Result cb_handle_admin_agent_create(struct cb_request *req);
enum MHD_Result cb_handle_admin_agent_get(struct cb_request *req);
enum MHD_Result cb_handle_admin_agent_patch(struct cb_request *req);
enum MHD_Result cb_handle_agent_me(struct cb_request *req);
enum MHD_Result cb_handle_openapi(struct cb_request *req);
enum MHD_Result cb_handle_console_redirect(struct cb_request *req);
enum MHD_Result cb_handle_console_index(struct cb_request *req);
enum MHD_Result cb_handle_console_file(struct cb_request *req);

/* docs/openapi.yaml as compact JSON (NUL-terminated; generated/openapi_json.c, made at build
 * time by tools/openapi/embed.py) and its strong ETag, quoted. */
extern const char cb_openapi_json[];
extern const size_t cb_openapi_json_len;
extern const char cb_openapi_etag[];
enum MHD_Result cb_handle_call_hangup(struct cb_request *req);
enum MHD_Result cb_handle_call_hold(struct cb_request *req);
enum MHD_Result cb_handle_call_transfer(struct cb_request *req);
enum MHD_Result cb_handle_call_recording_control(struct cb_request *req);
enum MHD_Result cb_handle_agent_status_get(struct cb_request *req);
enum MHD_Result cb_handle_agent_status_put(struct cb_request *req);
/* Browser sessions (issue 14, src/http/session.c). */
enum MHD_Result cb_handle_auth_session_create(struct cb_request *req);
enum MHD_Result cb_handle_auth_session_get(struct cb_request *req);
enum MHD_Result cb_handle_auth_logout(struct cb_request *req);
enum MHD_Result cb_handle_console_config(struct cb_request *req);
enum MHD_Result cb_handle_agent_call(struct cb_request *req);
enum MHD_Result cb_handle_auth_crm_login(struct cb_request *req);
enum MHD_Result cb_handle_auth_crm_callback(struct cb_request *req);
enum MHD_Result cb_handle_twilio_participant(struct cb_request *req);

#endif
