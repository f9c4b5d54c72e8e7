-- wrk script of the ckad-tutor benchmark (bench/loadgen.py builds the command line).
--
-- Arguments after `--`: TOKENS_FILE EXPECTED_STATUS, then any number of
--   path=/some/path        a path to request (one picked at random per request)
--   header=Name: value     a header sent with every request
--   method=POST            the request method (default GET)
--   body=FILE              the body of every request, read from FILE
--   answers=FILE           answer mode, instead of path= (below)
--   requests=FILE          request-list mode, instead of path=: each line `TOKEN PATH`; a
--                          request is a random line, as that learner (own conversations...)
--   bodies=FILE            one body per line; each request sends a random one
--   threads=N              wrk's -t: answer mode splits the cards between the threads
-- Each request carries `Authorization: Bearer <token>` with a token picked at random from
-- TOKENS_FILE, so the service's token lookup sees many learners, as in real use.
--
-- Answer mode: FILE has one line per seeded card, `TOKEN QUESTION_ID CHOICE VERSION`. Each
-- request answers a random card, as its learner, with the right choice and the card's
-- current version: POST /api/v1/reviews/QUESTION_ID/answer. Every answer carries the
-- card's new version back (200: "card":{...,"version":N}; 409: "current":{...,"version":N}),
-- kept per card so the next answer to it is current. wrk does not say which request a
-- response belongs to, so a thread keeps at most one request per question id in flight
-- (while it has a choice) and the question id in the response names the card. A 409 (a
-- stale version) is counted apart from wrong statuses: it should be rare.
--
-- done() prints one line `BENCH_JSON {...}` that bench/loadgen.py parses.

local threads = {}

