#!/usr/bin/env python3
"""bench/hostile (issue 10): a good client pages a collection while hostile clients attack.

    python3 bench/hostile/run.py BUILD_DIR [--objects 10000] [--quiet 10] [--attack 20]
        [--idle 300] [--bad-rate 100] [--uploads 10] [--upload-mb 100] [--no-match]

1. `accord serve` (from BUILD_DIR, Release) on a fresh data directory holding --objects
   indicators in `default`. A good client (keep-alive, authenticated, from 127.0.0.1) pages
   `objects/?limit=100`, following `next` and starting over at the end, for --quiet seconds
   alone, then for --attack seconds while, from other loopback addresses (the server limits
   connections per client address; a real attacker has its own):
   - --idle connections are opened and left idle (reopened when the server closes them);
   - --bad-rate requests a second carry the admin key's id with a wrong secret;
   - --uploads unauthenticated POSTs each announce --upload-mb MB and stream zeros.
   Prints the good client's p50/p99/max latency and error count in each phase, the server's
   peak RSS (sampled from /proc every 50 ms) against its configured cap, and what the attackers
   got back.
2. Matching throughput with a hostile regex indicator planted among 100,000 against the same
   set without it (bench/match/match_bench --plant, same process, alternating rounds).

The figures go to docs/PERFORMANCE.md ("Hostile clients"). Not a test: nothing here asserts.
"""
import argparse
import collections
import http.client
import json
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED = ROOT.parent / "shared"
ACCEPT = "application/taxii+json;version=2.1"
HOSTILE_REGEX = r"[domain-name:value MATCHES '(?=(\\w+\\.?)+!)']"


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peak RSS of `pid` since the last reset()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.05)

    def reset(self):
        self.peak = rss_kb(self.pid)


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def status_of(sock):
    """The status code of the first response on `sock`, or None if it was closed first."""
    try:
        data = sock.recv(4096)
    except OSError:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def good_client(port, key, stop, lat, errors):
    """Pages the collection until `stop`; one latency (s) per response."""
    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = connect(self.port, "127.0.0.1")

    conn = Conn("127.0.0.1", port, timeout=10)
    headers = {"Accept": ACCEPT, "Authorization": f"Bearer {key}"}
    nxt = None
    while not stop.is_set():
        path = "/api/collections/default/objects/?limit=100" + (f"&next={nxt}" if nxt else "")
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            lat.append(time.perf_counter() - t0)
            if r.status != 200:
                errors[r.status] += 1
                nxt = None
                continue
            nxt = json.loads(body).get("next")
        except (OSError, http.client.HTTPException) as e:
            lat.append(time.perf_counter() - t0)
            errors[type(e).__name__] += 1
            conn.close()
            nxt = None


def idle_attacker(port, n, stop, counts):
    socks = []
    while not stop.is_set():
        socks = [s for s in socks if s.fileno() >= 0]
        while len(socks) < n and not stop.is_set():
            try:
                socks.append(connect(port, "127.0.0.2"))
                counts["idle opened"] += 1
            except OSError:
                counts["idle connect failed"] += 1
                break
        # A socket the server closed reads as EOF; drop it so that it is reopened.
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    counts["idle closed by server"] += 1
            except BlockingIOError:
                pass
            except OSError:
                s.close()
        time.sleep(0.5)
    for s in socks:
        s.close()


def bad_secret_attacker(port, key_id, rate, stop, counts):
    period = 1.0 / rate
    nxt = time.perf_counter()
    while not stop.is_set():
        try:
            s = connect(port, "127.0.0.3")
            s.sendall(
                f"GET /api/collections/ HTTP/1.1\r\nHost: x\r\nAccept: {ACCEPT}\r\n"
                f"Authorization: Bearer {key_id}.wrongsecretwrongsecret\r\n"
                "Connection: close\r\n\r\n".encode())
            counts[f"bad secret -> {status_of(s)}"] += 1
            s.close()
        except OSError as e:
            counts[f"bad secret -> {type(e).__name__}"] += 1
        nxt += period
        time.sleep(max(0.0, nxt - time.perf_counter()))


