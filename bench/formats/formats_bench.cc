// Free-text extraction throughput (issue 15: at least 100 MB/s), on real text from
// ../shared/data, in two corpora:
//   lists:   every .txt/.csv/.md/.text member of Unit 42's IOC lists (16.6 MiB, distinct): IOC-
//            dense, nearly every token a value, defanged in places; the worst case;
//   reports: ESET's .adoc campaign reports (0.7 MiB: prose with IOC tables), repeated.
// Every token is classified whatever was seen before (deduplication comes after; only libpsl's
// verdicts are remembered, per last label and per domain already found), so a repeated corpus
// costs what the same amount of new text with the same values would.
//
//   formats_bench [MiB] [lists|reports]     (default: 16 lists)
//   formats_bench misp [ATTRIBUTES] [OUT.json]
//       MISP conversion (issue 15: at least 100,000 attributes/s): one event of ATTRIBUTES
//       (default 150,000) to_ids attributes built from real values (IPsum addresses, URLhaus
//       domains, malicious-hash MD5/SHA-256), converted by ReadMisp; median of 5 in
//       attributes/s. The event is written to OUT.json (default /tmp/accord-misp-bench.json) so
//       that `accord import` can be timed on it end to end (docs/PERFORMANCE.md).
//
// Prints, for ExtractValues (refang + tokenise + classify) and for ReadText (the same plus the
// STIX objects and the report), the median of 5 runs in MB/s, and the values found.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "accord/common/archive.h"
#include "accord/formats/misp.h"
#include "accord/formats/text.h"
#include "common/paths.h"

namespace {

std::string Corpus(size_t min_bytes, bool reports) {
  std::string text;
  const std::string base = accord::testing::SharedDir().string() + "/data/indicators/";
  const char* archive = reports ? "eset-malware-ioc-lists.tar.gz" : "unit42-iocs-lists.tar.gz";
  std::vector<const char*> exts = reports
                                      ? std::vector<const char*>{".adoc"}
                                      : std::vector<const char*>{".txt", ".csv", ".md", ".text"};
  {
    auto st = accord::common::ForEachArchiveMember(
        base + archive, 64u << 20, accord::common::InputLimits{},
        [&](const std::string& name, std::string&& data) {
          for (const char* ext : exts) {
            std::string e(ext);
            if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
              text += data;
              text += '\n';
              break;
            }
          }
          return absl::OkStatus();
        });
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      std::exit(1);
    }
  }
  const size_t one = text.size();
  while (text.size() < min_bytes) text.append(text, 0, one);
  std::fprintf(stderr, "corpus: %.1f MiB of real text (%.1f MiB distinct, repeated)\n",
               static_cast<double>(text.size()) / (1 << 20), static_cast<double>(one) / (1 << 20));
  return text;
}

template <typename F>
double MedianMBps(const std::string& text, F f) {
  std::vector<double> rates;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(text.size()) / 1e6 / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

}  // namespace

// The lines of one member of an archive in ../shared/data/indicators, '#' comments dropped.
std::vector<std::string> MemberLines(const std::string& archive, const std::string& member) {
  std::vector<std::string> out;
  auto st = accord::common::ForEachArchiveMember(
      accord::testing::SharedDir().string() + "/data/indicators/" + archive, 256u << 20,
      accord::common::InputLimits{}, [&](const std::string& name, std::string&& data) {
        if (name != member) return absl::OkStatus();
        size_t pos = 0;
        while (pos < data.size()) {
          size_t eol = data.find('\n', pos);
          if (eol == std::string::npos) eol = data.size();
          std::string line = data.substr(pos, eol - pos);
          pos = eol + 1;
          size_t cut = line.find_first_of("\t #\r");
          if (cut != std::string::npos) line.resize(cut);
          if (!line.empty()) out.push_back(std::move(line));
        }
        return absl::OkStatus();
      });
  if (!st.ok() || out.empty()) {
    std::fprintf(stderr, "cannot read %s:%s\n", archive.c_str(), member.c_str());
    std::exit(1);
  }
  return out;
}

