// The audit log (issue 13, point 7): entries chain by SHA-256, and `Verify` names the first
// broken entry when one is edited, deleted (also at the tail), truncated or reordered on disk.
// Expected hashes are recomputed here with OpenSSL from the rule in log.h (the line without
// its hash member), not with the code under test; expected seqs come from what each test did
// to the file.
#include "accord/audit/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "accord/audit/checkpoint.h"
#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "common/pg_test_db.h"

namespace accord::audit {
namespace {

namespace fs = std::filesystem;
using common::Cat;

class TempDir {
 public:
  TempDir() {
    dir_ = fs::temp_directory_path() /
           ("accord-audit-test-" + std::to_string(getpid()) + "-" + std::to_string(n_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path() const { return dir_.string(); }
  std::string log() const { return (dir_ / "audit.log").string(); }
  std::string head() const { return (dir_ / "audit.head").string(); }

 private:
  static inline int n_ = 0;
  fs::path dir_;
};

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

std::string OpensslSha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  std::ostringstream o;
  for (unsigned i = 0; i < n; ++i) {
    o << "0123456789abcdef"[md[i] >> 4] << "0123456789abcdef"[md[i] & 15];
  }
  return o.str();
}

// The value of string member `k` in `line` (the test's own, minimal reading).
std::string Member(const std::string& line, const std::string& k) {
  const std::string key = "\"" + k + "\":\"";
  size_t at = line.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return line.substr(at, line.find('"', at) - at);
}

Entry Write(std::string actor, const std::vector<VersionRef>& objects = {}) {
  Entry e;
  e.actor = std::move(actor);
  e.action = "import";
  e.collection = "c1";
  e.objects = objects;
  return e;
}

std::unique_ptr<Log> Five(const TempDir& d) {
  auto log = Log::Open(d.path(), nullptr);
  EXPECT_TRUE(log.ok());
  for (int i = 1; i <= 5; ++i) {
    auto seq = (*log)->Append(Write("user:u" + std::to_string(i),
                                    {{"indicator--" + std::to_string(i), "2026-01-01T00:00:00Z"}}));
    EXPECT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, static_cast<uint64_t>(i));
  }
  return std::move(*log);
}

VerifyReport Check(const TempDir& d, bool with_head = true) {
  std::vector<Anchor> anchors;
  bool present = false;
  auto head = ReadHeadFile(d.head(), &present);
  EXPECT_TRUE(head.ok());
  if (with_head && present) anchors.push_back({head->seq, head->hash, "audit.head"});
  auto r = Verify(d.log(), anchors);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// A version list is the JSON text of its [id, modified] pairs: written as they are when
// nothing in them needs escaping, escaped otherwise, the same from a timestamp in microseconds
// as from its text; Refs() reads back what was pushed. Expected text written by hand
// (1735689600 s is 2025-01-01T00:00:00Z; 0x01 escapes as \u0001, a quote as \").
TEST(AuditLog, VersionListsHoldEachVersionAsAJsonPair) {
  VersionList l;
  l.push_back("indicator--a", int64_t{1735689600000000});
  l.push_back("indicator--b", int64_t{1735689600000001});
  l.push_back(std::string("odd\x01\"id"), int64_t{1735689600000001});
  l.push_back("indicator--c", "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(l.json(), R"(["indicator--a","2025-01-01T00:00:00.000000Z"],)"
                      R"(["indicator--b","2025-01-01T00:00:00.000001Z"],)"
                      R"(["odd\u0001\"id","2025-01-01T00:00:00.000001Z"],)"
                      R"(["indicator--c","2025-01-01T00:00:00.000Z"])");
  EXPECT_EQ(l.size(), 4u);
  const std::vector<VersionRef> refs = {{"indicator--a", "2025-01-01T00:00:00.000000Z"},
                                        {"indicator--b", "2025-01-01T00:00:00.000001Z"},
                                        {std::string("odd\x01\"id"), "2025-01-01T00:00:00.000001Z"},
                                        {"indicator--c", "2025-01-01T00:00:00.000Z"}};
  EXPECT_EQ(l.Refs(), refs);
}

TEST(AuditLog, EntriesChainBySha256OfTheLineWithoutItsHash) {
  TempDir d;
  auto log = Five(d);
  std::vector<std::string> lines = Lines(d.log());
  ASSERT_EQ(lines.size(), 5u);
  std::string prev(64, '0');
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    EXPECT_EQ(l.rfind("{\"seq\":" + std::to_string(i + 1) + ",", 0), 0u) << l;
    EXPECT_EQ(Member(l, "actor"), "user:u" + std::to_string(i + 1));
    EXPECT_NE(l.find("\"objects\":[[\"indicator--" + std::to_string(i + 1) +
                     "\",\"2026-01-01T00:00:00Z\"]]"),
              std::string::npos)
        << l;
    EXPECT_EQ(Member(l, "prev"), prev);
    const size_t h = l.rfind(",\"hash\":\"");
    ASSERT_NE(h, std::string::npos);
    const std::string hash = OpensslSha256Hex(l.substr(0, h) + "}");
    EXPECT_EQ(Member(l, "hash"), hash);
    prev = hash;
  }
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 5u);
  EXPECT_EQ(r.last_seq, 5u);
  EXPECT_EQ(r.checkpoints, 1u);  // the head
}

