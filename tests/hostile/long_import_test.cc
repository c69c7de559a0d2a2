// Issue 10, long imports: a 3M-object import held off TAXII POSTs for 45 s, because one import
// was one transaction and held the store's write lock throughout. Now a non-strict import
// commits in chunks (~1 s of work once another writer waits, or 1,000,000 objects), and a POST to a
// server on the same data directory is committed while the import is still running. With --strict
// the import stays one transaction, says on stderr that it holds writers off, and the POST is
// committed only after it. The test asserts the order of events (the POST's answer against the
// import's exit), not durations.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <thread>

#include "common/gen_indicators.h"
#include "common/http_client.h"
#include "common/test_util.h"
#include "hostile/input_child.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

// Enough for many 1 s chunks under ASan, few enough for the test to take seconds.
constexpr int kObjects = 40000;

// `accord` started in the background; Running() reaps it once it ended.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::filesystem::path& err_file) {
    pid_ = fork();
    if (pid_ == 0) {
      int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(err, 2);
      accord::testing::ExecAccord(args);
    }
  }
  ~Background() { Wait(); }
  bool Running() {
    if (done_) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      done_ = true;
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return !done_;
  }
  int Wait() {
    if (!done_) {
      int st = 0;
      waitpid(pid_, &st, 0);
      done_ = true;
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  int exit_code_ = -1;
};

std::string PostedIndicator(int i) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--5e0c2b1a-9d8f-4e7a-8b6c-%012d", i);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2025-02-01T00:00:00.000Z","modified":"2025-02-01T00:00:00.000Z",)" +
         R"("pattern":"[domain-name:value = 'posted-)" + std::to_string(i) +
         R"(.example']","pattern_type":"stix","valid_from":"2025-02-01T00:00:00Z"})";
}

struct Outcome {
  int post_status = 0;
  bool import_running_at_answer = false;
  int import_exit = -1;
  std::string import_err;
};

// Starts a server and an import of kObjects generated indicators on one data directory; once
// the import writes (its object-log bytes appear), POSTs one indicator and notes whether the
// import was still running when the answer came.
Outcome ImportWhilePosting(const TempDir& dir, bool strict) {
  Outcome o;
  auto data = dir.path() / "data";
  ServerProcess server;
  EXPECT_TRUE(server.Start(data.string()));
  auto file = dir.path() / "big.jsonl";
  {
    std::ofstream f(file);
    IndicatorGenerator gen(42);
    for (int i = 0; i < kObjects; ++i) f << gen.Next(static_cast<uint64_t>(i)) << "\n";
  }
  auto log = data / "objects.log";
  std::error_code ec;
  uintmax_t before = std::filesystem::file_size(log, ec);
  if (ec) before = 0;
  std::vector<std::string> args = {"--data", data.string(), "import", file.string(), "-q"};
  if (strict) args.push_back("--strict");
  Background import(args, dir.path() / "import.err");
  // The import holds the write lock from its first object: wait until its bytes show.
  while (import.Running()) {
    uintmax_t now = std::filesystem::file_size(log, ec);
    if (!ec && now > before + (1 << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(import.Running()) << "the import ended before the POST could be tried";
  HttpReply r = Http(server.port(), "POST", "/api/collections/default/objects/", server.admin_key(),
                     "{\"objects\":[" + PostedIndicator(1) + "]}");
  o.import_running_at_answer = import.Running();
  o.post_status = r.status;
  o.import_exit = import.Wait();
  o.import_err = Slurp(dir.path() / "import.err");
  return o;
}

TEST(LongImport, PostsAreCommittedWhileANonStrictImportRuns) {
  TempDir dir("long-import");
  Outcome o = ImportWhilePosting(dir, false);
  EXPECT_EQ(o.post_status, 202);
  EXPECT_TRUE(o.import_running_at_answer)
      << "the POST was answered only after the import ended: the import held writers off";
  EXPECT_EQ(o.import_exit, 0) << o.import_err;
  // Both writes are stored: every generated indicator and the posted one.
  auto data = (dir.path() / "data").string();
  ChildResult stats = RunAccord({"--data", data, "stats", "--json"}, dir.path());
  EXPECT_NE(stats.out.find(std::to_string(kObjects + 1)), std::string::npos) << stats.out;
  ChildResult get = RunAccord(
      {"--data", data, "get", "indicator--5e0c2b1a-9d8f-4e7a-8b6c-000000000001"}, dir.path());
  EXPECT_EQ(get.out, PostedIndicator(1) + "\n") << get.err;
  // The POST committed between two of the import's chunks, not after its last: the import
  // ends its chunk when a writer waits (another process here, marked in accord.db-writers).
  // date_added is strictly increasing, so the posted version is not the collection's last.
  // (That the import was still running at the answer does not show it: the process may be
  // closing, a WAL checkpoint, after its last commit.)
  ChildResult list = RunAccord({"--data", data, "list", "-c", "default"}, dir.path());
  std::string posted = "indicator--5e0c2b1a-9d8f-4e7a-8b6c-000000000001";
  size_t at = list.out.find(posted);
  ASSERT_NE(at, std::string::npos) << list.err;
  EXPECT_LT(list.out.find('\n', at), list.out.size() - 1)
      << "the POST was committed after the whole import: the import held writers off";
}

TEST(LongImport, StrictImportHoldsPostsOffAndSaysSo) {
  TempDir dir("long-import-strict");
  Outcome o = ImportWhilePosting(dir, true);
  // The POST waits for the import (202 after it ended), or gives up waiting (503, when the
  // import outlasts the server's wait for the write lock); it never commits meanwhile.
  EXPECT_TRUE(o.post_status == 202 || o.post_status == 503) << o.post_status;
  EXPECT_EQ(o.import_exit, 0) << o.import_err;
  // The process may still be closing (a WAL checkpoint) when a POST that waited for the
  // commit is answered, so the order is read from the store: date_added is strictly
  // increasing, and a POST that committed after the one import transaction comes last.
  if (o.post_status == 202) {
    auto data = (dir.path() / "data").string();
    ChildResult list = RunAccord({"--data", data, "list", "-c", "default"}, dir.path());
    std::string posted = "indicator--5e0c2b1a-9d8f-4e7a-8b6c-000000000001";
    size_t at = list.out.find(posted);
    ASSERT_NE(at, std::string::npos) << list.err;
    EXPECT_EQ(list.out.find('\n', at), list.out.size() - 1)
        << "a --strict import is one transaction: the POST cannot commit before it ends";
  }
  EXPECT_NE(o.import_err.find("--strict: one transaction"), std::string::npos) << o.import_err;
}

}  // namespace
}  // namespace accord::testing
