-- Minimal HTTP/1.1 client on cosockets, for timers (where ngx.location.capture is not available).
-- One request per connection (Connection: close): the only caller is a long poll every ~25 s.
local M = {}

local function read_body(sock, headers)
  local len = headers['content-length']
  if len then
    local n = tonumber(len)
    if not n or n < 0 then return nil, 'bad content-length' end
    if n == 0 then return '' end
    return sock:receive(n)
  end
  if headers['transfer-encoding'] and headers['transfer-encoding']:lower():find('chunked', 1, true) then
    local parts = {}
    while true do
      local line, err = sock:receive('*l')
      if not line then return nil, err end
      local size = tonumber(line:match('^%s*(%x+)'), 16)
      if not size then return nil, 'bad chunk size' end
      if size == 0 then
        sock:receive('*l') -- final CRLF (no trailers expected)
        return table.concat(parts)
      end
      local data, derr = sock:receive(size)
      if not data then return nil, derr end
      parts[#parts + 1] = data
      sock:receive('*l')
    end
  end
  return sock:receive('*a')
end

-- opts: host, port, method, path, headers (table), timeout_ms. Returns {status, headers, body} or nil, err.
function M.request(opts)
  local sock = ngx.socket.tcp()
  sock:settimeouts(2000, 5000, opts.timeout_ms or 30000)
  local ok, err = sock:connect(opts.host, opts.port)
  if not ok then return nil, 'connect ' .. opts.host .. ':' .. opts.port .. ': ' .. tostring(err) end
  local lines = { (opts.method or 'GET') .. ' ' .. opts.path .. ' HTTP/1.1', 'Host: ' .. opts.host, 'Connection: close' }
  for k, v in pairs(opts.headers or {}) do lines[#lines + 1] = k .. ': ' .. v end
  local sent, serr = sock:send(table.concat(lines, '\r\n') .. '\r\n\r\n')
  if not sent then
    sock:close()
    return nil, 'send: ' .. tostring(serr)
  end
  local status_line, rerr = sock:receive('*l')
  if not status_line then
    sock:close()
    return nil, 'read status: ' .. tostring(rerr)
  end
  local status = tonumber(status_line:match('^HTTP/1%.%d (%d%d%d)'))
  if not status then
    sock:close()
    return nil, 'bad status line'
  end
  local headers = {}
  while true do
    local line, herr = sock:receive('*l')
    if not line then
      sock:close()
      return nil, 'read headers: ' .. tostring(herr)
    end
    if line == '' then break end
    local k, v = line:match('^([^:]+):%s*(.-)%s*$')
    if k then headers[k:lower()] = v end
  end
  local body, berr = read_body(sock, headers)
  sock:close()
  if not body then return nil, 'read body: ' .. tostring(berr) end
  return { status = status, headers = headers, body = body }
end

return M
