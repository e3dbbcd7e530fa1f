-- Load script for wrk: one request shape per BENCH_MODE, entity ids drawn uniformly from
-- 1..BENCH_KEYS (or one hot id when BENCH_KEYS is 0). done() prints one JSON line that the
-- harness parses; req/s there counts 2xx/3xx replies only (wrk counts status > 399 as errors).
local mode = os.getenv("BENCH_MODE") or "ce-echo"
local keys = tonumber(os.getenv("BENCH_KEYS") or "1000")
local hot = os.getenv("BENCH_HOT") or "hot"
local prefix = os.getenv("BENCH_ID_PREFIX") or "e"
local echoBody = '{"orderId":"o-12345","amount":42.5,"items":["a","b","c"],"note":"hello"}'
local seq = 0
local runTag = ""
local static = nil
-- BENCH_AUTH: a bearer token sent with every HTTP API request (KNSTATE_API_AUTH benchmarks).
local httpHeaders = { ["Content-Type"] = "application/json" }
if (os.getenv("BENCH_AUTH") or "") ~= "" then httpHeaders["Authorization"] = "Bearer " .. os.getenv("BENCH_AUTH") end

local function entity()
  if keys == 0 then return hot end
  return prefix .. math.random(1, keys)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  runTag = string.format("%x%x-", os.time(), math.random(1, 2147483646))
  if mode == "ce-echo" then
    static = wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["ce-id"] = "bench-0001",
      ["ce-source"] = "/bench/wrk",
      ["ce-type"] = "dev.bench.echo",
      ["ce-specversion"] = "1.0",
    }, echoBody)
  elseif mode == "ks-echo" then
    static = wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["ce-id"] = "bench-0001",
      ["ce-source"] = "/bench/wrk",
      ["ce-type"] = "com.example.echo.say",
      ["ce-specversion"] = "1.0",
    }, echoBody)
  elseif mode == "hello" then
    static = wrk.format("GET", "/")
  end
end

function request()
  if static then return static end
  seq = seq + 1
  if mode == "ce-counter" then
    return wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["ce-id"] = runTag .. seq,
      ["ce-source"] = "/bench/wrk",
      ["ce-type"] = "com.example.counter.increment",
      ["ce-specversion"] = "1.0",
      ["ce-subject"] = entity(),
    }, '{"by":1}')
  elseif mode == "ce-likes" then
    return wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["ce-id"] = runTag .. seq,
      ["ce-source"] = "/bench/wrk",
      ["ce-type"] = "com.example.likes.like",
      ["ce-specversion"] = "1.0",
      ["ce-subject"] = entity(),
    }, '{"by":1}')
  elseif mode == "ce-reminder-fire" or mode == "ce-reminder-schedule" then
    -- bench/timers.mjs: one event per command, and with "schedule" also a timer (an hour away,
    -- replacing the entity's previous one), to price a timer on the commit path.
    local schedule = mode == "ce-reminder-schedule"
    return wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["ce-id"] = runTag .. seq,
      ["ce-source"] = "/bench/wrk",
      ["ce-type"] = schedule and "com.example.reminder.schedule" or "com.example.reminder.fire",
      ["ce-specversion"] = "1.0",
      ["ce-subject"] = entity(),
    }, schedule and '{"name":"t","afterMs":3600000,"message":"m"}' or '{"name":"t","message":"m"}')
  elseif mode == "http-counter" then
    return wrk.format("POST", "/counter/" .. entity() .. "/increment", httpHeaders, '{"by":1}')
  elseif mode == "restate" then
    return wrk.format("POST", "/counter/" .. entity() .. "/add",
      { ["Content-Type"] = "application/json" }, "1")
  elseif mode == "get" then
    return wrk.format("GET", "/counter/" .. entity())
  end
  return wrk.format("GET", "/")
end

function done(summary, latency, requests)
  local e = summary.errors
  local failed = e.status
  io.write(string.format(
    'BENCHJSON {"requests":%d,"durationUs":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, failed, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
