// The one ingest path (docs/INGEST.md). Every way an object enters a node — `accord import`,
// a TAXII POST, `accord taxii pull`, and later federation and the MISP, list and text
// importers — runs the same stages, in this order:
//
//   read -> validate (stix::) -> pattern check -> signature -> ingress policy -> value-index
//   terms -> one store transaction
//
// An importer only supplies a Source (a file, a buffer, or records it already read through
// stix::); everything after that is shared, so the same bad object is refused with the same
// message whichever door it came through.
//
// Thread safety: a Pipeline is immutable once built and may be shared by threads (its stages
// must be thread-safe). An Import run is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/stix/object.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"

namespace accord::ingest {

using Problem = stix::Problem;

/// Which door objects came through, and who is behind it. Stages may decide on it (the
/// ingress policy will refuse what a peer's agreement does not allow).
struct Origin {
  std::string entry_point = "import";  // "import", "taxii-post", "taxii-pull", ...
  std::string principal;               // local user (POST), remote API root (pull); may be empty
};

/// One check every object passes after it was read and validated. Check() returns OK to
/// accept the object, or an error whose message is the reason reported for it (the same text
/// at every entry point). Implementations must be thread-safe (TAXII POSTs run concurrently).
class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view Name() const = 0;
  virtual absl::Status Check(const stix::ObjectRecord& record, const Origin& origin) const = 0;
};

/// The ordered slots of the pipeline. This is the extension point: an issue that adds a
/// check installs its Stage in its slot (Pipeline::Set), and every entry point runs it.
enum class Hook : int {
  kPatternCheck = 0,   // issue 9 (here): STIX Patterning parse + type check of indicators
  kSignature = 1,      // issue 12 (federation): verify the originator's Ed25519 signature
  kIngressPolicy = 2,  // issues 10/12: write boundaries, content conflicts, peer agreements
  kValueIndex = 3,     // issue 15 (correlation): derive value-index terms for the object
};
inline constexpr int kHookCount = 4;

/// Name of a hook slot, for messages and docs ("pattern-check", "signature", ...).
std::string_view HookName(Hook hook);

/// The stages in their slots. Copyable value; empty slots are skipped.
class Pipeline {
 public:
  /// What every node runs today: the pattern check; the other slots are empty.
  static Pipeline Default();

  /// Puts `stage` in `hook`'s slot (replacing what was there; nullptr empties it).
  void Set(Hook hook, std::shared_ptr<const Stage> stage);
  const Stage* Get(Hook hook) const { return slots_[static_cast<int>(hook)].get(); }

  /// Runs the stages in slot order; the first refusal is returned.
  absl::Status Check(const stix::ObjectRecord& record, const Origin& origin) const;

 private:
  std::array<std::shared_ptr<const Stage>, kHookCount> slots_;
};

/// The pattern-check stage: an indicator whose pattern_type is "stix" must carry a pattern
/// that parses and type-checks. Refuses with "invalid STIX pattern: <the checker's reason>".
std::shared_ptr<const Stage> PatternCheckStage();

/// Where objects come from. An importer implements this (or uses one of those below) and
/// hands it to Import::Add or CheckSource; reading is the only thing it does.
class Source {
 public:
  virtual ~Source() = default;
  /// Used in problem locations ("file: object #N").
  virtual const std::string& Name() const = 0;
  /// Streams each validated object to `on_object` and each problem to `on_problem`, applying
  /// `options` (which carries the pipeline as its object_check). Errors: the input cannot be
  /// read at all, or a sink failed.
  virtual absl::StatusOr<stix::ReadStats> Read(const stix::ReaderOptions& options,
                                               const stix::ObjectSink& on_object,
                                               const stix::ProblemSink& on_problem) = 0;
};

/// A file ("-": standard input): bundle, object, array or JSON lines, gzip or plain.
std::unique_ptr<Source> FileSource(std::string path);
/// Content in memory (a POST body's objects array, a pulled page); `data` must outlive Read.
std::unique_ptr<Source> BufferSource(std::string name, std::string_view data);
/// Minified JSON lines in memory, numbered as lines `first_line`, ... of a larger input that
/// starts at byte `first_offset` (a converted unit handed over in batches: problems are located
/// as when the whole unit is read at once). `data` must outlive Read.
std::unique_ptr<Source> JsonLinesSource(std::string name, std::string_view data,
                                        uint64_t first_line, uint64_t first_offset);
/// A TAXII envelope in memory (a pulled page), streamed: its objects one at a time, and every
/// other member (`more`, `next`) to `on_member` (stix::ReadEnvelope). `data` must outlive Read.
std::unique_ptr<Source> EnvelopeSource(std::string name, std::string_view data,
                                       stix::MemberSink on_member);
/// Records already read and validated through stix:: (e.g. converted by an importer); only
/// the pipeline's stages run on them.
std::unique_ptr<Source> RecordSource(std::string name, std::vector<stix::ObjectRecord> records);

