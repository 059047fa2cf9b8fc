-- Access phase of every function request: route warm functions straight through, hold cold
-- ones while redis-rest wakes them, answer bad names / unknown functions / timeouts with JSON.
local cfg = require('faas_config')
local errors = require('errors')
local json = require('cjson.safe')

local API = cfg.api_errors
-- The states this file names, checked against contracts' FUNCTION_STATES at load.
local WARM, COLD = 'warm', 'cold'
assert(cfg.function_states[WARM] and cfg.function_states[COLD], 'faas_config.function_states lacks warm/cold')

local M = {}
local dict = ngx.shared.faas_state

function M.valid_name(name)
  if not name or cfg.reserved[name] then return false end
  return ngx.re.find(name, cfg.name_pattern, 'jo') ~= nil
end

-- First path segment of the URI exactly as the client sent it: the router sees the raw URI,
-- so the raw segment is what must be a valid name (no percent-encoded look-alikes).
function M.function_of(request_uri)
  local path = request_uri:match('^[^?]*')
  return path:match('^/([^/]*)')
end

-- Paths the router would normalize differently from what the gateway checks (Envoy merges
-- slashes and resolves dot segments): refused, so the gateway and the router always agree on
-- which function a request is for.
local AMBIGUOUS_PATH = [[(?:^|/)\.\.?(?:/|$)|%2[eEfF]|%5[cC]|\\|//]]

function M.ambiguous_path(request_uri)
  local path = request_uri:match('^[^?]*')
  return ngx.re.find(path, AMBIGUOUS_PATH, 'jo') ~= nil
end

local function wake(fn)
  ngx.update_time()
  local t0 = ngx.now()
  local res = ngx.location.capture('/_faas/wake/' .. fn, {
    method = ngx.HTTP_POST,
    body = '',
    args = { timeout_ms = cfg.wake_timeout_ms, rid = ngx.var.faas_request_id },
  })
  ngx.update_time()
  ngx.var.faas_held_ms = string.format('%d', math.floor((ngx.now() - t0) * 1000 + 0.5))
  return res
end

local AMBIGUOUS_MESSAGE = 'path must not contain dot segments, empty segments, backslashes or percent-encoded ".", "/" or "\\"'

-- Access phase of every client-facing location: nginx resolves dot segments before choosing
-- a location ("/hello/.." lands on "location = /"), so the raw path is checked everywhere.
function M.check_path()
  if M.ambiguous_path(ngx.var.request_uri) then
    return errors.send('invalid_request', AMBIGUOUS_MESSAGE)
  end
end

function M.access()
  local fn = M.function_of(ngx.var.request_uri)
  if M.ambiguous_path(ngx.var.request_uri) then
    return errors.send('invalid_request', AMBIGUOUS_MESSAGE)
  end
  if not M.valid_name(fn) then
    return errors.send('invalid_name', 'invalid function name ' .. json.encode(fn or '') .. ': ' .. cfg.name_rule .. ', and not reserved (' .. cfg.reserved_list .. ')')
  end
  ngx.var.faas_fn = fn
  -- A call from a function (call-api.ts) says how deep it is: a loop ends here, before any wake.
  local depth = ngx.var[cfg.headers.call_depth_var]
  if depth ~= nil then
    if not ngx.re.find(depth, [[^[0-9]{1,9}\z]], 'jo') then
      return errors.send('invalid_request', cfg.headers.call_depth .. ' must be a whole number', fn)
    end
    if tonumber(depth) > cfg.call_max_depth then
      return errors.send('call_depth_exceeded', 'call depth ' .. depth .. ' exceeds the limit of ' .. cfg.call_max_depth .. ' nested calls', fn)
    end
  end
  local state = dict:get('s:' .. fn)
  if state == WARM then return end
  if state == nil and dict:get('primed') then
    return errors.send('unknown_function', 'no function named ' .. fn .. ' is defined', fn)
  end

  -- A chunked body has no Content-Length for nginx to check up front: read it before waking, so
  -- an oversized one is refused (413 through error_page) before any container work.
  if ngx.var.http_transfer_encoding then ngx.req.read_body() end

  local res = wake(fn)
  if res.status == 200 then
    -- Warm now (also heals a state this worker had marked cold after a router miss).
    dict:set('s:' .. fn, WARM)
    -- The warm tier that served the wake (x-faas-wake-tier), when redis-rest names one.
    local ok = json.decode(res.body)
    if type(ok) == 'table' and type(ok.tier) == 'string' and ok.tier:match('^%l+$') then ngx.var.faas_wake_tier = ok.tier end
    return -- held until warm: fall through to proxy_pass
  end
  -- Decided by redis-rest's error code (gateway-api.ts), never by its message text.
  local body = json.decode(res.body)
  local code = type(body) == 'table' and body.error or nil
  if code == API.unknown_function then
    return errors.send('unknown_function', 'no function named ' .. fn .. ' is defined', fn)
  end
  if code == API.wake_timeout then
    return errors.send('wake_timeout', fn .. ' did not become ready within ' .. cfg.wake_timeout_ms .. ' ms', fn)
  end
  if code == API.unauthorized then
    ngx.log(ngx.ERR, 'redis-rest refused the internal API token (FAAS_INTERNAL_TOKEN differs or is missing)')
    return errors.send('platform_unavailable', 'the gateway is not authorized by the wake service', fn)
  end
  if res.status == 503 and code then
    return errors.send('platform_unavailable', 'platform unavailable: ' .. tostring(body.message), fn)
  end
  ngx.log(ngx.ERR, 'wake call for ', fn, ' failed with status ', res.status, ' code ', tostring(code))
  return errors.send('platform_unavailable', 'cannot reach the wake service (redis-rest)', fn)
end

-- Header filter of proxied responses: the router marks its own "no healthy upstream" / "no
-- route" replies. A function the gateway believed warm is then not routable (a state change
-- this gateway missed), so the next request takes the wake path instead of failing again.
function M.router_reply()
  local fn = ngx.var.faas_fn
  if fn == nil or fn == '' or ngx.var[cfg.headers.router_no_upstream_var] ~= '1' then return end
  if dict:get('s:' .. fn) == WARM then
    dict:set('s:' .. fn, COLD)
    ngx.log(ngx.WARN, 'router has no upstream for ', fn, ' (status ', ngx.status, '): marked cold, next request wakes it')
  end
  if ngx.status == 503 then ngx.header['Retry-After'] = tostring(cfg.retry_after_s) end
end

function M.healthz()
  ngx.header['Content-Type'] = 'application/json'
  ngx.header['Cache-Control'] = 'no-store'
  local primed = dict:get('primed') == true
  ngx.say(json.encode({ ok = true, primed = primed, rev = dict:get('rev') or 0 }))
end

function M.index()
  ngx.header['Content-Type'] = 'application/json'
  ngx.say(json.encode({ ok = true, service = 'faas-gateway', usage = 'call /<function>[/<path>]' }))
end

-- Errors nginx itself produces, by the status nginx raised: {client error code, message}.
local NGINX_ERRORS = {
  [400] = { 'invalid_request', 'bad request (malformed request line or headers, or a path that climbs above the root)' },
  [404] = { 'not_found', 'not found' },
  [405] = { 'method_not_allowed', 'method not allowed' },
  [413] = { 'body_too_large', 'request body too large (limit ' .. cfg.max_body_bytes .. ' bytes)' },
  [414] = { 'uri_too_long', 'request line too long' },
  [431] = { 'headers_too_large', 'a request header or the header block is too large' },
  [500] = { 'internal_error', 'gateway error' },
  [502] = { 'bad_gateway', 'the router is unreachable or answered something unusable' },
  [503] = { 'platform_unavailable', 'the gateway cannot serve the request now' },
  [504] = { 'upstream_timeout', 'the router did not answer in time' },
}

-- Content of the error_page locations.
function M.nginx_error()
  local status = tonumber(ngx.var.status) or 500
  local e = NGINX_ERRORS[status] or NGINX_ERRORS[500]
  local uri = ngx.var.request_uri or ''
  local fn = ngx.var.faas_fn
  -- Errors raised before the access phase (413 on Content-Length) have no $faas_fn yet.
  if fn == nil or fn == '' then
    local seg = M.function_of(uri)
    if M.valid_name(seg) then fn = seg else fn = nil end
  end
  -- nginx refuses some paths itself; when it kept the URI, answer like the access check does.
  if status == 400 and M.ambiguous_path(uri) then
    return errors.send('invalid_request', AMBIGUOUS_MESSAGE)
  end
  -- Paths of internal locations (/_faas/...) reach here as 404: answer them like any bad name.
  if status == 404 and fn == nil then
    local seg = M.function_of(uri)
    return errors.send('invalid_name', 'invalid function name ' .. json.encode(seg or '') .. ': ' .. cfg.name_rule)
  end
  if status >= 500 then ngx.header['Retry-After'] = tostring(cfg.retry_after_s) end
  return errors.send(e[1], e[2], fn)
end

return M
