"""Checks a running Fathom (started with --demo) against DCAT-AP 3.0: every page of /api/v1/catalog and
every dataset in every RDF syntax parses with rdflib, and the whole catalogue, as an anonymous reader
and as an administrator sees it, conforms to both SHACL shape sets of DCAT-AP 3.0.1 (pySHACL), with
zero violations; rdflib's SPARQL client queries /api/v1/sparql and sees what the catalogue shows.

usage: python dcat.py http://127.0.0.1:PORT STANDARDS_DIR SERVER_LOG
(SERVER_LOG holds the demo tokens the server printed.)
"""
import re
import sys
import urllib.error
import urllib.request

import pyshacl
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}

base, standards, server_log = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
admin_token = re.search(r"Demo admin token \(shown once\): (fthm_[A-Za-z0-9_-]+)", open(server_log).read()).group(1)


def get(url, accept, token=None):
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        assert response.headers["Content-Type"] == accept, (url, response.headers["Content-Type"])
        return response.read()


def walk_catalogue(accept, token=None, limit=7):
    """Follows hydra:next from the first page; returns the merged graph and the pages' count."""
    merged, url, pages = Graph(), f"{base}/api/v1/catalog?limit={limit}", 0
    while url:
        page = Graph().parse(data=get(url, accept, token), format=SYNTAXES[accept])
        pages += 1
        views = list(page.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert len(views) == 1, f"{url}: one hydra:PartialCollectionView, not {len(views)}"
        next_page = page.value(views[0], HYDRA.next)
        url = str(next_page) if next_page else None
        for triple in page:
            merged.add(triple)
    return merged, pages


catalogue, pages = walk_catalogue("text/turtle")
datasets = set(catalogue.subjects(RDF.type, DCAT.Dataset))
# 51 demo datasets, 7 of them labelled beyond what an anonymous reader may see.
assert len(datasets) == 44, len(datasets)
assert pages == 7, pages
assert set(catalogue.objects(None, DCAT.dataset)) == datasets
admin_catalogue, _ = walk_catalogue("application/n-triples", admin_token, limit=1000)
hidden = set(admin_catalogue.subjects(RDF.type, DCAT.Dataset)) - datasets
assert len(hidden) == 7, len(hidden)
for dataset in hidden:
    try:
        get(str(dataset), "text/turtle")
        raise AssertionError(f"{dataset} is readable without a token")
    except urllib.error.HTTPError as refused:
        assert refused.code == 404, refused.code

# Each dataset alone, in every syntax: the same triples but for blank node labels.
for dataset in sorted(datasets)[:10]:
    sizes = {}
    for accept, syntax in SYNTAXES.items():
        graph = Graph().parse(data=get(str(dataset), accept), format=syntax)
        assert graph.value(dataset, DCTERMS.title), (dataset, accept)
        sizes[accept] = len(graph)
    assert len(set(sizes.values())) == 1, (dataset, sizes)

# The release publishes two shape sets; the output must pass both.
release = f"{standards}/dcat-ap/3.0.1"
shape_sets = {
    "shacl/dcat-ap-SHACL.ttl": ["shacl/dcat-ap-SHACL.ttl"],
    "html/shacl/shapes.ttl + range.ttl": ["html/shacl/shapes.ttl", "html/shacl/range.ttl"],
}
for shape_set, files in shape_sets.items():
    shapes = Graph()
    for file in files:
        shapes.parse(f"{release}/{file}", format="turtle")
    for name, graph in [("anonymous", catalogue), ("admin", admin_catalogue)]:
        conforms, results, text = pyshacl.validate(graph, shacl_graph=shapes, allow_warnings=True, allow_infos=True)
        assert conforms, f"the {name} catalogue does not conform to DCAT-AP 3.0.1 {shape_set}:\n{text}"
        notes = len(list(results.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationResult"))))
        print(f"DCAT-AP 3.0.1 {shape_set}: {name} catalogue of "
              f"{len(set(graph.subjects(RDF.type, DCAT.Dataset)))} datasets, {len(graph)} triples: "
              f"conforms ({notes} warnings or notes)")

# rdflib as a SPARQL client: the endpoint answers standard queries, within the caller's visibility.
from rdflib.plugins.stores.sparqlstore import SPARQLStore

endpoint = Graph(SPARQLStore(f"{base}/api/v1/sparql", returnFormat="json", method="GET"))
counted = endpoint.query("PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT (COUNT(?d) AS ?n) WHERE { ?d a dcat:Dataset }")
assert [int(row.n) for row in counted] == [44], list(counted)
titles = {str(row.t) for row in endpoint.query(
    "SELECT ?t WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/title> ?t }")}
assert titles == {str(catalogue.value(d, DCTERMS.title)) for d in datasets}, titles
print(f"SPARQL through rdflib's SPARQLStore: {len(titles)} dataset titles, as an anonymous reader sees them")
