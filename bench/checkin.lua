-- wrk script: each thread sends its share of the prepared check-ins once, then stops.
-- Requests come from requests.lua (a table of {auth, body}); the path comes from CHECKIN_PATH.
local requests = dofile(os.getenv("CHECKIN_REQUESTS"))
local path = os.getenv("CHECKIN_PATH")
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS"))
  index = id
  acked = 0
  refused = 0
end

function request()
  local item = requests[index]
  if item == nil then
    wrk.thread:stop()
    item = requests[1]
  end
  index = index + step
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = item[1],
  }, item[2])
end

function response(status, headers, body)
  if status == 200 or status == 201 then
    acked = acked + 1
  else
    refused = refused + 1
  end
  if requests[index] == nil then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_done)
  local total_acked, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_acked = total_acked + thread:get("acked")
    total_refused = total_refused + thread:get("refused")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d acked=%d refused=%d socket_errors=%d p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration, total_acked, total_refused,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
