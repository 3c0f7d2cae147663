-- wrk script: GET /api/v1/datasets/{id} for ids picked at random from the file in $IDS.
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/v1/datasets/" .. ids[math.random(#ids)])
end
