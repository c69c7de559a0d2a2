#!/usr/bin/env python3
"""Web UI benchmark (issue 16; docs/PERFORMANCE.md, "Web UI").

A node with N objects (default 1,000,000: indicators on IPv4 addresses and domains, generated
deterministically), served by a Release `accord serve` with the built UI (ui/dist). Reports:

1. search by value at the server: SEARCHES requests to /api/ui/v1/search?value=V for values
   held by the store (and 10% held by none), one keep-alive connection; the server's own time
   per request from its access log ("us"), and the client's round trip. p50, p99, max.
2. first load: a fresh headless Chromium context (Debian's chromium via playwright-core, no
   cache) opening /ui/search signed in (the session cookie set beforehand): navigation start to
   the load event, and to the search form being visible. Median and max of LOADS runs.
3. object view end to end: in one signed-in page, OBJECTS objects opened by a pasted link
   (/ui/objects/ID, a full page load) and by a click on a search result (the app's own
   navigation), each until the object's h1 is rendered with its data.
4. the size of the UI's JavaScript and CSS, gzip-compressed, as served.
5. search by words and filters at the server (no value): for each kind below, FILTERED requests
   (first pages, and the pages after them by `next`), the server's time from its access log.
   The objects carry words shared by all, by 1% and by one object each, TLP:AMBER on 10% and
   TLP:GREEN on the rest, and a `modified` spread over 2025's days.

Goals (the issue): first load < 1 s, search p99 < 100 ms at the server, object view < 200 ms,
compressed JS+CSS < 300 KB.

Usage: bench/ui/run.py [--build build-rel] [--n 1000000] [--searches 2000] [--loads 20]
       [--objects 50] [--keep DIR]
"""
import argparse, gzip, http.client, json, os, random, shutil, socket, subprocess
import sys, tempfile, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchutil import free_port, pct  # noqa: E402


AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def gen(n, path, seed=7):
    """N indicators, half on IPv4 addresses and half on domains; returns a sample of values."""
    import datetime
    rng = random.Random(seed)
    sample = []
    day0 = datetime.date(2025, 1, 1)
    with open(path, "w") as f:
        for i in range(n):
            u = uuid.UUID(int=rng.getrandbits(128), version=4)
            if i % 2:
                v = "%d.%d.%d.%d" % (11 + i % 200, (i >> 16) & 255, (i >> 8) & 255, i & 255)
                pattern = "[ipv4-addr:value = '%s']" % v
            else:
                v = "host%d.bench-%d.com" % (i, i % 977)
                pattern = "[domain-name:value = '%s']" % v
            if i % (n // 4000 or 1) == 0:
                sample.append((v, "indicator--%s" % u))
            day = (day0 + datetime.timedelta(days=i % 365)).isoformat()
            f.write(json.dumps({
                "type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % u,
                "created": day + "T00:00:00.000Z", "modified": day + "T00:00:00.000Z",
                "name": "bench %d" % i, "indicator_types": ["malicious-activity"],
                "description": "Benchmark indicator %d of family%d for the web UI" % (i, i % 100),
                "object_marking_refs": [AMBER if i % 10 == 0 else GREEN],
                "pattern": pattern, "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z", "labels": ["benchmark"],
            }, separators=(",", ":")) + "\n")
    return sample


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-rel"))
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--searches", type=int, default=2000)
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--objects", type=int, default=50)
    ap.add_argument("--filtered", type=int, default=200)
    ap.add_argument("--keep", help="reuse (or create) the node's data here")
    ap.add_argument("--setup-only", action="store_true", help="make the node's data and stop")
    a = ap.parse_args()
    accord = os.path.join(a.build, "src", "cli", "accord")
    ui_dir = os.path.join(ROOT, "ui", "dist")
    if not a.setup_only and not os.path.exists(os.path.join(ui_dir, "index.html")):
        sys.exit("bench/ui: build the UI first (scripts/ui.sh)")
    root = a.keep or tempfile.mkdtemp(prefix="accord-ui-bench-")
    data = os.path.join(root, "data")
    sample_file = os.path.join(root, "sample.json")

    def run(*args):
        r = subprocess.run([accord, *args, "--data", data], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("accord %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    if not os.path.exists(sample_file):
        os.makedirs(root, exist_ok=True)
        lines = os.path.join(root, "objects.jsonl")
        sample = gen(a.n, lines)
        run("init")
        t = time.time()
        run("collection", "create", "bench")
        run("import", "-q", "-c", "bench", lines)
        print("setup: %d objects imported in %.1f s" % (a.n, time.time() - t))
        run("user", "add", "ana", "--role", "admin")
        key = run("key", "create", "ana").split("\n")[0]
        os.remove(lines)
        json.dump({"sample": sample, "key": key}, open(sample_file, "w"))
    if a.setup_only:
        return
    s = json.load(open(sample_file))
    sample, key = s["sample"], s["key"]

    port = free_port()
    access = os.path.join(root, "access.log")
    if os.path.exists(access):
        os.remove(access)
    srv = subprocess.Popen([accord, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port,
                            "--access-log", access, "--ui", ui_dir],
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "serve.log"), "a"))
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        results = {"n": a.n}
        # 1. search by value.
        rng = random.Random(3)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        hdr = {"Authorization": "Bearer " + key}
        client = []
        for i in range(a.searches):
            if i % 10 == 9:
                v = "198.18.%d.%d" % (rng.randrange(256), rng.randrange(256))  # held by none
            else:
                v = rng.choice(sample)[0]
            t0 = time.perf_counter()
            conn.request("GET", "/api/ui/v1/search?value=" + v, headers=hdr)
            r = conn.getresponse()
            body = r.read()
            client.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                sys.exit("search %s: %d %s" % (v, r.status, body[:200]))
            if i % 10 != 9 and not json.loads(body)["results"]:
                sys.exit("search %s found nothing" % v)
        conn.close()
        time.sleep(0.5)
        server = [json.loads(l)["us"] / 1000.0 for l in open(access)
                  if "/api/ui/v1/search" in l]
        results["search_server_ms"] = {"p50": pct(server, 50), "p99": pct(server, 99),
                                       "max": max(server), "count": len(server)}
        results["search_client_ms"] = {"p50": pct(client, 50), "p99": pct(client, 99),
                                       "max": max(client)}
        # 2 and 3, in the browser.
        pairs = rng.sample(sample, min(a.objects, len(sample)))
        r = subprocess.run(["node", os.path.join(HERE, "browser.mjs")],
                           input=json.dumps({"base": "http://127.0.0.1:%d" % port, "key": key,
                                             "loads": a.loads, "pairs": pairs}),
                           capture_output=True, text=True, cwd=HERE)
        if r.returncode != 0:
            sys.exit("browser.mjs: %s%s" % (r.stdout, r.stderr))
        results.update(json.loads(r.stdout))
        # 4. sizes as served (gzip copies written by the build).
        gz = 0
        for dirpath, _, files in os.walk(os.path.join(ui_dir, "assets")):
            for f in files:
                if f.endswith((".js", ".css")):
                    p = os.path.join(dirpath, f)
                    gz += os.path.getsize(p + ".gz") if os.path.exists(p + ".gz") else \
                        len(gzip.compress(open(p, "rb").read(), 9))
        results["js_css_gzip_bytes"] = gz
        # 5. search by words and filters.
        kinds = {
            "words_all": lambda: "q=benchmark",
            "words_1pct": lambda: "q=family%d" % rng.randrange(100),
            "words_one": lambda: "q=%d" % rng.randrange(a.n),
            "words_prefix": lambda: "q=fam*",
            "type_all": lambda: "type=indicator",
            "type_none": lambda: "type=malware",
            "marking_10pct": lambda: "marking=amber",
            "words_and_marking": lambda: "q=family%d&marking=amber" % (10 * rng.randrange(10)),
            "one_day": lambda: "since=2025-%02d-10&until=2025-%02d-11" % ((m := rng.randrange(1, 13)), m),
        }
        conn = http.client.HTTPConnection("127.0.0.1", port)
        filtered = {}
        for kind, make in kinds.items():
            open(access, "w").close()  # the server appends; only this kind's lines
            shown = []
            for i in range(a.filtered):
                q = make()
                cursor = None
                for page in range(3):  # a first page and up to two more
                    path = "/api/ui/v1/search?" + q + ("&cursor=" + cursor if cursor else "")
                    conn.request("GET", path, headers=hdr)
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200:
                        sys.exit("search %s: %d %s" % (path, r.status, body[:200]))
                    j = json.loads(body)
                    shown.append(len(j["results"]))
                    cursor = j.get("next")
                    if not cursor:
                        break
            time.sleep(0.3)
            server = [json.loads(l)["us"] / 1000.0 for l in open(access)
                      if "/api/ui/v1/search" in l]
            filtered[kind] = {"p50": pct(server, 50), "p99": pct(server, 99), "max": max(server),
                              "requests": len(server),
                              "results_per_page_median": sorted(shown)[len(shown) // 2]}
        conn.close()
        results["search_filters_server_ms"] = filtered
        print(json.dumps(results, indent=1))
        worst = max(v["p99"] for v in filtered.values())
        print("search by words and filters: worst p99 %.1f ms at the server" % worst)
        ok = (results["first_load_ms"]["max"] < 1000 and results["search_server_ms"]["p99"] < 100
              and worst < 100
              and results["object_view_ms"]["p99"] < 200
              and results["object_view_click_ms"]["p99"] < 200 and gz < 300 * 1024)
        print("goals: first load < 1 s, search p99 < 100 ms, object view < 200 ms, "
              "JS+CSS < 300 KB: %s" % ("met" if ok else "NOT met"))
    finally:
        srv.terminate()
        srv.wait()
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
