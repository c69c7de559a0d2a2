// Ingest benchmark (issue #2): generate N realistic indicators as JSON lines, import them with
// the real `accord import` (one transaction, validation and pattern checks on), and report
// objects/s and the importer's peak resident memory. Sizes run in one invocation so that
// memory can be compared across input sizes.
//
//   ingest_bench [--sizes 100000,1000000] [--runs 3] [--dir /tmp/accord-ingest]
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

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes = {100000, 1000000};
  int runs = 3;
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
    }
  }
  std::filesystem::create_directories(dir);
  std::printf("ingest_bench: accord import of generated indicators (JSON lines), %d run(s) each\n",
              runs);
  // Wall time is what a user waits; CPU time (both threads: parse+validate, SQLite writer)
  // is steadier on a shared machine. "objects/CPU-s" is per core-second of work.
  std::printf("%12s %12s %10s %12s %10s %14s %10s\n", "objects", "input MiB", "wall s", "objects/s",
              "CPU s", "objects/CPU-s", "peak MiB");
  for (uint64_t n : sizes) {
    auto input = dir / ("indicators-" + std::to_string(n) + ".jsonl");
    if (!std::filesystem::exists(input)) {
      std::ofstream out(input);
      accord::testing::IndicatorGenerator gen(42);
      for (uint64_t i = 0; i < n; ++i) out << gen.Next(i) << '\n';
    }
    double mib = static_cast<double>(std::filesystem::file_size(input)) / (1 << 20);
    std::vector<double> secs, cpu;
    long rss = 0;
    for (int r = 0; r < runs; ++r) {
      auto data = dir / "node";
      std::filesystem::remove_all(data);
      RunStats s =
          RunTimed({ACCORD_BINARY, "import", "--data", data.string(), "-q", input.string()});
      if (s.exit_code != 0) {
        std::fprintf(stderr, "ingest_bench: accord import exited %d\n", s.exit_code);
        return 1;
      }
      secs.push_back(s.seconds);
      cpu.push_back(s.cpu_seconds);
      rss = std::max(rss, s.max_rss_kb);
    }
    double med = Median(secs), med_cpu = Median(cpu);
    std::printf("%12llu %12.1f %10.2f %12.0f %10.2f %14.0f %10.1f\n",
                static_cast<unsigned long long>(n), mib, med, static_cast<double>(n) / med, med_cpu,
                static_cast<double>(n) / med_cpu, static_cast<double>(rss) / 1024);
    std::fflush(stdout);
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
      RunStats s =
          RunTimed({ACCORD_BINARY, "import", "--data", data.string(), "-q", input.string()});
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
