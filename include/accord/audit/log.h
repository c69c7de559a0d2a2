// The node's tamper-evident audit log (issue 13, point 7; ../shared/DESIGN.md, "audit chain").
//
// `<data>/audit.log` holds one JSON object per line, in a fixed member order:
//
//   {"seq":7,"time":"2026-12-04T09:00:00.000000Z","actor":"user:alice","action":"egress",
//    "exit":"taxii-objects","objects":[["indicator--…","2026-01-01T00:00:00.000Z"]],
//    "denied":[…],"redacted":[…],"peer":"b","profile":"partners","collection":"…",
//    "detail":"…","prev":"<64 hex>","hash":"<64 hex>"}
//
// `hash` is the SHA-256 of the line's bytes without its `,"hash":"…"` member (so of
// `{…,"prev":"…"}`), and `prev` is the hash of the entry before (64 zeros before the first).
// Editing any byte of an entry breaks its hash; deleting, inserting or reordering entries
// breaks the sequence numbers or the chain. Deleting entries at the tail is caught by the head
// file `<data>/audit.head` (the last seq and hash, rewritten on every append) and by signed
// checkpoints (checkpoint.h), which peers may keep as witnesses.
//
// Appends are serialised across processes (a server and the CLI write the same log) by an
// exclusive flock on the log file; within a process, the entries that arrive while one batch
// is written are written next, together, with one write(2) on an O_APPEND descriptor. A
// process keeps the lock for a few milliseconds after a batch (a lease, so that a busy
// server's next batches take no lock), then lets it go by itself, idle or not: another
// process waits for it that long at most. A Log must not be used across fork() (the child
// would share the lock). An entry is flushed to the kernel when Append returns (or
// AppendAsync's `done` is called), not fsynced: a checkpoint fsyncs the log before it signs
// the head.
//
// Thread safety: Log's methods may be called concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::audit {

/// One object version: its id and its `modified` (or `created`) as STIX timestamp text.
struct VersionRef {
  std::string id;
  std::string modified;
  bool operator==(const VersionRef&) const = default;
};

/// A list of object versions, kept as the JSON text the log writes (`["id","modified"],…`,
/// without the brackets).
/// PERF: a TAXII page's entry lists 100 versions per request, and is copied into the page
/// cache and out of it on every hit; as one string it costs one allocation, not two hundred
/// (docs/PERFORMANCE.md, "Audit").
class VersionList {
 public:
  VersionList() = default;
  VersionList(const std::vector<VersionRef>& refs);  // NOLINT(google-explicit-constructor)
  VersionList(std::initializer_list<VersionRef> refs);

  void push_back(std::string_view id, std::string_view modified);
  /// `modified` in microseconds since the epoch, written as STIX timestamp text.
  void push_back(std::string_view id, int64_t modified_us);
  void push_back(const VersionRef& r) { push_back(r.id, r.modified); }
  /// Room for `n` versions (a pair of a typical id and timestamp takes ~85 bytes).
  void reserve(size_t n) { json_.reserve(n * 96); }

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  /// The versions, decoded.
  std::vector<VersionRef> Refs() const;
  /// The list's members as JSON text, comma-separated, without the brackets.
  const std::string& json() const { return json_; }
  bool operator==(const VersionList&) const = default;

 private:
  std::string json_;
  size_t n_ = 0;
};

/// One entry. Append() fills in seq, time, prev and hash.
struct Entry {
  uint64_t seq = 0;
  std::string time;
  std::string actor;     ///< "user:NAME", "peer:NAME", "operator:UNIX-USER", "sensor:NAME", "node"
  std::string action;    ///< "import", "egress", "agreement.set", "user.add", "key.create", ...
  std::string exit;      ///< for egress: the policy::ExitName of the exit
  VersionList objects;   ///< written, or delivered as stored
  VersionList denied;    ///< egress: withheld by the gate
  VersionList redacted;  ///< egress: delivered as a redacted copy
  std::string peer;      ///< the peer concerned, when there is one
  std::string profile;   ///< the redaction profile applied, when there is one
  std::string collection;  ///< the collection written or read, when there is one
  std::string detail;      ///< anything else, for people: counts, reasons
  std::string prev;
  std::string hash;
};

/// The hash that stands before the first entry.
inline const std::string kGenesis(64, '0');

/// The last entry's seq and hash (0 and kGenesis for an empty log), and the log's size then.
struct Head {
  uint64_t seq = 0;
  std::string hash = kGenesis;
  uint64_t size = 0;
};

