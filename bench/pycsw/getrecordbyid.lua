-- wrk script: CSW 2.0.2 GetRecordById (GET KVP, ElementSetName full) for ids picked at random from
-- the file in $IDS (bench/out/pycsw-ids.txt, written by setup.sh). SCHEMA=iso asks for the stored
-- ISO 19139 document (outputSchema gmd) instead of the csw:Record.
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
local schema = ""
if os.getenv("SCHEMA") == "iso" then schema = "&outputSchema=http%3A%2F%2Fwww.isotc211.org%2F2005%2Fgmd" end
local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/?service=CSW&version=2.0.2&request=GetRecordById&elementsetname=full" ..
    schema .. "&id=" .. encode(ids[math.random(#ids)]))
end
