"""Schemathesis hooks of the contract check (`.ci/run` names this module in SCHEMATHESIS_HOOKS).

They make the generated requests that are meant to be accepted behave as a careful client does; the
requests meant to be refused (negative cases) are sent as generated.
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    # A `cursor` is opaque: the server issues it in a page's `next`, and no client makes one up.
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    # A client makes a new `Idempotency-Key` for each new request; one reused for another request
    # is refused with 422, as the IETF's Idempotency-Key draft says.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


@schemathesis.serializer("application/sparql-query")
def sparql_query(ctx, value):
    # A SPARQL query by POST is the query's text (SPARQL 1.1 Protocol, 2.1.3).
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")
