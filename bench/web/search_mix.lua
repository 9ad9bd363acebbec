-- wrk script for bench/web_bench.sh: replays the store benchmark's query
-- mix (a file of /api/v1/search URLs, one a line) with an API token.
--   wrk ... -s search_mix.lua URL -- URLS_FILE TOKEN
local urls = {}
local token = ""
local next_url = 1

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then urls[#urls + 1] = line end
  end
  token = args[2]
  -- Threads start at different places in the mix.
  next_url = (math.random(1, #urls))
end

function request()
  local path = urls[next_url]
  next_url = next_url % #urls + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-200 responses: %d\n", summary.errors.status))
  for _, p in pairs({ 50, 90, 99 }) do
    io.write(string.format("p%d: %.1f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("requests/s: %.1f\n", summary.requests / (summary.duration / 1e6)))
end
