// `accord match`: active indicators from the store against telemetry files or stdin.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_join.h"
#include "accord/audit/log.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/formats/text.h"
#include "accord/formats/warninglist.h"
#include "accord/ingest/ingest.h"
#include "accord/match/engine.h"
#include "accord/match/input.h"
#include "accord/match/match_line.h"
#include "accord/match/origin.h"
#include "accord/match/program_image.h"
#include "accord/match/runner.h"
#include "accord/match/sightings.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"
#include "accord/stream/jetstream.h"
#include "cli/cli.h"
#include "cli/formats_cli.h"
#include "cli/match_config.h"

namespace accord::cli {

namespace {

// True when one of a match's values is on a warninglist; counts the match under each list.
bool SuppressedByWarninglist(const formats::WarninglistSet& lists,
                             const std::vector<std::string>& values,
                             std::map<std::string, uint64_t>* per_list) {
  for (const std::string& raw : values) {
    auto v = formats::ClassifyToken(raw);
    if (!v) continue;
    auto hits = lists.Match(*v);
    if (hits.empty()) continue;
    for (auto h : hits) ++(*per_list)[std::string(h)];
    return true;
  }
  return false;
}

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct MatchFlags {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string mapping;
  bool follow = false;
  bool sightings = false;
  std::string sightings_collection = "sightings";
  bool compat_within = false;
  double reload_interval = 5;      // --follow: seconds between checks of the store's generation
  double sightings_interval = 10;  // --follow --sightings: seconds between writes of closed buckets
  uint64_t max_gzip_bytes = common::InputLimits{}.max_decompressed_bytes;
  uint64_t max_gzip_ratio = common::InputLimits{}.max_ratio;
  int threads = 2;  // 1: read and match on one thread; 2: parsing runs ahead on another
  bool no_cache = false;
  // A stream worker (issue 17): telemetry from NATS JetStream instead of files.
  std::string from;  // nats://HOST:PORT
  std::string stream = "TELEMETRY";
  std::string subject;
  std::string durable;
  std::string publish;            // subject for match lines (exactly once in effect), or none
  int batch = 1000;               // messages fetched at a time: one ledger transaction each
  double ack_wait = 30;           // seconds before an unacknowledged message goes to another worker
  double idle_exit = 0;           // exit after this many seconds without a message (0: never)
  double sighting_bucket = 3600;  // seconds per sighting bucket
};

// Match output and sightings leave through the egress gate (docs/EGRESS.md). A match line
// names an indicator, so the gate decides per indicator when the engine is built (an
// indicator it withholds is not compiled); a sighting refers to an indicator, so each one is
// admitted before it is written. The exits are checked as a whole before the run starts and
// again whenever the gate's generation changes (lockdown switched while following).
struct MatchEgress {
  std::unique_ptr<policy::Gate> gate;
  policy::Audience output = policy::Audience::Sensor("accord match output");
  policy::Audience sightings;

  match::IndicatorFilter Filter() {
    return [this](const store::StoredObject& o) {
      return gate->Admit(o, output, policy::Exit::kMatchOutput).allowed();
    };
  }
  match::SightingEgress Sightings() {
    return [this](const std::string& json) -> std::optional<std::string> {
      if (!gate->CheckExit(sightings, policy::Exit::kSightings).ok()) return std::nullopt;
      nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
      store::StoredObject o;
      o.type = "sighting";
      if (j.is_object()) o.id = j.value("id", std::string());
      o.json = json;
      policy::Decision d = gate->Admit(o, sightings, policy::Exit::kSightings);
      if (!d.allowed()) return std::nullopt;
      return d.verdict == policy::Decision::Verdict::kReplace ? d.json : json;
    };
  }
};

// Match output and sightings in the node's audit log (issue 13, point 7). Lines are recorded
// after they are printed, batched: one entry per run, and under --follow one at least every
// kFlushInterval while lines are printed. An entry lists the indicator versions the lines named
// (the newest stored version of each: the one the program holds unless a reload is pending)
// and how many lines; it fails the run when it cannot be written. Each sightings write is a
// "write" entry, as an import's.
struct MatchAudit {
  static constexpr std::chrono::seconds kFlushInterval{10};
  std::unique_ptr<audit::Log> log;
  std::string operator_name = OperatorName();
  // indicator id -> lines since the last entry. PERF: one hash probe per printed line.
  absl::flat_hash_map<std::string, uint64_t> named;
  uint64_t lines = 0;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();

  void Note(const std::string& id) {
    ++named[id];
    ++lines;
  }
  bool Due() const {
    return !named.empty() && std::chrono::steady_clock::now() - last > kFlushInterval;
  }

  absl::Status Flush(store::Store& store, const std::vector<std::string>& files) {
    last = std::chrono::steady_clock::now();
    if (named.empty()) return absl::OkStatus();
    audit::Entry e;
    e.actor = common::Cat("operator:", operator_name);
    e.action = "egress";
    e.exit = std::string(policy::ExitName(policy::Exit::kMatchOutput));
    std::vector<std::string> ids;
    ids.reserve(named.size());
    for (const auto& kv : named) ids.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    ACCORD_ASSIGN_OR_RETURN(std::vector<common::Micros> modified,
                            match::NewestModified(store, ids));
    e.objects.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (modified[i] != 0) {
        e.objects.push_back(ids[i], modified[i]);
      } else {
        e.objects.push_back(ids[i], std::string_view("unknown (no longer stored)"));
      }
    }
    e.detail = common::Cat(lines, " match line(s) naming ", named.size(),
                           " indicator(s), to standard output; input ", absl::StrJoin(files, ", "));
    named.clear();
    lines = 0;
    absl::StatusOr<uint64_t> seq = log->Append(std::move(e));
    if (!seq.ok()) {
      return absl::Status(seq.status().code(),
                          common::Cat("the audit log could not record match output: ",
                                      common::View(seq.status().message())));
    }
    return absl::OkStatus();
  }

