// Parse+check throughput over 1,000,000 realistic patterns generated from real indicator values
// in ../shared/data (IPs from ipsum, domains from urlhaus-filter, MD5/SHA-256 from
// malicious-hash): single equality, IN lists of 50, OR chains, MATCHES, qualifiers, CIDR.
//
//   pattern_bench [N]            (default N = 1000000)
//   STIX2_PATTERNS_DIR=/path/to/cti-pattern-validator pattern_bench
//       also times the OASIS Python validator on a sample of the same corpus and prints the ratio.
#include <zlib.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "accord/pattern/pattern.h"
#include "common/paths.h"

namespace {

const std::string kData = accord::testing::SharedDir().string() + "/data/indicators/";

// Lines of one member of a .tar.gz (or of a plain .gz when member is empty).
std::vector<std::string> GzLines(const std::string& path, const std::string& member,
                                 size_t max_lines) {
  std::vector<std::string> out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return out;
  }
  std::string content;
  if (member.empty()) {
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof(buf))) > 0 && content.size() < (64u << 20))
      content.append(buf, static_cast<size_t>(n));
  } else {
    char hdr[512];
    while (gzread(f, hdr, 512) == 512 && hdr[0] != '\0') {
      std::string name(hdr, strnlen(hdr, 100));
      size_t size = std::strtoull(std::string(hdr + 124, 12).c_str(), nullptr, 8);
      size_t padded = (size + 511) / 512 * 512;
      std::string data(padded, '\0');
      if (gzread(f, data.data(), static_cast<unsigned>(padded)) != static_cast<int>(padded)) break;
      if (name.size() >= member.size() &&
          name.compare(name.size() - member.size(), member.size(), member) == 0) {
        content = data.substr(0, size);
        break;
      }
    }
  }
  gzclose(f);
  size_t pos = 0;
  while (pos < content.size() && out.size() < max_lines) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) nl = content.size();
    std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    size_t ws = line.find_first_of(" \t,");
    if (ws != std::string::npos) line.resize(ws);
    if (line.empty() || line.find('\'') != std::string::npos ||
        line.find('\\') != std::string::npos)
      continue;
    out.push_back(line);
  }
  return out;
}

std::string RegexEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\/", c)) o += "\\\\";  // pattern-string escape of '\'
    o += c;
  }
  return o;
}

struct Values {
  std::vector<std::string> ips, domains, md5, sha256;
};

