/* Recording playback replies (src/http/audio_reply.c). */
#ifndef CB_HTTP_AUDIO_REPLY_H
#define CB_HTTP_AUDIO_REPLY_H

#include <stdint.h>

#include "callbridge/http.h"
#include "callbridge/recordings.h"

/* Stream recording `id` (of call `call_id` and visible to `agent` when they are not NULL): 200,
 * or 206 for a single byte range (Range: bytes=a-b, a-, -n); 416 when it starts past the end;
 * 410 once retention deleted it; 404 when unknown, not visible or not stored yet; 503 when the
 * database or storage cannot give it. */
enum MHD_Result cb_reply_recording(struct cb_request *req, const char *id, const char *call_id,
                                   const char *agent);

/* Parse a Range header against `size`: 1 with [*first, *last] (clipped to the end), 0 to serve
 * the whole (no header, another unit, several ranges, malformed: RFC 9110 lets us ignore it),
 * -1 when unsatisfiable (416). */
int cb_range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last);

#endif
