"""Reads a running Fathom (started with --demo) with OWSLib's OGC API - Records client.

usage: python records.py http://127.0.0.1:PORT
"""
import sys

from owslib.ogcapi.records import Records

base = sys.argv[1].rstrip("/") + "/ogcapi"
records = Records(base)
assert records.links, "landing page has links"
assert "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core" in records.conformance()["conformsTo"]
collections = records.collections()["collections"]
assert [c["id"] for c in collections] == ["datasets"], collections
assert records.collection("datasets")["itemType"] == "record"

page = records.collection_items("datasets", limit=5)
# 51 demo datasets, 7 of them labelled beyond what an anonymous reader (OWSLib here) may see.
assert page["numberReturned"] == 5 and page["numberMatched"] == 44, page["numberMatched"]
glider = records.collection_items("datasets", q="glider", limit=3)
assert glider["numberMatched"] >= 1
assert all("glider" in (f["properties"]["title"] + " ".join(f["properties"]["keywords"])).lower() for f in glider["features"])
ligurian = records.collection_items("datasets", bbox=[8.0, 43.0, 10.0, 44.5], limit=50)
assert ligurian["numberMatched"] >= 1
record_id = glider["features"][0]["id"]
record = records.collection_item("datasets", record_id)
assert record["id"] == record_id and record["type"] == "Feature"
print(f"OWSLib read {page['numberMatched']} records; q=glider {glider['numberMatched']}; bbox {ligurian['numberMatched']}")
