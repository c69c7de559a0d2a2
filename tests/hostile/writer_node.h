// A node with hostile writers, for the issue-10 writer tests (collision_read, first_writer,
// cross_collection_revocation): a real `accord serve` process, users with keys and grants made
// with the CLI, and curl for TAXII requests.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {

struct WriterReply {
  int status = 0;
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class WriterNode {
 public:
  explicit WriterNode(const std::string& tag) : dir_(tag), data_((dir_.path() / "data").string()) {}

  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::string& data() const { return data_; }

  /// Starts the server (creates the node and its admin key at first start).
  bool Start() {
    if (!server_.Start(data_)) return false;
    keys_["admin"] = server_.admin_key();
    return !keys_["admin"].empty();
  }
  void Stop() { server_.Stop(); }

  /// Runs `accord <args> --data <node>`.
  RunResult Cli(const std::string& args) const {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), dir_.path());
  }

  /// A user with role `user` and an API key.
  void AddUser(const std::string& name) {
    auto u = Cli("user add " + name + " --role user");
    ASSERT_EQ(u.exit_code, 0) << u.err;
    auto k = Cli("key create " + name);
    ASSERT_EQ(k.exit_code, 0) << k.err;
    keys_[name] = k.out.substr(0, k.out.find('\n'));
  }

  /// Creates a collection; returns its id.
  std::string AddCollection(const std::string& alias) {
    auto r = Cli("collection create " + alias);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  void Grant(const std::string& collection, const std::string& user, const std::string& flags) {
    auto r = Cli("collection grant " + collection + " " + user + " " + flags);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  /// GET `path` under the API root as `user`.
  WriterReply Get(const std::string& path, const std::string& user) const {
    return Curl("-H " + ShellQuote("Authorization: Bearer " + keys_.at(user)) + " " +
                ShellQuote(Url(path)));
  }

  /// POSTs a TAXII envelope holding `objects_json` (a JSON array text) as `user`.
  WriterReply Post(const std::string& path, const std::string& objects_json,
                   const std::string& user) const {
    auto f = dir_.path() / "post.json";
    std::ofstream(f) << "{\"objects\":" << objects_json << "}";
    return Curl("-X POST -H " + ShellQuote("Authorization: Bearer " + keys_.at(user)) + " -H " +
                ShellQuote("Content-Type: application/taxii+json;version=2.1") +
                " --data-binary @" + ShellQuote(f.string()) + " " + ShellQuote(Url(path)));
  }

  static std::string Objects(const std::string& collection_id) {
    return "/api/collections/" + collection_id + "/objects/";
  }

 private:
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  WriterReply Curl(const std::string& args) const {
    auto body = dir_.path() / "reply.txt";
    auto r = RunCmd("curl -s -g -o " + ShellQuote(body.string()) + " -w '%{http_code}' -H " +
                        ShellQuote("Accept: application/taxii+json;version=2.1") + " " + args,
                    dir_.path());
    WriterReply out;
    out.status = r.out.empty() ? 0 : std::stoi(r.out);
    out.body = Slurp(body);
    return out;
  }

  TempDir dir_;
  std::string data_;
  ServerProcess server_;
  std::map<std::string, std::string> keys_;
};

}  // namespace accord::testing
