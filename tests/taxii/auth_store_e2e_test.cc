// Auth and statuses in the store, with real processes (issue 9, points 4 and 5):
// - a key revoked by `accord key revoke` (another process) is refused by a running server
//   within 1 s;
// - a status resource survives a server restart;
// - the first-start admin key goes to <data>/admin.key (0600), not to a pipe;
// - the data directory and every file in it are owner-only, whichever command runs first;
// - a node upgraded from the separate auth.db keeps its users and working keys.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/http_client.h"
#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Cli(const std::string& args, const std::filesystem::path& data,
                const std::filesystem::path& tmp, RunResult* out = nullptr) {
  RunResult r = RunCmd(Accord() + " " + args + " --data " + ShellQuote(data.string()), tmp);
  EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
  if (out) *out = r;
  return r.out.substr(0, r.out.find('\n'));
}

// The permission bits in octal ("0600"), or "absent".
std::string Mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "absent";
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", st.st_mode & 07777);
  return buf;
}

TEST(AuthStoreE2E, KeyRevokedFromTheCliIsRefusedWithinOneSecond) {
  TempDir dir("revoke");
  auto data = dir.path() / "data";
  ServerProcess server;
  ASSERT_TRUE(server.Start(data.string()));
  Cli("user add alice --role reader", data, dir.path());
  std::string key = Cli("key create alice", data, dir.path());
  ASSERT_NE(key.find('.'), std::string::npos) << key;
  // Accepted, and now in the server's verification cache.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Http(server.port(), "GET", "/taxii2/", key).status, 200);
  }
  Cli("key revoke " + key.substr(0, key.find('.')), data, dir.path());
  const auto revoked = Clock::now();
  // Poll every 10 ms; give up (and fail) after 2,000 tries rather than hang.
  int status = 0;
  auto refused = revoked;
  for (int i = 0; i < 2000; ++i) {
    status = Http(server.port(), "GET", "/taxii2/", key).status;
    refused = Clock::now();
    if (status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(status, 401) << "the revoked key is still accepted";
  auto late = std::chrono::duration_cast<std::chrono::milliseconds>(refused - revoked);
  EXPECT_LT(late.count(), 1000) << "refused " << late.count() << " ms after the revoke returned";
  // The admin's key is unaffected.
  EXPECT_EQ(Http(server.port(), "GET", "/taxii2/", server.admin_key()).status, 200);
}

TEST(AuthStoreE2E, StatusResourceSurvivesARestart) {
  TempDir dir("status-restart");
  auto data = dir.path() / "data";
  ServerProcess first;
  ASSERT_TRUE(first.Start(data.string()));
  const std::string admin = first.admin_key();
  ASSERT_FALSE(admin.empty());
  // Two valid indicators and one modified before it was created (STIX 2.1 §3.2: `modified`
  // MUST be later than or equal to `created`).
  const std::string bad_id = "indicator--6b5e7a3c-0000-4000-8000-00000000000b";
  auto indicator = [](const std::string& id, const std::string& created) {
    return R"({"type":"indicator","spec_version":"2.1","id":")" + id + R"(","created":")" +
           created + R"(","modified":"2024-01-01T00:00:00.000Z",)" +
           R"("pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix",)" +
           R"("valid_from":"2024-01-01T00:00:00Z"})";
  };
  const std::string ok_created = "2024-01-01T00:00:00.000Z";
  std::string envelope =
      "{\"objects\":[" + indicator("indicator--6b5e7a3c-0000-4000-8000-000000000001", ok_created) +
      "," + indicator(bad_id, "2024-06-01T00:00:00.000Z") + "," +
      indicator("indicator--6b5e7a3c-0000-4000-8000-000000000002", ok_created) + "]}";
  HttpReply post = Http(first.port(), "POST", "/api/collections/default/objects/", admin, envelope);
  ASSERT_EQ(post.status, 202) << post.body;
  std::string id = json::parse(post.body)["id"];
  EXPECT_EQ(first.Stop(), 0);

  ServerProcess second;
  ASSERT_TRUE(second.Start(data.string()));
  EXPECT_FALSE(second.first_start());
  HttpReply got = Http(second.port(), "GET", "/api/status/" + id + "/", admin);
  ASSERT_EQ(got.status, 200) << got.body;
  json st = json::parse(got.body);
  EXPECT_EQ(st["id"], id);
  EXPECT_EQ(st["status"], "complete");
  EXPECT_EQ(st["total_count"], 3);
  EXPECT_EQ(st["success_count"], 2);
  EXPECT_EQ(st["failure_count"], 1);
  EXPECT_EQ(st["pending_count"], 0);
  EXPECT_FALSE(st.contains("successes"));  // counts are kept, success ids are not
  ASSERT_EQ(st["failures"].size(), 1u);
  EXPECT_EQ(st["failures"][0]["id"], bad_id);
  EXPECT_EQ(st["failures"][0]["version"], "2024-01-01T00:00:00.000Z");
  EXPECT_NE(st["failures"][0]["message"].get<std::string>().find("modified"), std::string::npos)
      << st["failures"][0]["message"];
}

