// Helpers for cross-layer tests: temp dirs, running the accord binary, extracting shared data.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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
  int rc = std::system(full.c_str());
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

inline std::filesystem::path SharedDir() { return ACCORD_SHARED_DIR; }

/// Extracts a tar.gz from shared/ into `dest`; returns false when it is absent.
inline bool ExtractShared(const std::string& rel, const std::filesystem::path& dest) {
  auto src = SharedDir() / rel;
  if (!std::filesystem::exists(src)) return false;
  std::filesystem::create_directories(dest);
  std::string cmd = "tar -xzf " + ShellQuote(src.string()) + " -C " + ShellQuote(dest.string());
  return std::system(cmd.c_str()) == 0;
}

inline std::string Accord() { return ShellQuote(ACCORD_BINARY); }

}  // namespace accord::testing
