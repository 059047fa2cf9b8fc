-- Keeps the shared dict of function states current: ONE worker long-polls redis-rest
-- (GET /v1/functions?after=REV) and writes every answer into the lua_shared_dict, which all
-- workers read. Dict keys: "s:<fn>" = state, "names" = "\n"-joined names, "rev", "primed".
local http = require('http_client')
local json = require('cjson.safe')
local cfg = require('faas_config')
local auth = require('internal_auth')

local M = {}
local dict = ngx.shared.faas_state

-- Replace the whole state by a FunctionStates answer. Pure on the dict; returns nil, err on bad input.
function M.apply(states)
  if type(states) ~= 'table' or type(states.rev) ~= 'number' or type(states.functions) ~= 'table' then
    return nil, 'answer is not a FunctionStates object'
  end
  local names = {}
  for name, state in pairs(states.functions) do
    if type(name) == 'string' and cfg.function_states[state] then
      dict:set('s:' .. name, state)
      names[#names + 1] = name
    end
  end
  -- Drop functions no longer defined.
  local keep = {}
  for _, n in ipairs(names) do keep[n] = true end
  local old = dict:get('names')
  if old then
    for n in old:gmatch('[^\n]+') do
      if not keep[n] then dict:delete('s:' .. n) end
    end
  end
  dict:set('names', table.concat(names, '\n'))
  dict:set('rev', states.rev)
  dict:set('primed', true)
  return true
end

-- Forget everything: the platform says it has no state (Redis flushed, orchestrator never ran).
local function poll_once()
  local rev = dict:get('rev')
  local path = '/v1/functions'
  if rev and dict:get('primed') then
    path = path .. '?after=' .. string.format('%d', rev) .. '&wait_ms=' .. cfg.sync_wait_ms
  end
  local res, err = http.request({
    host = cfg.redis_rest_host, port = cfg.redis_rest_port, path = path,
    headers = { [cfg.headers.request_id] = 'gateway-state-sync', [cfg.auth_header] = auth.value },
    timeout_ms = cfg.sync_wait_ms + 5000,
  })
  if not res then return nil, err end
  if res.status ~= 200 then
    local body = json.decode(res.body)
    local code = type(body) == 'table' and body.error or nil
    -- Neither a Redis outage nor "no states at all" (Redis restarted empty, until the
    -- orchestrator re-publishes) drops the last known states: warm functions stay routable
    -- through the router, which still has them. Forgetting the rev makes the next round a
    -- full read, so the re-published states replace these whatever their rev.
    if code == cfg.api_errors.not_deployed then dict:delete('rev') end
    return nil, 'redis-rest answered ' .. res.status .. ' ' .. tostring(code)
  end
  local states, derr = json.decode(res.body)
  if not states then return nil, 'bad JSON: ' .. tostring(derr) end
  return M.apply(states)
end

-- One JSON line on the error log (nginx prefixes it with its own time and level).
local function log_event(level, event, fields)
  fields.component, fields.event = 'gateway', event
  ngx.log(level, json.encode(fields))
end

-- Each round runs under pcall: a thrown error (bad data, a bug) is logged and backed off, and the
-- loop goes on, so state sync never stops in this worker.
local function loop(premature)
  if premature then return end
  local failures = 0
  while not ngx.worker.exiting() do
    local called, ok, err = pcall(poll_once)
    if not called then ok, err = nil, 'state sync round threw: ' .. tostring(ok) end
    if ok then
      if failures > 0 then log_event(ngx.WARN, 'state_sync_recovered', { failures = failures }) end
      failures = 0
    else
      failures = failures + 1
      if failures == 1 or failures % 30 == 0 then log_event(ngx.WARN, 'state_sync_failed', { failures = failures, error = tostring(err) }) end
      ngx.sleep(math.min(cfg.sync_retry_ms * failures, cfg.sync_max_backoff_ms) / 1000)
    end
  end
end

-- Called from init_worker_by_lua: the first worker runs the poller.
function M.start()
  if ngx.worker.id() ~= 0 then return end
  local ok, err = ngx.timer.at(0, loop)
  if not ok then ngx.log(ngx.ERR, 'cannot start faas state sync: ', err) end
end

return M
