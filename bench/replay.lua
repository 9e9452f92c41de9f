-- wrk script for bench/ingest.py: replays pre-signed requests from a file, one file per wrk thread.
--
-- Usage: wrk -t T -c C -d D -s bench/replay.lua http://127.0.0.1:PORT -- <path> <file-prefix>
-- Reads <file-prefix>.<thread-index>; each record is "<length>\n<header lines and body>", i.e. a full
-- HTTP/1.1 request without its request line. request() returns the pre-built bytes, so wrk spends no
-- time formatting. If a thread runs out it starts over (the bench reports that: repeats are duplicates).
-- No response() callback: defining one makes wrk hand every response to Lua, which costs CPU we share.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, prefix = args[1], args[2]
  local f = assert(io.open(prefix .. "." .. thread_index, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local pos = 1
  local line = "POST " .. path .. " HTTP/1.1\r\n"
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    reqs[#reqs + 1] = line .. string.sub(data, nl + 1, nl + len)
    pos = nl + 1 + len
  end
  n = #reqs
  i = 0
  wraps = 0
end

function request()
  i = i + 1
  if i > n then
    i = 1
    wraps = wraps + 1
  end
  return reqs[i]
end

function done(summary, latency, requests)
  local issued, loaded, wrapped = 0, 0, 0
  for _, t in ipairs(threads) do
    local w, c, m = t:get("wraps"), t:get("i"), t:get("n")
    wrapped = wrapped + w
    issued = issued + w * m + c
    loaded = loaded + m
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,'
      .. '"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"issued":%d,"loaded":%d,"wraps":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    issued, loaded, wrapped
  ))
end
