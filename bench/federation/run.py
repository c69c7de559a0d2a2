#!/usr/bin/env python3
"""Federation benchmark (issue 12; docs/PERFORMANCE.md, "Federation").

1. cold: N indicators imported at node A; node B, empty, runs `accord sync --once` against A's
   `accord serve`. Reports objects/s (N / wall time of the sync), and checks that B holds N.
2. overhead (issue 13): the cold sync, in turns, with a BASELINE build (before the egress gate
   and the audit log), and with the build under test twice: its rules empty (the agreement of
   `cold`) and full (A's accord.toml holds redaction profiles and role mappings, and the
   agreement picks a profile and sets sighting terms; the indicators pass it unchanged). Reports
   each round and the medians of the ratios against the baseline.
3. latency: nodes A -> B -> C (C pulls B's copy of A's collection), each `accord serve` syncing
   every SYNC_INTERVAL seconds. While A takes a continuous load (a batch every 0.1 s), each
   object's name carries the time it was imported; C's store is polled and every object's time
   from import at A to readable at C is recorded. Reports p50 and p99.

Usage: bench/federation/run.py [--build build-rel] [--n 1000000] [--seconds 30]
       [--rate 1000] [--sync-interval 0.2] [--only cold|latency|overhead]
       [--baseline BIN --rounds 5]
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import uuid, random

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchutil import free_port  # noqa: E402


class Node:
    def __init__(self, accord, root, name, sync_interval):
        self.accord, self.name = accord, name
        self.data = os.path.join(root, name)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/api/" % self.port
        self.proc = None
        out = self.run("node", "init", "--name", name, "--json")
        j = json.loads(out)
        self.identity, self.public_key = j["identity"], j["public_key"]
        with open(os.path.join(self.data, "accord.toml"), "w") as f:
            f.write("[federation]\nsync_interval = %s\nrequest_timeout = 60\n" % sync_interval)

    def run(self, *args, input=None):
        r = subprocess.run([self.accord, *args, "--data", self.data], capture_output=True,
                           text=True, input=input)
        if r.returncode != 0:
            sys.exit("%s: accord %s: %s%s" % (self.name, " ".join(args), r.stdout, r.stderr))
        return r.stdout

    def start(self):
        log = open(os.path.join(self.data, "..", self.name + ".log"), "a")
        self.proc = subprocess.Popen([self.accord, "serve", "--data", self.data, "--listen",
                                      "127.0.0.1:%d" % self.port, "--access-log", ""],
                                     stdout=log, stderr=log)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("%s did not start" % self.name)

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait()


def link(frm, to, collections, forward=False):
    """`to` pulls `collections` from `frm`."""
    frm.run("user", "add", to.name, "--role", "peer")
    key = frm.run("key", "create", to.name).splitlines()[0]
    to.run("peer", "add", frm.name, "--url", frm.url, "--identity", frm.identity,
           "--public-key", frm.public_key, "--key", key)
    try:
        frm.run("peer", "add", to.name, "--url", to.url, "--identity", to.identity,
                "--public-key", to.public_key, "--key", "none-issued")
    except SystemExit:
        pass
    return key


def set_agreement(node, peer, text):
    path = os.path.join(node.data, "..", "%s-%s.toml" % (node.name, peer.name))
    with open(path, "w") as f:
        f.write(text)
    node.run("agreement", "set", peer.name, path)


def indicators(n, seed, name_of=lambda i: "bench %d" % i):
    rng = random.Random(seed)
    for i in range(n):
        u = uuid.UUID(int=rng.getrandbits(128), version=4)
        ip = "%d.%d.%d.%d" % (10 + i % 200, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        yield json.dumps({
            "type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % u,
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "name": name_of(i), "pattern": "[ipv4-addr:value = '%s']" % ip,
            "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z",
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        }, separators=(",", ":"))


FULL_RULES = """
[redaction.profiles.partners]
drop_types = ["email-addr", "user-account"]
drop_identity_classes = ["individual"]
victim_ranges = ["198.51.100.0/24", "203.0.113.0/24"]
generalise_ipv4 = 24
generalise_ipv6 = 48
strip_url_query = true
text_patterns = ['[\\w.+-]+@[\\w-]+\\.[\\w.]+']
[redaction.profiles.public]
drop_types = ["email-addr", "user-account", "observed-data"]
strip_url_query = true
[redaction.roles]
reader = "public"
analyst = "partners"
"""


def cold(accord, root, n, full_rules=False):
    a = Node(accord, root, "a", 0)
    b = Node(accord, root, "b", 0)
    link(a, b, ["outbox"])
    share = '[share]\ncollections = ["outbox"]\nmax_tlp = "green"\n'
    if full_rules:
        with open(os.path.join(a.data, "accord.toml"), "a") as f:
            f.write(FULL_RULES)
        share += ('redaction = "partners"\nsighting_min_count = 3\nsighting_bucket = 3600\n'
                  'share_observed_data = false\n')
    set_agreement(a, b, share)
    set_agreement(b, a, '[accept]\nfrom = ["outbox"]\n')
    path = os.path.join(root, "cold.jsonl")
    with open(path, "w") as f:
        for line in indicators(n, 1):
            f.write(line + "\n")
    a.run("import", path, "--collection", "outbox")
    a.start()
    t0 = time.monotonic()
    out = b.run("sync", "--once")
    secs = time.monotonic() - t0
    a.stop()
    stored = len(b.run("list", "--collection", "from-a").splitlines())
    print(out.strip())
    print("cold sync A -> B: %d objects in %.2f s: %.0f objects/s (B holds %d)"
          % (n, secs, n / secs, stored))
    return n / secs


def overhead(accord, baseline, root, n, rounds):
    rows = []
    for r in range(rounds):
        got = []
        for name, binary, full in (("baseline", baseline, False), ("empty", accord, False),
                                   ("full", accord, True)):
            sub = os.path.join(root, "r%d-%s" % (r, name))
            os.makedirs(sub)
            got.append(cold(binary, sub, n, full_rules=full))
            shutil.rmtree(sub, ignore_errors=True)
        rows.append(got)
        print("round %d: baseline %.0f/s, rules empty %.0f/s (%.3f), rules full %.0f/s (%.3f)"
              % (r + 1, got[0], got[1], got[1] / got[0], got[2], got[2] / got[0]), flush=True)
    print("median ratio to baseline over %d rounds: rules empty %.3f, rules full %.3f"
          % (rounds, statistics.median(g[1] / g[0] for g in rows),
             statistics.median(g[2] / g[0] for g in rows)))


def latency(accord, root, seconds, rate, interval):
    a = Node(accord, root, "la", interval)
    b = Node(accord, root, "lb", interval)
    c = Node(accord, root, "lc", interval)
    link(a, b, ["outbox", "node"])
    link(b, c, ["from-la", "node"])
    set_agreement(a, b, '[share]\ncollections = ["outbox", "node"]\nmax_tlp = "green"\n')
    set_agreement(b, a, '[accept]\nfrom = ["outbox", "node"]\n')
    set_agreement(b, c, '[share]\ncollections = ["from-la", "node"]\nmax_tlp = "green"\n'
                        'forward = true\n')
    set_agreement(c, b, '[accept]\nfrom = ["from-la", "node"]\n')
    for x in (a, b, c):
        x.start()
    batch = max(1, rate // 10)
    sent = {}
    seen = {}
    i = 0
    t_end = time.monotonic() + seconds
    last_poll = ""
    while time.monotonic() < t_end:
        t = time.time()
        lines = list(indicators(batch, 1000 + i, name_of=lambda k: "t=%.6f" % t))
        i += 1
        a.run("import", "-", "--collection", "outbox", input="\n".join(lines) + "\n")
        for line in lines:
            sent[json.loads(line)["id"]] = t
        # Poll C (objects readable there), every ~0.1 s with the import cadence.
        args = ["list", "--collection", "from-lb", "--json"]
        if last_poll:
            args += ["--added-after", last_poll]
        out = c.run(*args)
        now = time.time()
        for line in out.splitlines():
            o = json.loads(line)
            if o["id"] in sent and o["id"] not in seen:
                seen[o["id"]] = now - sent[o["id"]]
        time.sleep(max(0, 0.1 - (time.time() - t)))
    # Drain: objects still in flight count when they arrive (up to 30 s).
    t_drain = time.monotonic() + 30
    while len(seen) < len(sent) and time.monotonic() < t_drain:
        now = time.time()
        for line in c.run("list", "--collection", "from-lb", "--json").splitlines():
            o = json.loads(line)
            if o["id"] in sent and o["id"] not in seen:
                seen[o["id"]] = now - sent[o["id"]]
        time.sleep(0.05)
    for x in (a, b, c):
        x.stop()
    lat = sorted(seen.values())
    if not lat:
        sys.exit("nothing reached C")
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("latency A -> B -> C, %d objects at %d/s for %d s, sync_interval %s s: "
          "p50 %.3f s, p99 %.3f s, max %.3f s (%d of %d arrived)"
          % (len(sent), rate, seconds, interval, p50, p99, lat[-1], len(seen), len(sent)))
    return p50, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--sync-interval", default="0.2")
    ap.add_argument("--only", choices=["cold", "latency", "overhead"])
    ap.add_argument("--baseline", help="overhead: the build to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    accord = os.path.realpath(os.path.join(args.build, "src/cli/accord"))
    root = tempfile.mkdtemp(prefix="accord-fed-bench-")
    try:
        if args.only == "overhead":
            if not args.baseline:
                sys.exit("--only overhead needs --baseline BIN")
            overhead(accord, os.path.realpath(args.baseline), root, args.n, args.rounds)
            return
        if args.only != "latency":
            cold(accord, root, args.n)
        if args.only != "cold":
            latency(accord, root, args.seconds, args.rate, args.sync_interval)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
