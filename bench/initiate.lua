-- wrk script for bench/initiate.sh.
--
-- CB_BENCH_MODE=initiate (default): POST /api/call/initiate with {"to":"+1415555XXXX"},
--   a different number each request, Authorization: Bearer $CALLBRIDGE_API_KEY.
-- CB_BENCH_MODE=healthz: GET /healthz (the baseline).
-- CB_BENCH_EXPECT: the status that counts as success (default 202, or 200 for healthz).
--
-- Every response's status is counted per thread; done() prints machine-readable
-- "cb-bench key=value" lines that initiate.sh parses (latencies in microseconds).

local mode = os.getenv("CB_BENCH_MODE") or "initiate"
local expect = tonumber(os.getenv("CB_BENCH_EXPECT") or (mode == "healthz" and "200" or "202"))

-- setup/done run in the main Lua state; init/request/response in each thread's own.
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local requests = {}
local n_requests = 0
local cursor = 0
statuses = {}

function init(args)
   if mode == "healthz" then
      requests[1] = wrk.format("GET", "/healthz")
      n_requests = 1
      return
   end
   local key = os.getenv("CALLBRIDGE_API_KEY")
   if key == nil or key == "" then
      error("CALLBRIDGE_API_KEY is not set")
   end
   local headers = {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }
   -- Pre-build the 10,000 requests (+14155550000 .. +14155559999); each thread starts
   -- at its own offset so the threads do not send the same number at the same time.
   for i = 0, 9999 do
      local body = string.format('{"to":"+1415555%04d"}', i)
      requests[i + 1] = wrk.format("POST", "/api/call/initiate", headers, body)
   end
   n_requests = 10000
   cursor = ((id or 0) * 5003) % n_requests
end

function request()
   cursor = cursor % n_requests + 1
   return requests[cursor]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests_stats)
   local by_status = {}
   local total, good = 0, 0
   for _, t in ipairs(threads) do
      local s = t:get("statuses") or {}
      for code, n in pairs(s) do
         by_status[code] = (by_status[code] or 0) + n
         total = total + n
         if code == expect then
            good = good + n
         end
      end
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   local out = {
      string.format("mode=%s", mode),
      string.format("expect=%d", expect),
      string.format("duration_s=%.3f", secs),
      string.format("requests=%d", summary.requests),
      string.format("responses=%d", total),
      string.format("ok=%d", good),
      string.format("not_ok=%d", total - good),
      string.format("rps=%.1f", summary.requests / secs),
      string.format("lat_mean_us=%.1f", latency.mean),
      string.format("lat_p50_us=%d", latency:percentile(50)),
      string.format("lat_p90_us=%d", latency:percentile(90)),
      string.format("lat_p99_us=%d", latency:percentile(99)),
      string.format("lat_max_us=%d", latency.max),
      string.format("socket_errors=%d", e.connect + e.read + e.write + e.timeout),
      string.format("err_connect=%d", e.connect),
      string.format("err_read=%d", e.read),
      string.format("err_write=%d", e.write),
      string.format("err_timeout=%d", e.timeout),
   }
   local codes = {}
   for code, n in pairs(by_status) do
      table.insert(codes, string.format("%d:%d", code, n))
   end
   table.sort(codes)
   table.insert(out, "statuses=" .. (#codes > 0 and table.concat(codes, ",") or "none"))
   for _, line in ipairs(out) do
      io.write("cb-bench ", line, "\n")
   end
end
