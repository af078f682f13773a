/* GET /console, /console/ and /console/{file}: the agent console (src/console/, built into the
 * binary by tools/console/embed.py). Public: the page signs in through the API itself. Every
 * file has a strong ETag (304 to a matching If-None-Match); index.html and our modules are
 * revalidated on each load (Cache-Control: no-cache, so an upgraded daemon never mixes old and
 * new modules); the Voice SDK, pinned by its lock file, may be cached a day. Each reply carries
 * the console's Content-Security-Policy, frame-ancestors from [console] frame_ancestors.
 * [console] enabled = false: 404 for all three. */
#include <stdio.h>
#include <string.h>

#include "console_files.h"
#include "handlers/handlers.h"

#define SDK_NAME "twilio.min.js"
#define CSP_MAX  2600

static const struct cb_console_file *file_find(const char *name)
{
        for (size_t i = 0; i < cb_console_files_count; i++)
                if (strcmp(cb_console_files[i].name, name) == 0)
                        return &cb_console_files[i];
        return NULL;
}

/* The policy: contract D of issue 14, plus script-src for the host sources of frame_ancestors
 * (Open CTI loads opencti_min.js from the Salesforce origin that frames the console). The
 * value was checked by --check-config (no ';', at most 1024 characters). */
static void csp_build(const char *ancestors, char *out, size_t size)
{
        char hosts[1100] = "";
        const char *s = ancestors;
        size_t used = 0;

        while (*(s += strspn(s, " ")) != '\0') {
                size_t n = strcspn(s, " ");
                if (s[0] != '\'' && used + n + 2 < sizeof(hosts)) {
                        snprintf(hosts + used, sizeof(hosts) - used, " %.*s", (int)n, s);
                        used += n + 1;
                }
                s += n;
        }
        snprintf(out, size,
                 "default-src 'self'; %s%s%sconnect-src 'self' wss://*.twilio.com "
                 "https://*.twilio.com; media-src 'self' blob:; img-src 'self' data:; "
                 "frame-ancestors %s",
                 used > 0 ? "script-src 'self'" : "", hosts, used > 0 ? "; " : "", ancestors);
}

static enum MHD_Result reply_file(struct cb_request *req, const struct cb_console_file *f)
{
        bool same = cb_etag_matches(cb_request_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), f->etag);
        char csp[CSP_MAX];
        struct MHD_Response *resp;

        /* The bytes are static data that outlive every response: no copy. */
        resp = MHD_create_response_from_buffer(same ? 0 : f->len, (void *)f->data,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
                return MHD_NO;
        csp_build(req->env->cfg->console.frame_ancestors, csp, sizeof(csp));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
        MHD_add_response_header(resp, "Cache-Control",
                                strcmp(f->name, SDK_NAME) == 0 ? "public, max-age=86400"
                                                               : "no-cache");
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
        MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
        return cb_reply_response(req, same ? 304 : 200, resp, same ? NULL : f->content_type);
}

static enum MHD_Result reply_disabled(struct cb_request *req)
{
        return cb_reply_error(req, CB_ERR_ROUTE_NOT_FOUND,
                              "the console is off here ([console] enabled = false)");
}

/* GET /console: 301 to /console/, keeping the query (Salesforce appends sfdcIframeOrigin). */
enum MHD_Result cb_handle_console_redirect(struct cb_request *req)
{
        const char *query = strchr(req->raw_target, '?');
        char location[CB_URI_MAX + 16];

        if (!req->env->cfg->console.enabled)
                return reply_disabled(req);
        snprintf(location, sizeof(location), "/console/%s", query != NULL ? query : "");
        return cb_reply_redirect(req, 301, location);
}

enum MHD_Result cb_handle_console_index(struct cb_request *req)
{
        const struct cb_console_file *f = file_find("index.html");

        if (!req->env->cfg->console.enabled)
                return reply_disabled(req);
        if (f == NULL) /* embed.py refuses a console without one */
                return cb_reply_error(req, CB_ERR_INTERNAL, NULL);
        return reply_file(req, f);
}

enum MHD_Result cb_handle_console_file(struct cb_request *req)
{
        const struct cb_console_file *f;

        if (!req->env->cfg->console.enabled)
                return reply_disabled(req);
        /* Our names need no escapes: an escaped one (%2f, %2e%2e, %00) names no file. */
        if (memchr(req->raw_target, '%', strcspn(req->raw_target, "?")) != NULL)
                return cb_reply_error(req, CB_ERR_NOT_FOUND, "the console has no such file");
        f = file_find(req->params[0]);
        if (f != NULL)
                return reply_file(req, f);
        if (strcmp(req->params[0], SDK_NAME) == 0)
                return cb_reply_error(req, CB_ERR_NOT_FOUND,
                                      "this build has no Twilio Voice SDK (run `npm ci` in "
                                      "src/console and rebuild); the console works without audio");
        return cb_reply_error(req, CB_ERR_NOT_FOUND, "the console has no file %s", req->params[0]);
}