TEST(AuditLog, AnEditedEntryIsNamed) {
  for (int victim = 1; victim <= 5; ++victim) {
    TempDir d;
    auto log = Five(d);
    auto lines = Lines(d.log());
    std::string& l = lines[static_cast<size_t>(victim - 1)];
    l.replace(l.find("user:u"), 6, "user:x");
    WriteLines(d.log(), lines);
    VerifyReport r = Check(d);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad, static_cast<uint64_t>(victim)) << r.problem;
    EXPECT_EQ(r.line, static_cast<uint64_t>(victim));
    EXPECT_NE(r.problem.find("edited"), std::string::npos) << r.problem;
  }
}

TEST(AuditLog, AnEditWithTheHashRecomputedBreaksTheNextEntrysChain) {
  TempDir d;
  auto log = Five(d);
  auto lines = Lines(d.log());
  std::string& l = lines[1];  // seq 2
  l.replace(l.find("user:u"), 6, "user:x");
  const size_t h = l.rfind(",\"hash\":\"");
  l = l.substr(0, h) + ",\"hash\":\"" + OpensslSha256Hex(l.substr(0, h) + "}") + "\"}";
  WriteLines(d.log(), lines);
  VerifyReport r = Check(d);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad, 3u) << r.problem;
  EXPECT_NE(r.problem.find("does not chain"), std::string::npos) << r.problem;
}

TEST(AuditLog, ADeletedEntryIsNamed) {
  for (int victim = 1; victim <= 4; ++victim) {
    TempDir d;
    auto log = Five(d);
    auto lines = Lines(d.log());
    lines.erase(lines.begin() + victim - 1);
    WriteLines(d.log(), lines);
    VerifyReport r = Check(d);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad, static_cast<uint64_t>(victim)) << r.problem;
  }
}

TEST(AuditLog, DeletionAtTheTailIsCaughtByTheHeadAndByACheckpoint) {
  TempDir d;
  auto log = Five(d);
  auto lines = Lines(d.log());
  lines.resize(3);
  WriteLines(d.log(), lines);
  VerifyReport r = Check(d);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad, 4u) << r.problem;
  EXPECT_NE(r.problem.find("deleted at the tail"), std::string::npos) << r.problem;
  // Without the head file, the file alone is consistent; a checkpoint at seq 5 is not.
  fs::remove(d.head());
  EXPECT_TRUE(Check(d).ok);
  auto with_cp = Verify(d.log(), {{5, Member(Lines(d.log()).back(), "hash"), "checkpoint 1"}});
  ASSERT_TRUE(with_cp.ok());
  EXPECT_FALSE(with_cp->ok);
  EXPECT_EQ(with_cp->first_bad, 4u) << with_cp->problem;
}

