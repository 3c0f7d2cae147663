#!/usr/bin/env python3
"""Walks every page of /api/v1/datasets with limit=1000 and reports how long each page took.

usage: bench/walk.py BASE_URL
"""
import json
import statistics
import sys
import time
import urllib.request

base = sys.argv[1]
path = "/api/v1/datasets?limit=1000"
timings = []
records = 0
while path:
    started = time.perf_counter()
    with urllib.request.urlopen(base + path) as response:
        page = json.load(response)
    timings.append((time.perf_counter() - started) * 1000)
    records += len(page["items"])
    path = page.get("next")
print(f"pages: {len(timings)}, records: {records}")
print(f"first page: {timings[0]:.1f} ms, last page: {timings[-1]:.1f} ms")
head, tail = timings[:10], timings[-10:]
print(f"median of the first 10 pages: {statistics.median(head):.1f} ms, of the last 10: {statistics.median(tail):.1f} ms")
print(f"median page: {statistics.median(timings):.1f} ms, slowest: {max(timings):.1f} ms, total: {sum(timings) / 1000:.1f} s")
