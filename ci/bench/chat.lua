local queries = {
  "What is the status of Delta Industries?", "What is the status of Delta Industries?",
  "What is the status of Delta Industries?",
  "Should we extend payment terms to Delta Industries?",
  "What patterns do you see with Delta Industries?" }
local n = 0
request = function()
  n = n + 1
  local q = queries[(n % #queries) + 1]
  return wrk.format("POST", "/api/chat",
    {["Content-Type"]="application/json", ["Authorization"]="Bearer " .. os.getenv("TOKEN")},
    '{"query":"' .. q .. '","session_id":"s"}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d n=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50)/1000, latency:percentile(95)/1000,
    latency:percentile(99)/1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