TEST(AuditLog, ATruncatedLastLineIsNamed) {
  TempDir d;
  auto log = Five(d);
  std::string all;
  for (const auto& l : Lines(d.log())) all += l + "\n";
  all.resize(all.size() - 40);  // the middle of entry 5
  std::ofstream(d.log(), std::ios::trunc) << all;
  VerifyReport r = Check(d);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad, 5u) << r.problem;
}

TEST(AuditLog, ReorderedEntriesAreNamed) {
  TempDir d;
  auto log = Five(d);
  auto lines = Lines(d.log());
  std::swap(lines[1], lines[2]);  // seq 3 before seq 2
  WriteLines(d.log(), lines);
  VerifyReport r = Check(d);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad, 2u) << r.problem;
  EXPECT_EQ(r.line, 2u);
}

// Retention (issue 13, point 6): the entries up to a checkpoint go as a whole; the log left
// verifies from that anchor; another appender (its own descriptor on the old file) follows to
// the new file and continues the chain; a wrong hash or the last entry changes nothing.
TEST(AuditLog, DropThroughACheckpointKeepsTheChainAndAppendersFollow) {
  TempDir d;
  std::unique_ptr<Log> a = Five(d);
  ASSERT_TRUE(a->Append(Write("user:u6")).ok());  // a's descriptor is open on the log
  const std::vector<std::string> before = Lines(d.log());
  ASSERT_EQ(before.size(), 6u);
  const std::string hash3 = Member(before[2], "hash");  // entry 3, read by the test itself
  auto b = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(b.ok());
  // Refused, nothing changed: a hash that is not entry 3's; the last entry.
  EXPECT_EQ((*b)->DropThrough(3, std::string(64, 'a')).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*b)->DropThrough(6, Member(before[5], "hash")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Lines(d.log()), before);

  auto dropped = (*b)->DropThrough(3, hash3);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 3u);
  EXPECT_EQ(Lines(d.log()), std::vector<std::string>(before.begin() + 3, before.end()));
  // `a` still holds the old file open: its next entry lands in the new one, as seq 7.
  auto seq = a->Append(Write("user:after-purge"));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 7u);
  const std::vector<std::string> after = Lines(d.log());
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(Member(after[3], "prev"), Member(before[5], "hash"));
  // Verifies from the checkpoint's anchor; without it, a log that starts at 4 does not.
  auto r = Verify(d.log(), {{3, hash3, "checkpoint 1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->first_seq, 4u);
  EXPECT_EQ(r->last_seq, 7u);
  auto bare = Verify(d.log(), {});
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->ok);
}

TEST(AuditLog, AppendsAfterARestartContinueTheChain) {
  TempDir d;
  { auto log = Five(d); }
  fs::remove(d.head());  // a lost head hint: the log's last line decides
  auto log = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(log.ok());
  auto seq = (*log)->Append(Write("user:later"));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 6u);
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 6u);
}

TEST(AuditLog, ALargeWriteIsSplitIntoChainedEntries) {
  TempDir d;
  auto log = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(log.ok());
  std::vector<VersionRef> many;
  many.reserve(25000);
  for (int i = 0; i < 25000; ++i) many.push_back({"indicator--" + std::to_string(i), "t"});
  auto seq = (*log)->Append(Write("user:bulk", many));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 3u);  // 10,000 + 10,000 + 5,000
  std::vector<VersionRef> back;
  ASSERT_TRUE(ForEach(d.log(), [&](const Entry& e) {
                const auto refs = e.objects.Refs();
                back.insert(back.end(), refs.begin(), refs.end());
                return true;
              }).ok());
  EXPECT_EQ(back, many);
  EXPECT_TRUE(Check(d).ok);
}