/// What Verify found. `ok` is false at the first entry that does not verify; `first_bad` is
/// its seq (the seq expected at that place), `line` its line in the file, `problem` the rule.
struct VerifyReport {
  bool ok = true;
  uint64_t entries = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string last_hash = kGenesis;
  uint64_t first_bad = 0;
  uint64_t line = 0;
  std::string problem;
  uint64_t checkpoints = 0;  ///< checkpoints whose entry was found with their hash
};

/// One point the log must pass through: entry `seq` has hash `hash` (a checkpoint, the head).
struct Anchor {
  uint64_t seq = 0;
  std::string hash;
  std::string source;  ///< for messages: "checkpoint 3", "audit.head"
};

class FileLock;  // log.cc

/// The most object versions one entry lists; a larger write or page is split over entries.
inline constexpr size_t kMaxVersionsPerEntry = 10000;

class Log {
 public:
  /// The node's log. When `store` keeps the audit log (Store::audit_log(): a PostgreSQL store,
  /// shared by every frontend, worker and command of the node, issue 17), the log is there,
  /// one chain for all of them; otherwise (SQLite, or no store) it is `<data_dir>/audit.log`
  /// (created 0600 on first append). `store` may be null, and must outlive the log.
  static absl::StatusOr<std::unique_ptr<Log>> Open(const std::string& data_dir,
                                                   store::Store* store);
  ~Log();

  /// Appends `e` (split into several entries when it lists more than kMaxVersionsPerEntry
  /// versions in one list), with seq, time, prev and hash filled in. Returns the last seq.
  absl::StatusOr<uint64_t> Append(Entry e);

  /// Called once with what Append would have returned.
  using Done = std::function<void(absl::StatusOr<uint64_t>)>;
  /// Appends `e` as Append does, without waiting for another thread's append: when one is
  /// being written, `e` is queued, and the thread writing writes every entry queued meanwhile
  /// in one batch (one lock, one write) and calls their `done` (a TAXII page is answered from
  /// it: a worker never waits for the log). `done` is called exactly once, here or on another
  /// appender's thread, after the entry was written or failed; it must not block or append.
  void AppendAsync(Entry e, Done done);

  /// The head as the log file has it now (under the lock: consistent with other appenders).
  absl::StatusOr<Head> ReadHead();

  /// fsyncs the log (a checkpoint does this before it signs the head).
  absl::Status Sync();

  /// Retention (issue 13, point 6): removes every entry up to and including `seq`, which must
  /// be a checkpoint's, with the checkpoint's `hash` (so the log still verifies: it starts
  /// right after an anchor). The rest is copied to a new file that is renamed over the log,
  /// under the lock; appenders in other processes move to the new file. Returns how many
  /// entries went. FailedPrecondition, with nothing changed, when entry `seq` is not there with
  /// that hash, or is the last entry.
  absl::StatusOr<uint64_t> DropThrough(uint64_t seq, const std::string& hash);

  /// Appends entries copied from another log line for line, their seqs, hashes and chain
  /// unchanged (`accord store copy`): the first must follow this log's last entry, or start an
  /// empty log (anywhere: a log purged up to a checkpoint starts after it); FailedPrecondition
  /// otherwise, with nothing written.
  absl::Status AppendCopied(const std::vector<store::AuditRow>& rows);
  /// Calls f(line, line or row number, too long) for each entry's line, in order, until f
  /// returns false.
  absl::Status Lines(const std::function<bool(std::string_view, uint64_t, bool)>& f);

  /// Checks every entry, as the free Verify() below does for a file, against `anchors`.
  absl::StatusOr<VerifyReport> Verify(std::vector<Anchor> anchors);
  /// Calls `f` for every entry, in order, until it returns false (as the free ForEach()).
  absl::Status ForEach(const std::function<bool(const Entry&)>& f);

  /// Whether the log is kept in the store rather than in a file.
  bool in_store() const { return db_ != nullptr; }
  /// Where the log is, for messages: the file, or the store's location.
  const std::string& where() const { return in_store() ? where_ : path_; }
  /// The file and its head file (empty when the log is in the store, which has no head file:
  /// its last row is the head).
  const std::string& path() const { return path_; }
  const std::string& head_path() const { return head_path_; }

