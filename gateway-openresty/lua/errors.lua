-- JSON error answers of the gateway (same shape as contracts' GatewayApiError).
local json = require('json')
local cfg = require('faas_config')

local M = {}

-- Ends the request with a JSON body. Works in access and content phases.
function M.send(status, code, message, fn)
  ngx.status = status
  ngx.header['Content-Type'] = 'application/json'
  ngx.header['Cache-Control'] = 'no-store'
  if status == 503 then ngx.header['Retry-After'] = tostring(cfg.retry_after_s) end
  local body = { error = code, message = message }
  if fn then body.fn = fn end
  ngx.print(json.encode(body), '\n')
  return ngx.exit(ngx.HTTP_OK)
end

return M