TEST(AuthStoreE2E, FirstStartAdminKeyGoesToAnOwnerOnlyFileNotToAPipe) {
  TempDir dir("admin-key");
  auto data = dir.path() / "data";
  ServerProcess server;  // its standard output is a pipe
  ASSERT_TRUE(server.Start(data.string()));
  const auto key_file = data / "admin.key";
  ASSERT_TRUE(std::filesystem::exists(key_file));
  EXPECT_EQ(Mode(key_file), "0600");
  std::string key = server.admin_key();  // read from the file
  ASSERT_NE(key.find('.'), std::string::npos) << key;
  EXPECT_EQ(Http(server.port(), "GET", "/taxii2/", key).status, 200);
  EXPECT_EQ(server.Stop(), 0);
  bool path_printed = false;
  for (const auto& line : server.lines()) {
    EXPECT_EQ(line.find(key.substr(key.find('.') + 1)), std::string::npos)
        << "the key's secret reached standard output: " << line;
    EXPECT_EQ(line.find(key.substr(0, key.find('.'))), std::string::npos)
        << "the key reached standard output: " << line;
    if (line.find(key_file.string()) != std::string::npos) path_printed = true;
  }
  EXPECT_TRUE(path_printed) << "the key file's path is not printed";
}

// Every file under `dir` 0600 and every directory 0700 (`dir` included).
void ExpectOwnerOnly(const std::filesystem::path& dir, const std::string& first_command) {
  EXPECT_EQ(Mode(dir), "0700") << first_command << ": " << dir;
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_directory()) {
      EXPECT_EQ(Mode(e.path()), "0700") << first_command << ": " << e.path();
    } else {
      ++files;
      EXPECT_EQ(Mode(e.path()), "0600") << first_command << ": " << e.path();
    }
  }
  EXPECT_GT(files, 0u) << first_command << " created no file";
}

TEST(AuthStoreE2E, DataDirAndEveryFileAreOwnerOnlyWhicheverCommandRunsFirst) {
  TempDir dir("perms");
  const std::string sample =
      ShellQuote((accord::testing::SourceDir() / "samples/sample-intel.json").string());
  const std::vector<std::string> first_commands = {
      "init",      "import " + sample, "user add alice --role user", "collection create c",
      "user list", "key list"};
  int n = 0;
  for (const auto& cmd : first_commands) {
    auto data = dir.path() / ("d" + std::to_string(n++));
    // A permissive umask, as a login shell has: the modes must not depend on it.
    auto r = RunCmd("umask 022; " + Accord() + " " + cmd + " --data " + ShellQuote(data.string()),
                    dir.path());
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    ExpectOwnerOnly(data, cmd);
  }
  // `accord serve` first: checked while it runs (the -wal and -shm files exist then) and after.
  auto data = dir.path() / "serve";
  mode_t old_mask = ::umask(022);
  ServerProcess server;
  bool started = server.Start(data.string());
  ::umask(old_mask);
  ASSERT_TRUE(started);
  ASSERT_TRUE(std::filesystem::exists(data / "accord.db-wal"));
  ExpectOwnerOnly(data, "serve (running)");
  EXPECT_EQ(Http(server.port(), "GET", "/taxii2/", server.admin_key()).status, 200);
  EXPECT_EQ(server.Stop(), 0);
  ExpectOwnerOnly(data, "serve (stopped)");
}

// The schema of <data>/auth.db before users moved into accord.db (src/http/auth_db.cc at
// commit 2e55718, kSchema), written out by hand.
constexpr const char* kOldAuthDbSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), hash TEXT NOT NULL,
  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS grants(
  user TEXT NOT NULL, collection TEXT NOT NULL, can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL, PRIMARY KEY(user, collection));
)sql";

TEST(AuthStoreE2E, UpgradedNodeKeepsItsUsersAndWorkingKeys) {
  ASSERT_GE(sodium_init(), 0);
  TempDir dir("upgrade");
  auto data = dir.path() / "data";
  Cli("init", data, dir.path());
  // The old node's auth.db: admin with a key whose secret we know, hashed as the old code did
  // (crypto_pwhash_str, opslimit 2, memlimit 19 MiB), and a revoked key.
  const std::string secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ";
  char hash[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str(hash, secret.data(), secret.size(), 2, 19u << 20), 0);
  std::string sql = std::string(kOldAuthDbSchema) +
                    "INSERT INTO users VALUES('admin', 'admin', 1700000000000000);"
                    "INSERT INTO api_keys VALUES('00112233aabbccdd', 'admin', '" +
                    hash +
                    "', 1700000000000001, 0, 'first start');"
                    "INSERT INTO api_keys VALUES('0011223344556677', 'admin', '" +
                    hash + "', 1700000000000002, 1, 'revoked');";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data / "auth.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  ServerProcess server;
  ASSERT_TRUE(server.Start(data.string()));
  EXPECT_FALSE(server.first_start()) << "the migrated admin was not found";
  EXPECT_EQ(Http(server.port(), "GET", "/taxii2/", "00112233aabbccdd." + secret).status, 200);
  EXPECT_EQ(Http(server.port(), "GET", "/taxii2/", "0011223344556677." + secret).status, 401);
  EXPECT_FALSE(std::filesystem::exists(data / "auth.db"));
  EXPECT_EQ(Mode(data / "auth.db.migrated"), "0600");
  RunResult keys;
  Cli("key list --json", data, dir.path(), &keys);
  EXPECT_NE(keys.out.find(R"("key_id":"00112233aabbccdd","user":"admin")"), std::string::npos)
      << keys.out;
}

}  // namespace
}  // namespace accord::testing