int MispBench(size_t n, const std::string& path) {
  auto ips = MemberLines("ipsum.tar.gz", "ipsum/ipsum.txt");
  auto domains = MemberLines("urlhaus-filter-2025-07.tar.gz",
                             "urlhaus-filter-2025-07/urlhaus-filter-domains.txt");
  std::string ev =
      R"({"Event":{"uuid":"5b0c2a7e-1f3d-4e5a-9b6c-7d8e9f0a1b2c","info":"Accord bench event",)"
      R"("date":"2024-05-01","timestamp":"1714521600","Orgc":{"name":"CERT-EX",)"
      R"("uuid":"5d3f2b1a-0c4e-4f6a-9b8c-7d6e5f4a3b2c"},"Tag":[{"name":"tlp:amber"}],"Attribute":[)";
  char uuid[64];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(uuid, sizeof uuid, "%08zx-aaaa-4bbb-8ccc-%012zx", i, i);
    std::string type, value;
    switch (i % 4) {
      case 0:
        type = "ip-dst";
        value = ips[i % ips.size()];
        break;
      case 1:
        type = "domain";
        value = domains[i % domains.size()];
        break;
      case 2: {
        type = "md5";
        char h[33];
        std::snprintf(h, sizeof h, "%032zx", i * 2654435761u);
        value = h;
        break;
      }
      default:
        type = "url";
        value = "http://" + domains[(i / 4) % domains.size()] + "/p" + std::to_string(i);
    }
    if (i) ev += ',';
    ev += R"({"uuid":")" + std::string(uuid) + R"(","type":")" + type +
          R"(","category":"Network activity","to_ids":true,"timestamp":"1714521600","value":")" +
          value + R"("})";
  }
  ev += "]}}";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f) {
      std::fwrite(ev.data(), 1, ev.size(), f);
      std::fclose(f);
    }
  }
  accord::formats::ConvertOptions o;
  o.source_name = "bench";
  std::vector<double> rates;
  size_t objects = 0;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto st = accord::formats::ReadMisp(
        ev, o,
        [&](accord::formats::Unit&& u) {
          objects = u.objects.size();
          return absl::OkStatus();
        },
        [](accord::formats::Problem&&) {});
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.status().message()).c_str());
      return 1;
    }
    rates.push_back(static_cast<double>(n) / s);
  }
  std::sort(rates.begin(), rates.end());
  std::printf(
      "ReadMisp: %zu attributes (%.1f MB) -> %zu STIX objects: %.0f attributes/s (median of 5)\n",
      n, static_cast<double>(ev.size()) / 1e6, objects, rates[2]);
  std::printf("event written to %s; time `accord import` on it for the end-to-end rate\n",
              path.c_str());
  std::printf("goal: >= 100,000 attributes/s; MISP itself is reported at about 200/s for feeds\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "misp") {
    size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 150000;
    return MispBench(n, argc > 3 ? argv[3] : "/tmp/accord-misp-bench.json");
  }
  size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 16;
  bool reports = argc > 2 && std::string(argv[2]) == "reports";
  std::string text = Corpus(mib << 20, reports);
  std::printf("corpus: %s\n", reports ? "reports (ESET .adoc)" : "lists (Unit 42)");
  size_t found = 0;
  double extract = MedianMBps(text, [&] { found = accord::formats::ExtractValues(text).size(); });
  std::printf("ExtractValues: %.0f MB/s (median of 5), %zu distinct values\n", extract, found);
  accord::formats::ConvertOptions o;
  o.source_name = "corpus";
  size_t objects = 0;
  double read = MedianMBps(text, [&] {
    objects = 0;
    auto st = accord::formats::ReadText(
        text, o,
        [&](accord::formats::Unit&& u) {
          objects += u.objects.size();
          return absl::OkStatus();
        },
        [](accord::formats::Problem&&) {});
    if (!st.ok()) std::exit(1);
  });
  std::printf("ReadText (values -> STIX objects + report): %.0f MB/s (median of 5), %zu objects\n",
              read, objects);
  std::printf("goal: >= 100 MB/s; MISP's free-text import is reported at about 60 attributes/s\n");
  return 0;
}