  absl::Status Sightings(const std::string& collection, const store::ImportResult& r) {
    if (r.written.empty()) return absl::OkStatus();
    ingest::Origin origin;
    origin.entry_point = "match-sightings";
    origin.principal = operator_name;
    return log->Append(ingest::WriteEntry(origin, collection, r)).status();
  }
};

// The node's identity, which sightings are made by (and their ids derived from): drawn once,
// by whichever process needs it first. Workers that start together agree on it (issue 17: two
// identities gave every (indicator, bucket) two sightings, and counts summed twice).
absl::StatusOr<std::string> NodeIdentity(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(auto ident, store.GetSetting("node.identity"));
  if (ident.has_value()) return *ident;
  return store.PutSettingIfAbsent("node.identity", "identity--" + common::NewUuid4());
}

// What both paths (files, and the stream worker) do with each match, in this order: the egress
// gate's exit for match output (checked again only when the gate changed, PERF: an atomic
// load), the node's warninglists (a value on one never becomes an alert, issue 15: the match is
// suppressed and counted under the list's name), the match line on standard output (where the
// indicator comes from and its name, kept in the program: no store read, issue 11), and its note
// for the audit log.
class MatchOutput {
 public:
  MatchOutput(MatchEgress* egress, const formats::WarninglistSet* warninglists, MatchAudit* audit,
              store::Store* store)
      : egress_(egress),
        warninglists_(warninglists),
        audit_(audit),
        origins_(store),
        generation_(egress->gate->generation()) {}

  // The indicator id of a match whose line was printed (line() holds it), or nullptr for one
  // withheld by the gate or suppressed by a warninglist (counted).
  absl::StatusOr<const std::string*> Emit(const match::Engine& e, const match::MatchResult& m,
                                          std::string_view input, common::Micros time) {
    if (uint64_t gen = egress_->gate->generation(); gen != generation_) {
      generation_ = gen;
      absl::Status open = egress_->gate->CheckExit(egress_->output, policy::Exit::kMatchOutput);
      if (open_ && !open.ok()) std::cerr << "accord: " << open.message() << "\n";
      open_ = open.ok();
    }
    if (!open_) {
      ++withheld_;
      return nullptr;
    }
    if (warninglists_->size() > 0 &&
        SuppressedByWarninglist(*warninglists_, m.values, &suppressed_per_list_)) {
      ++suppressed_;
      return nullptr;
    }
    const match::Program& program = *e.program();
    ACCORD_ASSIGN_OR_RETURN(const match::IndicatorOrigin* origin,
                            origins_.Find(program, m.indicator));
    const std::string& id = e.IndicatorId(m.indicator);
    line_.clear();
    match::AppendMatchLine(
        {id, &m.values, &m.events, input, time, origin, program.Name(m.indicator)}, &line_);
    fwrite(line_.data(), 1, line_.size(), stdout);
    audit_->Note(id);
    return &id;
  }

  const std::string& line() const { return line_; }

  // At the end of a run: says what the warninglists suppressed, per list, and fails when the gate
  // withheld match lines or sightings (`sightings_withheld`); else OK.
  absl::Status Finish(uint64_t sightings_withheld) const {
    if (suppressed_ > 0) {
      std::cerr << "accord: " << suppressed_ << " match(es) suppressed: values on warninglists (";
      bool first = true;
      for (const auto& [name, n] : suppressed_per_list_) {
        std::cerr << (first ? "" : ", ") << name << ": " << n;
        first = false;
      }
      std::cerr << ")\n";
    }
    if (withheld_ == 0 && sightings_withheld == 0) return absl::OkStatus();
    return absl::PermissionDeniedError(common::Cat(withheld_, " match line(s) and ",
                                                   sightings_withheld,
                                                   " sighting(s) withheld by the egress gate"));
  }

 private:
  MatchEgress* egress_;
  const formats::WarninglistSet* warninglists_;
  MatchAudit* audit_;
  match::IndicatorOrigins origins_;  // forgotten when a reload brings another program
  uint64_t generation_;
  bool open_ = true;
  uint64_t withheld_ = 0, suppressed_ = 0;
  std::map<std::string, uint64_t> suppressed_per_list_;
  std::string line_;
};

// ---- The stream worker (issue 17) ---------------------------------------------------------------

// Messages of a JetStream consumer as one input stream, each message one line, for the
// telemetry readers. The readers ask for more bytes only when every complete line they hold
// has been handed out as an event and matched; so when a message is used up and the next one
// is wanted, every message before it is done, and `checkpoint` runs (the matches become
// durable) before those messages are acknowledged. A worker killed at any point leaves
// unacknowledged only messages whose matches may not be durable: they are delivered again,
// and the ledger counts each (event, indicator) once.
class MessageFeed {
 public:
  MessageFeed(stream::Consumer* consumer, int batch, double idle_exit,
              std::function<absl::Status()> checkpoint)
      : consumer_(consumer),
        batch_size_(batch),
        idle_exit_(idle_exit),
        checkpoint_(std::move(checkpoint)) {}