 private:
  // An append waiting for its batch.
  struct Pending {
    Entry entry;
    Done done;
  };
  Log(std::string path, std::string head_path);
  // Write a batch of AppendAsync's, to the file or the store: one result per entry.
  std::vector<absl::StatusOr<uint64_t>> WriteBatch(std::vector<Pending>& batch);
  std::vector<absl::StatusOr<uint64_t>> FlushToStore(std::vector<Pending>& batch);
  // Writes `lines` at the end of the locked file, whose size was `size`, and records `h` (the
  // head after them) as the head.
  absl::Status WriteLocked(const std::string& lines, uint64_t size, Head* h);
  absl::Status OpenFile();
  absl::StatusOr<Head> HeadLocked();
  absl::StatusOr<Head> LockAndHead(std::optional<FileLock>* lock);
  // The head, with the file locked: by this process's lease, or by `*lock`, taken here.
  absl::StatusOr<Head> LockedHead(std::optional<FileLock>* lock);
  // Keeps `*lock` as a lease, when one may start now (log.cc, "Lease").
  void MaybeLease(std::optional<FileLock>* lock);
  void EndLease();
  void KeepLeases();  // keeper_'s loop
  void CloseFile();

  const std::string path_, head_path_;
  std::mutex mu_;  // one appender per process at a time; flock orders the processes
  int fd_ = -1;
  int head_fd_ = -1;
  bool head_sized_ = false;  // the head file was cut to one record's length by this process
  std::string lines_;        // a batch's lines, under mu_ (kept: no allocation per append)
  // The head after this process's last append; valid while the log still has its size.
  Head cached_;
  bool cached_valid_ = false;

  store::AuditStore* db_ = nullptr;
  std::string where_;
  // The appends waiting, written as one batch by the appender that finds no batch in flight
  // (PERF: one write, or one transaction in the store, for all the entries that arrived
  // during the last one, as the store's group commit does for objects).
  std::mutex batch_mu_;
  std::condition_variable batch_cv_;  // Append's wait for its own entry
  std::vector<Pending> queue_;
  bool flushing_ = false;

  // The lease: the flock on fd_ kept between batches until lease_end_us_ (steady clock; 0
  // with no lease). Under mu_; lease_end_us_ is also read by keeper_, which ends a lease
  // that outlived its time while nothing was appended (log.cc, "Lease").
  bool leased() const { return lease_end_us_.load(std::memory_order_relaxed) != 0; }
  std::atomic<int64_t> lease_end_us_{0};
  int64_t next_lease_us_ = 0;  // no lease starts before this
  std::mutex keeper_mu_;
  std::condition_variable keeper_cv_;  // with keeper_mu_
  bool stopping_ = false;              // under keeper_mu_
  std::thread keeper_;                 // started with the first lease
};

/// Copies every entry of `from` to the end of `to` (empty, or ending where `from` begins),
/// line for line, in batches (`accord store copy`: the chain, its hashes and the checkpoints
/// that vouch for it hold in the copy). Returns how many entries were copied.
absl::StatusOr<uint64_t> CopyLog(Log& from, Log& to);
/// OK when `to` begins with `from`'s entries, byte for byte; DataLoss otherwise.
absl::Status VerifyLogCopy(Log& from, Log& to);

/// The serialised line of `e` (without the newline), with its hash computed over the rest and
/// stored in `e->hash`. `e->seq`, `time` and `prev` must be set.
std::string Serialize(Entry* e);

/// Parses one line: false when it is not an entry of this format (`*why` says which rule).
bool Parse(std::string_view line, Entry* e, std::string* why);

/// The SHA-256 (hex) that `line` should carry as its hash, and whether it ends with a
/// well-formed hash member at all.
bool ComputeHash(std::string_view line, std::string* computed, std::string* stated);

/// Reads the log at `path` and checks every entry: the format, the hash, the sequence (no gap,
/// no repeat, in order) and the chain; then that every anchor's entry is present with the
/// anchor's hash, and that the log does not end before the last anchor (deleted at the tail).
/// A log that starts after seq 1 (purged as whole checkpoints) must start right after an
/// anchor, with that anchor's hash as its `prev`. An I/O error is an error, not a report.
absl::StatusOr<VerifyReport> Verify(const std::string& path, std::vector<Anchor> anchors);

/// Reads the head file written next to the log (absent: nullopt-like Head with seq 0).
absl::StatusOr<Anchor> ReadHeadFile(const std::string& head_path, bool* present);

/// Calls `f` for every entry of the log at `path`, in order, until it returns false. Lines
/// that do not parse are skipped (verify reports them).
absl::Status ForEach(const std::string& path, const std::function<bool(const Entry&)>& f);

}  // namespace accord::audit