struct Options {
  std::string collection = "default";  // id or alias; created when the first object commits
  Origin origin;
  bool upgrade_20 = true;  // upgrade STIX 2.0 content (else refuse it)
  bool strict = false;     // Import: any refused object stores nothing
  /// Input bounds (stix::ReaderOptions): longest JSON line, largest whole document.
  uint64_t max_line_bytes = stix::ReaderOptions{}.max_line_bytes;
  uint64_t max_document_bytes = stix::ReaderOptions{}.max_document_bytes;
  /// Import without `strict`: the run commits every `chunk_objects` accepted objects, and
  /// after `chunk_seconds` of work when another writer waits for the write lock
  /// (Store::WritersWaiting: a TAXII POST, another import), so that other writers wait at
  /// most about that long. 0 disables a bound. A strict run is one transaction whatever these
  /// say (it is all or nothing).
  /// PERF: each commit writes most of the random indexes' pages again (objects_key,
  /// value_keys) and copies them at the next checkpoint: a 1M-object import that committed
  /// every second spent ~20% of its writer thread committing. So the time bound applies only
  /// when someone waits, and the count bounds a chunk's size (docs/PERFORMANCE.md, "December
  /// 6, later"). PERF: 1,000,000 rather than 250,000: a 1M-indicator import 4-6% faster and
  /// 9 MB smaller (one commit, one checkpoint); the write-ahead log grows to about a chunk's
  /// pages (~360 MB for 1M indicators) before the checkpoint that follows each commit
  /// (docs/PERFORMANCE.md, "December 6, evening").
  uint64_t chunk_objects = 1000000;
  double chunk_seconds = 1.0;
  Pipeline pipeline = Pipeline::Default();
  /// Called for every refusal and warning as it happens (optional). Problems are also kept
  /// in the result (the first kMaxKeptProblems).
  std::function<void(const Problem&)> on_problem;
  /// Called after each accepted object with the running count (optional; progress display).
  std::function<void(uint64_t accepted)> on_accepted;
  /// The node's audit log (issue 13): Import appends one "write" entry per committed
  /// transaction, naming the actor (ActorOf(origin)), the collection and the versions linked
  /// into it. Null: no entry (tests, library use).
  audit::Log* audit = nullptr;
  /// The actor those entries name; empty: ActorOf(origin).
  std::string audit_actor;
};

/// The audit log's actor for writes from `origin`: "operator:NAME" for the CLI, "user:NAME"
/// for a TAXII POST, "peer:NAME" for federation, "ENTRY-POINT:PRINCIPAL" otherwise.
std::string ActorOf(const Origin& origin);

/// The audit entry of one committed write into `collection`.
audit::Entry WriteEntry(const Origin& origin, const std::string& collection,
                        const store::ImportResult& r);

inline constexpr size_t kMaxKeptProblems = 100000;

/// What a source (or a whole run) yielded before storing.
struct Checked {
  std::vector<stix::ObjectRecord> records;  // accepted, in input order (CheckSource only)
  std::vector<Problem> problems;            // refusals, in input order
  std::vector<Problem> warnings;            // findings on accepted objects
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t upgraded = 0;
};

/// Read -> validate -> stages, without storing: for entry points that commit through a
/// store::GroupCommitter (TAXII POST, pull). The caller stores `records` (all or none).
absl::StatusOr<Checked> CheckSource(Source& source, const Options& options);
/// CheckSource handing each accepted record to `on_record` as it is read, instead of keeping
/// them (`records` stays empty): a caller commits them in chunks. An error from `on_record`
/// stops the read and is returned.
absl::StatusOr<Checked> CheckSourceTo(Source& source, const Options& options,
                                      const stix::ObjectSink& on_record);

/// The refusal of a version whose (id, modified) is stored with other content, as `accord
/// import` and TAXII statuses report it: "version <modified>: ... exists with different
/// content ...". It names no stored content.
std::string ConflictMessage(common::Micros modified);

/// Outcome of an Import run.
struct Result {
  Checked checked;         // records is empty: they went to the store; content conflicts the store
                           // refused are among `problems` (and counted in `rejected`)
  bool committed = false;  // false: nothing stored, no collection created
  std::string not_committed_why;  // when !committed: "nothing accepted", "--strict: ..."
  store::ImportResult stored;     // valid when committed
};

/// One import run over any number of sources into one transaction (store::AsyncImport, so
/// reading overlaps the writes). The transaction is opened at the first accepted object, so
/// a run that accepts nothing creates no collection and holds no store lock.
class Import {
 public:
  Import(store::Store* store, Options options);
  ~Import();  // rolls back unless Finish committed

  /// Reads one source into the run. An error (unreadable input, store failure) fails the
  /// whole run: Finish must not be called, and nothing is stored.
  absl::Status Add(Source& source);

  /// Commits everything accepted as one transaction, unless nothing was accepted or
  /// `strict` and something was refused (then nothing is stored).
  absl::StatusOr<Result> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::ingest
