-- wrk script for bench/webhooks.sh: POST the signed status callbacks listed in the file
-- CB_BENCH_REQS (target, body, signature per line, tab separated) round robin; count answers
-- other than 204.
local reqs = {}
local i = 0
local bad = 0
local threads = 0

-- Each thread starts at its own offset so the threads do not replay each other's callbacks.
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

init = function()
  for line in io.lines(os.getenv("CB_BENCH_REQS")) do
    local t, b, s = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    reqs[#reqs + 1] = {t, b, s}
  end
  i = (tid or 0) * math.floor(#reqs / 2)
end

request = function()
  i = i % #reqs + 1
  local r = reqs[i]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[3]}, r[2])
end

response = function(status)
  if status ~= 204 then bad = bad + 1 end
end

done = function(summary, latency)
  io.write(string.format("RESULT rps=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f non204=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
