-- wrk script: the query log's searches (bench/queries/queries.txt, or the file in $QUERIES), picked at
-- random (seeded): GET /api/v1/search with the log's words, filters and facets; with PAGES=1, the
-- search page for people (`/search`) with the same words and filters (the page asks for its own
-- facets and 20 results). With MODE=combined, each search also within a box and a year.
local queries = {}
for line in io.lines(os.getenv("QUERIES") or "bench/queries/queries.txt") do
  if os.getenv("PAGES") == "1" then
    line = line:gsub("^/api/v1/search%?", "/search?"):gsub("&facets=[^&]*", ""):gsub("&limit=%d+", "")
  end
  queries[#queries + 1] = line
end
-- MODE=combined adds a box and a year to each search that has neither.
local boxes = {"7,42,11,45", "-5,50,10,62", "-98,18,-80,31", "170,-15,-170,10", "10,53,30,66"}
local combined = os.getenv("MODE") == "combined"
math.randomseed(11)
request = function()
  local path = queries[math.random(#queries)]
  if combined and not path:find("bbox=") and not path:find("datetime=") then
    local year = math.random(2008, 2025)
    path = path .. "&bbox=" .. boxes[math.random(#boxes)] .. "&datetime=" .. year .. "-01-01/" .. year .. "-12-31"
  end
  return wrk.format("GET", path)
end
