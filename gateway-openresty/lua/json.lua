-- Minimal JSON for the gateway: Debian's nginx Lua module ships without cjson, and OpenResty's cjson
-- is not in Debian, so one small pure-Lua codec serves both. Payloads here are tiny (states, errors).
local M = {}

local byte, sub, find, char, concat = string.byte, string.sub, string.find, string.char, table.concat
local tonumber, type, pairs, ipairs, error, pcall = tonumber, type, pairs, ipairs, error, pcall

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', byte(c))
  end) .. '"'
end

local function encode(v)
  local t = type(v)
  if t == 'string' then return encode_string(v) end
  if t == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then return 'null' end
    if v == math.floor(v) and v > -1e15 and v < 1e15 then return string.format('%d', v) end
    return string.format('%.14g', v)
  end
  if t == 'boolean' then return v and 'true' or 'false' end
  if t == 'nil' then return 'null' end
  if t == 'table' then
    local parts = {}
    if #v > 0 then
      for i, x in ipairs(v) do parts[i] = encode(x) end
      return '[' .. concat(parts, ',') .. ']'
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys) -- stable output
    for i, k in ipairs(keys) do parts[i] = encode_string(k) .. ':' .. encode(v[k]) end
    return '{' .. concat(parts, ',') .. '}'
  end
  error('cannot encode a ' .. t)
end
M.encode = encode

local decode_value

local function skip(s, i)
  local _, e = find(s, '^[ \t\r\n]*', i)
  return e + 1
end

local function utf8(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40, 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local function decode_string(s, i)
  -- i points at the opening quote
  local out, j = {}, i + 1
  while true do
    local a, b = find(s, '^[^"\\%c]+', j)
    if a then
      out[#out + 1] = sub(s, a, b)
      j = b + 1
    end
    local c = sub(s, j, j)
    if c == '"' then return concat(out), j + 1 end
    if c ~= '\\' then error('bad character in string at ' .. j) end
    local e = sub(s, j + 1, j + 1)
    if e == 'u' then
      local hex = sub(s, j + 2, j + 5)
      if not find(hex, '^%x%x%x%x$') then error('bad \\u escape at ' .. j) end
      local cp = tonumber(hex, 16)
      j = j + 6
      if cp >= 0xD800 and cp <= 0xDBFF and sub(s, j, j + 1) == '\\u' then
        local lo = tonumber(sub(s, j + 2, j + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          j = j + 6
        end
      end
      out[#out + 1] = utf8(cp)
    else
      local map = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }
      local r = map[e]
      if not r then error('bad escape at ' .. j) end
      out[#out + 1] = r
      j = j + 2
    end
  end
end

local function decode_object(s, i)
  local obj = {}
  i = skip(s, i + 1)
  if sub(s, i, i) == '}' then return obj, i + 1 end
  while true do
    if sub(s, i, i) ~= '"' then error('expected a key at ' .. i) end
    local k
    k, i = decode_string(s, i)
    i = skip(s, i)
    if sub(s, i, i) ~= ':' then error('expected : at ' .. i) end
    obj[k], i = decode_value(s, skip(s, i + 1))
    i = skip(s, i)
    local c = sub(s, i, i)
    if c == '}' then return obj, i + 1 end
    if c ~= ',' then error('expected , or } at ' .. i) end
    i = skip(s, i + 1)
  end
end

local function decode_array(s, i)
  local arr, n = {}, 0
  i = skip(s, i + 1)
  if sub(s, i, i) == ']' then return arr, i + 1 end
  while true do
    n = n + 1
    arr[n], i = decode_value(s, skip(s, i))
    i = skip(s, i)
    local c = sub(s, i, i)
    if c == ']' then return arr, i + 1 end
    if c ~= ',' then error('expected , or ] at ' .. i) end
    i = i + 1
  end
end

decode_value = function(s, i)
  local c = sub(s, i, i)
  if c == '{' then return decode_object(s, i) end
  if c == '[' then return decode_array(s, i) end
  if c == '"' then return decode_string(s, i) end
  if sub(s, i, i + 3) == 'true' then return true, i + 4 end
  if sub(s, i, i + 4) == 'false' then return false, i + 5 end
  if sub(s, i, i + 3) == 'null' then return nil, i + 4 end
  local a, b = find(s, '^-?%d+%.?%d*[eE]?[-+]?%d*', i)
  if a then
    local n = tonumber(sub(s, a, b))
    if n then return n, b + 1 end
  end
  error('unexpected character at ' .. i)
end

-- Returns value or nil, error message. Never throws.
function M.decode(s)
  if type(s) ~= 'string' then return nil, 'not a string' end
  local ok, v, i = pcall(decode_value, s, skip(s, 1))
  if not ok then return nil, v end
  if skip(s, i) <= #s then return nil, 'trailing data at ' .. i end
  return v
end

return M
