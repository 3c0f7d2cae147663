"""Checks a running Fathom (started with --demo and a small oai_page_size) against OAI-PMH 2.0: a real
client (sickle) harvests the whole demo catalogue across resumption tokens, and every response, pages
and errors alike, validates against the OAI-PMH and oai_dc XML schemas (xmllint, offline catalog).

usage: python oai.py http://127.0.0.1:PORT STANDARDS_DIR SERVER_LOG
"""
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

from sickle import Sickle
from sickle.oaiexceptions import BadResumptionToken, IdDoesNotExist, NoRecordsMatch

base, standards, server_log = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
admin_token = re.search(r"Demo admin token \(shown once\): (fthm_[A-Za-z0-9_-]+)", open(server_log).read()).group(1)
endpoint = f"{base}/oai"

# sickle, as an anonymous harvester and as the administrator.
anonymous = Sickle(endpoint, max_retries=0)
identify = anonymous.Identify()
assert identify.deletedRecord == "persistent", identify.deletedRecord
records = list(anonymous.ListRecords(metadataPrefix="oai_dc"))
# 51 demo datasets, 7 of them labelled beyond what an anonymous reader may see.
assert len(records) == 44, len(records)
assert all(record.metadata["title"] and record.metadata["type"] == ["Dataset"] for record in records)
identifiers = [header.identifier for header in anonymous.ListIdentifiers(metadataPrefix="oai_dc")]
assert identifiers == [record.header.identifier for record in records]
assert len(set(identifiers)) == 44, "no repeats across pages"
admin = Sickle(endpoint, max_retries=0, headers={"Authorization": f"Bearer {admin_token}"})
assert len(list(admin.ListRecords(metadataPrefix="dcat"))) == 51
sets = [s.setSpec for s in anonymous.ListSets()]
assert "organisation" in sets and len(sets) > 2, sets
per_set = sum(len(list(anonymous.ListIdentifiers(metadataPrefix="oai_dc", set=s))) for s in sets if s != "organisation")
assert per_set == 44, per_set
one = anonymous.GetRecord(identifier=identifiers[0], metadataPrefix="oai_dc")
assert one.header.identifier == identifiers[0]
hidden = sorted({h.identifier for h in admin.ListIdentifiers(metadataPrefix="oai_dc")} - set(identifiers))
assert len(hidden) == 7
for error, call in [
    (IdDoesNotExist, lambda: anonymous.GetRecord(identifier=hidden[0], metadataPrefix="oai_dc")),
    (NoRecordsMatch, lambda: list(anonymous.ListRecords(metadataPrefix="oai_dc", **{"from": "2100-01-01"}))),
    (BadResumptionToken, lambda: list(anonymous.ListRecords(resumptionToken="forged"))),
]:
    try:
        call()
        raise AssertionError(f"{error.__name__} expected")
    except error:
        pass
print(f"sickle harvested {len(records)} records anonymously and 51 as the administrator, in {len(sets)} sets")


# Every kind of response, each page of a list included, against the schemas.
def fetch(query):
    with urllib.request.urlopen(f"{endpoint}?{query}") as response:
        return response.read()


queries = [
    "verb=Identify", "verb=ListMetadataFormats", "verb=ListSets",
    f"verb=GetRecord&metadataPrefix=oai_dc&identifier={urllib.parse.quote(identifiers[0])}",
    "verb=Bogus", "verb=ListRecords", "verb=ListRecords&metadataPrefix=marc",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2100-01-01", "verb=ListRecords&resumptionToken=forged",
    f"verb=GetRecord&metadataPrefix=oai_dc&identifier={urllib.parse.quote(hidden[0])}",
]
documents = [fetch(q) for q in queries]
for verb in ["ListRecords", "ListIdentifiers"]:
    query = f"verb={verb}&metadataPrefix=oai_dc"
    while query:
        page = fetch(query)
        documents.append(page)
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", page)
        query = f"verb={verb}&resumptionToken={urllib.parse.quote(token.group(1).decode())}" if token else None
environment = dict(os.environ, XML_CATALOG_FILES=f"{standards}/oai-pmh/catalog-offline.xml")
with tempfile.TemporaryDirectory() as folder:
    files = []
    for n, document in enumerate(documents):
        path = os.path.join(folder, f"response-{n:03}.xml")
        with open(path, "wb") as file:
            file.write(document)
        files.append(path)
    result = subprocess.run(
        ["xmllint", "--nonet", "--noout", "--schema", f"{standards}/oai-pmh/oai-pmh-offline.xsd", *files],
        env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
print(f"OAI-PMH 2.0 and oai_dc XML schemas: {len(documents)} responses valid")