  /// The stream sequence of the message whose bytes were handed out last.
  uint64_t current() const { return current_; }
  uint64_t received() const { return received_; }
  uint64_t redelivered() const { return redelivered_; }
  uint64_t empty() const { return empty_; }

  /// Waits for the first message (for format detection) without handing it out. nullopt when
  /// the run ends first.
  absl::StatusOr<std::optional<std::string>> PeekFirst() {
    ACCORD_ASSIGN_OR_RETURN(bool got, Refill());
    if (!got) return std::nullopt;
    return std::string(batch_[next_].data());
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) {
    while (pos_ >= text_.size()) {
      if (next_ >= batch_.size()) {
        ACCORD_ASSIGN_OR_RETURN(bool got, Refill());
        if (!got) return 0;
      }
      stream::Message& m = batch_[next_++];
      current_ = m.stream_sequence();
      // One message, one line: line breaks inside it (a pretty-printed event) become spaces,
      // which JSON allows between tokens and cannot hold inside strings.
      text_.assign(m.data());
      // PERF: most messages hold no line break: two memchr scans, not a loop over each byte.
      if (text_.find('\n') != std::string::npos || text_.find('\r') != std::string::npos) {
        for (char& c : text_) {
          if (c == '\n' || c == '\r') c = ' ';
        }
      }
      text_.push_back('\n');
      pos_ = 0;
    }
    size_t k = std::min(n, text_.size() - pos_);
    memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }

  /// Makes what was matched durable and acknowledges every message handed out.
  absl::Status Checkpoint() {
    if (batch_.empty()) return absl::OkStatus();
    ACCORD_RETURN_IF_ERROR(checkpoint_());
    for (size_t i = 0; i < next_; ++i) {
      // A lost acknowledgement only means one more delivery, which the ledger absorbs.
      if (absl::Status a = batch_[i].Ack(); !a.ok()) {
        std::cerr << "accord: warning: " << a.message() << "\n";
      }
    }
    batch_.erase(batch_.begin(), batch_.begin() + static_cast<std::ptrdiff_t>(next_));
    next_ = 0;
    return absl::OkStatus();
  }

