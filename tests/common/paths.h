// Where tests and benchmarks find the accord binary, the source tree and ../shared.
//
// They are read at run time from accord-test-paths.txt, which CMake writes at the top of the
// build tree (CMakeLists.txt), and never compiled in: a path in a compile definition is part of
// every object's compiler-cache key, so each clean checkout (CI clones to a new directory)
// recompiled every test from scratch. The file is found by walking up from the running
// executable; $ACCORD_TEST_PATHS names another one.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace accord::testing {

struct TestPaths {
  std::string binary;  // the accord executable
  std::string source;  // the checkout's root
  std::string shared;  // ../shared: spec, conformance, data
};

inline const TestPaths& Paths() {
  static const TestPaths paths = [] {
    namespace fs = std::filesystem;
    fs::path file;
    if (const char* env = std::getenv("ACCORD_TEST_PATHS")) {
      file = env;
    } else {
      std::error_code ec;
      for (fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path(); !ec && !dir.empty();
           dir = dir.parent_path()) {
        if (fs::exists(dir / "accord-test-paths.txt")) {
          file = dir / "accord-test-paths.txt";
          break;
        }
        if (dir == dir.root_path()) break;
      }
    }
    TestPaths p;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      const size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "binary") p.binary = value;
      if (key == "source") p.source = value;
      if (key == "shared") p.shared = value;
    }
    if (p.binary.empty() || p.source.empty() || p.shared.empty()) {
      std::fprintf(stderr,
                   "test paths: no complete accord-test-paths.txt above the executable (%s); "
                   "run the tests from a CMake build tree, or set ACCORD_TEST_PATHS\n",
                   file.empty() ? "none found" : file.c_str());
      std::abort();
    }
    return p;
  }();
  return paths;
}

/// The accord executable of this build.
inline const char* AccordBinary() { return Paths().binary.c_str(); }
/// In a forked child: replaces the process with `accord ARGS...`; exits 127 if that fails.
[[noreturn]] inline void ExecAccord(std::vector<std::string> args) {
  args.insert(args.begin(), AccordBinary());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(AccordBinary(), argv.data());
  _exit(127);
}
/// The source checkout's root.
inline std::filesystem::path SourceDir() { return Paths().source; }
/// ../shared beside the checkout (ACCORD_SHARED_DIR at configure time).
inline std::filesystem::path SharedDir() { return Paths().shared; }

}  // namespace accord::testing
