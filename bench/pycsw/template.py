"""Writes N ISO 19139 records for the pycsw benchmark, cycling through the valid corpus records.

usage: python3 template.py N OUTDIR

Record i is a copy of corpus record i % 527 whose gmd:fileIdentifier gets the suffix "-i" (so every
identifier is unique) and whose first citation title gets the suffix " #i". Deterministic: the same N
gives the same files. Needs lxml (the pycsw venv has it).
"""
import sys
from pathlib import Path

from lxml import etree

# ../shared beside the repository
CORPUS = Path(__file__).resolve().parents[3] / "shared/standards/corpus/iso19139"
# the valid ISO 19139 sets; pycsw 2.6 loads all 527 (the *-malformed set and the odd ids are left out)
SOURCES = ["stanford-earthworks", "pycsw-apiso"]
NS = {"gmd": "http://www.isotc211.org/2005/gmd", "gco": "http://www.isotc211.org/2005/gco"}
ID = "gmd:fileIdentifier/gco:CharacterString"
TITLE = "gmd:identificationInfo/*/gmd:citation/gmd:CI_Citation/gmd:title/gco:CharacterString"


def main():
    n, outdir = int(sys.argv[1]), Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    templates = [etree.parse(str(p)) for s in SOURCES for p in sorted((CORPUS / s).glob("*.xml"))]
    for i in range(n):
        doc = templates[i % len(templates)]
        root = etree.fromstring(etree.tostring(doc))  # a fresh copy
        ident = root.find(ID, NS)
        original = ident.text.strip()
        ident.text = f"{original}-{i}"
        title = root.find(TITLE, NS)
        if title is not None and title.text:
            title.text = f"{title.text.strip()} #{i}"
        (outdir / f"rec-{i:06d}.xml").write_bytes(
            etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    print(f"wrote {n} records from {len(templates)} templates into {outdir}")


if __name__ == "__main__":
    main()