// Writers in threads (each with its own Log, so its own open file, as a second process has)
// and in a child process, at once: one chain, every entry once.
TEST(AuditLog, ConcurrentWritersKeepOneChain) {
  TempDir d;
  constexpr int kThreads = 3, kEach = 150, kChild = 150;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = Log::Open(d.path(), nullptr);
    for (int i = 0; i < kChild && log.ok(); ++i) {
      if (!(*log)->Append(Write("peer:child")).ok()) _exit(1);
    }
    _exit(log.ok() ? 0 : 1);
  }
  std::vector<std::thread> ts;
  ts.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      auto log = Log::Open(d.path(), nullptr);
      ASSERT_TRUE(log.ok());
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE((*log)->Append(Write("user:t" + std::to_string(t))).ok());
      }
    });
  }
  for (auto& t : ts) t.join();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem << " at line " << r.line;
  EXPECT_EQ(r.entries, static_cast<uint64_t>(kThreads * kEach + kChild));
  std::map<std::string, int> by_actor;
  ASSERT_TRUE(ForEach(d.log(), [&](const Entry& e) {
                ++by_actor[e.actor];
                return true;
              }).ok());
  EXPECT_EQ(by_actor["peer:child"], kChild);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(by_actor["user:t" + std::to_string(t)], kEach);
}

// A process that appended may keep the log's lock for a moment (a lease: its next batches
// then need no lock), but lets it go by itself, whether it goes idle or keeps appending:
// another open file description of the log (what another process has) gets the lock soon
// after, with the log still open here. While that one holds it, nothing is appended here.
TEST(AuditLog, AnAppenderLetsTheLockGoByItself) {
  TempDir d;
  auto log = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Write("user:u")).ok());
  const int fd = ::open(d.log().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto acquire = [&] {  // tried until taken, for at most 10 s (a hang would otherwise be one)
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
  };
  EXPECT_TRUE(acquire());  // idle
  ::flock(fd, LOCK_UN);
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread busy([&] {
    while (!stop) {
      if ((*log)->Append(Write("user:busy")).ok()) ++appended;
    }
  });
  while (appended < 100) std::this_thread::yield();
  EXPECT_TRUE(acquire());  // busy
  const size_t held_at = Lines(d.log()).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Lines(d.log()).size(), held_at);
  ::flock(fd, LOCK_UN);
  stop = true;
  busy.join();
  ::close(fd);
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, static_cast<uint64_t>(appended + 1));
}

// AppendAsync: while one thread writes (here: held inside its entry's `done`), entries from
// other threads are queued without waiting, then written by that thread, in order, in one
// batch (one time for all of them), and their `done` called there; a synchronous Append
// queued meanwhile returns only once its entry is written.
TEST(AuditLog, AppendsArrivingWhileOneIsWrittenAreWrittenByThatThreadInOneBatch) {
  TempDir d;
  auto opened = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  std::mutex mu;
  std::condition_variable cv;
  bool in_first = false, release = false;
  std::thread::id writer;
  std::map<int, std::pair<std::thread::id, uint64_t>> done;  // entry -> thread, seq
  std::thread first([&] {
    log.AppendAsync(Write("user:first"), [&](const absl::StatusOr<uint64_t>& seq) {
      std::unique_lock<std::mutex> l(mu);
      done[1] = {std::this_thread::get_id(), seq.ok() ? *seq : 0};
      writer = std::this_thread::get_id();
      in_first = true;
      cv.notify_all();
      cv.wait(l, [&] { return release; });
    });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return in_first; });
  }
  for (int i = 2; i <= 4; ++i) {
    log.AppendAsync(Write("user:q" + std::to_string(i)),
                    [&, i](const absl::StatusOr<uint64_t>& seq) {
                      std::lock_guard<std::mutex> l(mu);
                      done[i] = {std::this_thread::get_id(), seq.ok() ? *seq : 0};
                    });
  }
  std::atomic<bool> sync_returned{false};
  std::thread sync([&] {
    auto seq = log.Append(Write("user:sync"));
    EXPECT_TRUE(seq.ok() && *seq == 5u) << (seq.ok() ? std::to_string(*seq) : "error");
    sync_returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(done.size(), 1u) << "queued entries were answered before they were written";
    EXPECT_FALSE(sync_returned.load());
    EXPECT_EQ(Lines(d.log()).size(), 1u);
    release = true;
    cv.notify_all();
  }
  first.join();
  sync.join();
  ASSERT_EQ(done.size(), 4u);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(done[i].second, static_cast<uint64_t>(i)) << "entry " << i;
    EXPECT_EQ(done[i].first, writer) << "entry " << i << " was not written by the writing thread";
  }
  std::vector<std::string> lines = Lines(d.log());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(Member(lines[1], "actor"), "user:q2");
  EXPECT_EQ(Member(lines[3], "actor"), "user:q4");
  EXPECT_EQ(Member(lines[4], "actor"), "user:sync");
  // Entries 2 to 5 were queued together: one batch, one time.
  EXPECT_EQ(Member(lines[1], "time"), Member(lines[4], "time"));
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.last_seq, 5u);
}

