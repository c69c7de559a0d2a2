#!/usr/bin/env python3
"""Writes a wrk script that walks a TAXII collection's `next` tokens, taken from the pages
themselves, so that each request asks for a distinct page (and the store does the work).

Usage: pages_lua.py OBJECTS_URL AUTH_HEADER OUT.lua [MAX_PAGES=200]
"""
import json
import subprocess
import sys

url, auth, out = sys.argv[1:4]
max_pages = int(sys.argv[4]) if len(sys.argv) > 4 else 200
toks, nxt = [], None
for _ in range(max_pages):
    u = url + ("&next=" + nxt if nxt else "")
    page = json.loads(subprocess.run(["curl", "-s", "-H", "Accept: application/taxii+json;version=2.1", "-H", auth, u], capture_output=True, text=True).stdout)
    nxt = page.get("next")
    if not nxt:
        break
    toks.append(nxt)
with open(out, "w") as f:
    f.write("local toks = {%s}\nlocal i = 0\n" % ",".join('"%s"' % t for t in toks))
    f.write("request = function()\n  i = i + 1\n  local t = toks[(i % #toks) + 1]\n")
    f.write("  return wrk.format(nil, wrk.path .. '&next=' .. t .. '&r=' .. i)\nend\n")
