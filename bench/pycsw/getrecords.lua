-- wrk script: CSW 2.0.2 GetRecords (POST XML), csw:AnyText PropertyIsLike '%word%' on a random word,
-- resultType=results, maxRecords=20, ElementSetName summary.
-- The words are not bench/search.lua's (marine terms, which barely occur in the ISO corpus) but
-- subject words of the Stanford EarthWorks records, matching from ~4% to ~36% of the records.
local words = {"arctic", "boundaries", "census", "population", "urban", "farmland", "rivers", "coast",
               "roads", "elevation", "ocean", "agriculture", "housing", "transportation", "geology", "forest"}
local body = [[<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc"
  service="CSW" version="2.0.2" resultType="results" maxRecords="20" startPosition="1">
  <csw:Query typeNames="csw:Record">
    <csw:ElementSetName>summary</csw:ElementSetName>
    <csw:Constraint version="1.1.0">
      <ogc:Filter>
        <ogc:PropertyIsLike matchCase="false" wildCard="%%" singleChar="_" escapeChar="\">
          <ogc:PropertyName>csw:AnyText</ogc:PropertyName>
          <ogc:Literal>%%%s%%</ogc:Literal>
        </ogc:PropertyIsLike>
      </ogc:Filter>
    </csw:Constraint>
  </csw:Query>
</csw:GetRecords>]]
math.randomseed(7)
request = function()
  return wrk.format("POST", "/", {["Content-Type"] = "application/xml"},
    string.format(body, words[math.random(#words)]))
end
