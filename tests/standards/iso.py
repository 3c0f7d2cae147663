"""Checks a running Fathom (started with --demo) against ISO 19139: every demo dataset, read with
`format=iso19139` and harvested over OAI-PMH in the `iso19139` format, validates against the ISO/TS 19139
(2007) XML schemas with xmllint, offline.

usage: python iso.py http://127.0.0.1:PORT STANDARDS_DIR SERVER_LOG
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

from lxml import etree

base, standards, server_log = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
admin_token = re.search(r"Demo admin token \(shown once\): (fthm_[A-Za-z0-9_-]+)", open(server_log).read()).group(1)
GMD = "http://www.isotc211.org/2005/gmd"


def get(path):
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {admin_token}"})
    with urllib.request.urlopen(request) as response:
        return response.headers["Content-Type"], response.read()


documents = {}
ids = [item["id"] for item in json.loads(get("/api/v1/datasets?limit=1000")[1])["items"]]
assert len(ids) == 51, len(ids)
for dataset_id in ids:
    content_type, body = get(f"/api/v1/datasets/{dataset_id}?format=iso19139")
    assert content_type == "application/vnd.iso.19139+xml", content_type
    documents[f"read-{dataset_id}"] = body

query = "verb=ListRecords&metadataPrefix=iso19139"
while query:
    page = etree.fromstring(get(f"/oai?{query}")[1])
    for metadata in page.iter(f"{{{GMD}}}MD_Metadata"):
        identifier = metadata.findtext(f"{{{GMD}}}fileIdentifier/{{http://www.isotc211.org/2005/gco}}CharacterString")
        documents[f"oai-{identifier}"] = etree.tostring(metadata, xml_declaration=True, encoding="UTF-8")
    token = page.findtext(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
    query = f"verb=ListRecords&resumptionToken={urllib.parse.quote(token)}" if token else None
assert len(documents) == 102, len(documents)

with tempfile.TemporaryDirectory() as folder:
    files = []
    for name, document in documents.items():
        path = os.path.join(folder, f"{name}.xml")
        with open(path, "wb") as file:
            file.write(document)
        files.append(path)
    result = subprocess.run(
        ["xmllint", "--nonet", "--noout", "--schema", f"{standards}/iso19139-xsd/iso19139-2007-offline.xsd", *files],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-5000:]
print(f"ISO/TS 19139:2007 schemas: {len(documents)} documents valid (51 read, 51 harvested over OAI-PMH)")