 private:
  // Checkpoints, then fetches until a non-empty message comes (true), the run is stopped or
  // the stream stayed idle for idle_exit_ seconds (false).
  absl::StatusOr<bool> Refill() {
    if (next_ < batch_.size()) return true;
    ACCORD_RETURN_IF_ERROR(Checkpoint());
    auto idle_since = std::chrono::steady_clock::now();
    for (;;) {
      if (g_stop) return false;
      size_t before = batch_.size();
      ACCORD_RETURN_IF_ERROR(consumer_->Fetch(batch_size_, 500, &batch_));
      // Empty messages carry no event: counted, acknowledged and dropped.
      for (size_t i = before; i < batch_.size();) {
        ++received_;
        if (batch_[i].delivered() > 1) ++redelivered_;
        if (batch_[i].data().find_first_not_of(" \t\r\n") == std::string_view::npos) {
          ++empty_;
          (void)batch_[i].Ack();
          batch_.erase(batch_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      if (!batch_.empty()) return true;
      if (idle_exit_ > 0 && std::chrono::steady_clock::now() - idle_since >
                                std::chrono::duration<double>(idle_exit_)) {
        return false;
      }
    }
  }

  stream::Consumer* consumer_;
  int batch_size_;
  double idle_exit_;
  std::function<absl::Status()> checkpoint_;
  std::vector<stream::Message> batch_;
  size_t next_ = 0;  // batch_[0, next_) handed out
  std::string text_;
  size_t pos_ = 0;
  uint64_t current_ = 0, received_ = 0, redelivered_ = 0, empty_ = 0;
};

class FeedStream final : public common::InputStream {
 public:
  explicit FeedStream(MessageFeed* feed) : feed_(feed) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override { return feed_->Read(buf, n); }

 private:
  MessageFeed* feed_;
};

// What RunMatch has set up, for the stream worker.
struct WorkerEnv {
  const MatchFlags& f;
  store::Store& store;
  MatchEgress& egress;
  MatchAudit& audit;
  const formats::WarninglistSet& warninglists;
  match::InputFormat format;
  const match::FieldMapping* mapping;
  match::Reloader* reloader;
  const std::string& identity;
  std::unique_ptr<match::Engine> engine;
};

// `accord match --from nats://...`: one worker of a consumer group. Each event's matches go
// to the store's match ledger (each (event, indicator) once, store::MatchLedger) and, with
// --sightings, into sightings recomputed from the ledger's tallies, before the event's message
// is acknowledged; with --publish, match lines also go to a subject, each with a message id
// the stream deduplicates on. Match lines on standard output are at least once (a redelivered
// event prints again); the ledger, the sightings and the published lines are exactly once in
// effect. docs/SCALE_OUT.md.
int RunWorker(WorkerEnv& w) {
  const MatchFlags& f = w.f;
  if (f.subject.empty() || f.durable.empty()) {
    return Fail(absl::InvalidArgumentError("--from needs --subject and --durable"));
  }
  if (!f.files.empty()) {
    return Fail(absl::InvalidArgumentError("--from reads the stream: give no input files"));
  }
  if (w.format == match::InputFormat::kStix) {
    return Fail(absl::InvalidArgumentError(
        "--from: STIX observed-data is not read from a stream (Zeek, EVE or JSON events)"));
  }
  store::MatchLedger* ledger = w.store.matches();
  if (ledger == nullptr) {
    return Fail(absl::UnimplementedError("this store has no match ledger"));
  }
  auto js = stream::JetStream::Connect(f.from);
  if (!js.ok()) return Fail(js.status());
  if (absl::Status s = (*js)->EnsureStream(f.stream, f.subject); !s.ok()) return Fail(s);
  stream::ConsumerOptions co;
  co.stream = f.stream;
  co.subject = f.subject;
  co.durable = f.durable;
  co.ack_wait_s = f.ack_wait;
  auto consumer = (*js)->Consume(co);
  if (!consumer.ok()) return Fail(consumer.status());
  if (!f.publish.empty()) {
    if (absl::Status s = (*js)->EnsureStream(f.stream + "_MATCHES", f.publish); !s.ok()) {
      return Fail(s);
    }
  }
  const common::Micros bucket = static_cast<common::Micros>(f.sighting_bucket * 1e6);
  std::vector<store::MatchRecord> pending;
  uint64_t recorded = 0, duplicates = 0, sightings_written = 0, sightings_withheld = 0;
  uint64_t checkpoints = 0;
  auto checkpoint = [&]() -> absl::Status {
    ++checkpoints;
    if (!f.publish.empty()) ACCORD_RETURN_IF_ERROR((*js)->Flush());
    if (pending.empty()) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(std::vector<size_t> fresh, ledger->Record(pending));
    recorded += fresh.size();
    duplicates += pending.size() - fresh.size();
    if (f.sightings) {
      // Every bucket the batch touched, not only those with new records: a batch delivered
      // again after its sightings failed to be written writes them now.
      std::vector<std::pair<std::string, common::Micros>> keys;
      absl::flat_hash_set<std::pair<std::string, common::Micros>> seen;
      for (const store::MatchRecord& r : pending) {
        common::Micros b = match::BucketStart(r.time, bucket);
        if (seen.insert({r.indicator, b}).second) keys.emplace_back(r.indicator, b);
      }
      ACCORD_ASSIGN_OR_RETURN(std::vector<store::MatchTally> tallies, ledger->Tally(bucket, keys));
      std::vector<std::string> objs;
      objs.reserve(tallies.size());
      for (const store::MatchTally& t : tallies)
        objs.push_back(match::TallySighting(t, w.identity));
      store::ImportResult written;
      ACCORD_ASSIGN_OR_RETURN(
          uint64_t n, match::WriteSightings(w.store, f.sightings_collection, objs,
                                            w.egress.Sightings(), &sightings_withheld, &written));
      sightings_written += n;
      ACCORD_RETURN_IF_ERROR(w.audit.Sightings(f.sightings_collection, written));
    }
    pending.clear();
    fflush(stdout);
    if (w.audit.Due()) ACCORD_RETURN_IF_ERROR(w.audit.Flush(w.store, {f.from}));
    return absl::OkStatus();
  };
  MessageFeed feed(consumer->get(), f.batch, f.idle_exit, checkpoint);
  match::InputFormat format = w.format;
  if (format == match::InputFormat::kAuto) {
    // The first message decides, as the first line of a file does (docs/MATCH_INPUTS.md).
    auto first = feed.PeekFirst();
    if (!first.ok()) return Fail(first.status());
    if (!first->has_value()) {
      std::cerr << "accord: no message came; nothing matched\n";
      return 0;
    }
    const std::string& m = **first;
    if (w.mapping != nullptr) {
      format = match::InputFormat::kJsonl;
    } else if (m.find("\"event_type\"") != std::string::npos) {
      format = match::InputFormat::kSuricata;
    } else if (m.find("\"observed-data\"") != std::string::npos ||
               m.find("\"bundle\"") != std::string::npos) {
      return Fail(absl::InvalidArgumentError(
          "--from: the stream holds STIX; a worker reads Zeek, EVE or JSON events"));
    } else {
      format = match::InputFormat::kZeek;
    }
  }
  const std::string source = common::Cat("nats stream ", f.stream);
  auto reader = match::EventReader::Open(format, std::make_unique<FeedStream>(&feed), source,
                                         w.mapping, [&](std::string_view, std::string_view why) {
                                           std::cerr << "accord: " << source << " sequence "
                                                     << feed.current()
                                                     << ": malformed, skipped: " << why << "\n";
                                         });
  if (!reader.ok()) return Fail(reader.status());
  // A reload may bring indicators of any type: every SCO is built.
  (*reader)->SetWantedTypes({"*"});
  std::unique_ptr<match::Engine> engine = std::move(w.engine);
  MatchOutput output(&w.egress, &w.warninglists, &w.audit, &w.store);
  match::Observation obs;
  std::vector<match::MatchResult> results;
  std::string msg_id;
  uint64_t position = 0, matched = 0, matches = 0;
  std::chrono::system_clock::time_point first_event{}, last_event{};
  absl::Status run = [&]() -> absl::Status {
    for (;;) {
      ACCORD_ASSIGN_OR_RETURN(bool more, (*reader)->Next(&obs));
      if (!more) return feed.Checkpoint();
      // After the wait for the event, not before: a program compiled while the stream was idle
      // matches the event that ends the wait.
      if (w.reloader != nullptr) w.reloader->Apply(&engine);
      // The span from the first event to the last (wall clock, comparable across workers:
      // bench/scale measures a group's rate with it).
      last_event = std::chrono::system_clock::now();
      if (position == 0) first_event = last_event;
      results.clear();
      engine->Process(obs, ++position, &results);
      if (results.empty()) continue;
      ++matched;
      matches += results.size();
      const std::string event = common::Cat(f.stream, ":", feed.current());
      for (const match::MatchResult& m : results) {
        ACCORD_ASSIGN_OR_RETURN(const std::string* id,
                                output.Emit(*engine, m, source, obs.first_observed));
        if (id == nullptr) continue;
        pending.push_back({event, *id, obs.first_observed});
        if (!f.publish.empty()) {
          msg_id = common::Cat(event, "|", *id);
          ACCORD_RETURN_IF_ERROR((*js)->Publish(f.publish, output.line(), msg_id));
        }
      }
    }
  }();
  fflush(stdout);
  absl::Status audited = w.audit.Flush(w.store, {f.from});
  if (!run.ok()) return Fail(run);
  if (!audited.ok()) return Fail(audited);
  const double secs = std::chrono::duration<double>(last_event - first_event).count();
  auto unix_s = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  std::cerr << "accord: worker '" << f.durable << "': " << feed.received() << " messages ("
            << feed.redelivered() << " redelivered, " << feed.empty() << " empty), " << position
            << " events, " << (*reader)->stats().malformed << " malformed, " << matched
            << " matched (" << matches << " matches), "
            << static_cast<uint64_t>(position > 1 ? (position - 1) / std::max(secs, 1e-9) : 0)
            << " events/s; ledger: " << recorded << " new, " << duplicates << " already recorded; "
            << checkpoints << " checkpoints\n";
  if (position > 0) {
    char span[96];
    std::snprintf(span, sizeof span, "accord: events from %.6f to %.6f (unix seconds)\n",
                  unix_s(first_event), unix_s(last_event));
    std::cerr << span;
  }
  if (f.sightings) {
    std::cerr << "accord: " << sightings_written << " sighting version(s) written to collection '"
              << f.sightings_collection << "'\n";
  }
  if (absl::Status withheld = output.Finish(sightings_withheld); !withheld.ok()) {
    return Fail(withheld);
  }
  return 0;
}

int RunMatch(const Globals& g, const MatchFlags& f) {
  common::SetDefaultInputLimits({f.max_gzip_bytes, f.max_gzip_ratio});
  absl::StatusOr<store::Options> so = StoreOptions(g);
  if (!so.ok()) return Fail(so.status());
  auto st = store::Store::Open(*so);
  if (!st.ok()) return Fail(st.status());
  store::Store& store = **st;
  common::Micros now = common::NowMicros();
  auto generation = store.Generation();
  if (!generation.ok()) return Fail(generation.status());
  // What a reload waits for (issue 17): only a write that changed an indicator, not the
  // sightings this process and others write.
  auto indicator_generation = store.IndicatorGeneration();
  if (!indicator_generation.ok()) return Fail(indicator_generation.status());
  MatchAudit audit;
  {
    absl::StatusOr<std::unique_ptr<audit::Log>> l = audit::Log::Open(g.data_dir, &store);
    if (!l.ok()) return Fail(l.status());
    audit.log = std::move(*l);
  }
  MatchEgress egress;
  egress.gate = policy::NewNodeGate(&store);
  egress.sightings =
      policy::Audience::Sensor(common::Cat("sightings collection '", f.sightings_collection, "'"));
  // A closed exit ends the run before any input is read: no line, no sighting.
  if (auto closed = egress.gate->CheckExit(egress.output, policy::Exit::kMatchOutput);
      !closed.ok()) {
    return Fail(closed);
  }
  if (f.sightings) {
    if (auto closed = egress.gate->CheckExit(egress.sightings, policy::Exit::kSightings);
        !closed.ok()) {
      return Fail(closed);
    }
  }
  uint64_t sightings_withheld = 0;
  auto node_lists = LoadNodeWarninglists(g);
  if (!node_lists.ok()) return Fail(node_lists.status());
  const formats::WarninglistSet& warninglists = *node_lists;
  // [match] collections of <data>/accord.toml (default: every collection; issue 10).
  auto mcfg = LoadMatchConfig(g.data_dir);
  if (!mcfg.ok()) return Fail(mcfg.status());
  // The start-up cache (issue 11): the compiled program of this indicator generation and scope, in
  // one flat file, instead of listing, parsing and compiling every stored indicator. The egress
  // gate's per-indicator decisions are part of what is cached; today they depend only on the
  // lockdown, which closes the whole run above, so the key needs no gate state.
  // TODO(issue 13): per-object egress rules must enter the key (their settings' version).
  auto load_started = std::chrono::steady_clock::now();
  match::MatchOptions mo;
  mo.strict_within = !f.compat_within;
  // Keyed by the indicator generation (issue 17): sightings written since, by this node's
  // matchers or workers, leave the cached program valid. The scope names the kind of
  // generation, so that a file keyed by the store's whole generation (before) never matches.
  match::IndicatorCacheKey cache_key{
      *indicator_generation,
      "indicator-generation;collections=" + absl::StrJoin(mcfg->collections, "\n")};
  const std::string cache_path =
      (std::filesystem::path(g.data_dir) / "cache" / "match-program.bin").string();
  std::optional<match::ProgramImage> image;
  if (!f.no_cache) image = match::ReadProgramImage(cache_path, cache_key, now, mo);
  const bool from_cache = image.has_value();
  double load_s = 0, compile_s = 0;
  if (!from_cache) {
    absl::StatusOr<match::ActiveIndicators> active =
        match::LoadActiveIndicators(store, now, egress.Filter(), mcfg->collections);
    if (!active.ok()) return Fail(active.status());
    auto t0 = std::chrono::steady_clock::now();
    load_s = std::chrono::duration<double>(t0 - load_started).count();
    std::vector<std::pair<uint32_t, std::string>> rejected;
    auto program = match::Program::Build(active->indicators, mo, &rejected);
    if (!program.ok()) return Fail(program.status());
    compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    image.emplace();
    image->program = std::move(*program);
    image->inactive = active->inactive;
    image->not_stix = active->not_stix;
    image->withheld = active->withheld;
    image->next_change = active->next_change;
    for (auto& [i, why] : rejected) image->rejected.emplace_back(active->indicators[i].id, why);
    if (!f.no_cache) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(cache_path).parent_path(), ec);
      if (absl::Status w = match::WriteProgramImage(cache_path, cache_key, now, *image); !w.ok()) {
        std::cerr << "accord: warning: start-up cache not written: " << w.message() << "\n";
      }
    }
  } else {
    load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();
  }
  auto format = match::ParseInputFormat(f.format);
  if (!format.ok()) return Fail(format.status());
  std::optional<match::FieldMapping> mapping;
  if (!f.mapping.empty()) {
    auto text = common::ReadFile(f.mapping, 1 << 20);
    if (!text.ok()) return Fail(text.status());
    auto m = match::FieldMapping::Parse(*text);
    if (!m.ok())
      return Fail(absl::InvalidArgumentError(f.mapping + ": " + std::string(m.status().message())));
    mapping = std::move(*m);
  } else if (*format == match::InputFormat::kJsonl) {
    return Fail(absl::InvalidArgumentError("--input-format jsonl needs --mapping FILE"));
  }

  absl::StatusOr<std::unique_ptr<match::Engine>> engine = match::Engine::Create(image->program);
  for (const auto& [id, why] : image->rejected) {
    std::cerr << "accord: " << id << ": pattern not usable: " << why << "\n";
  }
  if (from_cache) {
    std::cerr << "accord: " << (*engine)->Stats().indicators
              << " active indicators loaded compiled from the start-up cache in " << load_s
              << " s (";
  } else {
    std::cerr << "accord: " << (*engine)->Stats().indicators << " active indicators compiled in "
              << compile_s << " s, loaded in " << load_s << " s from the store (";
  }
  std::cerr << image->inactive << " inactive, " << image->not_stix << " not STIX, "
            << image->rejected.size() << " rejected, " << image->withheld
            << " withheld by the egress gate)\n";
  if ((*engine)->Stats().regex_entries > 0 && !match::VectorscanUsable()) {
    std::cerr << "accord: this machine's Vectorscan misses some matches (Debian 12's libhs on a "
                 "CPU with AVX-512): the "
              << (*engine)->Stats().regex_entries
              << " MATCHES/LIKE comparisons are checked by PCRE2 on every value of their "
                 "paths instead (slower, none missed)\n";
  }
  auto t1 = std::chrono::steady_clock::now();  // matching starts

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // --follow: a thread polls the store's indicator generation (one indexed read; sightings
  // written meanwhile do not move it) and the egress gate's generation and, when either changed,
  // loads the active indicators and compiles a new program off the hot path; the runner swaps it in
  // between two events, and the new engine takes over the old one's temporal windows for the
  // indicators whose id and version are unchanged (issue 11). The generation moves only when a row
  // changed, so a no-op import recompiles nothing. The reloader's store connection is its own,
  // opened on its thread. Declared before the reloader, whose thread uses them until it is
  // destroyed.
  std::unique_ptr<store::Store> reload_store;
  uint64_t seen_generation = *indicator_generation, seen_gate = egress.gate->generation();
  const std::vector<std::string> collections = mcfg->collections;
  std::unique_ptr<match::Reloader> reloader;
  const bool live = f.follow || !f.from.empty();  // a worker runs until stopped, as --follow
  if (live && f.reload_interval > 0) {
    reloader = std::make_unique<match::Reloader>(
        [&]() -> absl::StatusOr<bool> {
          if (!reload_store) {
            ACCORD_ASSIGN_OR_RETURN(reload_store, store::Store::Open(*so));
          }
          ACCORD_ASSIGN_OR_RETURN(uint64_t gen, reload_store->IndicatorGeneration());
          uint64_t gate = egress.gate->generation();
          if (gen == seen_generation && gate == seen_gate) return false;
          seen_generation = gen;
          seen_gate = gate;
          return true;
        },
        [&]() -> absl::StatusOr<std::vector<match::IndicatorSpec>> {
          ACCORD_ASSIGN_OR_RETURN(match::ActiveIndicators a,
                                  match::LoadActiveIndicators(*reload_store, common::NowMicros(),
                                                              egress.Filter(), collections));
          return std::move(a.indicators);
        },
        mo, f.reload_interval, [] { return g_stop != 0; });
  }
  std::string identity;
  if (f.sightings) {
    auto id = NodeIdentity(store);
    if (!id.ok()) return Fail(id.status());
    identity = std::move(*id);
  }
  uint64_t sightings_written = 0;
  auto last_flush = std::chrono::steady_clock::now();
  common::Micros latest = 0;  // latest event time seen
  match::SightingAggregator sightings;
  // Indicators the engine disabled for hitting the PCRE2 limits too often (issue 10): each is
  // named on stderr with its pattern, when found (every 64k events) and at the end. A reload
  // carries disabled indicators over, so they are remembered by id.
  absl::flat_hash_map<std::string, std::string> pattern_of;
  absl::flat_hash_set<std::string> disabled_reported;
  auto report_disabled = [&](const match::Engine& e) {
    std::vector<uint32_t> off = e.Disabled();
    for (uint32_t k : off) {
      const std::string& id = e.IndicatorId(k);
      if (!disabled_reported.insert(id).second) continue;
      if (!pattern_of.contains(id)) pattern_of[id] = e.program()->Pattern(k);
      auto p = pattern_of.find(id);
      std::cerr << "accord: warning: indicator " << id << " disabled: its regular expression hit "
                << "the PCRE2 match/depth limits on " << mo.regex_disable_after
                << " values (limits " << mo.regex_match_limit << " steps, depth "
                << mo.regex_depth_limit << "); it no longer matches in this run; pattern: "
                << (p == pattern_of.end() ? std::string("(unknown)") : p->second) << "\n";
    }
  };
  if (!f.from.empty()) {
    WorkerEnv env{f,
                  store,
                  egress,
                  audit,
                  warninglists,
                  *format,
                  mapping ? &*mapping : nullptr,
                  reloader.get(),
                  identity,
                  std::move(*engine)};
    return RunWorker(env);
  }
  std::vector<std::string> files = f.files;
  if (files.empty()) files.push_back("-");
  match::RunnerOptions ro;
  ro.threads = f.threads;
  // A followed file may stay idle: each event is handed over as soon as it is read.
  if (f.follow) ro.batch_events = 1;
  ro.stop = [] { return g_stop != 0; };
  // Readers leave out SCOs of types no indicator mentions (issue 11, "extract only the fields
  // some indicator uses"). Not under --follow: a reload may bring new types, and events read
  // ahead must already carry them.
  const std::vector<std::string> wanted_types =
      f.follow ? std::vector<std::string>{"*"} : (*engine)->program()->Types();
  match::Runner runner(std::move(*engine), ro);
  if (reloader) runner.SetReloader(reloader.get());
  MatchOutput output(&egress, &warninglists, &audit, &store);
  absl::Status run = runner.Run(
      files,
      [&](const std::string& file) -> absl::StatusOr<std::unique_ptr<match::EventReader>> {
        std::unique_ptr<common::InputStream> in;
        if (f.follow && file != "-") {
          in = match::OpenFollow(file, [&runner] { return g_stop != 0 || runner.quitting(); });
        } else {
          ACCORD_ASSIGN_OR_RETURN(in, common::InputStream::Open(file));
        }
        ACCORD_ASSIGN_OR_RETURN(
            std::unique_ptr<match::EventReader> reader,
            match::EventReader::Open(*format, std::move(in), file, mapping ? &*mapping : nullptr,
                                     [](std::string_view loc, std::string_view why) {
                                       std::cerr << "accord: " << loc
                                                 << ": malformed, skipped: " << why << "\n";
                                     }));
        reader->SetWantedTypes(wanted_types);
        return reader;
      },
      [&](const match::Observation& obs, uint64_t position) -> absl::Status {
        if (f.follow && f.sightings && sightings.size() &&
            std::chrono::steady_clock::now() - last_flush >
                std::chrono::duration<double>(f.sightings_interval)) {
          // Buckets closed by event time go to the store now; open ones keep counting.
          last_flush = std::chrono::steady_clock::now();
          match::SightingAggregator closed;
          sightings.TakeClosed(latest, &closed);
          store::ImportResult written;
          ACCORD_ASSIGN_OR_RETURN(
              uint64_t n,
              closed.WriteTo(store, f.sightings_collection, identity, common::NowMicros(),
                             egress.Sightings(), &sightings_withheld, &written));
          sightings_written += n;
          ACCORD_RETURN_IF_ERROR(audit.Sightings(f.sightings_collection, written));
        }
        latest = std::max(latest, obs.first_observed);
        if ((position & 0xffff) == 0) report_disabled(runner.engine());
        return absl::OkStatus();
      },
      [&](const match::Engine& e, const match::Observation& obs, uint64_t position,
          const std::string& file, const std::vector<match::MatchResult>& results) -> absl::Status {
        for (const match::MatchResult& m : results) {
          ACCORD_ASSIGN_OR_RETURN(const std::string* id,
                                  output.Emit(e, m, file, obs.first_observed));
          if (id != nullptr && f.sightings) sightings.Add(*id, obs.first_observed);
        }
        if (f.follow) {
          fflush(stdout);
          if (audit.Due()) ACCORD_RETURN_IF_ERROR(audit.Flush(store, files));
        }
        return absl::OkStatus();
      });
  fflush(stdout);
  // What was printed is recorded even when the run ends in an error.
  absl::Status recorded = audit.Flush(store, files);
  if (!run.ok()) return Fail(run);
  if (!recorded.ok()) return Fail(recorded);
  const match::RunTotals& totals = runner.totals();
  const uint64_t events = totals.events, malformed = totals.malformed, matched = totals.matched,
                 matches = totals.matches;
  fflush(stdout);
  auto t2 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t2 - t1).count();
  match::EngineStats es = runner.engine().Stats();
  report_disabled(runner.engine());
  std::cerr << "accord: " << events << " events read, " << malformed << " malformed, " << matched
            << " matched (" << matches << " matches), "
            << static_cast<uint64_t>(events / std::max(secs, 1e-9)) << " events/s";
  if (es.regex_limit_hits || es.disabled) {
    std::cerr << ", " << es.regex_limit_hits << " regex limit hits, " << es.disabled
              << " indicator(s) disabled";
  }
  if (es.evicted) std::cerr << ", " << es.evicted << " evicted from temporal windows";
  if (es.type_errors) std::cerr << ", " << es.type_errors << " type errors";
  std::cerr << "\n";
  if (f.sightings) {
    store::ImportResult written;
    auto n = sightings.WriteTo(store, f.sightings_collection, identity, common::NowMicros(),
                               egress.Sightings(), &sightings_withheld, &written);
    if (!n.ok()) return Fail(n.status());
    sightings_written += *n;
    if (absl::Status a = audit.Sightings(f.sightings_collection, written); !a.ok()) return Fail(a);
    std::cerr << "accord: " << sightings_written << " sightings written to collection '"
              << f.sightings_collection << "'\n";
  }
  if (absl::Status withheld = output.Finish(sightings_withheld); !withheld.ok()) {
    return Fail(withheld);
  }
  return malformed ? 1 : 0;
}

}  // namespace

void RegisterMatchCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto flags = std::make_shared<MatchFlags>();
  CLI::App* cmd = app.add_subcommand("match", "Match telemetry against the active indicators");
  AddDataOption(cmd, g);
  cmd->add_option("files", flags->files, "Input files (gzip ok), '-' for standard input");
  cmd->add_option("--max-gzip-bytes", flags->max_gzip_bytes,
                  "Most bytes a .gz input may inflate to (decompression bomb bound)")
      ->capture_default_str();
  cmd->add_option("--max-gzip-ratio", flags->max_gzip_ratio,
                  "Most inflated bytes per gzip byte (0: no bound)")
      ->capture_default_str();
  cmd->add_option("--input-format", flags->format, "zeek | suricata | stix | jsonl | auto")
      ->capture_default_str();
  cmd->add_option("--mapping", flags->mapping,
                  "Field mapping for jsonl input (docs/MATCH_INPUTS.md)");
  cmd->add_flag("--follow", flags->follow, "Keep reading as files grow (survives rotation)");
  cmd->add_flag("--sightings", flags->sightings,
                "Write sightings (one per indicator per hour) to the store");
  cmd->add_option("--sightings-collection", flags->sightings_collection, "Collection for sightings")
      ->capture_default_str();
  cmd->add_option("--reload-interval", flags->reload_interval,
                  "--follow: seconds between checks for indicator changes in the store (0: never)")
      ->capture_default_str();
  cmd->add_option("--sightings-interval", flags->sightings_interval,
                  "--follow: seconds between writes of closed sighting buckets")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads,
                  "1: read and match on one thread; 2: parsing runs ahead on a second thread "
                  "(same output, same order)")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  cmd->add_flag("--no-cache", flags->no_cache,
                "Load the indicators from the store, not from <data>/cache/match-program.bin "
                "(which is then neither read nor written)");
  cmd->add_option("--from", flags->from,
                  "Be a stream worker: consume telemetry from NATS JetStream (nats://HOST:PORT; "
                  "docs/SCALE_OUT.md)");
  cmd->add_option("--stream", flags->stream, "--from: the JetStream stream")->capture_default_str();
  cmd->add_option("--subject", flags->subject, "--from: the subject to consume");
  cmd->add_option("--durable", flags->durable,
                  "--from: consumer name; workers with one name share the messages");
  cmd->add_option("--publish", flags->publish,
                  "--from: also publish match lines on this subject (deduplicated per event and "
                  "indicator)");
  cmd->add_option("--batch", flags->batch,
                  "--from: messages fetched at a time (one ledger transaction each)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--ack-wait", flags->ack_wait,
                  "--from: seconds before an unacknowledged message goes to another worker")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("--idle-exit", flags->idle_exit,
                  "--from: exit after this many seconds without a message (0: run until stopped)")
      ->capture_default_str();
  cmd->add_option("--sighting-bucket", flags->sighting_bucket,
                  "--from --sightings: seconds per sighting bucket")
      ->check(CLI::Range(1.0, 31.0 * 86400))
      ->capture_default_str();
  cmd->add_flag("--compat-within", flags->compat_within,
                "WITHIN as the OASIS reference matcher (closed window) instead of the spec");
  cmd->callback([g, flags, exit_code] { *exit_code = RunMatch(*g, *flags); });
}

}  // namespace accord::cli
