// The ingest path: stages, sources and the import run (include/accord/ingest/ingest.h,
// docs/INGEST.md). The stages run inside the stix reader as its `object_check`, so that a
// refusal is reported exactly like a validation failure: same Problem, same location.
#include "accord/ingest/ingest.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>

#include "accord/common/strings.h"
#include "accord/pattern/pattern.h"
#include "accord/stix/read_lines.h"
#include "accord/store/async_import.h"

namespace accord::ingest {

std::string_view HookName(Hook hook) {
  switch (hook) {
    case Hook::kPatternCheck: return "pattern-check";
    case Hook::kSignature: return "signature";
    case Hook::kIngressPolicy: return "ingress-policy";
    case Hook::kValueIndex: return "value-index";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Stages

namespace {

class PatternCheck final : public Stage {
 public:
  std::string_view Name() const override { return "pattern-check"; }
  absl::Status Check(const stix::ObjectRecord& rec, const Origin&) const override {
    // Other pattern languages (sigma, snort, yara, ...) are carried, not checked: Accord
    // matches only STIX patterns (STIX 2.1 §4.7.3, pattern_type is open vocabulary).
    if (rec.type != "indicator" || rec.pattern_type != "stix") return absl::OkStatus();
    auto p = pattern::ParseAndCheck(rec.pattern);
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          common::Cat("invalid STIX pattern: ", common::View(p.status().message())));
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Stage> PatternCheckStage() {
  static const auto stage = std::make_shared<const PatternCheck>();
  return stage;
}

Pipeline Pipeline::Default() {
  Pipeline p;
  p.Set(Hook::kPatternCheck, PatternCheckStage());
  // kSignature, kIngressPolicy and kValueIndex stay empty until issues 12, 10/12 and 15 fill
  // them (see the Hook enum and docs/INGEST.md).
  return p;
}

void Pipeline::Set(Hook hook, std::shared_ptr<const Stage> stage) {
  slots_[static_cast<int>(hook)] = std::move(stage);
}

absl::Status Pipeline::Check(const stix::ObjectRecord& rec, const Origin& origin) const {
  // Slot order is the array order: cheap local checks first, the expensive (signature) and
  // the stateful ones (policy, index terms) only for objects that passed the earlier ones.
  for (const auto& s : slots_) {
    if (s) ACCORD_RETURN_IF_ERROR(s->Check(rec, origin));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Sources

namespace {

// A source read by one stix:: reader. The reader takes its location prefix from source_name,
// set to the source's name, so that problems say which file or page they came from.
class ReaderSource final : public Source {
 public:
  using ReadFn = std::function<absl::StatusOr<stix::ReadStats>(
      const stix::ReaderOptions&, const stix::ObjectSink&, const stix::ProblemSink&)>;
  ReaderSource(std::string name, ReadFn read) : name_(std::move(name)), read_(std::move(read)) {}
  const std::string& Name() const override { return name_; }
  absl::StatusOr<stix::ReadStats> Read(const stix::ReaderOptions& o,
                                       const stix::ObjectSink& on_object,
                                       const stix::ProblemSink& on_problem) override {
    stix::ReaderOptions ro = o;
    ro.source_name = name_;
    return read_(ro, on_object, on_problem);
  }

 private:
  std::string name_;
  ReadFn read_;
};

// Records validated elsewhere: only the object_check (the pipeline's stages) runs, with the
// location spelt as the reader spells it for a bundle ("name: object #N").
class Records final : public Source {
 public:
  Records(std::string name, std::vector<stix::ObjectRecord> records)
      : name_(std::move(name)), records_(std::move(records)) {}
  const std::string& Name() const override { return name_; }
  absl::StatusOr<stix::ReadStats> Read(const stix::ReaderOptions& o,
                                       const stix::ObjectSink& on_object,
                                       const stix::ProblemSink& on_problem) override {
    stix::ReadStats stats;
    for (size_t i = 0; i < records_.size(); ++i) {
      stix::ObjectRecord& rec = records_[i];
      if (o.object_check) {
        if (absl::Status st = o.object_check(rec); !st.ok()) {
          ++stats.rejected;
          on_problem(
              Problem{common::Cat(name_, ": object #", i + 1), rec.id, std::string(st.message())});
          continue;
        }
      }
      ++stats.objects;
      ACCORD_RETURN_IF_ERROR(on_object(std::move(rec)));
    }
    records_.clear();  // moved out: a Records source is read once
    return stats;
  }

 private:
  std::string name_;
  std::vector<stix::ObjectRecord> records_;
};

// Reads `source` with the pipeline as the reader's object_check, sorting what comes back
// into `checked` and handing accepted objects to `on_object`.
absl::StatusOr<stix::ReadStats> Run(Source& source, const Options& options, Checked* checked,
                                    const stix::ObjectSink& on_object) {
  stix::ReaderOptions ro;
  ro.upgrade_20 = options.upgrade_20;
  ro.max_line_bytes = options.max_line_bytes;
  ro.max_document_bytes = options.max_document_bytes;
  const Pipeline* pipeline = &options.pipeline;
  const Origin* origin = &options.origin;
  ro.object_check = [pipeline, origin](const stix::ObjectRecord& rec) {
    return pipeline->Check(rec, *origin);
  };
  // Problems are both streamed (for progress-style printing) and kept (for the status
  // resource and the final report); the kept list is bounded against hostile input.
  auto on_problem = [&](Problem&& p) {
    if (options.on_problem) options.on_problem(p);
    std::vector<Problem>& into = p.warning ? checked->warnings : checked->problems;
    if (into.size() < kMaxKeptProblems) into.push_back(std::move(p));
  };
  // The value index's terms and the full-text index's fields are derived here, on the reading
  // thread, so that the store's writer only writes them (issues 15 and 16).
  const store::TermDeriver& derive = store::DefaultTermDeriver();
  // PERF: from the reader's parse when a deriver that reads it is installed (a MISP event's
  // report, 7 MB, was parsed twice).
  if (const store::DomTermDeriver& from_dom = store::DefaultDomTermDeriver(); derive && from_dom) {
    ro.with_dom = [&from_dom](const simdjson::dom::object& o, stix::ObjectRecord* rec) {
      if (rec->terms_derived) return;
      from_dom(*rec, o, &rec->index_terms);
      rec->terms_derived = true;
    };
  }
  auto accept = [&](stix::ObjectRecord&& rec) -> absl::Status {
    if (derive && !rec.terms_derived) {
      derive(rec, &rec.index_terms);
      rec.terms_derived = true;
    }
    if (!rec.index_text) rec.index_text = stix::IndexTextOf(rec.json);
    ++checked->accepted;
    ACCORD_RETURN_IF_ERROR(on_object(std::move(rec)));
    if (options.on_accepted) options.on_accepted(checked->accepted);
    return absl::OkStatus();
  };
  ACCORD_ASSIGN_OR_RETURN(stix::ReadStats rs, source.Read(ro, accept, on_problem));
  checked->rejected += rs.rejected;
  checked->upgraded += rs.upgraded;
  return rs;
}

}  // namespace

std::unique_ptr<Source> FileSource(std::string path) {
  std::string name = path;
  return std::make_unique<ReaderSource>(
      std::move(name),
      [path = std::move(path)](const stix::ReaderOptions& o, const stix::ObjectSink& on_object,
                               const stix::ProblemSink& on_problem) {
        return stix::ReadFile(path, o, on_object, on_problem);
      });
}
std::unique_ptr<Source> BufferSource(std::string name, std::string_view data) {
  return std::make_unique<ReaderSource>(
      std::move(name), [data](const stix::ReaderOptions& o, const stix::ObjectSink& on_object,
                              const stix::ProblemSink& on_problem) {
        return stix::ReadBuffer(data, o, on_object, on_problem);
      });
}
std::unique_ptr<Source> JsonLinesSource(std::string name, std::string_view data,
                                        uint64_t first_line, uint64_t first_offset) {
  return std::make_unique<ReaderSource>(
      std::move(name), [data, first_line, first_offset](const stix::ReaderOptions& o,
                                                        const stix::ObjectSink& on_object,
                                                        const stix::ProblemSink& on_problem) {
        return stix::ReadJsonLines(data, first_line, first_offset, /*minified=*/true, o, on_object,
                                   on_problem);
      });
}
std::unique_ptr<Source> EnvelopeSource(std::string name, std::string_view data,
                                       stix::MemberSink on_member) {
  return std::make_unique<ReaderSource>(
      std::move(name), [data, on_member = std::move(on_member)](
                           const stix::ReaderOptions& o, const stix::ObjectSink& on_object,
                           const stix::ProblemSink& on_problem) {
        return stix::ReadEnvelope(common::InputStream::FromBuffer(data), o, on_object, on_problem,
                                  on_member);
      });
}
std::unique_ptr<Source> RecordSource(std::string name, std::vector<stix::ObjectRecord> records) {
  return std::make_unique<Records>(std::move(name), std::move(records));
}

// Everything accepted stays in memory: callers use this for bounded inputs (a POST body is
// capped by max_content_length, a pulled page by its limit).
absl::StatusOr<Checked> CheckSource(Source& source, const Options& options) {
  Checked out;
  auto keep = [&](stix::ObjectRecord&& rec) {
    out.records.push_back(std::move(rec));
    return absl::OkStatus();
  };
  ACCORD_RETURN_IF_ERROR(Run(source, options, &out, keep).status());
  return out;
}

absl::StatusOr<Checked> CheckSourceTo(Source& source, const Options& options,
                                      const stix::ObjectSink& on_record) {
  Checked out;
  ACCORD_RETURN_IF_ERROR(Run(source, options, &out, on_record).status());
  return out;
}

std::string ConflictMessage(common::Micros modified) {
  return common::Cat("version ", common::FormatTimestamp(modified), ": ", store::kConflictMessage);
}

// ---------------------------------------------------------------------------------------------
// Import

// State of one run. `failed` makes the run single-use after an error: a half-read source may
// have queued records that must not be committed.
struct Import::Impl {
  store::Store* store;
  Options options;
  Checked checked;
  std::unique_ptr<store::AsyncImport> txn;  // opened at the first accepted object
  bool failed = false;
  bool finished = false;
  // (accepted count before it, name) per source: names the file of a refused conflict.
  std::vector<std::pair<uint64_t, std::string>> sources;
  // Chunked commits (non-strict runs). `stored` and `chunks_committed` belong to the writer
  // thread (OnCommitted) until txn->Finish() or Abort() has returned.
  store::ImportResult stored;
  uint64_t chunks_committed = 0;
  uint64_t chunk_objects = 0;  // records queued in the producer's current chunk
  std::chrono::steady_clock::time_point chunk_began;

  // Opens the AsyncImport whose writer begins each chunk's transaction and commits it.
  void Open() {
    auto begin = [this]() -> absl::StatusOr<std::unique_ptr<store::ImportTxn>> {
      if (chunks_committed > 0) {
        // Between chunks the write lock is free for a moment, long enough for a writer
        // polling for it (the store's busy handler retries every millisecond) to take it:
        // without the pause, the next chunk would begin microseconds after the commit and
        // a TAXII POST could wait for the whole import anyway.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
      // BeginImport takes the store's write lock and creates the collection (inside the
      // transaction), neither of which a run that accepts nothing should do: the writer
      // calls this at a chunk's first record.
      ACCORD_ASSIGN_OR_RETURN(auto t, store->BeginImport(options.collection));
      const Origin& o = options.origin;
      t->SetWriter(o.principal.empty() ? o.entry_point : o.principal);
      // --strict is all or nothing: a content conflict fails the run (nothing is stored).
      t->SetRefuseConflicts(options.strict);
      return t;
    };
    // PERF: parsing+validation on this thread, SQLite writes and each chunk's commit on the
    // writer (~1.6x; the commit overlapped: see docs/PERFORMANCE.md, issue 11).
    txn = std::make_unique<store::AsyncImport>(std::move(begin),
                                               [this](store::ImportResult&& r, uint64_t first) {
                                                 return OnCommitted(std::move(r), first);
                                               });
    chunk_objects = 0;
    chunk_began = std::chrono::steady_clock::now();
  }

  // On the writer thread, after a chunk committed: its audit entry, and its counts in
  // `stored`.
  absl::Status OnCommitted(store::ImportResult&& r, uint64_t first) {
    ++chunks_committed;
    if (options.audit && r.memberships > 0) {
      audit::Entry e = WriteEntry(options.origin, options.collection, r);
      if (!options.audit_actor.empty()) e.actor = options.audit_actor;
      auto st = options.audit->Append(std::move(e));
      if (!st.ok()) {
        absl::Status stop(
            st.status().code(),
            common::Cat(r.memberships, " version(s) were stored, but the audit log could not be ",
                        "written, so the import stops: ", common::View(st.status().message())));
        Accumulate(std::move(r), first);
        return stop;
      }
    }
    Accumulate(std::move(r), first);
    return absl::OkStatus();
  }

  void Accumulate(store::ImportResult&& r, uint64_t first) {
    stored.added += r.added;
    stored.duplicates += r.duplicates;
    stored.memberships += r.memberships;
    stored.conflicts += r.conflicts;
    for (auto& c : r.conflicting) {
      if (stored.conflicting.size() >= store::ImportResult::kMaxListedConflicts) break;
      c.index += first;  // the store counts from the chunk's first record
      stored.conflicting.push_back(std::move(c));
    }
  }

  // Whether the open chunk has held the write lock long enough.
  bool ChunkFull() const {
    if (options.strict) return false;
    if (options.chunk_objects > 0 && chunk_objects >= options.chunk_objects) return true;
    // PERF: the clock is read every 64 objects (~0.5 ms of work at 130k objects/s), and once
    // the chunk is old enough, whether another writer waits (a lock test: one system call).
    if (options.chunk_seconds > 0 && (chunk_objects & 63) == 0) {
      return std::chrono::steady_clock::now() - chunk_began >
                 std::chrono::duration<double>(options.chunk_seconds) &&
             store->WritersWaiting();
    }
    return false;
  }
};

std::string ActorOf(const Origin& origin) {
  const std::string& p = origin.principal;
  if (origin.entry_point == "import" || origin.entry_point == "node-init") {
    return p.empty() ? "operator" : common::Cat("operator:", p);
  }
  if (origin.entry_point == "taxii-post") return common::Cat("user:", p);
  if (origin.entry_point == "federation-sync") return common::Cat("peer:", p);
  return p.empty() ? origin.entry_point : common::Cat(origin.entry_point, ":", p);
}

audit::Entry WriteEntry(const Origin& origin, const std::string& collection,
                        const store::ImportResult& r) {
  audit::Entry e;
  e.actor = ActorOf(origin);
  e.action = "write";
  e.collection = collection;
  if (origin.entry_point == "federation-sync") e.peer = origin.principal;
  for (const auto& [id, modified] : r.written) {
    e.objects.push_back(id, modified);
  }
  e.detail = common::Cat(origin.entry_point, ": ", r.memberships, " version(s) linked (", r.added,
                         " new), date_added ", r.added_after, " < d <= ", r.added_last);
  if (r.written.size() < r.memberships) {
    e.detail += common::Cat("; the first ", r.written.size(), " listed");
  }
  return e;
}

Import::Import(store::Store* store, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->options = std::move(options);
}

Import::~Import() = default;  // AsyncImport's destructor rolls back an uncommitted run

absl::Status Import::Add(Source& source) {
  Impl& m = *impl_;
  if (m.failed || m.finished) return absl::FailedPreconditionError("import already finished");
  auto on_object = [&m](stix::ObjectRecord&& rec) -> absl::Status {
    if (!m.txn) m.Open();
    m.store->PrepareWrite(&rec);  // PERF: hashes, index keys and text off the writer thread
    ACCORD_RETURN_IF_ERROR(m.txn->Add(std::move(rec)));
    ++m.chunk_objects;
    // Non-strict runs commit in chunks, so that other writers wait about chunk_seconds at
    // most; a strict run is one transaction (all or nothing) and holds them off throughout.
    if (m.ChunkFull()) {
      ACCORD_RETURN_IF_ERROR(m.txn->EndChunk());
      m.chunk_objects = 0;
      m.chunk_began = std::chrono::steady_clock::now();
    }
    return absl::OkStatus();
  };
  m.sources.emplace_back(m.checked.accepted, source.Name());
  auto st = Run(source, m.options, &m.checked, on_object);
  if (!st.ok()) {
    m.failed = true;
    if (m.txn) m.txn->Abort();
    m.txn.reset();
    if (m.chunks_committed > 0) {
      return absl::Status(st.status().code(),
                          common::Cat(common::View(st.status().message()), " (", m.stored.added,
                                      " new version(s) of earlier chunks stay committed)"));
    }
    return st.status();
  }
  return absl::OkStatus();
}

// Decides whether to commit: a strict run with refusals and a run that accepted nothing store
// nothing; the transaction is rolled back (or was never opened) and no collection appears.
absl::StatusOr<Result> Import::Finish() {
  Impl& m = *impl_;
  if (m.failed || m.finished) return absl::FailedPreconditionError("import already finished");
  m.finished = true;
  Result r;
  if (m.options.strict && m.checked.rejected > 0) {
    r.not_committed_why =
        common::Cat("--strict: ", m.checked.rejected, " object(s) rejected, nothing was stored");
  } else if (!m.txn) {
    r.not_committed_why = "no object was accepted, nothing was stored";
  } else {
    ACCORD_RETURN_IF_ERROR(m.txn->Finish());
    r.stored = std::move(m.stored);
    r.committed = true;
    // Versions the store refused as content conflicts (issue 10) are refusals like any other:
    // reported with the file they came from, and the run exits non-zero.
    for (const store::ContentConflict& c : r.stored.conflicting) {
      std::string where = m.options.collection;
      for (const auto& [first, name] : m.sources) {
        if (c.index >= first) where = name;
      }
      if (m.checked.problems.size() < kMaxKeptProblems) {
        m.checked.problems.push_back(Problem{where, c.id, ConflictMessage(c.modified)});
      }
    }
    m.checked.rejected += r.stored.conflicts;
    m.checked.accepted -= std::min(m.checked.accepted, r.stored.conflicts);
  }
  if (m.txn && !r.committed) m.txn->Abort();
  m.txn.reset();
  r.checked = std::move(m.checked);
  return r;
}

}  // namespace accord::ingest
