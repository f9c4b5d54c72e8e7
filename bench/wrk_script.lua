-- wrk script of the ckad-tutor benchmark (bench/loadgen.py builds the command line).
--
-- Arguments after `--`: TOKENS_FILE EXPECTED_STATUS, then any number of
--   path=/some/path        a path to request (one picked at random per request)
--   header=Name: value     a header sent with every request
-- Each request carries `Authorization: Bearer <token>` with a token picked at random from
-- TOKENS_FILE, so the service's token lookup sees many learners, as in real use.
-- done() prints one line `BENCH_JSON {...}` that bench/loadgen.py parses.

local threads = {}

-- Runs in the main Lua state once per thread, before that thread's init().
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Per-thread state (each wrk thread has its own Lua state, so these globals are per thread).
tokens = {}
paths = {}
extra_headers = {}
expected_status = 200
checked = 0
unexpected = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(tokens, line)
    end
  end
  if #tokens == 0 then
    error("no tokens in " .. args[1])
  end
  expected_status = tonumber(args[2])
  for i = 3, #args do
    local kind, value = args[i]:match("^(%a+)=(.*)$")
    if kind == "path" then
      table.insert(paths, value)
    elseif kind == "header" then
      local name, content = value:match("^([^:]+):%s*(.*)$")
      extra_headers[name] = content
    else
      error("unknown argument " .. args[i])
    end
  end
  if #paths == 0 then
    error("no path=... argument")
  end
  -- Distinct seeds per thread, or every thread would replay the same token sequence.
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

function request()
  local headers = {}
  for name, content in pairs(extra_headers) do
    headers[name] = content
  end
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

-- wrk itself only counts statuses above 399; a 200 where a 304 was expected is also wrong.
function response(status, headers, body)
  checked = checked + 1
  if status ~= expected_status then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local checked_total, unexpected_total = 0, 0
  for _, thread in ipairs(threads) do
    checked_total = checked_total + (thread:get("checked") or 0)
    unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.6f,"requests_per_s":%.3f,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"mean":%.3f,"max":%.3f},' ..
    '"non_2xx_3xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"checked":%d,"unexpected_status":%d,"bytes":%d}\n',
    summary.requests, seconds, seconds > 0 and summary.requests / seconds or 0,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout,
    checked_total, unexpected_total, summary.bytes))
end
