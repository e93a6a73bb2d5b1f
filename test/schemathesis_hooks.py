"""Schemathesis hooks (docs/testing.md, "Schemathesis"): how to send a bulk import body.

POST /v1/events/bulk takes newline-delimited JSON, which Schemathesis cannot serialize by itself. Its OpenAPI schema
is an array of events, one per line: a generated list is sent as one JSON document per line, anything else as one line.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8")
