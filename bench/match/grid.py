#!/usr/bin/env python3
"""The issue-11 matching grid: `accord match` against `grep -c -F -f` and `rg -c -F -f`.

    grid.py prepare --accord BIN [--dir D] [--events N]
    grid.py grid    --accord BIN [--dir D] [--runs 3] [--timeout 120] [--sizes 100000,1000000]
    grid.py startup --accord BIN [--dir D] [--sizes 100000,1000000]
    grid.py synthetic --accord BIN [--dir D] --sizes 10000000

synthetic: for start-up only, a store of N domain indicators (domain-N.store) when the lists
hold fewer: the real domains, then made-up ones (`s<n>.synthetic-<n % 97>.example`).

prepare: real indicator lists from ../shared/data (maltrail's static trails for domains,
FireHOL's ipsets plus maltrail's IPs for IPv4), shuffled with a fixed seed; the first 100k and
1M of each are the indicator sets (the 100k set is inside the 1M one). Logs of N events
(default 2,000,000) are written in Zeek TSV with the byte shape of real logs: dns.log lines are
the WRCCDC 2018 dns.log's lines in turn with the `query` replaced, conn.log lines the Trickbot
conn.log's lines in turn with `id.resp_h` replaced. An event carries an indicator value with
probability 0.1% or 25% (fixed seed), else a value that is in no list. One log per (type, size,
rate); one store per (type, size) with the indicators imported; one values file per (type,
size) for grep and rg.

grid: whole-process wall time (start-up included), median of --runs, for each cell, with the
ratio accord/grep (the goal is <= 0.33). grep and rg count (-c): GNU grep stops at the first
match when its output is /dev/null. A run over --timeout is reported as such. `parse floor`:
accord match on the same log with no indicator (reading and parsing only), with events/s per
CPU-second. Note: grep/rg match substrings of a line, accord whole values of a field, so their
counts differ; the bytes and the values are the same.

startup: `accord match` on an empty log, per indicator count (kinds with no store of that
count are left out).
"""
import argparse
import gzip
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")
RATES = (0.001, 0.25)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def is_domain(s):
    if "." not in s or len(s) > 253 or s[0] == "." or s[-1] == ".":
        return False
    if all(c.isdigit() or c == "." for c in s):
        return False
    return all(c.isalnum() or c in ".-" for c in s) and s.isascii()


def is_ipv4(s):
    p = s.split(".")
    return len(p) == 4 and all(x.isdigit() and len(x) <= 3 and int(x) < 256 for x in p)


def read_lists():
    domains, ips = set(), set()
    with tarfile.open(os.path.join(SHARED, "indicators", "maltrail-trails-static.tar.gz")) as t:
        for m in t:
            if not m.isfile() or not m.name.endswith(".txt"):
                continue
            for line in t.extractfile(m).read().decode("utf-8", "replace").splitlines():
                v = line.split("#", 1)[0].strip().lower()
                if not v:
                    continue
                if is_ipv4(v):
                    ips.add(v)
                elif is_domain(v):
                    domains.add(v)
    with tarfile.open(os.path.join(SHARED, "indicators", "firehol-blocklist-ipsets-2022-01.tar.gz")) as t:
        for m in t:
            if not m.isfile() or not (m.name.endswith(".ipset") or m.name.endswith(".netset")):
                continue
            for line in t.extractfile(m).read().decode("ascii", "replace").splitlines():
                v = line.strip()
                if v and v[0] != "#" and is_ipv4(v):
                    ips.add(v)
    rng = random.Random(11)
    d, i = sorted(domains), sorted(ips)
    rng.shuffle(d)
    rng.shuffle(i)
    return d, i


def zeek_template(path_in_tar_or_gz, member=None):
    """(header lines, data lines split on tabs, field index map) of a real Zeek TSV log."""
    if member is None:
        text = gzip.open(path_in_tar_or_gz, "rt", encoding="utf-8", errors="replace").read()
    else:
        with tarfile.open(path_in_tar_or_gz) as t:
            m = next(x for x in t if x.name.endswith(member))
            text = t.extractfile(m).read().decode("utf-8", "replace")
    header, rows, fields = [], [], None
    for line in text.splitlines():
        if line.startswith("#"):
            if line.startswith("#close"):
                continue
            header.append(line)
            if line.startswith("#fields\t"):
                fields = {f: k for k, f in enumerate(line[8:].split("\t"))}
            continue
        rows.append(line.split("\t"))
    return header, rows, fields


def write_log(path, header, rows, col, values, rate, events, background, seed):
    rng = random.Random(seed)
    with open(path, "w") as out:
        out.write("\n".join(header) + "\n")
        buf = []
        for k in range(events):
            row = list(rows[k % len(rows)])
            row[0] = "%.6f" % (1521911720 + k * 0.001)
            row[col] = values[rng.randrange(len(values))] if rng.random() < rate else background(rng)
            buf.append("\t".join(row))
            if len(buf) == 10000:
                out.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")


