"""Walks the whole catalogue as a harvester would, over one kept-alive connection, and prints the
records per second: /api/v1/catalog page by page (hydra:next), and OAI-PMH ListRecords by resumption
token. The client does as little as it can (it counts and finds the next link with byte searches), so
that the figure is the server's.

usage: python3 export.py http://127.0.0.1:PORT
"""
import http.client
import re
import sys
import time
import urllib.parse

base = urllib.parse.urlsplit(sys.argv[1])
connection = http.client.HTTPConnection(base.hostname, base.port, timeout=600)


def get(path):
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, (path, response.status, body[:300])
    return body


def walk_catalogue(syntax, limit):
    path, pages, size, records = f"/api/v1/catalog?limit={limit}&format={syntax}", 0, 0, 0
    start = time.perf_counter()
    while path:
        body = get(path)
        pages, size = pages + 1, size + len(body)
        records += body.count(b"http://www.w3.org/ns/dcat#Dataset>") if syntax == "nt" else body.count(b" a dcat:Dataset")
        found = re.search(rb"(?:hydra:next|hydra/core#next>) <([^>]+)>", body[-4096:])
        path = urllib.parse.urlsplit(found.group(1).decode()).path + "?" + urllib.parse.urlsplit(found.group(1).decode()).query if found else None
    seconds = time.perf_counter() - start
    print(f"catalog {syntax} limit={limit}: {records} records, {pages} pages, {size / 1e6:.0f} MB in {seconds:.2f} s: {records / seconds:,.0f} records/s")


def harvest(prefix):
    path, pages, size, records = f"/oai?verb=ListRecords&metadataPrefix={prefix}", 0, 0, 0
    start = time.perf_counter()
    while path:
        body = get(path)
        pages, size = pages + 1, size + len(body)
        records += body.count(b"<record>")
        found = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body[-2048:])
        path = f"/oai?verb=ListRecords&resumptionToken={urllib.parse.quote(found.group(1).decode())}" if found else None
    seconds = time.perf_counter() - start
    print(f"OAI-PMH ListRecords {prefix}: {records} records, {pages} pages, {size / 1e6:.0f} MB in {seconds:.2f} s: {records / seconds:,.0f} records/s")


for syntax, limit in [("ttl", 10000), ("nt", 10000), ("ttl", 1000)]:
    walk_catalogue(syntax, limit)
for prefix in ["oai_dc", "iso19139", "dcat"]:
    harvest(prefix)
