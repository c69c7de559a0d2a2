// Runs `accord` as a child process and reports its exit code, its standard error and its peak
// resident set size (from wait4's rusage), for the hostile-input tests (gzip bombs, long lines,
// hostile TAXII servers): the attack is on a process's memory, so it is measured there.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/test_util.h"

namespace accord::testing {

struct ChildResult {
  int exit_code = -1;        // -1: killed by a signal
  uint64_t peak_rss_mb = 0;  // ru_maxrss of the child
  std::string out, err;
};

/// Starts the accord binary with `args` (standard input from /dev/null) and waits for
/// it. Standard output and error go to files under `tmp` and are read back.
inline ChildResult RunAccord(const std::vector<std::string>& args,
                             const std::filesystem::path& tmp) {
  ChildResult r;
  std::string out_path = (tmp / "child.out").string(), err_path = (tmp / "child.err").string();
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    accord::testing::ExecAccord(args);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.peak_rss_mb = static_cast<uint64_t>(ru.ru_maxrss) / 1024;  // Linux: kilobytes
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

}  // namespace accord::testing
