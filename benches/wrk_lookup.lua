-- wrk script: GET /api/lookup over the bench points, or one fixed path (the /healthz ceiling), and a
-- one-line JSON summary at the end. Both modes go through the same Lua request() so the load generator
-- does the same work for each.
--
--   wrk -t2 -c64 -d10s -s benches/wrk_lookup.lua http://127.0.0.1:PORT -- points FILE [LIMIT]
--   wrk -t2 -c64 -d10s -s benches/wrk_lookup.lua http://127.0.0.1:PORT -- path /healthz

local requests = {}
local next_index = 1
local threads = 0

-- Runs in the main state once per thread: number them so each starts at its own place in the list.
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  local mode, arg, limit = args[1], args[2], tonumber(args[3] or "100000")
  if mode == "path" then
    requests[1] = wrk.format("GET", arg)
    return
  end
  local file = assert(io.open(arg, "r"))
  file:read("*l") -- header: id,lon,lat
  for line in file:lines() do
    local _, lon, lat = line:match("([^,]+),([^,]+),([^,]+)")
    requests[#requests + 1] = wrk.format("GET", "/api/lookup?lon=" .. lon .. "&lat=" .. lat)
    if #requests >= limit then break end
  end
  file:close()
  next_index = ((thread_number or 1) - 1) * math.floor(#requests / 8) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
