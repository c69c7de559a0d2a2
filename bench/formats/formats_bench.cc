// Free-text extraction throughput (issue 15: at least 100 MB/s), on real text from
// ../shared/data, in two corpora:
//   lists:   every .txt/.csv/.md/.text member of Unit 42's IOC lists (16.6 MiB, distinct): IOC-
//            dense, nearly every token a value, defanged in places; the worst case;
//   reports: ESET's .adoc campaign reports (0.7 MiB: prose with IOC tables), repeated.
// Every token is classified whatever was seen before (deduplication comes after), so a
// repeated corpus costs what the same amount of new text with the same values would.
//
//   formats_bench [MiB] [lists|reports]     (default: 16 lists)
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
#include "accord/formats/text.h"

namespace {

std::string Corpus(size_t min_bytes, bool reports) {
  std::string text;
  const std::string base = std::string(ACCORD_SHARED_DIR) + "/data/indicators/";
  const char* archive = reports ? "eset-malware-ioc-lists.tar.gz" : "unit42-iocs-lists.tar.gz";
  std::vector<const char*> exts = reports ? std::vector<const char*>{".adoc"}
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

int main(int argc, char** argv) {
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
