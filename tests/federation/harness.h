// A multi-node federation harness (issue 12, acceptance): real `accord serve` processes on
// loopback ports, each with its own data directory, peers and agreements, driven through the
// `accord` command line as an operator would.
//
// The expected outcome is computed here, independently of Accord: Expected() applies the
// agreements' rules (tests/federation/README: TLP 2.0 as the issue states them) to the
// objects each node originated, hop by hop, until nothing changes.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"

namespace accord::testing {

// TLP 2.0 marking-definition ids (STIX21-objects.md §7.2), and "" for no marking.
enum class Tlp { kClear = 0, kGreen = 1, kAmber = 2, kAmberStrict = 3, kRed = 4, kNone = 5 };
inline std::string MarkingId(Tlp t) {
  switch (t) {
    case Tlp::kClear: return "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
    case Tlp::kGreen: return "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    case Tlp::kAmber: return "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    case Tlp::kAmberStrict: return "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
    case Tlp::kRed: return "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    case Tlp::kNone: return "";
  }
  return "";
}
inline const char* TlpText(Tlp t) {
  const char* names[] = {"clear", "green", "amber", "amber+strict", "red", "none"};
  return names[static_cast<int>(t)];
}

/// A free loopback port (bound, then released: the node binds it right after).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

/// One call of the web UI's API (docs/UI_API.md) with curl, as a person with an API key (a
/// browser's session reads the same): the status and the body parsed (discarded when not JSON).
/// `base` is the node's address without "/api/".
inline std::pair<int, nlohmann::json> UiCall(const std::string& base, const std::string& key,
                                             const std::string& method, const std::string& path,
                                             const std::filesystem::path& tmp,
                                             const std::string& body = "") {
  const std::filesystem::path out = tmp / "ui-body.json";
  RunResult r = RunCmd("curl -s -o " + ShellQuote(out.string()) + " -w '%{http_code}' -X " +
                           method + " -H " + ShellQuote("Authorization: Bearer " + key) +
                           (body.empty() ? std::string()
                                         : " -H 'Content-Type: application/json' --data-binary " +
                                               ShellQuote(body)) +
                           " " + ShellQuote(base + path),
                       tmp);
  return {std::atoi(r.out.c_str()), nlohmann::json::parse(Slurp(out), nullptr, false)};
}

class Node {
 public:
  Node(std::string name, std::filesystem::path dir) : name_(std::move(name)), dir_(std::move(dir)) {
    port_ = FreePort();
  }
  ~Node() { Kill(SIGKILL); }

  const std::string& name() const { return name_; }
  std::string data() const { return (dir_ / "data").string(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/"; }
  const std::string& identity() const { return identity_; }
  const std::string& public_key() const { return public_key_; }
  bool running() const { return pid_ > 0; }

  RunResult Run(const std::string& args) const {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data()), dir_);
  }
  RunResult MustRun(const std::string& args) const {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << name_ << ": accord " << args << "\n" << r.out << r.err;
    return r;
  }

  /// `accord node init`, and [federation] settings for quick tests.
  void Init(int sync_interval_s, int page_size) {
    std::filesystem::create_directories(dir_);
    nlohmann::json j = nlohmann::json::parse(MustRun("node init --name " + name_ + " --json").out);
    identity_ = j["identity"];
    public_key_ = j["public_key"];
    std::ofstream(std::filesystem::path(data()) / "accord.toml")
        << "[federation]\nsync_interval = " << sync_interval_s << "\npage_size = " << page_size
        << "\nrequest_timeout = 5\nretry_base_ms = 100\nretry_max_s = 2\n";
  }

  /// Starts `accord serve` on the node's port; waits until it listens.
  bool Start() {
    pid_ = fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test that died
      std::string log = (dir_ / "serve.log").string();
      FILE* f = std::fopen(log.c_str(), "a");
      if (f) {
        dup2(fileno(f), 1);
        dup2(fileno(f), 2);
      }
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      accord::testing::ExecAccord(
          {"serve", "--data", data(), "--listen", listen, "--access-log", ""});
    }
    // Ready when the port accepts connections (the process logs to a file).
    for (int i = 0; i < 600; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port_));
      bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (ok) return true;
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
      int st = 0;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }

  /// The (id, modified) of every stored version of type `type`.
  std::set<std::pair<std::string, std::string>> Versions(const std::string& type) const {
    std::set<std::pair<std::string, std::string>> out;
    for (const nlohmann::json& o : Objects(type)) {
      out.insert({o["id"].get<std::string>(), o["modified"].get<std::string>()});
    }
    return out;
  }
  std::vector<nlohmann::json> Objects(const std::string& type,
                                      const std::string& collection = "") const {
    RunResult r = Run("list --versions all --json --type " + type +
                      (collection.empty() ? "" : " --collection " + collection));
    std::vector<nlohmann::json> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

 private:
  std::string name_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string identity_, public_key_;
};

/// One direction of a peering: `to` pulls from `from` what `from` shares.
struct Link {
  std::string from, to;
  bool same_organization = false;
  Tlp max_tlp = Tlp::kAmber;
  bool forward = false;
  std::vector<std::string> collections;  // `from`'s collections shared with (and pulled by) `to`
};

