// Helpers for cross-layer tests: temp dirs, running the accord binary, extracting shared data.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/paths.h"

namespace accord::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a shell command, capturing stdout and stderr.
inline RunResult RunCmd(const std::string& cmd, const std::filesystem::path& tmp) {
  auto out = tmp / "run.out";
  auto err = tmp / "run.err";
  std::string full = cmd + " >" + ShellQuote(out.string()) + " 2>" + ShellQuote(err.string());
  const auto t0 = std::chrono::steady_clock::now();
  int rc = std::system(full.c_str());
  // ACCORD_TEST_RUNLOG=FILE: every command and its wall time, appended (to find slow tests).
  if (const char* log = std::getenv("ACCORD_TEST_RUNLOG")) {
    std::ofstream(log, std::ios::app)
        << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << "\t"
        << cmd << "\n";
  }
  RunResult r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

/// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("accord-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

/// True when running in CI: the environment has CI=true (or CI=1), as GitHub Actions, GitLab
/// and .ci/run set it. In CI every test must run, so missing shared data is a failure.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && (std::strcmp(ci, "true") == 0 || std::strcmp(ci, "1") == 0);
}

}  // namespace accord::testing

/// Requires the shared read-only data at `where` (a std::filesystem::path or string, usually
/// under accord::testing::SharedDir()). When it is missing, the current test is skipped
/// locally (GTEST_SKIP: scripts/test.sh reports it as skipped, never as passed) and FAILS
/// under CI=true. Use it at the top of a TEST body or a fixture's SetUp(); like GTEST_SKIP and
/// FAIL it returns from the enclosing void function.
#define ACCORD_REQUIRE_SHARED(where)                                                     \
  do {                                                                                   \
    const ::std::filesystem::path accord_required_shared_(where);                        \
    if (!::std::filesystem::exists(accord_required_shared_)) {                           \
      if (::accord::testing::InCi()) {                                                   \
        FAIL() << "shared data missing: " << accord_required_shared_                     \
               << " (CI=true: tests that need ../shared must run; see scripts/test.sh)"; \
      } else {                                                                           \
        GTEST_SKIP() << "shared data missing: " << accord_required_shared_               \
                     << " (skipped here; under CI=true this fails)";                     \
      }                                                                                  \
    }                                                                                    \
  } while (0)

namespace accord::testing {

/// Extracts a tar.gz from shared/ into `dest`; returns false when it is absent.
inline bool ExtractShared(const std::string& rel, const std::filesystem::path& dest) {
  auto src = SharedDir() / rel;
  if (!std::filesystem::exists(src)) return false;
  std::filesystem::create_directories(dest);
  std::string cmd = "tar -xzf " + ShellQuote(src.string()) + " -C " + ShellQuote(dest.string());
  return std::system(cmd.c_str()) == 0;
}

/// The accord binary of this build, quoted for a shell command.
inline std::string Accord() { return ShellQuote(AccordBinary()); }

}  // namespace accord::testing