// Many threads appending at once, half asynchronously: every `done` called once, with a
// distinct seq, and one chain.
TEST(AuditLog, AsyncAndSyncAppendersFromManyThreadsKeepOneChain) {
  TempDir d;
  auto opened = Log::Open(d.path(), nullptr);
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  constexpr int kThreads = 4, kEach = 200;
  std::mutex mu;
  std::vector<uint64_t> seqs;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  ts.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Entry e = Write("user:t" + std::to_string(t),
                        {{"indicator--" + std::to_string(t * kEach + i), "2026-01-01T00:00:00Z"}});
        if (t % 2 == 0) {
          log.AppendAsync(std::move(e), [&](const absl::StatusOr<uint64_t>& seq) {
            std::lock_guard<std::mutex> l(mu);
            if (seq.ok())
              seqs.push_back(*seq);
            else
              ++failures;
          });
        } else {
          auto seq = log.Append(std::move(e));
          std::lock_guard<std::mutex> l(mu);
          if (seq.ok())
            seqs.push_back(*seq);
          else
            ++failures;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Every async `done` has been called when its appender's thread has returned: either it
  // wrote the batch itself, or the thread writing it had not yet finished (joined above,
  // since every thread that writes is one of these).
  std::sort(seqs.begin(), seqs.end());
  ASSERT_EQ(seqs.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  VerifyReport r = Check(d);
  EXPECT_TRUE(r.ok) << r.problem << " at line " << r.line;
  EXPECT_EQ(r.entries, static_cast<uint64_t>(kThreads * kEach));
}

TEST(AuditLog, GarbageLinesAreReportedNotTrusted) {
  TempDir d;
  auto log = Five(d);
  auto lines = Lines(d.log());
  lines.insert(lines.begin() + 2, "{\"seq\": \"three\"}");
  WriteLines(d.log(), lines);
  VerifyReport r = Check(d);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad, 3u);
  EXPECT_EQ(r.line, 3u);
  EXPECT_NE(r.problem.find("not an audit entry"), std::string::npos) << r.problem;
}

class TempStore {
 public:
  explicit TempStore(const std::string& dir) {
    store::Options o;
    o.dir = dir + "/store";
    auto s = store::Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  store::Store& operator*() { return *store_; }

 private:
  std::unique_ptr<store::Store> store_;
};

TEST(AuditCheckpoint, SignedHeadVerifiesAndAnchorsTheLog) {
  ASSERT_GE(sodium_init(), 0);
  TempDir d;
  TempStore store(d.path());
  auto log = Five(d);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string sk_s(reinterpret_cast<char*>(sk), sizeof sk);
  auto cp = MakeCheckpoint(*log, *store, sk_s);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->seq, 5u);
  EXPECT_EQ(cp->hash, Member(Lines(d.log()).back(), "hash"));
  char hex[crypto_sign_PUBLICKEYBYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
  EXPECT_TRUE(SignatureValid(*cp, hex));
  // The signature covers the seq and the hash.
  Checkpoint moved = *cp;
  moved.seq = 4;
  EXPECT_FALSE(SignatureValid(moved, hex));
  unsigned char other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(other_pk, other_sk);
  char other_hex[crypto_sign_PUBLICKEYBYTES * 2 + 1];
  sodium_bin2hex(other_hex, sizeof other_hex, other_pk, sizeof other_pk);
  EXPECT_FALSE(SignatureValid(*cp, other_hex));
  auto all = LoadCheckpoints(*store);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].signature, cp->signature);
  // Rewriting entry 2 and every hash after it (a consistent forgery) still fails: the
  // checkpoint names seq 5 with the old hash.
  auto lines = Lines(d.log());
  std::string prev = Member(lines[0], "hash");
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string& l = lines[i];
    if (i == 1) l.replace(l.find("user:u"), 6, "user:x");
    l.replace(l.find("\"prev\":\"") + 8, 64, prev);
    const size_t h = l.rfind(",\"hash\":\"");
    prev = OpensslSha256Hex(l.substr(0, h) + "}");
    l = l.substr(0, h) + ",\"hash\":\"" + prev + "\"}";
  }
  WriteLines(d.log(), lines);
  fs::remove(d.head());
  auto r = Verify(d.log(), {{cp->seq, cp->hash, "checkpoint 1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad, 5u) << r->problem;
  EXPECT_NE(r->problem.find("checkpoint 1"), std::string::npos) << r->problem;
}

// The audit log kept in a PostgreSQL store (issue 17): several processes of one node (frontends,
// workers, commands, each with a data directory of its own) append to one chain, which any of
// them verifies. Each "process" here is a Store handle of its own (its own connections) with a
// Log over it; the server is ACCORD_TEST_PG's (scripts/test.sh starts one).
std::string HexOf(const unsigned char* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += "0123456789abcdef"[p[i] >> 4];
    out += "0123456789abcdef"[p[i] & 15];
  }
  return out;
}

class StoreLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    if (!db_.available()) GTEST_SKIP() << testing::TestPgDatabase::kSkipReason;
    ASSERT_TRUE(db_.Create().ok());
  }
  void TearDown() override {
    std::error_code ec;
    for (const fs::path& d : dirs_) fs::remove_all(d, ec);
  }

  // One process of the node: a store handle on the shared database and a data directory of
  // its own.
  struct Process {
    std::unique_ptr<store::Store> store;
    std::unique_ptr<Log> log;
    std::string dir;
  };
  Process Start(bool read_only = false) {
    Process p;
    p.dir = (fs::temp_directory_path() / Cat("accord-store-log-", getpid(), "-", dirs_.size()))
                .string();
    fs::remove_all(p.dir);
    dirs_.emplace_back(p.dir);
    store::Options o;
    o.dir = p.dir;
    o.url = db_.url();
    o.read_only = read_only;
    auto s = store::Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return p;
    p.store = std::move(*s);
    auto l = Log::Open(p.dir, p.store.get());
    EXPECT_TRUE(l.ok()) << l.status();
    if (l.ok()) p.log = std::move(*l);
    return p;
  }

  // Every row of the shared log, in order, read without the audit layer.
  std::vector<store::AuditRow> Rows(store::Store* s) {
    auto rows = s->audit_log()->Read(0, 1000000);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }

  // Runs `sql` on the database with a connection of its own (a tamperer with database access).
  void Sql(const std::string& sql) {
    auto c = store::detail::PgConn::Connect(db_.url());
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE((*c)->Exec(sql, "test").ok());
  }

  testing::TestPgDatabase db_{"accord_store_log"};
  std::vector<fs::path> dirs_;
};