/// Sets up every link: users and keys at the sharing node, peers at both ends, one
/// agreement per (node, peer) holding what it shares and what it accepts.
inline void Peer(std::map<std::string, std::unique_ptr<Node>>& nodes,
                 const std::vector<Link>& links) {
  std::map<std::pair<std::string, std::string>, std::string> key;  // (from, to): API key
  for (const Link& l : links) {
    Node& from = *nodes[l.from];
    from.MustRun("user add " + l.to + " --role peer");
    RunResult k = from.MustRun("key create " + l.to);
    std::string line = k.out.substr(0, k.out.find('\n'));
    key[{l.from, l.to}] = line;
  }
  // Peers: every pair that appears in a link, in both directions.
  std::set<std::pair<std::string, std::string>> pairs;
  for (const Link& l : links) {
    pairs.insert({l.from, l.to});
    pairs.insert({l.to, l.from});
  }
  for (const auto& [a, b] : pairs) {
    Node& at = *nodes[a];
    Node& other = *nodes[b];
    auto k = key.find({b, a});  // the key `a` presents at `b`
    std::string api_key = k == key.end() ? "none-issued" : k->second;
    at.MustRun("peer add " + b + " --url " + other.url() + " --identity " + other.identity() +
               " --public-key " + other.public_key() + " --key " + ShellQuote(api_key));
  }
  auto list = [](const std::vector<std::string>& v) {  // a TOML array of strings
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
    return s + "]";
  };
  for (const auto& [a, b] : pairs) {
    std::string toml;
    for (const Link& l : links) {
      if (l.from == a && l.to == b) {
        toml += "same_organization = " + std::string(l.same_organization ? "true" : "false") +
                "\n[share]\ncollections = " + list(l.collections) + "\nmax_tlp = \"" +
                TlpText(l.max_tlp) + "\"\nforward = " + (l.forward ? "true" : "false") + "\n";
      }
    }
    for (const Link& l : links) {
      if (l.from == b && l.to == a) {
        toml += "[accept]\nfrom = " + list(l.collections) + "\ninto = \"from-" + b + "\"\n";
      }
    }
    std::filesystem::path f =
        std::filesystem::path(nodes[a]->data()).parent_path() / ("agreement-" + b + ".toml");
    std::ofstream(f) << toml;
    nodes[a]->MustRun("agreement set " + b + " " + ShellQuote(f.string()));
  }
}

/// A test object: an indicator originated at `origin` in its collection `collection`.
struct TestObject {
  std::string id, modified, origin, collection;
  Tlp tlp = Tlp::kNone;
};

/// Where each object must end up: (node -> set of (id, modified)), by the rules of the issue:
/// RED never leaves its node; AMBER+STRICT only directly, to the same organisation; AMBER only
/// directly (never forwarded) and within max_tlp; GREEN and CLEAR forwarded only where
/// `forward`; no object with no marking is above `default_tlp` = AMBER; no peer gets an object
/// it originated or gave. A node that receives an object from `from` keeps it in
/// "from-<from>".
inline std::map<std::string, std::set<std::pair<std::string, std::string>>> Expected(
    const std::vector<std::string>& node_names, const std::vector<Link>& links,
    const std::vector<TestObject>& objects) {
  // (node, collection) -> objects (by index), and (node, object) -> who gave it.
  std::map<std::pair<std::string, std::string>, std::set<size_t>> held;
  std::map<std::pair<std::string, size_t>, std::set<std::string>> given_by;
  for (size_t i = 0; i < objects.size(); ++i) {
    held[{objects[i].origin, objects[i].collection}].insert(i);
  }
  auto has = [&](const std::string& node, size_t i) {
    for (const auto& [k, v] : held) {
      if (k.first == node && v.count(i)) return true;
    }
    return false;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (const Link& l : links) {
      for (const std::string& c : l.collections) {
        auto it = held.find({l.from, c});
        if (it == held.end()) continue;
        for (size_t i : std::set<size_t>(it->second)) {
          const TestObject& o = objects[i];
          Tlp t = o.tlp == Tlp::kNone ? Tlp::kAmber : o.tlp;
          const bool forwarded = o.origin != l.from;
          bool ok = static_cast<int>(t) <= static_cast<int>(l.max_tlp);
          if (t == Tlp::kRed) ok = false;
          if (t == Tlp::kAmberStrict) ok = ok && l.same_organization && !forwarded;
          if (t == Tlp::kAmber) ok = ok && !forwarded;
          if (t == Tlp::kGreen || t == Tlp::kClear) ok = ok && (!forwarded || l.forward);
          if (o.origin == l.to) ok = false;
          if (given_by[{l.from, i}].count(l.to)) ok = false;
          if (!ok) continue;
          auto& dest = held[{l.to, "from-" + l.from}];
          if (dest.insert(i).second) {
            given_by[{l.to, i}].insert(l.from);
            changed = true;
          }
        }
      }
    }
  }
  std::map<std::string, std::set<std::pair<std::string, std::string>>> out;
  for (const std::string& n : node_names) {
    out[n];
    for (size_t i = 0; i < objects.size(); ++i) {
      if (has(n, i)) out[n].insert({objects[i].id, objects[i].modified});
    }
  }
  return out;
}

}  // namespace accord::testing
