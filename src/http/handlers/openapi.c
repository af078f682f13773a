/* GET /openapi.json: the OpenAPI 3.1 description of this interface (docs/openapi.yaml, built
 * into the binary as JSON by tools/openapi/embed.py). Public and cacheable: a strong ETag
 * (304 to a matching If-None-Match) and Cache-Control: public, max-age=300. */
#include "handlers/handlers.h"

enum MHD_Result cb_handle_openapi(struct cb_request *req)
{
        struct MHD_Response *resp;
        bool same =
            cb_etag_matches(cb_request_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), cb_openapi_etag);

        /* The array outlives every response (static data): no copy. */
        resp = MHD_create_response_from_buffer(same ? 0 : cb_openapi_json_len,
                                               (void *)cb_openapi_json, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, cb_openapi_etag);
        MHD_add_response_header(resp, "Cache-Control", "public, max-age=300");
        return cb_reply_response(req, same ? 304 : 200, resp,
                                 same ? NULL : "application/json; charset=utf-8");
}