TEST_F(StoreLogTest, ProcessesWithTheirOwnDataDirectoriesAppendToOneChain) {
  Process a = Start(), b = Start();
  ASSERT_TRUE(a.log && b.log);
  EXPECT_TRUE(a.log->in_store());
  ASSERT_EQ(*a.log->Append(Write("user:a")), 1u);
  ASSERT_EQ(*b.log->Append(Write("user:b")), 2u);
  ASSERT_EQ(*a.log->Append(Write("user:a")), 3u);
  // Neither data directory has a log file: the log is the store's.
  EXPECT_FALSE(fs::exists(fs::path(a.dir) / "audit.log"));
  EXPECT_FALSE(fs::exists(fs::path(b.dir) / "audit.log"));

  const std::vector<store::AuditRow> rows = Rows(a.store.get());
  ASSERT_EQ(rows.size(), 3u);
  std::string prev(64, '0');
  const char* actors[] = {"user:a", "user:b", "user:a"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& line = rows[i].line;
    EXPECT_EQ(rows[i].seq, i + 1);
    EXPECT_EQ(Member(line, "actor"), actors[i]);
    EXPECT_EQ(Member(line, "prev"), prev) << "entry " << i + 1 << " chains to the one before";
    const size_t at = line.find(",\"hash\":\"");
    ASSERT_NE(at, std::string::npos);
    const std::string expect = OpensslSha256Hex(line.substr(0, at) + "}");
    EXPECT_EQ(Member(line, "hash"), expect);
    EXPECT_EQ(rows[i].hash, expect);
    prev = expect;
  }
  // Either process verifies the whole chain and sees the same head.
  for (Process* p : {&a, &b}) {
    auto r = p->log->Verify({});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->ok) << r->problem;
    EXPECT_EQ(r->entries, 3u);
    EXPECT_EQ(r->last_hash, prev);
    auto head = p->log->ReadHead();
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->seq, 3u);
    EXPECT_EQ(head->hash, prev);
  }
}

