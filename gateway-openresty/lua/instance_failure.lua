-- Content of the named location the router's instance_failed reply redirects to (X-Accel-Redirect,
-- contracts/instance-failures.ts). The router cannot know why the instance ended; the orchestrator
-- records it. Ask redis-rest (a bounded wait for that record) and answer 502 out_of_memory when the
-- kernel killed an instance of the function for memory during this request, else instance_failed:
-- also whenever redis-rest cannot say (down, refused, garbled).
local cfg = require('faas_config')
local errors = require('errors')
local json = require('cjson.safe')

local OOM = cfg.failure_causes.oom
assert(OOM, 'faas_config.failure_causes lacks oom')

local M = {}

-- Pure: redis-rest's answer (status, body text) -> client error code and message.
function M.decide(fn, status, body)
  local answer = status == 200 and json.decode(body) or nil
  local failure = type(answer) == 'table' and answer.failure or nil
  if type(failure) == 'table' and failure.cause == OOM then
    local limit = tonumber(failure.memoryMb) and (' (memory_mb ' .. failure.memoryMb .. ')') or ''
    return 'out_of_memory', 'instance ' .. tostring(failure.instance) .. ' of ' .. fn .. ' ran out of memory' .. limit .. ' and was killed while handling the request'
  end
  return 'instance_failed', 'the instance of ' .. fn .. ' ended while handling the request'
end

function M.answer()
  local fn = ngx.var.faas_fn
  if fn == nil or fn == '' then
    return errors.send('instance_failed', 'the instance ended while handling the request')
  end
  local res = ngx.location.capture('/_faas/failure/' .. fn, {
    method = ngx.HTTP_GET,
    args = { since = string.format('%d', math.floor(ngx.req.start_time() * 1000)), wait_ms = cfg.failure_wait_ms, rid = ngx.var.faas_request_id },
  })
  if res.status ~= 200 then
    ngx.log(ngx.WARN, 'failure lookup for ', fn, ' answered ', res.status, ': answering instance_failed')
  end
  local code, message = M.decide(fn, res.status, res.body)
  return errors.send(code, message, fn)
end

return M
