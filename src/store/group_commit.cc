// The group committer (include/accord/store/group_commit.h): one thread turns the queue of
// small writes into as few transactions as it can, without letting one bad request fail the
// others.
#include "accord/store/group_commit.h"

#include <cstdio>
#include <exception>
#include <future>

#include "absl/container/flat_hash_set.h"
#include "accord/common/strings.h"

namespace accord::store {

GroupCommitter::GroupCommitter(store::Store* store) : store_(store), thread_([this] { Loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();  // commits what is queued first
}

void GroupCommitter::Submit(std::string collection, std::vector<stix::ObjectRecord> records,
                            Done done, std::string writer) {
  std::unique_lock<std::mutex> l(mu_);
  // Backpressure: wait for room; an empty queue always takes the job (a single job may
  // be larger than the cap).
  space_.wait(l, [&] { return failed_ || queued_ < kMaxQueuedRecords || queue_.empty(); });
  if (failed_) {
    l.unlock();
    Call(done, absl::InternalError("the group committer has stopped after an error"));
    return;
  }
  queued_ += records.size();
  queue_.push_back(
      Job{std::move(collection), std::move(records), std::move(done), std::move(writer)});
  cv_.notify_one();
}

// The thread's top: nothing escapes it (an exception leaving a std::thread terminates the
// process, taking every connection with it).
void GroupCommitter::Loop() {
  try {
    Run();
  } catch (const std::exception& e) {
    FailAll(e.what());
  } catch (...) {
    FailAll("unknown exception");
  }
}

void GroupCommitter::FailAll(std::string_view why) {
  std::fprintf(stderr, "accord: group committer stopped: %s\n", std::string(why).c_str());
  std::deque<Job> jobs;
  {
    std::lock_guard<std::mutex> l(mu_);
    failed_ = true;
    jobs.swap(queue_);
    queued_ = 0;
  }
  space_.notify_all();
  for (auto& j : jobs) Call(j.done, absl::InternalError(common::Cat("group committer: ", why)));
}

void GroupCommitter::Call(const Done& done, const absl::StatusOr<ImportResult>& result) {
  try {
    done(result);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accord: group committer: completion failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "accord: group committer: completion failed\n");
  }
}

void GroupCommitter::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    // Take the longest prefix of the queue that shares the first job's collection and fits in
    // kMaxGroupRecords (a transaction writes into one collection).
    std::vector<Job> group;
    size_t n = 0;
    while (!queue_.empty()) {
      const Job& j = queue_.front();
      if (!group.empty() &&
          (j.collection != group[0].collection || n + j.records.size() > kMaxGroupRecords)) {
        break;
      }
      n += j.records.size();
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    l.unlock();  // Submit may queue more while this group is written
    std::vector<absl::StatusOr<ImportResult>> results(group.size());
    absl::StatusOr<ImportResult> st = Write(group, 0, group.size());
    if (!st.ok() && group.size() > 1) {
      // One request's records must not fail another's: retry each alone.
      for (size_t i = 0; i < group.size(); ++i) results[i] = Write(group, i, i + 1);
    } else {
      for (auto& r : results) r = st;
      // Each request sees only its own refused conflicts (its TAXII status lists them), with
      // indexes into its own records.
      if (st.ok() && group.size() > 1) {
        uint64_t begin = 0;
        for (size_t i = 0; i < group.size(); ++i) {
          uint64_t end = begin + group[i].records.size();
          ImportResult& mine = *results[i];
          mine.conflicting.clear();
          for (const ContentConflict& c : st->conflicting) {
            if (c.index >= begin && c.index < end) {
              mine.conflicting.push_back({c.id, c.modified, c.index - begin});
            }
          }
          mine.conflicts = mine.conflicting.size();
          // Its own written versions too (the audit log names who wrote what).
          absl::flat_hash_set<std::pair<std::string_view, int64_t>> own;
          for (const auto& r : group[i].records) own.emplace(r.id, r.modified);
          mine.written.clear();
          for (const auto& w : st->written) {
            if (own.contains(std::pair<std::string_view, int64_t>(w.first, w.second))) {
              mine.written.push_back(w);
            }
          }
          // Exact while the shared list was not cut; else an upper bound.
          mine.memberships = st->written.size() < ImportResult::kMaxListedWritten
                                 ? mine.written.size()
                                 : std::min<uint64_t>(mine.memberships, group[i].records.size());
          begin = end;
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) Call(group[i].done, results[i]);
    l.lock();
    queued_ -= n;
    space_.notify_all();
  }
}

absl::StatusOr<ImportResult> GroupCommitter::Commit(std::string collection,
                                                    std::vector<stix::ObjectRecord> records,
                                                    std::string writer) {
  std::promise<absl::StatusOr<ImportResult>> done;
  auto result = done.get_future();
  Submit(
      std::move(collection), std::move(records),
      [&done](const absl::StatusOr<ImportResult>& r) { done.set_value(r); }, std::move(writer));
  return result.get();
}

absl::StatusOr<ImportResult> GroupCommitter::Write(const std::vector<Job>& group, size_t begin,
                                                   size_t end) {
  // A store that throws fails this group only (its transaction object rolls back as it is
  // destroyed); the committer carries on with the next.
  try {
    ACCORD_ASSIGN_OR_RETURN(auto txn, store_->BeginImport(group[begin].collection));
    for (size_t i = begin; i < end; ++i) {
      if (!group[i].writer.empty()) txn->SetWriter(group[i].writer);
      for (const auto& r : group[i].records) ACCORD_RETURN_IF_ERROR(txn->Add(r));
    }
    return txn->Commit();
  } catch (const std::exception& e) {
    return absl::InternalError(common::Cat("store write threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("store write threw an unknown exception");
  }
}

}  // namespace accord::store
