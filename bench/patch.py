"""Writes while searches run: PATCHes datasets through the API, one after another over one connection.

usage: python3 bench/patch.py BASE_URL TOKEN IDS_FILE N

Each of the first N ids of IDS_FILE gets a JSON Merge Patch of its `version` (`If-Match: *`), a change
that alters no searched word, so that the search loads find the same matches before and after; the
index still replaces each patched document (a deletion in the segment that held it).
"""
import http.client
import json
import sys
import time
import urllib.parse

base, token, ids_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
url = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
ids = [line.strip() for line in open(ids_file) if line.strip()][:count]
headers = {
    "Authorization": f"Bearer {token}",
    "If-Match": "*",
    "Content-Type": "application/merge-patch+json",
}
started, failed = time.monotonic(), 0
for n, dataset in enumerate(ids):
    body = json.dumps({"version": f"bench-{n}-{int(started)}"})
    connection.request("PATCH", f"/api/v1/datasets/{dataset}", body, headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        failed += 1
        if failed <= 3:
            print(f"PATCH {dataset}: {response.status}", file=sys.stderr)
elapsed = time.monotonic() - started
print(f"{len(ids)} patches in {elapsed:.1f} s ({len(ids) / elapsed:.0f}/s), {failed} failed")
sys.exit(1 if failed else 0)
