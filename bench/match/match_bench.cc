// Domain benchmark of the matching engine (issue 4, docs/PERFORMANCE.md).
//
//   match_bench --indicators N --events M [--values FILE]... LOG...
//
// Indicators: the real values in the --values files (one per line, first tab/space field,
// '#' comments skipped), topped up with generated ones to N: IPv4, IPv6, IPv4 /24 CIDRs,
// domains, URLs, MD5/SHA-1/SHA-256. Events: the LOG files (Zeek TSV/JSON, EVE; gzip ok)
// concatenated and replicated in memory to at least M events.
// Prints, per core (CPU time of this process or of the child): (a) read+parse only (the
// floor), (b) full matching, (c) `rg -F -f` and `grep -F -f` with the same values over the
// same bytes written to a temporary file; compile time; bytes per indicator.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "accord/common/io.h"
#include "accord/match/engine.h"
#include "accord/match/input.h"

using namespace accord;

namespace {

double CpuSelf() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double CpuChildren() {
  rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string Hex(std::mt19937_64& rng, int n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(k[rng() & 15]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n_ind = 1000000, n_events = 10000000;
  std::vector<std::string> value_files, logs;
  bool tools = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--indicators" && i + 1 < argc) n_ind = std::stoull(argv[++i]);
    else if (a == "--events" && i + 1 < argc) n_events = std::stoull(argv[++i]);
    else if (a == "--values" && i + 1 < argc) value_files.push_back(argv[++i]);
    else if (a == "--no-tools") tools = false;
    else logs.push_back(a);
  }
  if (logs.empty()) {
    std::cerr << "usage: match_bench --indicators N --events M [--values FILE]... LOG...\n";
    return 2;
  }

  // ---- Indicators ----
  std::vector<match::IndicatorSpec> specs;
  std::vector<std::string> plain;  // the same values for rg/grep
  std::set<std::string> seen;
  auto add = [&](const std::string& pattern, const std::string& value) {
    if (specs.size() >= n_ind || !seen.insert(value).second) return;
    char id[64];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zx", specs.size());
    specs.push_back({id, pattern});
    plain.push_back(value);
  };
  uint64_t real = 0;
  for (const std::string& f : value_files) {
    auto text = common::ReadFile(f);
    if (!text.ok()) {
      std::cerr << text.status() << "\n";
      return 1;
    }
    size_t start = 0;
    while (start < text->size()) {
      size_t e = text->find('\n', start);
      if (e == std::string::npos) e = text->size();
      std::string line = text->substr(start, e - start);
      start = e + 1;
      if (line.empty() || line[0] == '#') continue;
      line = line.substr(0, line.find_first_of(" \t\r"));
      if (line.empty() || line.find('\'') != std::string::npos || line.find('\\') != std::string::npos) continue;
      bool ip = line.find_first_not_of("0123456789.") == std::string::npos;
      bool hex = line.find_first_not_of("0123456789abcdef") == std::string::npos;
      size_t before = specs.size();
      if (ip) add("[ipv4-addr:value = '" + line + "']", line);
      else if (hex && line.size() == 32) add("[file:hashes.MD5 = '" + line + "']", line);
      else if (hex && line.size() == 40) add("[file:hashes.'SHA-1' = '" + line + "']", line);
      else if (hex && line.size() == 64) add("[file:hashes.'SHA-256' = '" + line + "']", line);
      else if (line.find('/') == std::string::npos && line.find('.') != std::string::npos) add("[domain-name:value = '" + line + "']", line);
      real += specs.size() - before;
    }
  }
  std::mt19937_64 rng(7);
  uint64_t cidrs = 0;
  while (specs.size() < n_ind) {
    switch (rng() % 8) {
      case 0: {
        std::string ip = std::to_string(rng() % 223 + 1) + "." + std::to_string(rng() % 256) + "." +
                         std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
        add("[ipv4-addr:value = '" + ip + "']", ip);
        break;
      }
      case 1: {
        std::string ip = "2001:db8:" + Hex(rng, 4) + ":" + Hex(rng, 4) + "::" + Hex(rng, 3);
        add("[ipv6-addr:value = '" + ip + "']", ip);
        break;
      }
      case 2: {
        if (cidrs > n_ind / 100) break;  // CIDRs: ~1% (FireHOL's share of netsets)
        std::string net = std::to_string(rng() % 223 + 1) + "." + std::to_string(rng() % 256) + "." +
                          std::to_string(rng() % 256) + ".0/24";
        size_t before = specs.size();
        if (seen.insert(net).second) {
          char id[64];
          snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zx", specs.size());
          specs.push_back({id, "[ipv4-addr:value ISSUBSET '" + net + "']"});
        }
        cidrs += specs.size() - before;
        break;
      }
      case 3: {
        std::string d = Hex(rng, 10) + ".bench-" + std::to_string(rng() % 1000) + ".com";
        add("[domain-name:value = '" + d + "']", d);
        break;
      }
      case 4: {
        std::string u = "http://" + Hex(rng, 8) + ".example.net/" + Hex(rng, 12) + ".php";
        add("[url:value = '" + u + "']", u);
        break;
      }
      case 5: { std::string h = Hex(rng, 32); add("[file:hashes.MD5 = '" + h + "']", h); break; }
      case 6: { std::string h = Hex(rng, 40); add("[file:hashes.'SHA-1' = '" + h + "']", h); break; }
      default: { std::string h = Hex(rng, 64); add("[file:hashes.'SHA-256' = '" + h + "']", h); break; }
    }
  }
  seen.clear();

  // ---- Events ----
  std::string one;
  for (const std::string& f : logs) {
    auto text = common::ReadFile(f);
    if (!text.ok()) {
      std::cerr << text.status() << "\n";
      return 1;
    }
    one += *text;
    if (!one.empty() && one.back() != '\n') one.push_back('\n');
  }
  auto count_events = [&](std::string_view buf, const match::Engine* engine, uint64_t* matches) {
    auto reader = match::EventReader::Open(match::InputFormat::kZeek, common::InputStream::FromBuffer(buf),
                                           "bench", nullptr, nullptr);
    match::Observation o;
    std::vector<match::MatchResult> out;
    uint64_t n = 0;
    for (;;) {
      auto more = (*reader)->Next(&o);
      if (!more.ok() || !*more) break;
      ++n;
      if (engine) {
        out.clear();
        const_cast<match::Engine*>(engine)->Process(o, n, &out);
        *matches += out.size();
      }
    }
    return n;
  };
  uint64_t dummy = 0;
  uint64_t per_copy = count_events(one, nullptr, &dummy);
  uint64_t copies = (n_events + per_copy - 1) / per_copy;
  std::string big;
  big.reserve(one.size() * copies);
  for (uint64_t i = 0; i < copies; ++i) big += one;
  one.clear();
  one.shrink_to_fit();
  std::string tmp = "/tmp/match_bench_" + std::to_string(getpid());
  {
    std::ofstream(tmp + ".log", std::ios::binary).write(big.data(), static_cast<std::streamsize>(big.size()));
    std::ofstream v(tmp + ".values");
    for (const std::string& s : plain) v << s << "\n";
  }
  plain.clear();
  plain.shrink_to_fit();

  // ---- Compile ----
  // Memory: heap in use (mallinfo2) and RSS after malloc_trim, before and after Build, with the
  // input specs alive in both; the compile's temporaries (ASTs) are freed by then.
  malloc_trim(0);
  long rss0 = RssKb();
  size_t heap0 = mallinfo2().uordblks + mallinfo2().hblkhd;
  double c0 = CpuSelf();
  auto wall0 = std::chrono::steady_clock::now();
  auto engine = match::Engine::Build(specs, match::MatchOptions());
  double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double compile_cpu = CpuSelf() - c0;
  malloc_trim(0);
  long rss1 = RssKb();
  size_t heap1 = mallinfo2().uordblks + mallinfo2().hblkhd;
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  size_t n_specs = specs.size();
  specs.clear();
  specs.shrink_to_fit();
  match::EngineStats st = (*engine)->Stats();

  // ---- (a) floor, (b) full ----
  double a0 = CpuSelf();
  uint64_t ev_a = count_events(big, nullptr, &dummy);
  double a_s = CpuSelf() - a0;
  uint64_t matches = 0;
  double b0 = CpuSelf();
  uint64_t ev_b = count_events(big, engine->get(), &matches);
  double b_s = CpuSelf() - b0;

  // ---- (c) rg / grep ----
  auto tool = [&](const std::string& cmd) {
    double t0 = CpuChildren();
    auto w0 = std::chrono::steady_clock::now();
    int rc = system(cmd.c_str());
    double cpu = CpuChildren() - t0;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    return std::tuple<int, double, double>(rc, cpu, wall);
  };
  if (!tools) {
    std::remove((tmp + ".log").c_str());
    std::remove((tmp + ".values").c_str());
  }
  auto [rg_rc, rg_cpu, rg_wall] = !tools ? std::tuple<int, double, double>(0, 0, 0) : tool("timeout 600 rg -j1 -F -c -f " + tmp + ".values " + tmp + ".log > /dev/null");
  auto [gr_rc, gr_cpu, gr_wall] = !tools ? std::tuple<int, double, double>(0, 0, 0) : tool("timeout 600 grep -F -c -f " + tmp + ".values " + tmp + ".log > /dev/null");
  std::remove((tmp + ".log").c_str());
  std::remove((tmp + ".values").c_str());

  printf("indicators            %zu (%llu real values, %llu CIDRs; %llu exact keys)\n", n_specs,
         static_cast<unsigned long long>(real), static_cast<unsigned long long>(st.cidr_entries),
         static_cast<unsigned long long>(st.exact_keys));
  printf("events                %llu (%llu per copy x %llu), %.1f MiB\n", static_cast<unsigned long long>(ev_a),
         static_cast<unsigned long long>(per_copy), static_cast<unsigned long long>(copies),
         static_cast<double>(big.size()) / 1048576.0);
  printf("compile               %.2f s wall, %.2f s CPU\n", compile_s, compile_cpu);
  printf("memory                %.1f bytes/indicator (RSS delta), %.1f (heap delta), %.1f (engine estimate)\n",
         static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(n_specs),
         static_cast<double>(heap1 - heap0) / static_cast<double>(n_specs),
         static_cast<double>(st.memory_bytes) / static_cast<double>(n_specs));
  printf("(a) read+parse        %.0f events/s per core\n", static_cast<double>(ev_a) / a_s);
  printf("(b) full match        %.0f events/s per core (%.0f%% of floor), %llu matches\n",
         static_cast<double>(ev_b) / b_s, 100.0 * (static_cast<double>(ev_b) / b_s) / (static_cast<double>(ev_a) / a_s),
         static_cast<unsigned long long>(matches));
  auto show = [&](const char* name, int rc, double cpu, double wall) {
    bool timed_out = WIFEXITED(rc) && WEXITSTATUS(rc) == 124;
    printf("(c) %-18s %.0f events/s per core (%.1f s CPU, %.1f s wall%s); (b) is %.1fx\n", name,
           static_cast<double>(ev_a) / cpu, cpu, wall, timed_out ? ", TIMED OUT at 600 s" : "",
           (static_cast<double>(ev_b) / b_s) / (static_cast<double>(ev_a) / cpu));
  };
  if (tools) {
    show("rg -F -f", rg_rc, rg_cpu, rg_wall);
    show("grep -F -f", gr_rc, gr_cpu, gr_wall);
  }
  return 0;
}
