-- wrk script, a smoke test only (the search figures use the query log, bench/queries.lua):
-- GET /api/v1/search with a random keyword query and five facets; with MODE=combined,
-- also a bounding box and a time range. With PAGES=1, the search page for people (`/search`, 20
-- results and its eleven facets) with the same words.
local words = {"ctd", "glider", "multibeam", "acoustics", "sonar", "temperature", "waves", "sediment",
               "currents", "ais", "bathymetry", "salinity", "hydrophone", "spectra", "cores", "shipping"}
local boxes = {"7,42,11,45", "-5,50,10,62", "-98,18,-80,31", "170,-15,-170,10", "10,53,30,66"}
local combined = os.getenv("MODE") == "combined"
local pages = os.getenv("PAGES") == "1"
math.randomseed(7)
request = function()
  local path = "/api/v1/search?q=" .. words[math.random(#words)] ..
    "&facets=keyword,organisation,format,licence,theme&limit=20"
  if pages then
    path = "/search?q=" .. words[math.random(#words)]
  end
  if combined then
    local year = math.random(2008, 2025)
    path = path .. "&bbox=" .. boxes[math.random(#boxes)] .. "&datetime=" .. year .. "-01-01/" .. year .. "-12-31"
  end
  return wrk.format("GET", path)
end
