#!/usr/bin/env python3
"""Interoperability check with OASIS's taxii2-client (taxii2client.v21) against `accord serve`.

The client's code stays outside this repository: point PYTHONPATH at a checkout of
https://github.com/oasis-open/cti-taxii-client. It needs python3-requests and python3-six
(Debian); pytz is not packaged in Debian 12's default sources we use, so when it is missing a
two-line stand-in (UTC only, which is all taxii2client uses) is provided here.

Usage: interop_taxii2client.py DISCOVERY_URL USER KEY
Exit 0 when discovery, API root, collections, add_objects (+status), get_objects with
pagination (as_pages), get_object, object_versions, get_manifest and delete_object all work.
"""
import datetime
import sys
import types
import uuid

try:
    import pytz  # noqa: F401
except ImportError:  # Debian 12 has no python3-pytz candidate here: a UTC-only stand-in
    shim = types.ModuleType("pytz")

    class _Utc(datetime.tzinfo):
        def utcoffset(self, dt):
            return datetime.timedelta(0)

        def dst(self, dt):
            return datetime.timedelta(0)

        def tzname(self, dt):
            return "UTC"

        def localize(self, dt):
            return dt.replace(tzinfo=self)

    shim.utc = shim.UTC = _Utc()
    sys.modules["pytz"] = shim

from taxii2client.v21 import Server, as_pages  # noqa: E402


def main():
    url, user, key = sys.argv[1], sys.argv[2], sys.argv[3]
    server = Server(url, user=user, password=key)
    print("title:", server.title)
    root = server.default or server.api_roots[0]
    print("api root:", root.url, root.versions, root.max_content_length)
    cols = {c.alias if hasattr(c, "alias") else c.title: c for c in root.collections}
    col = next(c for c in root.collections if c.can_write and c.can_read)
    print("collection:", col.id, col.title)

    ids = []
    objs = []
    for i in range(25):
        oid = "indicator--%s" % uuid.uuid4()
        ids.append(oid)
        objs.append({"type": "indicator", "spec_version": "2.1", "id": oid,
                     "created": "2024-01-01T00:00:00.000Z",
                     "modified": "2024-01-01T00:00:00.000Z",
                     "pattern": "[ipv4-addr:value = '192.0.2.%d']" % i, "pattern_type": "stix",
                     "valid_from": "2024-01-01T00:00:00Z"})
    status = col.add_objects({"objects": objs})
    assert status.status == "complete" and status.success_count == 25, status
    print("add_objects: status", status.id, status.success_count, "successes")

    seen = set()
    pages = 0
    for env in as_pages(col.get_objects, per_request=10, type="indicator"):
        pages += 1
        seen.update(o["id"] for o in env.get("objects", []))
    assert set(ids) <= seen, "paged get_objects missed objects"
    print("get_objects via as_pages: %d pages, %d objects" % (pages, len(seen)))

    one = col.get_object(ids[0])
    assert one["objects"][0]["id"] == ids[0]
    versions = col.object_versions(ids[0])
    assert versions["versions"] == ["2024-01-01T00:00:00.000Z"], versions
    manifest = col.get_manifest(id=ids[0])
    assert manifest["objects"][0]["id"] == ids[0]
    col.delete_object(ids[0])
    print("get_object, object_versions, get_manifest, delete_object: ok")
    print("INTEROP OK")


if __name__ == "__main__":
    main()