def upload_attacker(port, mb, stop, counts):
    chunk = b"\0" * 65536
    while not stop.is_set():
        try:
            s = connect(port, "127.0.0.4")
            s.sendall(
                f"POST /api/collections/default/objects/ HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: {ACCEPT}\r\nContent-Length: {mb * 1048576}\r\n\r\n".encode())
            sent = 0
            while sent < mb * 1048576 and not stop.is_set():
                s.sendall(chunk)
                sent += len(chunk)
            counts[f"upload -> {status_of(s)}"] += 1
            s.close()
        except OSError as e:
            counts[f"upload -> {type(e).__name__}"] += 1
            time.sleep(0.05)


def summary(lat):
    if not lat:
        return "no responses"
    ms = sorted(x * 1000 for x in lat)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{len(ms)} requests, p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, "
            f"max {ms[-1]:.2f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--quiet", type=float, default=10)
    ap.add_argument("--attack", type=float, default=20)
    ap.add_argument("--idle", type=int, default=300)
    ap.add_argument("--bad-rate", type=float, default=100)
    ap.add_argument("--uploads", type=int, default=10)
    ap.add_argument("--upload-mb", type=int, default=100)
    ap.add_argument("--no-match", action="store_true")
    a = ap.parse_args()
    accord = pathlib.Path(a.build, "src/cli/accord").resolve()
    work = pathlib.Path(tempfile.mkdtemp(prefix="accord-hostile-bench."))
    data = work / "data"
    subprocess.run([sys.executable, str(ROOT / "bench/taxii/gen.py"), str(a.objects),
                    str(work / "ind.jsonl"), "1"], check=True)
    subprocess.run([str(accord), "import", "--data", str(data), "-c", "default", "-q",
                    str(work / "ind.jsonl")], check=True)
    out = open(work / "serve.out", "w+")
    server = subprocess.Popen([str(accord), "serve", "--data", str(data), "--listen",
                               "127.0.0.1:0", "--access-log", ""], stdout=out,
                              stderr=subprocess.STDOUT)
    try:
        text = ""
        for _ in range(100):
            text = (work / "serve.out").read_text()
            if "listening" in text:
                break
            time.sleep(0.1)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", text).group(1))
        m = re.search(r"^(\S+\.\S+)$", text, re.M)
        key = m.group(1) if m else (data / "admin.key").read_text().strip()
        print(f"server pid {server.pid}, port {port}, {a.objects} objects in `default`")
        sampler = Sampler(server.pid)
        sampler.start()

        def phase(name, secs, attackers):
            stop = threading.Event()
            lat, errors, counts = [], collections.Counter(), collections.Counter()
            sampler.reset()
            ts = [threading.Thread(target=good_client, args=(port, key, stop, lat, errors))]
            for fn, args in attackers:
                ts.append(threading.Thread(target=fn, args=(port, *args, stop, counts)))
            for t in ts:
                t.daemon = True
                t.start()
            time.sleep(secs)
            stop.set()
            for t in ts:
                t.join(timeout=15)
            print(f"== {name} ({secs:.0f} s): good client: {summary(lat)}; errors: "
                  f"{dict(errors) or 'none'}")
            print(f"   server peak RSS {sampler.peak / 1024:.1f} MB")
            if counts:
                print(f"   attackers: {dict(sorted(counts.items()))}")

        phase("quiet", a.quiet, [])
        key_id = key.split(".")[0]
        attackers = [(idle_attacker, (a.idle,)), (bad_secret_attacker, (key_id, a.bad_rate))]
        attackers += [(upload_attacker, (a.upload_mb,))] * a.uploads
        phase(f"attack: {a.idle} idle, {a.bad_rate:.0f} bad secrets/s, {a.uploads} x "
              f"{a.upload_mb} MB unauthenticated uploads", a.attack, attackers)
        sampler.stop = True
        alive = server.poll() is None
        print(f"server {'still running' if alive else f'DIED with {server.returncode}'}")
    finally:
        server.terminate()
        server.wait()
        out.close()

    if not a.no_match:
        bench = pathlib.Path(a.build, "bench/match/match_bench").resolve()
        logs = SHARED / "data/telemetry/zed-sample-data-wrccdc2018/zeek-default"
        print(f"== matching: 100,000 indicators, with and without {HOSTILE_REGEX}")
        subprocess.run([str(bench), "--indicators", "100000", "--events", "2000000",
                        "--no-tools", "--plant", HOSTILE_REGEX, str(logs / "dns.log.gz"),
                        str(logs / "ssl.log.gz")], check=False)
    subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