TEST_F(StoreLogTest, ConcurrentAppendersOnSeveralHandlesNeverBreakTheChain) {
  constexpr int kProcesses = 3, kThreads = 4, kEach = 40;
  std::vector<Process> ps;
  ps.reserve(kProcesses);
  for (int i = 0; i < kProcesses; ++i) ps.push_back(Start());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProcesses; ++p) {
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, p, t] {
        for (int k = 0; k < kEach; ++k) {
          if (!ps[p].log->Append(Write(Cat("user:p", p, "t", t))).ok()) ++failures;
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t total = uint64_t{kProcesses} * kThreads * kEach;  // 480
  auto r = ps[1].log->Verify({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok) << "seq " << r->first_bad << ": " << r->problem;
  EXPECT_EQ(r->entries, total);
  EXPECT_EQ(r->first_seq, 1u);
  EXPECT_EQ(r->last_seq, total);
  // Every appender's entries are all there.
  std::map<std::string, int> per_actor;
  ASSERT_TRUE(ps[2]
                  .log
                  ->ForEach([&](const Entry& e) {
                    ++per_actor[e.actor];
                    return true;
                  })
                  .ok());
  EXPECT_EQ(per_actor.size(), size_t{kProcesses * kThreads});
  for (const auto& [actor, n] : per_actor) EXPECT_EQ(n, kEach) << actor;
}

TEST_F(StoreLogTest, EditingDeletingOrReorderingRowsIsFound) {
  Process a = Start();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a.log->Append(Write("user:a")).ok());
  // An edit of entry 3's content (its hash left as it was).
  Sql("UPDATE audit_log SET line = replace(line, 'user:a', 'user:x') WHERE seq = 3");
  auto r = a.log->Verify({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad, 3u);
  EXPECT_NE(r->problem.find("edited"), std::string::npos) << r->problem;
  Sql("UPDATE audit_log SET line = replace(line, 'user:x', 'user:a') WHERE seq = 3");
  ASSERT_TRUE(a.log->Verify({})->ok);
  // A deleted row in the middle.
  Sql("DELETE FROM audit_log WHERE seq = 2");
  r = a.log->Verify({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad, 2u);
  EXPECT_NE(r->problem.find("missing"), std::string::npos) << r->problem;
}

TEST_F(StoreLogTest, ACheckpointVouchesForTheTailAndPurgesWholeCheckpoints) {
  Process a = Start(), b = Start();
  unsigned char pk[32], sk[64];
  crypto_sign_keypair(pk, sk);
  const std::string secret(reinterpret_cast<const char*>(sk), sizeof sk);
  const std::string public_hex = HexOf(pk, sizeof pk);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.log->Append(Write("user:a")).ok());
  // Signed by one process over the shared head; kept in the shared store.
  auto cp = MakeCheckpoint(*a.log, *a.store, secret);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->seq, 3u);
  EXPECT_TRUE(SignatureValid(*cp, public_hex));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(b.log->Append(Write("user:b")).ok());
  auto cps = LoadCheckpoints(*b.store);
  ASSERT_TRUE(cps.ok()) << cps.status();
  ASSERT_EQ(cps->size(), 1u);
  const std::vector<Anchor> anchors{{(*cps)[0].seq, (*cps)[0].hash, "checkpoint 1"}};
  auto r = b.log->Verify(anchors);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->checkpoints, 1u);

  // A purge through the checkpoint keeps what follows, and the log still verifies from it.
  EXPECT_EQ(b.log->DropThrough(3, std::string(64, 'a')).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not the checkpoint's hash
  EXPECT_EQ(b.log->DropThrough(5, Rows(b.store.get()).back().hash).status().code(),
            absl::StatusCode::kFailedPrecondition);  // the last entry
  auto dropped = b.log->DropThrough(3, cp->hash);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 3u);
  r = a.log->Verify(anchors);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->first_seq, 4u);
  EXPECT_EQ(r->entries, 2u);
  // Without the checkpoint nothing vouches for the purged head.
  EXPECT_FALSE(a.log->Verify({})->ok);
  // Deleting at the tail is caught by a checkpoint that names a later entry.
  auto cp2 = MakeCheckpoint(*a.log, *a.store, secret);
  ASSERT_TRUE(cp2.ok()) << cp2.status();
  EXPECT_EQ(cp2->seq, 5u);
  Sql("DELETE FROM audit_log WHERE seq = 5");
  r = a.log->Verify({anchors[0], {5, cp2->hash, "checkpoint 2"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("deleted at the tail"), std::string::npos) << r->problem;
  // An append after the tampering follows what this process wrote last (entry 5), not the
  // last row left: the deleted entry stays missing, and verify still says so.
  ASSERT_EQ(*b.log->Append(Write("user:b")), 6u);
  r = a.log->Verify(anchors);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad, 5u);
  EXPECT_NE(r->problem.find("missing"), std::string::npos) << r->problem;
  // A process that had not written reads the head from the store, and so does this one once
  // an insert of its own collides: appends go on from the last row.
  Process c = Start();
  ASSERT_EQ(*c.log->Append(Write("user:c")), 7u);
}

TEST_F(StoreLogTest, AReadOnlyHandleStillRecordsItsReads) {
  { Process w = Start(); }  // creates the schema
  Process r = Start(/*read_only=*/true);
  ASSERT_TRUE(r.log);
  Entry e = Write("user:reader");
  e.action = "egress";
  auto seq = r.log->Append(std::move(e));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 1u);
  EXPECT_EQ(Rows(r.store.get()).size(), 1u);
}

}  // namespace
}  // namespace accord::audit
