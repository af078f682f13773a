/* Inbound and softphone-dialled routing: pure decisions on what the caller hands in. */
#include <string.h>

#include "callbridge/agents.h"
#include "callbridge/calls.h"
#include "callbridge/phone.h"

void cb_calls_route_fallback(const struct cb_call_route_rules *rules, struct cb_call_route *route)
{
        const char *agent = rules->fallback_agent;
        const char *number = rules->fallback_number;

        route->kind = agent    ? CB_CALL_ROUTE_CLIENT
                      : number ? CB_CALL_ROUTE_NUMBER
                               : CB_CALL_ROUTE_MESSAGE;
        if (agent != NULL)
                cb_strlcpy(route->target, agent, sizeof(route->target));
        else if (number == NULL ||
                 cb_phone_to_e164(number, rules->region, route->target, sizeof(route->target)) != 0)
                route->target[0] = '\0';
}

const char *cb_calls_route_owner_agent(const json_t *agents, const char *owner_id)
{
        const json_t *a;
        size_t i;

        if (owner_id == NULL || owner_id[0] == '\0')
                return NULL;
        json_array_foreach(agents, i, a)
        {
                const char *id = json_string_value(json_object_get(a, "crm_user_id"));
                if (id != NULL && strcmp(id, owner_id) == 0)
                        return json_string_value(json_object_get(a, "name"));
        }
        return NULL;
}

void cb_calls_route_inbound(const struct cb_call_route_rules *rules, const json_t *matches,
                            const json_t *agents, struct cb_call_route *route,
                            char record_id[CB_CRM_ID_MAX])
{
        const json_t *m = json_array_get(matches, 0); /* NULL when none */
        const char *owner_id = json_string_value(json_object_get(m, "owner_id"));
        const char *agent = cb_calls_route_owner_agent(agents, owner_id);

        cb_strlcpy(record_id, json_string_value(json_object_get(m, "id")) ?: "", CB_CRM_ID_MAX);
        if (rules->route_to_owner && cb_calls_agent_valid(agent) && rules->online != NULL &&
            rules->online(agent) &&
            (rules->available == NULL || rules->available(rules->available_ctx, agent))) {
                route->kind = CB_CALL_ROUTE_CLIENT;
                cb_strlcpy(route->target, agent, sizeof(route->target));
        } else {
                cb_calls_route_fallback(rules, route);
        }
}

void cb_calls_route_outbound(const struct cb_call_route_rules *rules, const char *to,
                             struct cb_call_route *route)
{
        route->kind = CB_CALL_ROUTE_NUMBER;
        if (to == NULL ||
            cb_phone_to_e164(to, rules->region, route->target, sizeof(route->target)) != 0) {
                route->kind = CB_CALL_ROUTE_MESSAGE;
                route->target[0] = '\0';
        }
}

const char *cb_calls_route_agent(const struct cb_call_route_rules *rules,
                                 enum cb_call_direction direction, const char *dialler,
                                 const struct cb_call_route *route)
{
        if (direction == CB_CALL_OUTBOUND)
                return dialler;
        if (route != NULL && route->kind == CB_CALL_ROUTE_CLIENT)
                return route->target;
        return rules->fallback_agent ? rules->fallback_agent : "unassigned";
}
