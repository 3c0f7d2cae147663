#!/usr/bin/env python3
"""Writes the search benchmark's query log: distinct searches as people type them, made from the
vocabulary of the datasets `bench/generate.py` writes, deterministically from a seed.

One to four words (instrument, region, platform, year and keyword words, in the orders people use);
a fifth with one word misspelt (a letter dropped, doubled, swapped with the next or replaced by a
neighbour on the keyboard); a tenth with a quoted phrase; a third with filters (organisation,
keyword, bbox, datetime: one or two of them); every one with the five facets of `bench/search.lua`.
Each line is the path and query of `GET /api/v1/search`.

usage: bench/queries/generate.py [COUNT] [SEED] > bench/queries/queries.txt   (5,000 and 42 by default)
"""
import os
import random
import sys
from urllib.parse import urlencode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from generate import INSTRUMENTS, ORGANISATIONS, PLATFORMS, REGIONS  # noqa: E402

FACETS = "keyword,organisation,format,licence,theme"
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neighbour(letter, rng):
    for row in KEYBOARD:
        at = row.find(letter)
        if at >= 0:
            choices = [row[i] for i in (at - 1, at + 1) if 0 <= i < len(row)]
            return rng.choice(choices)
    return letter


def misspell(word, rng):
    """One typing mistake in a word of four letters or more."""
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap", "neighbour"])
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word[:at] + neighbour(word[at], rng) + word[at + 1:]


def words_of(text):
    return [w for w in text.replace(",", " ").split() if w]


def query(rng):
    name, keywords = rng.choice(INSTRUMENTS)
    region, bbox = rng.choice(REGIONS)
    platform = rng.choice(PLATFORMS)
    year = rng.randint(2008, 2026)
    # What people put together: what was measured, where, from what, when.
    parts = [
        rng.choice([name, rng.choice(keywords), words_of(name)[0]]),
        rng.choice([region, words_of(region)[0]]),
        rng.choice([words_of(platform)[-1], platform]),
        str(year),
    ]
    count = rng.choices([1, 2, 3], weights=[40, 40, 20])[0]
    chosen = rng.sample(parts, count) if count < len(parts) else parts
    words = [w for part in chosen for w in words_of(part)][:4]
    phrase = None
    roll = rng.random()
    if roll < 0.1:
        # A quoted phrase: a region or an instrument as written, with a word or two beside it.
        phrase = rng.choice([region, name.lower()])
        room = max(0, 4 - len(words_of(phrase)))
        words = [w for w in words if w.lower() not in phrase.lower()][: rng.randint(0, room)]
    elif roll < 0.3:
        long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            words[i] = misspell(words[i].lower(), rng)
    if rng.random() < 0.5:
        words = [w.lower() for w in words]
    text = " ".join(words)
    if phrase:
        text = (f'"{phrase}" ' + text).strip() if rng.random() < 0.5 else (text + f' "{phrase}"').strip()
    parameters = [("q", text)]
    if rng.random() < 0.27:
        filters = [
            ("organisation", rng.choice(ORGANISATIONS)),
            ("keyword", rng.choice(keywords)),
            ("bbox", ",".join(str(v) for v in bbox)),
            ("datetime", f"{year}-01-01/{year}-12-31"),
        ]
        parameters += rng.sample(filters, rng.choice([1, 1, 2]))
    parameters += [("facets", FACETS), ("limit", "20")]
    return "/api/v1/search?" + urlencode(parameters)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    seen = set()
    while len(seen) < count:
        line = query(rng)
        if line not in seen:
            seen.add(line)
            print(line)


if __name__ == "__main__":
    main()
