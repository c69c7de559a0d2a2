// `accord match`: active indicators from the store against telemetry files or stdin.
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "accord/common/io.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/match/engine.h"
#include "accord/match/input.h"
#include "accord/match/sightings.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// `tail -F`: reads to the end, waits for more, and reopens the path when it is rotated
// (inode changed) or truncated.
class FollowStream final : public common::InputStream {
 public:
  explicit FollowStream(std::string path) : path_(std::move(path)) {}
  ~FollowStream() override {
    if (fd_ >= 0) close(fd_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      if (g_stop) return 0;
      if (fd_ < 0) {
        fd_ = open(path_.c_str(), O_RDONLY);
        if (fd_ < 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        struct stat st;
        fstat(fd_, &st);
        inode_ = st.st_ino;
      }
      ssize_t r = read(fd_, buf, n);
      if (r > 0) {
        offset_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      struct stat now;
      if (stat(path_.c_str(), &now) == 0 &&
          (now.st_ino != inode_ || static_cast<uint64_t>(now.st_size) < offset_)) {
        close(fd_);
        fd_ = -1;
        offset_ = 0;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  ino_t inode_ = 0;
  uint64_t offset_ = 0;
};

struct MatchFlags {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string mapping;
  bool follow = false;
  bool sightings = false;
  std::string sightings_collection = "sightings";
  bool compat_within = false;
};

int RunMatch(const Globals& g, const MatchFlags& f) {
  store::Options so;
  so.dir = g.data_dir;
  auto st = store::Store::Open(so);
  if (!st.ok()) return Fail(st.status());
  store::Store& store = **st;
  common::Micros now = common::NowMicros();
  auto active = match::LoadActiveIndicators(store, now);
  if (!active.ok()) return Fail(active.status());
  auto format = match::ParseInputFormat(f.format);
  if (!format.ok()) return Fail(format.status());
  std::optional<match::FieldMapping> mapping;
  if (!f.mapping.empty()) {
    auto text = common::ReadFile(f.mapping, 1 << 20);
    if (!text.ok()) return Fail(text.status());
    auto m = match::FieldMapping::Parse(*text);
    if (!m.ok()) return Fail(absl::InvalidArgumentError(f.mapping + ": " + std::string(m.status().message())));
    mapping = std::move(*m);
  } else if (*format == match::InputFormat::kJsonl) {
    return Fail(absl::InvalidArgumentError("--input-format jsonl needs --mapping FILE"));
  }

  auto t0 = std::chrono::steady_clock::now();
  match::MatchOptions mo;
  mo.strict_within = !f.compat_within;
  std::vector<std::pair<uint32_t, std::string>> rejected;
  auto engine = match::Engine::Build(active->indicators, mo, &rejected);
  if (!engine.ok()) return Fail(engine.status());
  for (const auto& [i, why] : rejected) {
    std::cerr << "accord: " << active->indicators[i].id << ": pattern not usable: " << why << "\n";
  }
  auto t1 = std::chrono::steady_clock::now();
  std::cerr << "accord: " << (*engine)->Stats().indicators << " active indicators compiled in "
            << std::chrono::duration<double>(t1 - t0).count() << " s (" << active->inactive
            << " inactive, " << active->not_stix << " not STIX, " << rejected.size() << " rejected)\n";

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  match::SightingAggregator sightings;
  match::Observation obs;
  std::vector<match::MatchResult> results;
  uint64_t position = 0, events = 0, malformed = 0, matched = 0, matches = 0;
  std::string out;
  std::vector<std::string> files = f.files;
  if (files.empty()) files.push_back("-");
  for (const std::string& file : files) {
    std::unique_ptr<common::InputStream> in;
    if (f.follow && file != "-") {
      in = std::make_unique<FollowStream>(file);
    } else {
      auto s = common::InputStream::Open(file);
      if (!s.ok()) return Fail(s.status());
      in = std::move(*s);
    }
    auto reader = match::EventReader::Open(
        *format, std::move(in), file, mapping ? &*mapping : nullptr,
        [&](std::string_view loc, std::string_view why) {
          std::cerr << "accord: " << loc << ": malformed, skipped: " << why << "\n";
        });
    if (!reader.ok()) return Fail(reader.status());
    for (;;) {
      auto more = (*reader)->Next(&obs);
      if (!more.ok()) return Fail(more.status());
      if (!*more || g_stop) break;
      ++position;
      ++events;
      results.clear();
      (*engine)->Process(obs, position, &results);
      if (!results.empty()) ++matched;
      for (const match::MatchResult& m : results) {
        ++matches;
        nlohmann::json j = {{"indicator", (*engine)->IndicatorId(m.indicator)},
                            {"values", m.values},
                            {"events", m.events},
                            {"input", file},
                            {"time", common::FormatTimestamp(obs.first_observed)}};
        out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out.push_back('\n');
        fwrite(out.data(), 1, out.size(), stdout);
        if (f.sightings) sightings.Add((*engine)->IndicatorId(m.indicator), obs.first_observed);
      }
      if (f.follow && !results.empty()) fflush(stdout);
    }
    malformed += (*reader)->stats().malformed;
  }
  fflush(stdout);
  auto t2 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t2 - t1).count();
  match::EngineStats es = (*engine)->Stats();
  std::cerr << "accord: " << events << " events read, " << malformed << " malformed, " << matched
            << " matched (" << matches << " matches), " << static_cast<uint64_t>(events / std::max(secs, 1e-9))
            << " events/s";
  if (es.evicted) std::cerr << ", " << es.evicted << " evicted from temporal windows";
  if (es.type_errors) std::cerr << ", " << es.type_errors << " type errors";
  std::cerr << "\n";
  if (f.sightings && sightings.size()) {
    auto ident = store.GetSetting("node.identity");
    if (!ident.ok()) return Fail(ident.status());
    std::string identity = ident->has_value() ? **ident : "identity--" + common::NewUuid4();
    if (!ident->has_value()) {
      auto ps = store.PutSetting("node.identity", identity);
      if (!ps.ok()) return Fail(ps);
    }
    auto n = sightings.WriteTo(store, f.sightings_collection, identity, common::NowMicros());
    if (!n.ok()) return Fail(n.status());
    std::cerr << "accord: " << *n << " sightings written to collection '" << f.sightings_collection << "'\n";
  }
  return malformed ? 1 : 0;
}

}  // namespace

void RegisterMatchCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto flags = std::make_shared<MatchFlags>();
  CLI::App* cmd = app.add_subcommand("match", "Match telemetry against the active indicators");
  AddDataOption(cmd, g);
  cmd->add_option("files", flags->files, "Input files (gzip ok), '-' for standard input");
  cmd->add_option("--input-format", flags->format, "zeek | suricata | stix | jsonl | auto")
      ->capture_default_str();
  cmd->add_option("--mapping", flags->mapping, "Field mapping for jsonl input (docs/MATCH_INPUTS.md)");
  cmd->add_flag("--follow", flags->follow, "Keep reading as files grow (survives rotation)");
  cmd->add_flag("--sightings", flags->sightings, "Write sightings (one per indicator per hour) to the store");
  cmd->add_option("--sightings-collection", flags->sightings_collection, "Collection for sightings")
      ->capture_default_str();
  cmd->add_flag("--compat-within", flags->compat_within,
                "WITHIN as the OASIS reference matcher (closed window) instead of the spec");
  cmd->callback([g, flags, exit_code] { *exit_code = RunMatch(*g, *flags); });
}

}  // namespace accord::cli
