-- wrk script for the soak (bench/soak.sh): the query log's searches (bench/queries/queries.txt),
-- three requests in four, and GET /api/v1/datasets/{id} for ids from the file in $IDS, the fourth.
local queries, ids = {}, {}
for line in io.lines("bench/queries/queries.txt") do queries[#queries + 1] = line end
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(7)
request = function()
  if math.random(4) == 4 then
    return wrk.format("GET", "/api/v1/datasets/" .. ids[math.random(#ids)])
  end
  return wrk.format("GET", queries[math.random(#queries)])
end
