-- JSON error answers of the gateway: contracts' ClientErrorBody {error, message, fn?, requestId?},
-- the status taken from the code (client-errors.ts, rendered into faas_config).
local json = require('cjson.safe')
local cfg = require('faas_config')

local M = {}

-- Ends the request with a JSON body. Works in access and content phases.
function M.send(code, message, fn)
  local status = cfg.client_errors[code]
  if not status then
    ngx.log(ngx.ERR, 'gateway bug: unknown client error code ', tostring(code))
    code, status = 'internal_error', cfg.client_errors.internal_error
  end
  ngx.status = status
  ngx.header['Content-Type'] = 'application/json'
  ngx.header['Cache-Control'] = 'no-store'
  if status == 503 then ngx.header['Retry-After'] = tostring(cfg.retry_after_s) end
  local body = { error = code, message = message }
  if fn and fn ~= '' then body.fn = fn end
  local rid = ngx.var.faas_request_id
  if rid and rid ~= '' then body.requestId = rid end
  ngx.print(json.encode(body), '\n')
  return ngx.exit(ngx.HTTP_OK)
end

return M