-- Runs in the main Lua state once per thread, before that thread's init().
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- A request in flight longer than this has lost its answer (wrk's --timeout is shorter).
local STALE_SECONDS = 10
-- Random draws looking for a card whose question has no request in flight.
local PICK_TRIES = 16

-- Per-thread state (each wrk thread has its own Lua state, so these globals are per thread).
tokens = {}
paths = {}
extra_headers = {}
expected_status = 200
method = "GET"
body = nil
bodies = {}
pairs_list = {}  -- request-list mode: {token, path}
cards = {}  -- answer mode: {token, question, choice, version} owned by this thread
inflight = {}  -- answer mode: question id -> queue of {card = index, sent = os.time()}
calls = 0
checked = 0
unexpected = 0
conflicts = 0
unmatched = 0
shared = 0

local function read_file(name)
  local f = assert(io.open(name, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local function load_cards(name, thread_count)
  local n = 0
  for line in io.lines(name) do
    local token, question, choice, version = line:match("^(%S+)%s+(%S+)%s+(%d+)%s+(%d+)%s*$")
    if token then
      n = n + 1
      -- Disjoint shares: two threads never hold versions of the same card.
      if (n - 1) % thread_count == (thread_number or 1) - 1 then
        table.insert(cards, {
          token = token, question = question,
          choice = tonumber(choice), version = tonumber(version),
        })
      end
    end
  end
  if #cards == 0 then
    error("no cards for thread " .. tostring(thread_number) .. " in " .. name)
  end
end

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
  local answers, thread_count = nil, 1
  for i = 3, #args do
    local kind, value = args[i]:match("^(%a+)=(.*)$")
    if kind == "path" then
      table.insert(paths, value)
    elseif kind == "header" then
      local name, content = value:match("^([^:]+):%s*(.*)$")
      extra_headers[name] = content
    elseif kind == "method" then
      method = value
    elseif kind == "body" then
      body = read_file(value)
    elseif kind == "answers" then
      answers = value
    elseif kind == "requests" then
      for line in io.lines(value) do
        local token, path = line:match("^(%S+)%s+(%S+)%s*$")
        if token then
          table.insert(pairs_list, {token = token, path = path})
        end
      end
      if #pairs_list == 0 then
        error("no `TOKEN PATH` line in " .. value)
      end
    elseif kind == "bodies" then
      for line in io.lines(value) do
        if #line > 0 then
          table.insert(bodies, line)
        end
      end
    elseif kind == "threads" then
      thread_count = tonumber(value)
    else
      error("unknown argument " .. args[i])
    end
  end
  if answers then
    load_cards(answers, thread_count)
  elseif #paths == 0 and #pairs_list == 0 then
    error("no path=... or requests=... argument")
  end
  -- Distinct seeds per thread, or every thread would replay the same token sequence.
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

local function base_headers()
  local headers = {}
  for name, content in pairs(extra_headers) do
    headers[name] = content
  end
  return headers
end

-- Drop requests of `question` that will never be answered (socket errors, timeouts).
local function settle(question, now)
  local queue = inflight[question]
  while queue and #queue > 0 and now - queue[1].sent > STALE_SECONDS do
    table.remove(queue, 1)
  end
  if queue and #queue == 0 then
    inflight[question] = nil
  end
end

local function answer_request(record)
  local now = os.time()
  local index
  for _ = 1, PICK_TRIES do
    local i = math.random(#cards)
    settle(cards[i].question, now)
    if inflight[cards[i].question] == nil then
      index = i
      break
    end
  end
  if index == nil then
    -- Fewer questions than connections: answers to this question may now be paired with
    -- the wrong card; a wrong version costs one 409, which carries the right one.
    index = math.random(#cards)
    shared = shared + 1
  end
  local card = cards[index]
  if record then
    local queue = inflight[card.question] or {}
    table.insert(queue, {card = index, sent = now})
    inflight[card.question] = queue
  end
  local headers = base_headers()
  headers["Authorization"] = "Bearer " .. card.token
  headers["Content-Type"] = "application/json"
  local payload = string.format(
    '{"answer":%d,"version":%d,"elapsed_ms":%d}', card.choice, card.version, 8000)
  return wrk.format("POST", "/api/v1/reviews/" .. card.question .. "/answer", headers, payload)
end

function request()
  calls = calls + 1
  if #cards > 0 then
    -- wrk calls request() once in the first thread before the run to check the script
    -- (script_verify_request); that request is never sent, so it must not wait for an answer.
    return answer_request(not (thread_number == 1 and calls == 1))
  end
  local headers = base_headers()
  local payload = body
  if #bodies > 0 then
    payload = bodies[math.random(#bodies)]
  end
  if #pairs_list > 0 then
    local pick = pairs_list[math.random(#pairs_list)]
    headers["Authorization"] = "Bearer " .. pick.token
    return wrk.format(method, pick.path, headers, payload)
  end
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format(method, paths[math.random(#paths)], headers, payload)
end

local function track_version(status, text)
  local block
  if status == 200 then
    block = text:match('"card":(%b{})')
  elseif status == 409 then
    block = text:match('"current":(%b{})')
  end
  local question = block and block:match('"question_id":"([^"]*)"')
  local version = block and tonumber(block:match('"version":(%d+)'))
  local queue = question and inflight[question]
  if not (version and queue and #queue > 0) then
    unmatched = unmatched + 1
    return
  end
  local entry = table.remove(queue, 1)
  if #queue == 0 then
    inflight[question] = nil
  end
  cards[entry.card].version = version
end

-- wrk itself only counts statuses above 399; a 200 where a 304 was expected is also wrong.
function response(status, headers, text)
  checked = checked + 1
  if #cards > 0 then
    track_version(status, text)
    if status == 409 then
      conflicts = conflicts + 1
      return
    end
  elseif #pairs_list > 0 and status == 409 then
    -- Two messages in flight to one conversation: the API answers the second 409, as
    -- documented. wrk cannot say which line a response belongs to, so it cannot avoid that.
    conflicts = conflicts + 1
    return
  end
  if status ~= expected_status then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local totals = {checked = 0, unexpected = 0, conflicts = 0, unmatched = 0, shared = 0}
  for _, thread in ipairs(threads) do
    for name, value in pairs(totals) do
      totals[name] = value + (thread:get(name) or 0)
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.6f,"requests_per_s":%.3f,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"mean":%.3f,"max":%.3f},' ..
    '"non_2xx_3xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"checked":%d,"unexpected_status":%d,"conflicts":%d,"unmatched":%d,"shared":%d,' ..
    '"bytes":%d}\n',
    summary.requests, seconds, seconds > 0 and summary.requests / seconds or 0,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout,
    totals.checked, totals.unexpected, totals.conflicts, totals.unmatched, totals.shared,
    summary.bytes))
end
