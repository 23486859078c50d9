-- refresh_rotation.lua — wrk script: refresh_token grants that really rotate.
--
-- h2load sends one fixed body, and a refresh token works once (a second use is
-- answered from the grace window, then revokes the family), so this script
-- keeps a pool of live tokens: each request takes one, each answer puts its
-- successor back. Every request is therefore a genuine rotation (row lock,
-- insert, update, commit, ES256 signature).
--
--   wrk -t1 -c16 -d20s -s bench/refresh_rotation.lua http://127.0.0.1:18400 -- TOKENS_FILE CLIENT_ID
--
-- TOKENS_FILE holds one refresh token per line, at least as many as
-- connections (bench/sign_in_seed.py makes them). Non-200 answers are counted
-- and printed at the end; a token whose answer was lost leaves the pool.

local tokens, client_id = {}, "app"
local failures, empty = 0, 0

function init(args)
    for line in io.lines(args[1]) do
        if #line > 0 then
            tokens[#tokens + 1] = line
        end
    end
    client_id = args[2] or client_id
end

function request()
    local token = table.remove(tokens)
    if token == nil then
        empty = empty + 1
        token = "none"
    end
    return wrk.format("POST", "/oauth/token", {["Content-Type"] = "application/x-www-form-urlencoded"},
        "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. token)
end

function response(status, headers, body)
    local next_token = body:match('"refresh_token":"([^"]+)"')
    if status == 200 and next_token then
        tokens[#tokens + 1] = next_token
    else
        failures = failures + 1
    end
end

function done(summary, latency, requests)
    io.write(string.format("non-2xx or token-less answers: %d\n", summary.errors.status))
end
