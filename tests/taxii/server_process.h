// Starts `accord serve --listen 127.0.0.1:0` as a child process and reads the bound port
// from its standard output and, after a first start, the admin key from <data>/admin.key
// (standard output is a pipe, so the key is not printed there). For the TAXII end-to-end tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/paths.h"

namespace accord::testing {

class ServerProcess {
 public:
  /// `extra` are further `accord serve` arguments.
  bool Start(const std::string& data_dir, const std::vector<std::string>& extra = {}) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<std::string> args = {"serve",       "--data",       data_dir, "--listen",
                                       "127.0.0.1:0", "--access-log", ""};
      args.insert(args.end(), extra.begin(), extra.end());
      ExecAccord(std::move(args));
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[4096];
    while (std::fgets(line, sizeof line, out_)) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      lines_.push_back(l);
      if (l.find("first start") != std::string::npos) first_start_ = true;
      size_t p = l.find("listening on ");
      if (p != std::string::npos) {
        size_t colon = l.find(':', l.find("//", p) + 2);
        port_ = std::stoi(l.substr(colon + 1));
        if (first_start_) std::getline(std::ifstream(data_dir + "/admin.key"), admin_key_);
        return true;
      }
    }
    return false;
  }

  /// SIGTERM, then waits; returns the exit status (or -1).
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    if (out_) {
      char line[4096];
      while (std::fgets(line, sizeof line, out_)) lines_.push_back(line);
      std::fclose(out_);
      out_ = nullptr;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  ~ServerProcess() { Stop(); }

  int port() const { return port_; }
  /// The admin key written at first start ("" when this start was not the first).
  const std::string& admin_key() const { return admin_key_; }
  bool first_start() const { return first_start_; }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  bool first_start_ = false;
  std::string admin_key_;
  std::vector<std::string> lines_;
};

}  // namespace accord::testing