std::vector<std::string> Generate(const Values& v, size_t n) {
  std::mt19937_64 rng(42);
  auto pick = [&](const std::vector<std::string>& xs) -> const std::string& {
    return xs[rng() % xs.size()];
  };
  std::vector<std::string> out;
  out.reserve(n);
  std::string p;
  for (size_t i = 0; i < n; ++i) {
    p.clear();
    switch (i % 10) {
      case 0: p = "[ipv4-addr:value = '" + pick(v.ips) + "']"; break;
      case 1: p = "[file:hashes.'SHA-256' = '" + pick(v.sha256) + "']"; break;
      case 2: p = "[domain-name:value = '" + pick(v.domains) + "']"; break;
      case 3: {  // IN list of 50
        p = "[ipv4-addr:value IN (";
        for (int k = 0; k < 50; ++k) {
          if (k) p += ", ";
          p += "'" + pick(v.ips) + "'";
        }
        p += ")]";
        break;
      }
      case 4: {  // OR chain inside one observation
        p = "[file:hashes.MD5 = '" + pick(v.md5) + "'";
        int len = 2 + static_cast<int>(rng() % 6);
        for (int k = 0; k < len; ++k) p += " OR file:hashes.MD5 = '" + pick(v.md5) + "'";
        p += "]";
        break;
      }
      case 5:  // OR chain of observations
        p = "[domain-name:value = '" + pick(v.domains) + "'] OR [ipv4-addr:value = '" +
            pick(v.ips) + "'] OR [url:value = 'http://" + pick(v.domains) + "/']";
        break;
      case 6:
        p = "[url:value MATCHES '^https?://(www\\\\.)?" + RegexEscape(pick(v.domains)) + "/']";
        break;
      case 7:
        p = "[network-traffic:dst_ref.value = '" + pick(v.ips) +
            "' AND network-traffic:dst_port = 443] REPEATS 5 TIMES WITHIN 300 SECONDS";
        break;
      case 8:
        p = "([process:name = 'cmd.exe'] FOLLOWEDBY [file:hashes.MD5 = '" + pick(v.md5) +
            "']) WITHIN 600 SECONDS START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59.999Z'";
        break;
      default:
        p = "[network-traffic:src_ref.value ISSUBSET '" + pick(v.ips) +
            "/24' AND network-traffic:protocols[*] = 'tcp']";
        break;
    }
    out.push_back(p);
  }
  return out;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time of this thread: "per core" figures stay meaningful on a shared, loaded machine.
double ThreadCpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  Values v;
  v.ips = GzLines(kData + "ipsum.tar.gz", "ipsum/ipsum.txt", 20000);
  v.domains =
      GzLines(kData + "urlhaus-filter-2025-07.tar.gz", "urlhaus-filter-domains-online.txt", 20000);
  v.md5 = GzLines(kData + "malicious-hash/full-hash-md5-aa.txt.gz", "", 20000);
  v.sha256 = GzLines(kData + "malicious-hash/full-hash-sha256-aa.txt.gz", "", 20000);
  if (v.ips.empty() || v.domains.empty() || v.md5.empty() || v.sha256.empty()) {
    std::fprintf(stderr, "missing input values (ips %zu, domains %zu, md5 %zu, sha256 %zu)\n",
                 v.ips.size(), v.domains.size(), v.md5.size(), v.sha256.size());
    return 1;
  }
  std::vector<std::string> corpus = Generate(v, n);
  size_t bytes = 0;
  for (const auto& s : corpus) bytes += s.size();

  // Sanity: everything generated must be valid.
  size_t invalid = 0;
  for (size_t i = 0; i < 1000 && i < corpus.size(); ++i) {
    auto r = accord::pattern::ParseAndCheck(corpus[i]);
    if (!r.ok()) {
      if (++invalid < 5)
        std::fprintf(stderr, "invalid: %s\n  %s\n", corpus[i].c_str(),
                     std::string(r.status().message()).c_str());
    }
  }

  double c0 = ThreadCpu();
  auto t0 = std::chrono::steady_clock::now();
  size_t ok = 0;
  for (const auto& s : corpus) ok += accord::pattern::Parse(s).ok();
  auto t1 = std::chrono::steady_clock::now();
  double c1 = ThreadCpu();
  size_t checked = 0;
  std::vector<accord::pattern::Diagnostic> warnings;
  for (const auto& s : corpus) {
    warnings.clear();
    checked += accord::pattern::ParseAndCheck(s, &warnings).ok();
  }
  auto t2 = std::chrono::steady_clock::now();
  double c2 = ThreadCpu();
  double parse_s = c1 - c0, check_s = c2 - c1;
  std::printf("wall time: parse %.3f s, parse+check %.3f s (figures below use thread CPU time)\n",
              Seconds(t1 - t0), Seconds(t2 - t1));
  std::printf(
      "corpus: %zu patterns, %.1f MB (avg %.0f bytes), values: %zu ips, %zu domains, %zu md5, %zu "
      "sha256\n",
      corpus.size(), bytes / 1e6, static_cast<double>(bytes) / corpus.size(), v.ips.size(),
      v.domains.size(), v.md5.size(), v.sha256.size());
  std::printf("parse only:     %zu ok, %.3f s, %.0f patterns/s, %.1f MB/s\n", ok, parse_s,
              corpus.size() / parse_s, bytes / 1e6 / parse_s);
  std::printf("parse + check:  %zu ok, %.3f s, %.0f patterns/s, %.1f MB/s (single thread)\n",
              checked, check_s, corpus.size() / check_s, bytes / 1e6 / check_s);
  if (invalid)
    std::printf("WARNING: %zu of the first 1000 generated patterns were rejected\n", invalid);

  const char* py = std::getenv("STIX2_PATTERNS_DIR");
  if (py && *py) {
    const size_t sample = std::min<size_t>(corpus.size(), 5000);
    std::string file = "/tmp/accord_pattern_bench_sample.txt";
    {
      std::ofstream out(file);
      for (size_t i = 0; i < sample; ++i) out << corpus[i] << "\n";
    }
    std::string cmd = std::string("python3 -c \"import sys,time; sys.path.insert(0, '") + py +
                      "'); from stix2patterns.validator import run_validator; "
                      "ps=[l.rstrip('\\n') for l in open('" +
                      file +
                      "')]; t=time.process_time(); "
                      "bad=sum(1 for p in ps if run_validator(p, stix_version='2.1')); "
                      "print(time.process_time()-t, bad)\"";
    FILE* f = popen(cmd.c_str(), "r");
    double secs = 0;
    size_t bad = 0;
    if (f && std::fscanf(f, "%lf %zu", &secs, &bad) == 2 && secs > 0) {
      double rate = sample / secs;
      std::printf(
          "stix2patterns (Python) on %zu-pattern sample: %.3f s, %.0f patterns/s, %zu rejected\n",
          sample, secs, rate, bad);
      std::printf("ratio accord/stix2patterns (parse+check): %.0fx\n",
                  (corpus.size() / check_s) / rate);
    } else {
      std::printf("stix2patterns: could not run the Python validator from %s\n", py);
    }
    if (f) pclose(f);
  }
  return invalid == 0 ? 0 : 1;
}