def indicator(n, pattern):
    return json.dumps({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-%012d" % n,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})


def prepare(a):
    os.makedirs(a.dir, exist_ok=True)
    log("reading the lists")
    domains, ips = read_lists()
    log(f"{len(domains)} distinct domains, {len(ips)} distinct IPv4")
    dns = zeek_template(os.path.join(SHARED, "telemetry", "zed-sample-data-wrccdc2018", "zeek-default", "dns.log.gz"))
    conn = zeek_template(os.path.join(SHARED, "telemetry", "trickbot-2018-11-09-zeek-logs.tar.gz"), "conn.log")
    dset, iset = set(domains), set(ips)

    def bg_domain(rng):
        while True:
            v = "h%08x.c%05d.example-%d.net" % (rng.getrandbits(32), rng.randrange(100000), rng.randrange(10))
            if v not in dset:
                return v

    def bg_ip(rng):
        while True:
            v = "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(256))
            if v not in iset:
                return v

    for kind, values, (header, rows, fields), col_name, bg, logname in (
            ("domain", domains, dns, "query", bg_domain, "dns"),
            ("ip", ips, conn, "id.resp_h", bg_ip, "conn")):
        for size in a.sizes:
            vals = values[:size]
            tag = f"{kind}-{size}"
            if len(vals) < size:
                log(f"{tag}: only {len(vals)} values in the lists")
            with open(os.path.join(a.dir, tag + ".values"), "w") as f:
                f.write("\n".join(vals) + "\n")
            store = os.path.join(a.dir, tag + ".store")
            if not os.path.exists(store):
                ind = os.path.join(a.dir, tag + ".jsonl")
                with open(ind, "w") as f:
                    for n, v in enumerate(vals):
                        p = f"[domain-name:value = '{v}']" if kind == "domain" else f"[ipv4-addr:value = '{v}']"
                        f.write(indicator(n, p) + "\n")
                log(f"{tag}: importing {len(vals)} indicators")
                subprocess.run([a.accord, "import", "--data", store, ind], check=True,
                               stdout=subprocess.DEVNULL)
                os.remove(ind)
            for rate in RATES:
                path = os.path.join(a.dir, f"{logname}-{tag}-{rate}.log")
                if os.path.exists(path):
                    continue
                log(f"writing {path}")
                write_log(path, header, rows, fields[col_name], vals, rate, a.events, bg,
                          seed=size * 10 + int(rate * 1000) + (0 if kind == "domain" else 7))
    empty = os.path.join(a.dir, "empty.store")
    if not os.path.exists(empty):
        subprocess.run([a.accord, "init", "--data", empty], check=True, stdout=subprocess.DEVNULL)
    open(os.path.join(a.dir, "empty.log"), "w").close()


def synthetic(a):
    os.makedirs(a.dir, exist_ok=True)
    domains, _ = read_lists()
    for size in a.sizes:
        store = os.path.join(a.dir, f"domain-{size}.store")
        if os.path.exists(store):
            continue
        ind = os.path.join(a.dir, f"domain-{size}.jsonl")
        with open(ind, "w") as f:
            for n in range(size):
                v = domains[n] if n < len(domains) else "s%d.synthetic-%d.example" % (n, n % 97)
                f.write(indicator(n, f"[domain-name:value = '{v}']") + "\n")
        log(f"domain-{size}: importing {size} indicators")
        subprocess.run([a.accord, "import", "--data", store, ind], check=True, stdout=subprocess.DEVNULL)
        os.remove(ind)
    open(os.path.join(a.dir, "empty.log"), "w").close()


def timed(cmd, timeout):
    """(wall seconds, cpu seconds of the child, stdout) or (None, None, None) past the timeout."""
    t0 = time.monotonic()
    r0 = os.times()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL if cmd[0] != "grep" and cmd[0] != "rg" else subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, None
    wall = time.monotonic() - t0
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return wall, cpu, p.stdout


def median_of(cmd, runs, timeout):
    walls, cpus = [], []
    for _ in range(runs):
        w, c, _ = timed(cmd, timeout)
        if w is None:
            return None, None
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls), statistics.median(cpus)


def fmt(x):
    return "timeout" if x is None else "%.2f" % x


def grid(a):
    print("| indicators | log | matching | accord s | grep -c s | rg -c s | accord/grep | accord/rg | accord CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, logname in (("domain", "dns"), ("ip", "conn")):
        for size in a.sizes:
            tag = f"{kind}-{size}"
            store, values = os.path.join(a.dir, tag + ".store"), os.path.join(a.dir, tag + ".values")
            for rate in RATES:
                path = os.path.join(a.dir, f"{logname}-{tag}-{rate}.log")
                acc = [a.accord, "match", "--data", store, "--input-format", "zeek", path]
                timed(acc, a.timeout)  # warm: page cache, store
                aw, ac = median_of(acc, a.runs, a.timeout)
                gw, _ = median_of(["grep", "-c", "-F", "-f", values, path], a.runs, a.timeout)
                rw, _ = median_of(["rg", "-c", "-F", "-f", values, path], a.runs, a.timeout)
                ratio = lambda x: "-" if aw is None or x is None else "%.2fx" % (aw / x)
                print(f"| {size:,} {kind} | {logname}.log | {rate * 100:g}% | {fmt(aw)} | {fmt(gw)} | {fmt(rw)} "
                      f"| {ratio(gw)} | {ratio(rw)} | {fmt(ac)} |", flush=True)
    # The parse floor: the same logs with no indicator.
    empty = os.path.join(a.dir, "empty.store")
    for kind, logname in (("domain", "dns"), ("ip", "conn")):
        path = os.path.join(a.dir, f"{logname}-{kind}-{a.sizes[0]}-0.25.log")
        acc = [a.accord, "match", "--data", empty, "--input-format", "zeek", path]
        timed(acc, a.timeout)
        w, c = median_of(acc, a.runs, a.timeout)
        n = sum(1 for line in open(path) if not line.startswith("#"))
        print(f"parse floor {logname}.log ({n:,} events): {fmt(w)} s wall, {fmt(c)} s CPU, "
              f"{n / c / 1e6:.2f}M events per CPU-second" if c else "timeout", flush=True)


def startup(a):
    """cold: --no-cache (listing and parsing the store); warm: the start-up cache of the run
    before. The page cache is warm in both (one run first). With --baseline BIN, that build
    runs too, alternating with --accord, on a copy of each store (its cache file is its own)."""
    bins = [("accord", a.accord)] + ([("baseline", a.baseline)] if a.baseline else [])
    head = " | ".join(f"{n} cold s | {n} warm s | {n} warm peak RSS MB" for n, _ in bins)
    print(f"| indicators | {head} |" + (" warm accord/baseline |" if a.baseline else ""))
    print("|---|" + "---|" * (3 * len(bins) + (1 if a.baseline else 0)))
    for kind in ("domain", "ip"):
        for size in a.sizes:
            store = os.path.join(a.dir, f"{kind}-{size}.store")
            if not os.path.exists(store):
                continue
            cmds = []
            for name, binary in bins:
                s = store
                if name == "baseline":
                    s = os.path.join(a.dir, f"{kind}-{size}.baseline.store")
                    if not os.path.exists(s):
                        shutil.copytree(store, s, ignore=shutil.ignore_patterns("cache"))
                cmds.append([binary, "match", "--data", s, "--input-format", "zeek",
                             os.path.join(a.dir, "empty.log")])
            for cmd in cmds:
                timed(cmd, a.timeout)
            res = {k: ([], [], []) for k in range(len(cmds))}
            for _ in range(a.runs):  # alternating, so both see the same machine
                for k, cmd in enumerate(cmds):
                    res[k][0].append(timed(cmd + ["--no-cache"], a.timeout)[0])
                    w, rss = timed_rss(cmd, a.timeout)
                    res[k][1].append(w)
                    res[k][2].append(rss)
            cells, warm = [], []
            for k in range(len(cmds)):
                med = [None if None in v else statistics.median(v) for v in res[k]]
                warm.append(med[1])
                cells += [fmt(med[0]), fmt(med[1]), "-" if med[2] is None else "%.0f" % med[2]]
            ratio = ""
            if a.baseline:
                ratio = " %.2fx |" % (warm[0] / warm[1]) if None not in warm else " - |"
            print(f"| {size:,} {kind} | " + " | ".join(cells) + " |" + ratio, flush=True)


def timed_rss(cmd, timeout):
    """(wall seconds, peak RSS MB) of one run, by GNU time's format."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return None, None
    wall = time.monotonic() - t0
    return wall, int(p.stderr.strip().splitlines()[-1]) / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=("prepare", "grid", "startup", "synthetic"))
    p.add_argument("--accord", required=True)
    p.add_argument("--baseline", help="startup: another build to run alternately (ratio)")
    p.add_argument("--dir", default="/tmp/accord-grid")
    p.add_argument("--events", type=int, default=2000000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--sizes", default="100000,1000000")
    a = p.parse_args()
    a.sizes = [int(x) for x in a.sizes.split(",")]
    {"prepare": prepare, "grid": grid, "startup": startup, "synthetic": synthetic}[a.what](a)


if __name__ == "__main__":
    main()
