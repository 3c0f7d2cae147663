-- wrk script: GET /api/v1/datasets/{id} for ids picked at random from the file in $IDS; with PAGES=1,
-- the dataset's page for people (`/datasets/{id}`).
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(42)
local prefix = os.getenv("PAGES") == "1" and "/datasets/" or "/api/v1/datasets/"
request = function()
  return wrk.format("GET", prefix .. ids[math.random(#ids)])
end
