-- The `authorization` value for calls to redis-rest (contracts/internal-auth.ts). The token comes
-- from the environment (nginx.conf's `env` directive keeps it for the workers), so it is never
-- written into a file under the prefix nor logged. nil when the launcher gave none: redis-rest
-- then answers 401, which the gateway reports.
local cfg = require('faas_config')

local token = os.getenv(cfg.token_env)
local M = {}
if token and token ~= '' then M.value = cfg.auth_scheme .. ' ' .. token end
return M
