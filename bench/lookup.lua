-- wrk script for bench/lookup.sh: GET /api/lookup for numbers the dev stack's sandbox holds,
-- round robin, bearer from CALLBRIDGE_API_KEY. Counts statuses other than 200.
local key = os.getenv("CALLBRIDGE_API_KEY")
local numbers = {}
for n in string.gmatch(os.getenv("CB_BENCH_NUMBERS") or "", "[^,]+") do
  numbers[#numbers + 1] = n
end
local i = 0
local bad = 0

request = function()
  i = i % #numbers + 1
  return wrk.format("GET", "/api/lookup?phone=" .. numbers[i],
                    {["Authorization"] = "Bearer " .. key})
end

response = function(status)
  if status ~= 200 then bad = bad + 1 end
end

done = function(summary, latency)
  io.write(string.format("RESULT rps=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f non200=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
