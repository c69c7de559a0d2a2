// Ingest benchmark (issues 2 and 11): generate N realistic indicators as JSON lines, import them
// with the real `accord import` (one transaction, validation and pattern checks on), and report
// objects/s and the importer's peak resident memory. Sizes run in one invocation so that
// memory can be compared across input sizes.
//
//   ingest_bench [--sizes 100000,1000000] [--runs 3] [--dir /tmp/accord-ingest]
//                [--big-bundle-gib 2] [--baseline /path/to/older/accord]
//
// Each size is imported as JSON lines and as one bundle of the same objects (issue 11), runs
// alternating, and the bundle/lines throughput ratio is printed. --big-bundle-gib also imports
// one bundle of that size once, for its peak RSS. --baseline BIN imports every input with BIN
// too, alternating with the build under test in the same rounds, and prints BIN's rows and
// the ratio of the two (this machine's speed drifts by 20% within an hour: only a comparison
// made in one run means anything).
//
// Where STIX2_PY_DIR points to a checkout of OASIS's cti-python-stix2, the same objects (a
// sample) go through its parse+validate (`stix2.parse(..., allow_custom=True)`) in the same
// run, and the ratio is printed.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/gen_indicators.h"
#include "common/paths.h"

namespace {

struct RunStats {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system, all threads of the importer
  long max_rss_kb = 0;
  int exit_code = 0;
};

RunStats RunTimed(const std::vector<std::string>& argv) {
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execv(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  RunStats r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

// The same objects as one STIX bundle: the lines joined by ",\n" inside "objects".
void WriteBundle(const std::filesystem::path& lines, const std::filesystem::path& bundle) {
  std::ifstream in(lines);
  std::ofstream out(bundle);
  out << "{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n"
         "\"objects\": [\n";
  bool first = true;
  for (std::string line; std::getline(in, line);) {
    if (!first) out << ",\n";
    out << line;
    first = false;
  }
  out << "\n]}\n";
}

struct Row {
  double seconds = 0, cpu = 0;
  long rss_kb = 0;
};

// One import: which `accord` binary, which input.
struct Job {
  std::string binary;
  std::filesystem::path input;
};

// `runs` rounds of the jobs, in order, each into a fresh data directory; medians per job.
bool ImportRuns(const std::vector<Job>& jobs, const std::filesystem::path& dir, int runs,
                std::vector<Row>* rows) {
  std::vector<std::vector<double>> secs(jobs.size()), cpu(jobs.size());
  rows->assign(jobs.size(), Row{});
  for (int r = 0; r < runs; ++r) {
    for (size_t k = 0; k < jobs.size(); ++k) {
      auto data = dir / "node";
      std::filesystem::remove_all(data);
      RunStats s = RunTimed(
          {jobs[k].binary, "import", "--data", data.string(), "-q", jobs[k].input.string()});
      if (s.exit_code != 0) {
        std::fprintf(stderr, "ingest_bench: %s import %s exited %d\n", jobs[k].binary.c_str(),
                     jobs[k].input.c_str(), s.exit_code);
        return false;
      }
      secs[k].push_back(s.seconds);
      cpu[k].push_back(s.cpu_seconds);
      (*rows)[k].rss_kb = std::max((*rows)[k].rss_kb, s.max_rss_kb);
    }
  }
  for (size_t k = 0; k < jobs.size(); ++k) {
    (*rows)[k].seconds = Median(secs[k]);
    (*rows)[k].cpu = Median(cpu[k]);
  }
  std::filesystem::remove_all(dir / "node");
  return true;
}

void PrintRow(const char* form, uint64_t n, const std::filesystem::path& input, const Row& row) {
  double mib = static_cast<double>(std::filesystem::file_size(input)) / (1 << 20);
  std::printf("%8s %12llu %12.1f %10.2f %12.0f %10.2f %14.0f %10.1f\n", form,
              static_cast<unsigned long long>(n), mib, row.seconds,
              static_cast<double>(n) / row.seconds, row.cpu, static_cast<double>(n) / row.cpu,
              static_cast<double>(row.rss_kb) / 1024);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes = {100000, 1000000};
  int runs = 3;
  double big_gib = 0;    // > 0: also import one bundle of about this many GiB, once
  std::string baseline;  // another accord binary, run alternately with this build
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "accord-ingest-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--sizes") {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::stoull(x));
    } else if (k == "--runs") {
      runs = std::stoi(v);
    } else if (k == "--dir") {
      dir = v;
    } else if (k == "--big-bundle-gib") {
      big_gib = std::stod(v);
    } else if (k == "--baseline") {
      baseline = std::filesystem::absolute(v).string();
    }
  }
  const std::string accord = accord::testing::AccordBinary();
  std::filesystem::create_directories(dir);
  std::printf(
      "ingest_bench: accord import of generated indicators, as JSON lines and as one bundle of "
      "the same objects, %d alternating run(s) each%s%s\n",
      runs, baseline.empty() ? "" : "; baseline: ", baseline.c_str());
  // Wall time is what a user waits; CPU time (both threads: parse+validate, SQLite writer)
  // is steadier on a shared machine. "objects/CPU-s" is per core-second of work.
  std::printf("%8s %12s %12s %10s %12s %10s %14s %10s\n", "form", "objects", "input MiB", "wall s",
              "objects/s", "CPU s", "objects/CPU-s", "peak MiB");
  for (uint64_t n : sizes) {
    auto lines = dir / ("indicators-" + std::to_string(n) + ".jsonl");
    auto bundle = dir / ("indicators-" + std::to_string(n) + ".bundle.json");
    if (!std::filesystem::exists(lines)) {
      std::ofstream out(lines);
      accord::testing::IndicatorGenerator gen(42);
      for (uint64_t i = 0; i < n; ++i) out << gen.Next(i) << '\n';
    }
    if (!std::filesystem::exists(bundle)) WriteBundle(lines, bundle);
    std::vector<Job> jobs = {{accord, lines}, {accord, bundle}};
    if (!baseline.empty()) {
      jobs = {{accord, lines}, {baseline, lines}, {accord, bundle}, {baseline, bundle}};
    }
    std::vector<Row> rows;
    if (!ImportRuns(jobs, dir, runs, &rows)) return 1;
    const Row& l = rows[0];
    const Row& b = baseline.empty() ? rows[1] : rows[2];
    PrintRow("lines", n, lines, l);
    PrintRow("bundle", n, bundle, b);
    std::printf("%8s %12llu  bundle/lines throughput %.2f (wall), %.2f (CPU)\n", "ratio",
                static_cast<unsigned long long>(n), l.seconds / b.seconds, l.cpu / b.cpu);
    if (!baseline.empty()) {
      PrintRow("base-l", n, lines, rows[1]);
      PrintRow("base-b", n, bundle, rows[3]);
      std::printf(
          "%8s %12llu  this build / baseline throughput: lines %.2f, bundle %.2f (wall); "
          "lines %.2f, bundle %.2f (CPU)\n",
          "vs base", static_cast<unsigned long long>(n), rows[1].seconds / l.seconds,
          rows[3].seconds / b.seconds, rows[1].cpu / l.cpu, rows[3].cpu / b.cpu);
    }
  }
  if (big_gib > 0) {
    // Indicators until the bundle passes big_gib GiB (generated straight into the bundle).
    const uint64_t target = static_cast<uint64_t>(big_gib * (1ull << 30));
    auto bundle = dir / ("big-" + std::to_string(target) + ".bundle.json");
    uint64_t n = 0;
    auto count = dir / ("big-" + std::to_string(target) + ".count");
    if (!std::filesystem::exists(bundle) || !std::filesystem::exists(count)) {
      std::ofstream out(bundle);
      out << "{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n"
             "\"objects\": [\n";
      accord::testing::IndicatorGenerator gen(7);
      for (uint64_t written = 0; written < target; ++n) {
        std::string o = gen.Next(n);
        if (n > 0) out << ",\n";
        out << o;
        written += o.size() + 2;
      }
      out << "\n]}\n";
      std::ofstream(count) << n;
    } else {
      std::ifstream(count) >> n;
    }
    std::vector<Row> rows;
    if (!ImportRuns({{accord, bundle}}, dir, 1, &rows)) return 1;
    PrintRow("big", n, bundle, rows[0]);
  }
  if (const char* py = std::getenv("STIX2_PY_DIR"); py && *py) {
    uint64_t sample = 20000;
    auto input = dir / "indicators-sample.jsonl";
    {
      std::ofstream out(input);
      accord::testing::IndicatorGenerator gen(42);
      for (uint64_t i = 0; i < sample; ++i) out << gen.Next(i) << '\n';
    }
    std::string script = std::string(
        "import sys,time,json\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import stix2\n"
        "lines=open(sys.argv[2]).read().splitlines()\n"
        "t=time.perf_counter()\n"
        "for l in lines: stix2.parse(l, allow_custom=True)\n"
        "print(len(lines)/(time.perf_counter()-t))\n");
    auto sp = dir / "stix2_parse.py";
    std::ofstream(sp) << script;
    std::string cmd = "python3 " + sp.string() + " " + py + " " + input.string();
    FILE* p = popen(cmd.c_str(), "r");
    double py_rate = 0;
    if (p && std::fscanf(p, "%lf", &py_rate) == 1 && py_rate > 0) {
      auto data = dir / "node";
      std::filesystem::remove_all(data);
      RunStats s = RunTimed({accord, "import", "--data", data.string(), "-q", input.string()});
      double ours = static_cast<double>(sample) / s.seconds;
      std::printf(
          "python stix2 parse+validate: %.0f objects/s; accord import (incl. store) %.0f "
          "objects/s on the same %llu objects: ratio %.1fx\n",
          py_rate, ours, static_cast<unsigned long long>(sample), ours / py_rate);
    } else {
      std::printf("python stix2: could not run (see STIX2_PY_DIR and its dependencies)\n");
    }
    if (p) pclose(p);
  } else {
    std::printf("python stix2: not run (set STIX2_PY_DIR to a cti-python-stix2 checkout)\n");
  }
  return 0;
}
