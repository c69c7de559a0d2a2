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
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
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

// ---- STIX 2.1 sample for the OASIS stix2-matcher comparison -----------------------------------

void JsonStr(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      out->append(b);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// Writes node `n` of `o` as JSON; string values under "*_ref" keys and in "*_refs" lists are
// local SCO ids, renamed through `ids`.
void JsonNode(std::string* out, const match::Observation& o, const match::Node& n,
              const std::map<std::string, std::string, std::less<>>& ids, bool ref) {
  using K = match::Node::Kind;
  switch (n.kind) {
    case K::kNull: out->append("null"); break;
    case K::kBool: out->append(n.b ? "true" : "false"); break;
    case K::kInt: out->append(std::to_string(n.i)); break;
    case K::kFloat: {
      char b[32];
      snprintf(b, sizeof b, "%.17g", n.f);
      out->append(b);
      break;
    }
    case K::kString: {
      auto it = ref ? ids.find(o.Str(n)) : ids.end();
      JsonStr(out, it != ids.end() ? std::string_view(it->second) : o.Str(n));
      break;
    }
    case K::kList:
    case K::kObject: {
      bool obj = n.kind == K::kObject;
      out->push_back(obj ? '{' : '[');
      bool first = true;
      for (uint32_t c = n.first; c < n.first + n.count; ++c) {
        const match::Node& ch = o.node(c);
        std::string_view key = o.Key(ch);
        if (obj && key == "id") continue;  // replaced by the global id
        if (!first) out->push_back(',');
        first = false;
        bool child_ref = ref && !obj;
        if (obj) {
          JsonStr(out, key);
          out->push_back(':');
          child_ref = key.ends_with("_ref") || key.ends_with("_refs");
        }
        JsonNode(out, o, ch, ids, child_ref);
      }
      out->push_back(obj ? '}' : ']');
      break;
    }
  }
}

// Appends observation `o` as an observed-data object and its SCOs to the bundle's "objects"
// array text `objs` (comma-separated); `seq` numbers the ids.
void AppendObservedData(std::string* objs, const match::Observation& o, uint64_t* seq) {
  std::map<std::string, std::string, std::less<>> ids;
  char id[96];
  for (const match::Sco& s : o.scos()) {
    snprintf(id, sizeof id, "--00000000-0000-4000-9000-%012llx",
             static_cast<unsigned long long>((*seq)++));
    ids[std::string(o.Id(s))] = common::Cat(o.Type(s), id);
  }
  snprintf(id, sizeof id, "observed-data--00000000-0000-4000-8000-%012llx",
           static_cast<unsigned long long>((*seq)++));
  std::string first = common::FormatTimestamp(o.first_observed),
              last = common::FormatTimestamp(o.last_observed);
  if (!objs->empty()) objs->push_back(',');
  *objs += common::Cat("{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"", id,
                       "\",\"created\":\"", first, "\",\"modified\":\"", first,
                       "\",\"first_observed\":\"", first, "\",\"last_observed\":\"", last,
                       "\",\"number_observed\":", o.number_observed, ",\"object_refs\":[");
  bool comma = false;
  for (const match::Sco& s : o.scos()) {
    if (comma) objs->push_back(',');
    comma = true;
    JsonStr(objs, ids.find(o.Id(s))->second);
  }
  objs->append("]}");
  for (const match::Sco& s : o.scos()) {
    objs->append(",{\"id\":");
    JsonStr(objs, ids.find(o.Id(s))->second);
    objs->append(",\"spec_version\":\"2.1\",");
    std::string body;
    JsonNode(&body, o, o.node(s.root), ids, false);
    objs->append(body, 1, std::string::npos);  // body starts with '{'
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n_ind = 1000000, n_events = 10000000;
  std::vector<std::string> value_files, logs;
  bool tools = true, use_rg = true, use_grep = true;
  uint64_t tool_mem_gb = 0, tool_timeout = 600;  // 0: no memory cap
  uint64_t stix2_patterns = 1000, stix2_events = 2000;
  double stix2_seconds = 60;
  const char* stix2_dir = getenv("STIX2_MATCHER_DIR");  // a cti-pattern-matcher checkout
  std::string plant;  // --plant PATTERN: a hostile indicator, timed against the clean set
  int plant_rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--indicators" && i + 1 < argc)
      n_ind = std::stoull(argv[++i]);
    else if (a == "--events" && i + 1 < argc)
      n_events = std::stoull(argv[++i]);
    else if (a == "--values" && i + 1 < argc)
      value_files.push_back(argv[++i]);
    else if (a == "--no-tools")
      tools = false;
    else if (a == "--tools" && i + 1 < argc) {  // rg,grep (default both)
      std::string t = argv[++i];
      use_rg = t.find("rg") != std::string::npos;
      use_grep = t.find("grep") != std::string::npos;
    } else if (a == "--tool-mem-gb" && i + 1 < argc)
      tool_mem_gb = std::stoull(argv[++i]);
    else if (a == "--tool-timeout" && i + 1 < argc)
      tool_timeout = std::stoull(argv[++i]);
    else if (a == "--stix2-patterns" && i + 1 < argc)
      stix2_patterns = std::stoull(argv[++i]);
    else if (a == "--stix2-events" && i + 1 < argc)
      stix2_events = std::stoull(argv[++i]);
    else if (a == "--stix2-seconds" && i + 1 < argc)
      stix2_seconds = std::stod(argv[++i]);
    else if (a == "--plant" && i + 1 < argc)
      plant = argv[++i];
    else if (a == "--plant-rounds" && i + 1 < argc)
      plant_rounds = std::stoi(argv[++i]);
    else
      logs.push_back(a);
  }
  if (logs.empty()) {
    std::cerr << "usage: match_bench --indicators N --events M [--values FILE]... [--no-tools]\n"
                 "         [--tools rg,grep] [--tool-mem-gb G] [--tool-timeout S]\n"
                 "         [--stix2-patterns P] [--stix2-events E] [--stix2-seconds S]\n"
                 "         [--plant PATTERN [--plant-rounds R]] LOG...\n"
                 "with STIX2_MATCHER_DIR set, also times OASIS stix2-matcher on a sample\n";
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
      if (line.empty() || line.find('\'') != std::string::npos ||
          line.find('\\') != std::string::npos)
        continue;
      bool ip = line.find_first_not_of("0123456789.") == std::string::npos;
      bool hex = line.find_first_not_of("0123456789abcdef") == std::string::npos;
      size_t before = specs.size();
      if (ip)
        add("[ipv4-addr:value = '" + line + "']", line);
      else if (hex && line.size() == 32)
        add("[file:hashes.MD5 = '" + line + "']", line);
      else if (hex && line.size() == 40)
        add("[file:hashes.'SHA-1' = '" + line + "']", line);
      else if (hex && line.size() == 64)
        add("[file:hashes.'SHA-256' = '" + line + "']", line);
      else if (line.find('/') == std::string::npos && line.find('.') != std::string::npos)
        add("[domain-name:value = '" + line + "']", line);
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
        std::string net = std::to_string(rng() % 223 + 1) + "." + std::to_string(rng() % 256) +
                          "." + std::to_string(rng() % 256) + ".0/24";
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
      case 5: {
        std::string h = Hex(rng, 32);
        add("[file:hashes.MD5 = '" + h + "']", h);
        break;
      }
      case 6: {
        std::string h = Hex(rng, 40);
        add("[file:hashes.'SHA-1' = '" + h + "']", h);
        break;
      }
      default: {
        std::string h = Hex(rng, 64);
        add("[file:hashes.'SHA-256' = '" + h + "']", h);
        break;
      }
    }
  }
  seen.clear();
  // The stix2-matcher sample: P patterns spread evenly over the indicators (real and generated).
  std::vector<match::IndicatorSpec> sample_specs;
  if (stix2_dir) {
    size_t step = std::max<size_t>(1, specs.size() / stix2_patterns);
    for (size_t i = 0; i < specs.size() && sample_specs.size() < stix2_patterns; i += step) {
      sample_specs.push_back(specs[i]);
    }
  }

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
    auto reader = match::EventReader::Open(
        match::InputFormat::kZeek, common::InputStream::FromBuffer(buf), "bench", nullptr, nullptr);
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
  std::string tmp = "/tmp/match_bench_" + std::to_string(getpid());
  if (stix2_dir) {
    // E events spread evenly over one copy of the logs, as one STIX 2.1 bundle.
    uint64_t step = std::max<uint64_t>(1, per_copy / stix2_events), n = 0, seq = 0, taken = 0;
    std::string objs;
    auto reader = match::EventReader::Open(
        match::InputFormat::kZeek, common::InputStream::FromBuffer(one), "bench", nullptr, nullptr);
    match::Observation o;
    for (;;) {
      auto more = (*reader)->Next(&o);
      if (!more.ok() || !*more || taken >= stix2_events) break;
      if (n++ % step != 0) continue;
      AppendObservedData(&objs, o, &seq);
      ++taken;
    }
    std::ofstream(tmp + ".bundle.json")
        << "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
           "000000000000\",\"objects\":["
        << objs << "]}\n";
    std::ofstream pats(tmp + ".patterns");
    for (const auto& sp : sample_specs) pats << sp.pattern << "\n";
  }
  std::string big;
  big.reserve(one.size() * copies);
  for (uint64_t i = 0; i < copies; ++i) big += one;
  one.clear();
  one.shrink_to_fit();
  {
    std::ofstream(tmp + ".log", std::ios::binary)
        .write(big.data(), static_cast<std::streamsize>(big.size()));
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
  double compile_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double compile_cpu = CpuSelf() - c0;
  malloc_trim(0);
  long rss1 = RssKb();
  size_t heap1 = mallinfo2().uordblks + mallinfo2().hblkhd;
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  size_t n_specs = specs.size();
  // Issue 10: the same set plus one hostile indicator (e.g. a backtracking regex that defeats
  // Vectorscan), compiled with the same options; timed against the clean set below.
  std::unique_ptr<match::Engine> planted;
  if (!plant.empty()) {
    specs.push_back({"indicator--00000000-0000-4000-8000-ffffffffffff", plant});
    auto p = match::Engine::Build(specs, match::MatchOptions());
    if (!p.ok()) {
      std::cerr << "--plant: " << p.status() << "\n";
      return 1;
    }
    planted = std::move(*p);
  }
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

  // ---- (d) planted: clean and planted engines in alternating rounds (this machine's speed
  // drifts), medians of each and the median of the per-round ratios ----
  if (planted) {
    std::vector<double> clean_r, plant_r, ratio;
    uint64_t m_clean = 0, m_plant = 0;
    for (int r = 0; r < plant_rounds; ++r) {
      double t0 = CpuSelf();
      uint64_t n0 = count_events(big, engine->get(), &m_clean);
      double t1 = CpuSelf();
      uint64_t n1 = count_events(big, planted.get(), &m_plant);
      double t2 = CpuSelf();
      clean_r.push_back(static_cast<double>(n0) / (t1 - t0));
      plant_r.push_back(static_cast<double>(n1) / (t2 - t1));
      ratio.push_back(plant_r.back() / clean_r.back());
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    match::EngineStats ps = planted->Stats();
    printf("(d) planted           %s\n", plant.c_str());
    printf(
        "(d) clean %.0f events/s, planted %.0f events/s per core (medians of %d rounds): planted "
        "is %.1f%% of clean; regex limit hits %llu, disabled indicators %llu\n",
        median(clean_r), median(plant_r), plant_rounds, 100.0 * median(ratio),
        static_cast<unsigned long long>(ps.regex_limit_hits),
        static_cast<unsigned long long>(ps.disabled));
    planted.reset();
  }

  // ---- (c) rg / grep ----
  // The engine and the in-memory events are released first so that the tools get the memory.
  // Each tool runs under `ulimit -v` (--tool-mem-gb) and `timeout` (--tool-timeout); its peak
  // RSS comes from /usr/bin/time and its first stderr line is kept to report a failure.
  const size_t big_bytes = big.size();
  engine->reset();
  big.clear();
  big.shrink_to_fit();
  malloc_trim(0);
  struct ToolRun {
    int rc = 0;
    double cpu = 0, wall = 0;
    long rss_kb = 0;
    std::string err;
  };
  auto tool = [&](const std::string& cmd) {
    ToolRun r;
    std::string cap =
        tool_mem_gb ? "ulimit -v " + std::to_string(tool_mem_gb * 1024 * 1024) + "; " : "";
    std::string full = "(" + cap + "exec /usr/bin/time -f %M -o " + tmp + ".rss timeout " +
                       std::to_string(tool_timeout) + " " + cmd + " > /dev/null 2> " + tmp +
                       ".err)";
    double t0 = CpuChildren();
    auto w0 = std::chrono::steady_clock::now();
    r.rc = system(full.c_str());
    r.cpu = CpuChildren() - t0;
    r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    std::ifstream rss(tmp + ".rss");
    std::string line;
    while (std::getline(rss, line)) {  // the last line is %M; earlier ones are time's notes
      if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos)
        r.rss_kb = std::stol(line);
    }
    std::ifstream err(tmp + ".err");
    std::getline(err, r.err);
    std::remove((tmp + ".rss").c_str());
    std::remove((tmp + ".err").c_str());
    return r;
  };
  ToolRun rg, gr;
  if (tools && use_rg) rg = tool("rg -j1 -F -c -f " + tmp + ".values " + tmp + ".log");
  if (tools && use_grep) gr = tool("grep -F -c -f " + tmp + ".values " + tmp + ".log");
  std::remove((tmp + ".log").c_str());
  std::remove((tmp + ".values").c_str());

  printf("indicators            %zu (%llu real values, %llu CIDRs; %llu exact keys)\n", n_specs,
         static_cast<unsigned long long>(real), static_cast<unsigned long long>(st.cidr_entries),
         static_cast<unsigned long long>(st.exact_keys));
  printf("events                %llu (%llu per copy x %llu), %.1f MiB\n",
         static_cast<unsigned long long>(ev_a), static_cast<unsigned long long>(per_copy),
         static_cast<unsigned long long>(copies), static_cast<double>(big_bytes) / 1048576.0);
  printf("compile               %.2f s wall, %.2f s CPU\n", compile_s, compile_cpu);
  printf(
      "memory                %.1f bytes/indicator (RSS delta), %.1f (heap delta), %.1f (engine "
      "estimate)\n",
      static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(n_specs),
      static_cast<double>(heap1 - heap0) / static_cast<double>(n_specs),
      static_cast<double>(st.memory_bytes) / static_cast<double>(n_specs));
  printf("(a) read+parse        %.0f events/s per core\n", static_cast<double>(ev_a) / a_s);
  printf("(b) full match        %.0f events/s per core (%.0f%% of floor), %llu matches\n",
         static_cast<double>(ev_b) / b_s,
         100.0 * (static_cast<double>(ev_b) / b_s) / (static_cast<double>(ev_a) / a_s),
         static_cast<unsigned long long>(matches));
  auto show = [&](const char* name, const ToolRun& r) {
    // -c exits 1 when no line matched; >= 2 (124 from timeout, 128+n for a signal) is a failure.
    int code = WIFEXITED(r.rc) ? WEXITSTATUS(r.rc) : 128 + WTERMSIG(r.rc);
    if (code <= 1) {
      printf(
          "(c) %-18s %.0f events/s per core (%.1f s CPU, %.1f s wall, peak RSS %.2f GB); (b) is "
          "%.1fx\n",
          name, static_cast<double>(ev_a) / r.cpu, r.cpu, r.wall,
          static_cast<double>(r.rss_kb) / 1048576.0,
          (static_cast<double>(ev_b) / b_s) / (static_cast<double>(ev_a) / r.cpu));
    } else {
      std::string cap = tool_mem_gb ? std::to_string(tool_mem_gb) + " GB" : "none";
      printf(
          "(c) %-18s FAILED: exit %d%s after %.1f s CPU, %.1f s wall, peak RSS %.2f GB (ulimit -v "
          "%s): %s\n",
          name, code, code == 124 ? " (timeout)" : "", r.cpu, r.wall,
          static_cast<double>(r.rss_kb) / 1048576.0, cap.c_str(), r.err.c_str());
    }
  };
  if (tools && use_rg) show("rg -F -f", rg);
  if (tools && use_grep) show("grep -F -f", gr);

  // ---- OASIS stix2-matcher on the sample, and Accord on the very same sample ----
  if (stix2_dir) {
    const char* pp = getenv("PYTHONPATH");
    std::string cmd =
        common::Cat("PYTHONPATH=", stix2_dir, pp ? ":" : "", pp ? pp : "", " python3 ",
                    MATCH_BENCH_DIR, "/stix2_bench.py ", tmp, ".patterns ", tmp, ".bundle.json ",
                    stix2_seconds, " ", tmp, ".stix2out");
    fflush(stdout);
    int rc = system(cmd.c_str());
    std::ifstream res(tmp + ".stix2out");
    uint64_t py_p = 0, py_e = 0;
    double py_wall = 0, py_cpu = 0;
    std::set<uint32_t> py_matched;
    if (rc != 0 || !(res >> py_p >> py_e >> py_wall >> py_cpu)) {
      printf("stix2-matcher         FAILED (exit %d; command: %s)\n", rc, cmd.c_str());
    } else {
      for (uint32_t idx; res >> idx;) py_matched.insert(idx);
      std::string bundle = *common::ReadFile(tmp + ".bundle.json");
      std::vector<match::Observation> obs;
      absl::Status st_obs = match::ObservationsFromStix(bundle, &obs);
      sample_specs.resize(py_p);
      // Accord: the same work as match() per pattern (compile, then every observation), for
      // the P patterns Python completed, repeated until >= 2 s CPU for a stable figure.
      std::set<uint32_t> ac_matched;
      uint64_t reps = 0;
      double s0 = CpuSelf(), ac_cpu = 0;
      auto sw0 = std::chrono::steady_clock::now();
      std::vector<match::MatchResult> out;
      while (ac_cpu < 2.0) {
        auto e = match::Engine::Build(sample_specs, match::MatchOptions());
        for (size_t j = 0; j < obs.size(); ++j) {
          out.clear();
          (*e)->Process(obs[j], j + 1, &out);
          if (reps == 0) {
            for (const auto& m : out) ac_matched.insert(m.indicator);
          }
        }
        ++reps;
        ac_cpu = CpuSelf() - s0;
      }
      double ac_wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sw0).count();
      double checks = static_cast<double>(py_p) * static_cast<double>(obs.size());
      printf(
          "stix2-matcher sample  %llu patterns x %llu events (%zu observations read back by "
          "Accord%s) = %.0f checks\n",
          static_cast<unsigned long long>(py_p), static_cast<unsigned long long>(py_e), obs.size(),
          st_obs.ok() ? "" : ", READ ERROR", checks);
      printf(
          "  OASIS stix2-matcher %.1f s CPU (%.1f s wall): %.0f checks/s, %zu patterns matched\n",
          py_cpu, py_wall, checks / py_cpu, py_matched.size());
      printf(
          "  Accord              %llu reps in %.2f s CPU (%.2f s wall): %.0f checks/s, %zu "
          "patterns matched%s\n",
          static_cast<unsigned long long>(reps), ac_cpu, ac_wall,
          checks * static_cast<double>(reps) / ac_cpu, ac_matched.size(),
          ac_matched == py_matched ? " (same set)" : " (SETS DIFFER)");
      printf("  ratio               Accord is %.0fx stix2-matcher (CPU)\n",
             (checks * static_cast<double>(reps) / ac_cpu) / (checks / py_cpu));
    }
    for (const char* ext : {".patterns", ".bundle.json", ".stix2out"})
      std::remove((tmp + ext).c_str());
  }
  return 0;
}
