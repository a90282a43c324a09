-- wrk script: send each request with the next access token from the file
-- named by the first script argument, so no two requests in a row share a
-- token and every request misses a per-token cache.
local tokens = {}
local next_index = 1

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      tokens[#tokens + 1] = line
    end
  end
  -- Each wrk thread starts at a different place in the list.
  next_index = math.random(#tokens)
end

function request()
  next_index = next_index % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[next_index] })
end
