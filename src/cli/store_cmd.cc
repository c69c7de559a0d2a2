// accord init | import | get | list | export | stats
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "accord/audit/log.h"
#include "accord/common/archive.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/federation/directory.h"
#include "accord/formats/export.h"
#include "accord/formats/formats.h"
#include "accord/formats/misp.h"
#include "accord/formats/text.h"
#include "accord/formats/warninglist.h"
#include "accord/ingest/ingest.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/ingest/units.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/policy/tlp.h"
#include "accord/store/copy.h"
#include "accord/store/store.h"
#include "cli/cli.h"
#include "cli/egress.h"
#include "cli/formats_cli.h"

namespace accord::cli {
namespace {

absl::StatusOr<store::VersionSelect> ParseVersions(const std::string& v) {
  if (v == "last") return store::VersionSelect::kLast;
  if (v == "first") return store::VersionSelect::kFirst;
  if (v == "all") return store::VersionSelect::kAll;
  return absl::InvalidArgumentError(
      common::Cat("--versions must be first, last or all, found '", v, "'"));
}

// Progress on a terminal for imports that take more than a second; silent otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(2) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {}
  void Tick(uint64_t n) {
    if (!tty_ || (n & 1023) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_ = now;
    shown_ = true;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rimporting: %llu objects, %.0f objects/s   ",
                 static_cast<unsigned long long>(n), static_cast<double>(n) / secs);
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

int Init(const Globals& g) {
  auto s = OpenDataStore(g, true);
  if (!s.ok()) return Fail(s.status());
  auto ident = (*s)->GetSetting("node.identity");
  if (!ident.ok()) return Fail(ident.status());
  if (!ident->has_value()) {
    auto st = (*s)->PutSetting("node.identity", "identity--" + common::NewUuid4());
    if (!st.ok()) return Fail(st);
  }
  std::cout << "accord: node ready in " << g.data_dir << "\n";
  return 0;
}

struct ImportFlags {
  std::vector<std::string> files;
  std::string collection = "default";
  bool strict = false;
  bool no_upgrade = false;
  bool quiet = false;
  // Input bounds and chunked commits (ingest::Options, common::InputLimits).
  uint64_t max_line_bytes = ingest::Options{}.max_line_bytes;
  uint64_t max_document_bytes = ingest::Options{}.max_document_bytes;
  uint64_t max_gzip_bytes = common::InputLimits{}.max_decompressed_bytes;
  uint64_t max_gzip_ratio = common::InputLimits{}.max_ratio;
  uint64_t chunk_objects = ingest::Options{}.chunk_objects;
  double chunk_seconds = ingest::Options{}.chunk_seconds;
  // The reader (issue 15): auto, stix, misp, csv, list or text, and their options.
  std::string format = "auto";
  std::string kind;  // list: every line is of this kind
  std::string columns = "value";
  std::string delimiter = ",";
  bool header = false;
  std::vector<std::string> labels;
  std::string on_warninglist = "flag";  // flag or drop
};

// The files an import reads: command-line files as given, directories expanded
// (recursively, sorted) to the STIX files in them; the other files found there are skipped,
// each with the reason.
struct Inputs {
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> skipped;  // (path, why)
};

constexpr std::string_view kStixExtensions = ".json, .jsonl or .ndjson, optionally .gz";

absl::StatusOr<Inputs> ExpandInputs(const std::vector<std::string>& in) {
  Inputs out;
  for (const auto& p : in) {
    std::error_code ec;
    if (p != "-" && std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      std::vector<std::pair<std::string, std::string>> skipped;
      for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        if (it->is_directory(fec)) continue;
        if (!it->is_regular_file(fec)) {
          skipped.emplace_back(it->path().string(), "not a regular file");
          continue;
        }
        std::string name = it->path().filename().string();
        bool stix = false;
        for (const char* ext :
             {".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz"}) {
          std::string_view e(ext);
          if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
            stix = true;
            break;
          }
        }
        if (stix) {
          found.push_back(it->path().string());
        } else {
          skipped.emplace_back(it->path().string(),
                               common::Cat("not a STIX file name (", kStixExtensions, ")"));
        }
      }
      if (ec) return absl::FailedPreconditionError(common::Cat(p, ": ", ec.message()));
      std::sort(found.begin(), found.end());
      std::sort(skipped.begin(), skipped.end());
      out.files.insert(out.files.end(), found.begin(), found.end());
      out.skipped.insert(out.skipped.end(), skipped.begin(), skipped.end());
    } else {
      out.files.push_back(p);
    }
  }
  return out;
}

// Runs the one ingest path (src/ingest/) over the files: read, validate, pattern check and
// the later stages, then the store. Without --strict the run commits in chunks (every
// --chunk-objects or --chunk-seconds), so that TAXII writers are not held off; with --strict it
// is one transaction. Nothing is stored (and no collection created) when nothing was accepted,
// or with --strict when anything was refused or a file cannot be read.
struct FormatInput;
absl::Status ImportMisp(FormatInput& in, const formats::ConvertOptions& co,
                        formats::UnitStream* out, const formats::ProblemSink& on_problem);
absl::StatusOr<uint64_t> SelectMispFeedEvents(store::Store* s, std::vector<FormatInput>* inputs);

// --- accord import --format (issue 15): MISP, CSV, lists, free text and archives ---

// One input of a formats import: a file, or a member of an archive (then `data` holds it).
struct FormatInput {
  std::string name;  // for messages: "feed.tar.gz:lists/a.txt"
  std::string path;  // the file to read when !in_memory
  bool in_memory = false;
  std::string data;
};

// Expands the command line for a formats import: directories to the regular files in them
// (sorted; hidden files skipped), archives to their members (read when converted).
absl::StatusOr<std::vector<FormatInput>> ExpandFormatInputs(const std::vector<std::string>& in) {
  std::vector<FormatInput> out;
  for (const auto& p : in) {
    std::error_code ec;
    if (p != "-" && std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory(fec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(fec)) found.push_back(it->path().string());
      }
      if (ec) return absl::FailedPreconditionError(common::Cat(p, ": ", ec.message()));
      std::sort(found.begin(), found.end());
      for (auto& f : found) out.push_back(FormatInput{f, f, false, {}});
    } else {
      out.push_back(FormatInput{p, p, false, {}});
    }
  }
  return out;
}

void PrintRejected(const ingest::Problem& p) { std::cerr << "rejected: " << p.ToString() << "\n"; }

int ImportFormats(const Globals& g, const ImportFlags& f) {
  std::optional<formats::Format> forced;
  if (f.format != "auto") {
    auto fmt = formats::ParseFormat(f.format);
    if (!fmt.ok()) return Fail(fmt.status());
    forced = *fmt;
  }
  std::optional<formats::ValueKind> kind;
  if (!f.kind.empty()) {
    kind = formats::ParseValueKind(f.kind);
    if (!kind) {
      return Fail(absl::InvalidArgumentError(common::Cat(
          "--type: unknown kind '", f.kind,
          "' (ipv4, ipv6, ipv4-cidr, ipv6-cidr, domain, url, email, md5, sha1, sha256, sha512, "
          "cve)")));
    }
  }
  if (f.delimiter.size() != 1 && f.delimiter != "\\t" && f.delimiter != "tab") {
    return Fail(absl::InvalidArgumentError("--delimiter must be one character (or 'tab')"));
  }
  formats::CsvOptions csv;
  csv.columns = f.columns;
  csv.delimiter = f.delimiter.size() == 1 ? f.delimiter[0] : '\t';
  csv.header = f.header;
  auto inputs = ExpandFormatInputs(f.files);
  if (!inputs.ok()) return Fail(inputs.status());
  if (inputs->empty()) {
    return Fail(absl::InvalidArgumentError(
        common::Cat("no file to import in ", f.files.size() == 1 ? f.files[0] : "the input",
                    "; nothing was stored")));
  }
  if (f.strict) {
    std::cerr
        << "accord: --strict: one transaction for consecutive STIX inputs, and each converted unit "
           "(a MISP event, a text report, a block of a list) is stored whole or not at "
           "all; the first refusal stops the import\n";
  }
  auto s = OpenDataStore(g, true);
  if (!s.ok()) return Fail(s.status());
  common::SetDefaultInputLimits({f.max_gzip_bytes, f.max_gzip_ratio});
  uint64_t warnings = 0;
  ingest::Options base;
  base.collection = f.collection;
  base.origin.entry_point = "import";
  base.audit_actor = "operator:" + OperatorName();
  auto audit_log = audit::Log::Open(g.data_dir, s->get());
  if (!audit_log.ok()) return Fail(audit_log.status());
  base.audit = audit_log->get();
  base.upgrade_20 = !f.no_upgrade;
  base.strict = f.strict;
  base.max_line_bytes = f.max_line_bytes;
  base.max_document_bytes = f.max_document_bytes;
  base.chunk_objects = f.chunk_objects;
  base.chunk_seconds = f.chunk_seconds;
  // The ingest path reports a streamed unit's problems from UnitImporter's reading thread,
  // while the converter reports its own on this one.
  std::mutex report_mu;
  base.on_problem = [&](const ingest::Problem& p) {
    std::lock_guard<std::mutex> l(report_mu);
    if (p.warning && ++warnings <= 1000) std::cerr << "warning: " << p.ToString() << "\n";
  };
  auto policy = ingest::LoadPatternPolicy(g.data_dir);
  if (!policy.ok()) return Fail(policy.status());
  auto known = (*s)->GetCollection(base.collection);
  if (known.ok()) {
    ingest::ApplyPatternPolicy(*policy, &base, known->id, known->alias);
  } else {
    ingest::ApplyPatternPolicy(*policy, &base);
  }
  formats::ConvertOptions co;
  co.now = common::NowMicros();
  co.strict = f.strict;
  co.labels = f.labels;
  if (auto ident = (*s)->GetSetting("node.identity"); ident.ok() && ident->has_value()) {
    co.created_by_ref = **ident;
  }
  if (f.on_warninglist != "flag" && f.on_warninglist != "drop") {
    return Fail(absl::InvalidArgumentError(
        common::Cat("--on-warninglist must be flag or drop, found '", f.on_warninglist, "'")));
  }
  const bool drop_listed = f.on_warninglist == "drop";
  auto warninglists = LoadNodeWarninglists(g);
  if (!warninglists.ok()) return Fail(warninglists.status());
  std::map<std::string, uint64_t> listed_per_list;
  ingest::UnitTotals totals;
  {
    auto unchanged = SelectMispFeedEvents(s->get(), &*inputs);
    if (!unchanged.ok()) return Fail(unchanged.status());
    totals.units_unchanged += *unchanged;
  }
  std::optional<ingest::Import> stix_run;
  std::deque<std::string> stix_buffers;  // archive members read as STIX, until the run ends
  uint64_t read_problems = 0, sniffed = 0;
  auto on_problem = [&](formats::Problem&& p) {
    std::lock_guard<std::mutex> l(report_mu);
    if (p.warning) {
      if (++warnings <= 1000) std::cerr << "warning: " << p.ToString() << "\n";
      return;
    }
    ++read_problems;
    if (read_problems <= 1000) std::cerr << "rejected: " << p.ToString() << "\n";
  };

  // Commits the STIX run (it holds the store's write lock once it accepted an object, so it
  // ends before a converted unit opens its own transaction).
  auto finish_stix = [&]() -> absl::Status {
    if (!stix_run) return absl::OkStatus();
    auto res = stix_run->Finish();
    stix_run.reset();
    stix_buffers.clear();
    if (!res.ok()) return res.status();
    ingest::UnitImporter counter(s->get(), base, false, &totals);
    counter.OnRejected(PrintRejected);
    counter.Count(*res);
    if (!res->committed && res->checked.accepted > 0) {
      return absl::FailedPreconditionError(res->not_committed_why);
    }
    return absl::OkStatus();
  };

  // Converts and stores one input; an error stops the import (what was stored stays: each
  // unit is whole).
  auto one = [&](FormatInput& in) -> absl::Status {
    std::string head;
    if (in.in_memory) {
      head = in.data.substr(0, 65536);
    } else if (in.path != "-") {
      auto stream = common::InputStream::Open(in.path);
      if (!stream.ok()) return stream.status();
      head.resize(65536);
      size_t got = 0;
      while (got < head.size()) {
        auto n = (*stream)->Read(head.data() + got, head.size() - got);
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        got += *n;
      }
      head.resize(got);
    }
    std::optional<formats::Format> fmt = forced;
    if (!fmt && in.path == "-") {
      auto data = common::ReadFile("-", f.max_document_bytes);
      if (!data.ok()) return data.status();
      in.data = std::move(*data);
      in.in_memory = true;
      head = in.data.substr(0, 65536);
    }
    if (!fmt) {
      auto sniffed_as = formats::Sniff(in.name, head);
      if (!sniffed_as) {
        ++totals.inputs_refused;
        std::cerr << "rejected: " << in.name << ": no reader accepts this input; Accord reads "
                  << formats::kReadableFormats << " (choose one with --format)\n";
        return absl::OkStatus();
      }
      if (++sniffed <= 20) {
        std::cerr << "accord: " << in.name << ": read as "
                  << formats::FormatName(sniffed_as->format) << " (" << sniffed_as->why << ")\n";
      }
      fmt = sniffed_as->format;
    }
    if (*fmt == formats::Format::kStix) {
      // STIX inputs share one run, as `--format stix` does (one transaction with --strict);
      // files stream (large bundles never sit in memory whole).
      if (!stix_run) stix_run.emplace(s->get(), base);
      if (in.in_memory) {
        stix_buffers.push_back(std::move(in.data));
        auto src = ingest::BufferSource(in.name, stix_buffers.back());
        return stix_run->Add(*src);
      }
      auto src = ingest::FileSource(in.path);
      return stix_run->Add(*src);
    }
    ACCORD_RETURN_IF_ERROR(finish_stix());
    if (!in.in_memory) {
      auto data = common::ReadFile(in.path, f.max_document_bytes);
      if (!data.ok()) return data.status();
      in.data = std::move(*data);
      in.in_memory = true;
    }
    co.source_name = in.name;
    ingest::UnitImporter units(s->get(), base, *fmt != formats::Format::kMisp, &totals);
    units.OnRejected(PrintRejected);
    units.SetWarninglists(&*warninglists, drop_listed, &listed_per_list);
    auto sink = [&](formats::Unit&& u) { return units.Import(std::move(u)); };
    absl::Status st;
    switch (*fmt) {
      case formats::Format::kText:
        st = formats::ReadText(in.data, co, sink, on_problem).status();
        break;
      case formats::Format::kList:
        st = formats::ReadList(in.data, kind, co, sink, on_problem).status();
        break;
      case formats::Format::kCsv:
        st = formats::ReadCsv(in.data, csv, co, sink, on_problem).status();
        break;
      case formats::Format::kMisp: st = ImportMisp(in, co, &units, on_problem); break;
      case formats::Format::kStix: break;
    }
    in.data.clear();
    in.data.shrink_to_fit();
    return st;
  };

  for (auto& in : *inputs) {
    absl::Status st;
    if (in.path != "-" && common::IsArchiveName(in.path)) {
      st = common::ForEachArchiveMember(
          in.path, f.max_document_bytes, common::DefaultInputLimits(),
          [&](const std::string& member, std::string&& data) {
            FormatInput m{common::Cat(in.path, ":", member), "", true, std::move(data)};
            return one(m);
          });
    } else {
      st = one(in);
    }
    if (!st.ok()) {
      std::cerr << "accord: stopped at " << in.name << "; each unit stored before it is whole\n";
      return Fail(st);
    }
  }
  if (auto st = finish_stix(); !st.ok()) return Fail(st);
  const uint64_t rejected = totals.rejected + read_problems + totals.inputs_refused;
  if (!f.quiet) {
    std::cout << "imported " << totals.accepted << " object(s) into '" << f.collection
              << "': " << totals.added << " new version(s), " << totals.duplicates
              << " already stored";
    if (totals.already_stored) {
      std::cout << ", " << totals.already_stored << " value(s) the collection already held";
    }
    if (totals.units_unchanged) {
      std::cout << ", " << totals.units_unchanged << " event(s) unchanged since the last import";
    }
    if (totals.upgraded) std::cout << ", " << totals.upgraded << " upgraded from STIX 2.0";
    if (totals.warninglisted) {
      std::cout << "; " << totals.warninglisted << " indicator(s) on warninglists "
                << (drop_listed ? "dropped" : "flagged") << " (";
      bool first_list = true;
      for (const auto& [name, n] : listed_per_list) {
        std::cout << (first_list ? "" : ", ") << name << ": " << n;
        first_list = false;
      }
      std::cout << ")";
    }
    if (totals.conflicts) {
      std::cout << "; " << totals.conflicts
                << " refused: exist with different content (see 'accord quarantine list')";
    }
    if (warnings) std::cout << "; " << warnings << " warning(s)";
    if (rejected) std::cout << "; " << rejected << " rejected";
    std::cout << "\n";
  }
  return rejected == 0 ? 0 : 1;
}

// Each event is stored while it converts (formats::UnitStream), in its one transaction.
absl::Status ImportMisp(FormatInput& in, const formats::ConvertOptions& co,
                        formats::UnitStream* out, const formats::ProblemSink& on_problem) {
  auto stats = formats::ReadMisp(std::move(in.data), co, out, on_problem);  // freed once parsed
  if (!stats.ok()) return stats.status();
  std::cerr << "accord: " << in.name << ": " << stats->events << " MISP event(s), "
            << stats->attributes << " attribute(s): " << stats->indicators << " indicator(s), "
            << stats->observables << " observable(s); " << stats->skipped
            << " attribute(s) of types with no STIX form";
  if (stats->malformed) std::cerr << ", " << stats->malformed << " malformed";
  std::cerr << "\n";
  return absl::OkStatus();
}

// MISP feed folders (a manifest.json beside <uuid>.json event files, and MISP's hashes.csv):
// the manifest is read instead of imported, and an event whose timestamp is not newer than
// the one this store last imported is not read at all. Returns how many were left out.
absl::StatusOr<uint64_t> SelectMispFeedEvents(store::Store* s, std::vector<FormatInput>* inputs) {
  std::set<std::string> feed_dirs;
  for (const auto& in : *inputs) {
    std::filesystem::path p(in.path);
    if (!in.in_memory && p.filename() == "manifest.json")
      feed_dirs.insert(p.parent_path().string());
  }
  if (feed_dirs.empty()) return 0;
  std::set<std::string> drop;
  uint64_t unchanged = 0;
  for (const auto& dir : feed_dirs) {
    std::string manifest = (std::filesystem::path(dir) / "manifest.json").string();
    ACCORD_ASSIGN_OR_RETURN(std::string data, common::ReadFile(manifest, 1ull << 30));
    auto entries = formats::ReadMispManifest(data);
    if (!entries.ok()) {
      return absl::InvalidArgumentError(common::Cat(manifest, ": ", entries.status().message()));
    }
    drop.insert(manifest);
    drop.insert((std::filesystem::path(dir) / "hashes.csv").string());
    for (const auto& e : *entries) {
      ACCORD_ASSIGN_OR_RETURN(auto prev, s->GetSetting("misp.event." + e.uuid));
      if (prev.has_value()) {
        char* end = nullptr;
        long long stored = std::strtoll(prev->c_str(), &end, 10);
        if (end != nullptr && *end == '\0' && stored >= e.timestamp) {
          drop.insert((std::filesystem::path(dir) / (e.uuid + ".json")).string());
          ++unchanged;
        }
      }
    }
    std::cerr << "accord: " << dir << ": MISP feed, " << entries->size()
              << " event(s) in its manifest\n";
  }
  std::vector<FormatInput> kept;
  for (auto& in : *inputs) {
    if (!drop.count(in.path)) kept.push_back(std::move(in));
  }
  *inputs = std::move(kept);
  return unchanged;
}

int Import(const Globals& g, const ImportFlags& f) {
  if (f.format != "stix") return ImportFormats(g, f);
  auto inputs = ExpandInputs(f.files);
  if (!inputs.ok()) return Fail(inputs.status());
  constexpr size_t kShowSkipped = 50;
  auto print_skipped = [&] {
    for (size_t i = 0; i < inputs->skipped.size() && i < kShowSkipped; ++i) {
      std::cerr << "skipped: " << inputs->skipped[i].first << ": " << inputs->skipped[i].second
                << "\n";
    }
    if (inputs->skipped.size() > kShowSkipped) {
      std::cerr << "skipped: ... and " << inputs->skipped.size() - kShowSkipped << " more\n";
    }
  };
  if (inputs->files.empty()) {
    print_skipped();
    return Fail(absl::InvalidArgumentError(
        common::Cat("no file Accord can read in ", f.files.size() == 1 ? f.files[0] : "the input",
                    " (", inputs->skipped.size(), " skipped; STIX files are named ",
                    kStixExtensions, "); nothing was stored")));
  }
  auto s = OpenDataStore(g, true);
  if (!s.ok()) return Fail(s.status());
  common::SetDefaultInputLimits({f.max_gzip_bytes, f.max_gzip_ratio});
  if (f.strict) {
    std::cerr << "accord: --strict: one transaction for the whole import; other writers "
                 "(TAXII POSTs, pulls) wait until it ends\n";
  }
  Progress progress;
  uint64_t warnings = 0;
  ingest::Options o;
  o.collection = f.collection;
  o.origin.entry_point = "import";
  o.audit_actor = "operator:" + OperatorName();
  auto audit_log = audit::Log::Open(g.data_dir, s->get());
  if (!audit_log.ok()) return Fail(audit_log.status());
  o.audit = audit_log->get();
  o.upgrade_20 = !f.no_upgrade;
  o.strict = f.strict;
  o.max_line_bytes = f.max_line_bytes;
  o.max_document_bytes = f.max_document_bytes;
  o.chunk_objects = f.chunk_objects;
  o.chunk_seconds = f.chunk_seconds;
  o.on_problem = [&](const ingest::Problem& p) {
    if (p.warning && ++warnings <= 1000) std::cerr << "warning: " << p.ToString() << "\n";
  };
  o.on_accepted = [&](uint64_t n) { progress.Tick(n); };
  // [pattern] allow_backtracking_regex in accord.toml names the collection by alias or id.
  auto policy = ingest::LoadPatternPolicy(g.data_dir);
  if (!policy.ok()) return Fail(policy.status());
  auto known = (*s)->GetCollection(o.collection);
  if (known.ok()) {
    ingest::ApplyPatternPolicy(*policy, &o, known->id, known->alias);
  } else {
    ingest::ApplyPatternPolicy(*policy, &o);
  }
  ingest::Import run(s->get(), std::move(o));
  for (const auto& file : inputs->files) {
    auto src = ingest::FileSource(file);
    // A file that cannot be read at all fails the import: the transaction rolls back.
    if (auto st = run.Add(*src); !st.ok()) {
      progress.Done();
      print_skipped();
      return Fail(st);
    }
  }
  progress.Done();
  auto res = run.Finish();
  if (!res.ok()) return Fail(res.status());
  const ingest::Checked& c = res->checked;
  for (const auto& p : c.problems) std::cerr << "rejected: " << p.ToString() << "\n";
  print_skipped();
  if (!res->committed) {
    if (c.rejected == 0 && c.accepted == 0) {  // empty input: nothing to do, not a failure
      if (!f.quiet) std::cout << "imported 0 object(s): the input holds none\n";
      return 0;
    }
    std::cerr << "accord: " << res->not_committed_why << "\n";
    return 1;
  }
  if (!f.quiet) {
    std::cout << "imported " << c.accepted << " object(s) into '" << f.collection
              << "': " << res->stored.added << " new version(s), " << res->stored.duplicates
              << " already stored";
    if (c.upgraded) std::cout << ", " << c.upgraded << " upgraded from STIX 2.0";
    if (res->stored.conflicts) {
      // Also among the "rejected:" lines above, each named (issue 10).
      std::cout << "; " << res->stored.conflicts
                << " refused: exist with different content (see 'accord quarantine list')";
    }
    if (warnings) std::cout << "; " << warnings << " warning(s)";
    if (c.rejected) std::cout << "; " << c.rejected << " rejected";
    std::cout << "\n";
  }
  return c.rejected == 0 ? 0 : 1;
}

int Get(const Globals& g, const std::string& id, const std::string& versions) {
  auto vs = ParseVersions(versions);
  if (!vs.ok()) return Fail(vs.status());
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  auto objs = egress.reader.Get(id, *vs, egress.audience, policy::Exit::kGet);
  if (!objs.ok()) return Fail(objs.status());
  egress.Count(*objs);
  for (const auto& o : objs->objects) std::cout << o.json << "\n";
  return egress.Finish(policy::Exit::kGet);
}

struct ListFlags {
  std::string type, collection, added_after, versions = "last";
  uint64_t limit = 0;
  bool json = false, include_revoked = false;
};

int List(const Globals& g, const ListFlags& f) {
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  store::Query q;
  if (!f.type.empty()) q.types.push_back(f.type);
  if (!f.collection.empty()) q.collection = f.collection;
  auto vs = ParseVersions(f.versions);
  if (!vs.ok()) return Fail(vs.status());
  q.versions = *vs;
  q.include_revoked = f.include_revoked;
  if (!f.added_after.empty()) {
    auto t = common::ParseTimestamp(f.added_after);
    if (!t.ok())
      return Fail(absl::InvalidArgumentError(common::Cat("--added-after: ", t.status().message())));
    q.added_after = t->micros;
  }
  q.limit = f.limit;
  // The table reveals ids and versions as --json reveals objects: both are the `list` exit.
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  auto page = egress.reader.List(q, egress.audience, policy::Exit::kListJson);
  if (!page.ok()) return Fail(page.status());
  egress.Count(*page);
  for (const auto& o : page->objects) {
    if (f.json) {
      std::cout << o.json << "\n";
    } else {
      std::cout << common::FormatTimestamp(o.date_added) << "  " << o.id << "  "
                << (o.has_modified ? common::FormatTimestampMillis(o.modified) : "-")
                << (o.revoked ? "  revoked" : "") << "\n";
    }
  }
  if (page->more && !f.json) std::cerr << "(more: raise --limit or use --added-after)\n";
  return egress.Finish(policy::Exit::kListJson);
}

struct SearchFlags {
  std::vector<std::string> words;
  std::vector<std::string> types, markings;
  std::string collection, since, until;
  uint64_t limit = 50;
  bool json = false;
};

// `accord search`: the web UI's search by words and filters (docs/UI_API.md "Search") for the
// operator at the terminal, through the same store query (Store::Browse) and the `list` exit.
int Search(const Globals& g, const SearchFlags& f) {
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  store::BrowseQuery q;
  if (!f.collection.empty()) {
    auto c = (*s)->GetCollection(f.collection);
    if (!c.ok()) return Fail(c.status());
    q.collections.push_back(c->id);
  } else {
    auto cs = (*s)->ListCollections();
    if (!cs.ok()) return Fail(cs.status());
    for (const auto& c : *cs) q.collections.push_back(c.id);
  }
  q.types = f.types;
  for (const std::string& w : f.words) common::Append(&q.text, q.text.empty() ? "" : " ", w);
  for (const std::string& m : f.markings) {
    auto ids = policy::MarkingIdsNamed(m);
    if (!ids.ok()) return Fail(ids.status());
    q.markings.insert(q.markings.end(), ids->begin(), ids->end());
  }
  for (auto [flag, text, into] : {std::tuple{"--since", &f.since, &q.modified_from},
                                  std::tuple{"--until", &f.until, &q.modified_until}}) {
    if (text->empty()) continue;
    auto t = common::ParseDayOrTimestamp(*text);
    if (!t.ok()) {
      return Fail(absl::InvalidArgumentError(common::Cat(
          flag, " must be a date (2026-01-31) or a timestamp: ", t.status().message())));
    }
    *into = *t;
  }
  if (q.collections.empty()) return 0;  // no collection: nothing to find
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  // The operator's search goes on to the end of the store (each page's work is bounded; the
  // pages are not), until `limit` objects were delivered.
  uint64_t shown = 0;
  bool more = true;
  while (more && shown < f.limit) {
    q.limit = std::min<uint64_t>(f.limit - shown, 500);
    auto page = (*s)->Browse(q);
    if (!page.ok()) return Fail(page.status());
    more = page->more;
    q.cursor = page->next;
    if (page->hits.empty()) continue;
    store::Query read;
    for (const auto& h : page->hits) read.ids.push_back(h.id);
    read.versions = store::VersionSelect::kLast;
    read.include_revoked = true;
    auto got = egress.reader.List(read, egress.audience, policy::Exit::kListJson);
    if (!got.ok()) return Fail(got.status());
    egress.Count(*got);
    std::map<std::string, const store::StoredObject*> by_id;
    for (const auto& o : got->objects) by_id[o.id] = &o;
    for (const auto& h : page->hits) {  // newest stored first, as found
      auto it = by_id.find(h.id);
      if (it == by_id.end()) continue;
      const store::StoredObject& o = *it->second;
      if (f.json) {
        std::cout << o.json << "\n";
      } else {
        auto doc = nlohmann::json::parse(o.json, nullptr, false);
        std::string name = doc.is_object() ? doc.value("name", "") : "";
        std::cout << o.id << "  " << common::FormatTimestampMillis(o.modified)
                  << (o.revoked ? "  revoked" : "") << (name.empty() ? "" : "  ") << name << "\n";
      }
      ++shown;
    }
  }
  if (more && !f.json) std::cerr << "(more: raise --limit)\n";
  return egress.Finish(policy::Exit::kListJson);
}

int Export(const Globals& g, const std::string& collection, const std::string& versions,
           const std::string& for_peer) {
  auto vs = ParseVersions(versions);
  if (!vs.ok()) return Fail(vs.status());
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  store::Query q;
  if (!collection.empty()) q.collection = collection;
  q.versions = *vs;
  q.include_revoked = true;
  q.limit = 10000;
  Egress egress(s->get(), g, for_peer);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  std::string out =
      common::Cat(R"({"type":"bundle","id":"bundle--)", common::NewUuid4(), R"(","objects":[)");
  bool first = true;
  while (true) {
    // A closed exit fails here, on the first page, before anything is written.
    auto page = egress.reader.List(q, egress.audience, policy::Exit::kExport);
    if (!page.ok()) return Fail(page.status());
    egress.Count(*page);
    for (const auto& o : page->objects) {
      if (!first) out += ',';
      first = false;
      out += o.json;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
    if (!page->more) break;
    q.cursor = page->next;
  }
  std::fputs("]}\n", stdout);
  if (std::fflush(stdout) != 0) return 70;
  if (!for_peer.empty()) {
    // Withholding is what an export for a peer is for: said, not an error.
    if (egress.withheld) {
      std::cerr << "accord: export for peer '" << for_peer << "': " << egress.withheld
                << " object version(s) withheld by its agreement (first: " << egress.reason
                << ")\n";
    }
    return 0;
  }
  return egress.Finish(policy::Exit::kExport);
}

// "sqlite:DIR" or a directory, or a postgresql:// URL: the options that open that store.
store::Options StoreAt(const std::string& where) {
  store::Options o;
  if (where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0) {
    o.url = where;
  } else {
    o.dir = where.rfind("sqlite:", 0) == 0 ? where.substr(7) : where;
  }
  return o;
}

// `accord store copy` (issue 17): the copy, then a comparison of both stores.
int CopyCommand(const Globals& g, const std::string& from_at, const std::string& to_at,
                bool verify_only) {
  store::Options fo = StoreAt(from_at);
  fo.create = false;
  auto from = store::Store::Open(fo);
  if (!from.ok()) return Fail(from.status());
  store::Options to_options = StoreAt(to_at);
  to_options.create_default_collection = false;
  to_options.create = !verify_only;
  auto to = store::Store::Open(to_options);
  if (!to.ok()) return Fail(to.status());
  // The node's audit log goes with it (issue 17): from the data directory's file or the store
  // that keeps it, line for line, so that its chain and its signed checkpoints (settings,
  // copied above) still verify in the new place.
  auto from_log = audit::Log::Open(fo.dir, from->get());
  if (!from_log.ok()) return Fail(from_log.status());
  auto to_log = audit::Log::Open(to_options.dir, to->get());
  if (!to_log.ok()) return Fail(to_log.status());
  uint64_t audit_entries = 0;
  if (!verify_only) {
    absl::StatusOr<audit::Head> head = (*to_log)->ReadHead();
    if (!head.ok()) return Fail(head.status());
    if (head->seq != 0) {
      return Fail(absl::FailedPreconditionError(
          common::Cat((*to_log)->where(), ": the target already has an audit log (", head->seq,
                      " entries): copy into a new, empty store")));
    }
    auto report = store::CopyStore(**from, **to, [](uint64_t n) {
      std::cerr << "\raccord: " << n << " version(s) copied" << std::flush;
    });
    std::cerr << "\n";
    if (!report.ok()) return Fail(report.status());
    std::cout << "copied: " << report->collections << " collection(s), " << report->versions
              << " version(s) in " << report->memberships << " membership(s), " << report->users
              << " user(s), " << report->keys << " key(s), " << report->grants << " grant(s), "
              << report->settings << " setting(s), " << report->match_records
              << " match record(s)\n";
    if (report->not_copied_unlinked > 0 || report->not_copied_quarantine > 0) {
      std::cout << "not copied: " << report->not_copied_unlinked << " version(s) in no collection, "
                << report->not_copied_quarantine << " quarantined copy(ies)\n";
    }
    absl::StatusOr<uint64_t> copied_log = audit::CopyLog(**from_log, **to_log);
    if (!copied_log.ok()) return Fail(copied_log.status());
    audit_entries = *copied_log;
    std::cout << "copied: " << audit_entries << " audit log entry(ies), from "
              << (*from_log)->where() << "\n";
    // Recorded in the copy's log (the node's from now on), after what it copied: the source's
    // log stays as it was, so a later --verify-only still finds it at the head of the copy's.
    audit::Entry e;
    e.actor = "operator:" + OperatorName();
    e.action = "store.copy";
    e.detail = common::Cat(report->memberships, " memberships, ", report->users, " users, ",
                           report->match_records, " match records and ", audit_entries,
                           " audit entries copied from another store");
    absl::StatusOr<uint64_t> audited = (*to_log)->Append(std::move(e));
    if (!audited.ok()) {
      return Fail(absl::Status(
          audited.status().code(),
          common::Cat("copied, but not recorded in the audit log: ", audited.status().message())));
    }
  }
  absl::Status same = store::VerifyCopy(**from, **to);
  if (!same.ok()) return Fail(same);
  same = audit::VerifyLogCopy(**from_log, **to_log);
  if (!same.ok()) return Fail(same);
  std::cout << "verified: the copy holds the same collections, versions (in order, byte for "
               "byte), users, keys, grants, settings and match ledger, and its audit log "
               "begins with the source's entries\n";
  return 0;
}

// `accord migrate` (issue 17): brings the store's schema to the version this build writes.
// An open never migrates a PostgreSQL store, which several frontends share (store.h); this
// opens it as it is (allow_old_schema). `check`: changes nothing; exit 0 when current, 3
// when a migration is pending, 1 on an error.
int MigrateCommand(const Globals& g, bool check) {
  auto fail = [check](const absl::Status& st) {
    const int code = Fail(st);
    return check ? 1 : code;
  };
  auto o = StoreOptions(g);
  if (!o.ok()) return fail(o.status());
  o->create = false;
  o->create_default_collection = false;
  o->allow_old_schema = true;
  o->read_only = check;
  auto s = store::Store::Open(*o);
  if (!s.ok()) return fail(s.status());
  auto before = (*s)->Schema();
  if (!before.ok()) return fail(before.status());
  std::cout << "accord: store " << before->location << ": ";
  if (before->current == 0) {
    std::cout << "no Accord store yet";
  } else {
    std::cout << "schema version " << before->current;
  }
  std::cout << ", this Accord writes " << before->latest << "\n";
  if (before->current > before->latest) {
    Fail(absl::FailedPreconditionError(common::Cat(
        "schema version ", before->current, " was written by a newer Accord; upgrade accord")));
    return 1;
  }
  if (before->current == before->latest) {
    std::cout << "accord: schema version " << before->latest << " is current; nothing to do\n";
    return 0;
  }
  if (check) {
    if (before->current == 0) {
      std::cout << "accord: 'accord migrate' (or the first command that writes) creates the "
                   "store at schema version "
                << before->latest << "\n";
    } else {
      std::cout << "accord: a migration to schema version " << before->latest
                << " is pending: run 'accord migrate' (with every frontend of this store "
                   "stopped or upgraded)\n";
    }
    return 3;
  }
  auto after = (*s)->Migrate();
  if (!after.ok()) return fail(after.status());
  std::cout << "accord: " << (before->current == 0 ? "created the store at" : "migrated to")
            << " schema version " << after->current << "\n";
  absl::Status audited =
      AuditChange(g, "store.migrate",
                  common::Cat("store ", after->location, " migrated from schema version ",
                              before->current, " to ", after->current));
  if (!audited.ok()) return fail(audited);
  return 0;
}

int PrintStats(const Globals& g, bool json) {
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  auto st = (*s)->GetStats();
  if (!st.ok()) return Fail(st.status());
  if (json) {
    nlohmann::ordered_json j;
    j["objects"] = st->objects;
    j["versions"] = st->versions;
    j["per_type"] = nlohmann::ordered_json::object();
    for (auto& [k, v] : st->per_type) j["per_type"][k] = v;
    j["per_collection"] = nlohmann::ordered_json::object();
    for (auto& [k, v] : st->per_collection) j["per_collection"][k] = v;
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "objects: " << st->objects << " (" << st->versions << " versions)\n";
  std::cout << "per type:\n";
  for (auto& [k, v] : st->per_type)
    std::printf("  %-28s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  std::cout << "per collection (versions):\n";
  for (auto& [k, v] : st->per_collection)
    std::printf("  %-28s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  return 0;
}

}  // namespace

void RegisterStoreCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* st = app.add_subcommand("store", "Operations on the store itself");
  st->require_subcommand(1);
  auto* copy = st->add_subcommand(
      "copy",
      "Copy a store into a new, empty one and verify the copy (SQLite to PostgreSQL or back: "
      "docs/SCALE_OUT.md)");
  static std::string copy_from, copy_to;  // process lifetime (CLI11 binds by address)
  static bool verify_only = false;
  copy->add_option("--from", copy_from,
                   "The store to copy: sqlite:DIR (or DIR), or a "
                   "postgresql:// URL")
      ->required();
  copy->add_option("--to", copy_to, "The new store: sqlite:DIR (or DIR), or a postgresql:// URL")
      ->required();
  copy->add_flag("--verify-only", verify_only, "Only compare the two stores");
  AddDataOption(copy, g);
  copy->callback([g, exit_code] { *exit_code = CopyCommand(*g, copy_from, copy_to, verify_only); });

  auto* migrate = app.add_subcommand(
      "migrate",
      "Bring the store's schema to the version this Accord writes (a PostgreSQL store: with "
      "every frontend of it stopped or upgraded)");
  static bool migrate_check = false;  // process lifetime (CLI11 binds by address)
  migrate->add_flag("--check", migrate_check,
                    "Change nothing: exit 0 when the schema is current, 3 when a migration is "
                    "pending, 1 on an error");
  AddDataOption(migrate, g);
  migrate->callback([g, exit_code] { *exit_code = MigrateCommand(*g, migrate_check); });

  auto* init = app.add_subcommand("init", "Create a node's store in the data directory");
  AddDataOption(init, g);
  init->callback([g, exit_code] { *exit_code = Init(*g); });

  auto* imp = app.add_subcommand(
      "import",
      "Import STIX 2.1 (or 2.0, upgraded), MISP events and feeds, CSV, lists and free text; "
      ".gz, .tar.gz and .zip ok");
  AddDataOption(imp, g);
  auto f = std::make_shared<ImportFlags>();
  imp->add_option("files", f->files,
                  "Files or directories (searched for .json, .jsonl, .ndjson, also .gz) to import; "
                  "'-' is standard input")
      ->required();
  imp->add_option("--collection,-c", f->collection, "Collection to add the objects to");
  imp->add_flag("--strict", f->strict,
                "Reject the whole input if any object is invalid. One transaction: other "
                "writers (TAXII POSTs, pulls) are held off until the import ends");
  imp->add_option("--max-line-bytes", f->max_line_bytes,
                  "Longest JSON line; a longer one is reported (line, byte offset) and skipped")
      ->capture_default_str();
  imp->add_option("--max-document-bytes", f->max_document_bytes,
                  "Largest bundle or array read whole")
      ->capture_default_str();
  imp->add_option("--max-gzip-bytes", f->max_gzip_bytes,
                  "Most bytes a .gz input may inflate to (decompression bomb bound)")
      ->capture_default_str();
  imp->add_option("--max-gzip-ratio", f->max_gzip_ratio,
                  "Most inflated bytes per gzip byte (0: no bound)")
      ->capture_default_str();
  imp->add_option("--chunk-objects", f->chunk_objects,
                  "Without --strict: commit every N accepted objects (0: no count bound)")
      ->capture_default_str();
  imp->add_option("--chunk-seconds", f->chunk_seconds,
                  "Without --strict: when another writer waits, commit after this much work, "
                  "so that it waits at most about this long (0: no time bound)")
      ->capture_default_str();
  imp->add_flag("--no-upgrade", f->no_upgrade, "Refuse STIX 2.0 content instead of upgrading it");
  imp->add_option("--format,-f", f->format,
                  "auto (sniff each input and say what was chosen), stix, misp, csv, list or "
                  "text (docs/FORMATS.md)")
      ->capture_default_str();
  imp->add_option("--type,-t", f->kind,
                  "list: every line is of this kind (ipv4, ipv6, ipv4-cidr, ipv6-cidr, domain, "
                  "url, email, md5, sha1, sha256, sha512, cve); detected per line otherwise");
  imp->add_option("--columns", f->columns,
                  "csv: the columns' roles, positional ('-,value,type,description') or by header "
                  "name or 1-based index ('value=url,type=threat'); roles: value, type, "
                  "description, label")
      ->capture_default_str();
  imp->add_option("--delimiter", f->delimiter, "csv: the field separator (one character, or tab)")
      ->capture_default_str();
  imp->add_flag("--header", f->header, "csv: the first row is a header");
  imp->add_option("--on-warninglist", f->on_warninglist,
                  "misp, csv, list, text: an indicator whose value is on one of the node's "
                  "warninglists is flagged (label warninglist:NAME) or dropped")
      ->capture_default_str();
  imp->add_option("--label", f->labels,
                  "list, csv, text: a label for every indicator (repeatable)");
  imp->add_flag("--quiet,-q", f->quiet, "Print nothing on success");
  imp->callback([g, f, exit_code] { *exit_code = Import(*g, *f); });

  auto* get = app.add_subcommand("get", "Print an object's versions as JSON, one per line");
  AddDataOption(get, g);
  auto id = std::make_shared<std::string>();
  auto versions = std::make_shared<std::string>("last");
  get->add_option("id", *id, "STIX identifier")->required();
  get->add_option("--versions", *versions, "first, last or all")->capture_default_str();
  get->callback([g, id, versions, exit_code] { *exit_code = Get(*g, *id, *versions); });

  auto* list = app.add_subcommand("list", "List objects (date added, id, modified)");
  AddDataOption(list, g);
  auto lf = std::make_shared<ListFlags>();
  list->add_option("--type,-t", lf->type, "Only this STIX type");
  list->add_option("--collection,-c", lf->collection, "Only this collection, in date_added order");
  list->add_option("--added-after", lf->added_after, "Only objects added after this timestamp");
  list->add_option("--limit,-n", lf->limit, "At most this many");
  list->add_option("--versions", lf->versions, "first, last or all")->capture_default_str();
  list->add_flag("--include-revoked", lf->include_revoked, "Also list revoked objects");
  list->add_flag("--json", lf->json, "Print the objects' JSON, one per line");
  list->callback([g, lf, exit_code] { *exit_code = List(*g, *lf); });

  auto* search = app.add_subcommand(
      "search",
      "Find objects by words of their names and descriptions, type, collection, marking and "
      "time (the web UI's search), newest stored first");
  AddDataOption(search, g);
  auto sfl = std::make_shared<SearchFlags>();
  search->add_option("words", sfl->words,
                     "Words that must all be in the name or description (phish* is a prefix)");
  search->add_option("--type,-t", sfl->types, "Only these STIX types (repeatable)");
  search->add_option("--collection,-c", sfl->collection, "Only this collection");
  search->add_option("--marking,-m", sfl->markings,
                     "Only objects with one of these markings: a TLP level (red, tlp:amber, ...) "
                     "or a marking-definition id (repeatable)");
  search->add_option("--since", sfl->since, "Only objects modified at or after this day or time");
  search->add_option("--until", sfl->until, "Only objects modified before this day or time");
  search->add_option("--limit,-n", sfl->limit, "At most this many")->capture_default_str();
  search->add_flag("--json", sfl->json, "Print the objects' JSON, one per line");
  search->callback([g, sfl, exit_code] { *exit_code = Search(*g, *sfl); });

  auto* exp = app.add_subcommand(
      "export",
      "Write a STIX 2.1 bundle to standard output, or files for sensors and MISP (--format)");
  AddDataOption(exp, g);
  auto sf = std::make_shared<SensorExportFlags>();
  sf->format = "stix";
  exp->add_option("--format,-f", sf->format,
                  "stix (a bundle on standard output), misp, zeek-intel, suricata-datasets, "
                  "suricata-iprep, list or csv (docs/FORMATS.md); only active indicators are "
                  "exported in the sensor formats")
      ->capture_default_str();
  exp->add_option("--out,-o", sf->out_dir, "Sensor formats: write the files into this directory");
  exp->add_option("--watch", sf->watch_dir,
                  "Sensor formats: write the files into this directory and keep them current as "
                  "the store changes (each file replaced atomically), until interrupted");
  exp->add_option("--interval", sf->interval, "--watch: seconds between checks of the store")
      ->capture_default_str();
  exp->add_option("--sid-base", sf->sid_base, "Suricata: the first rule's sid")
      ->capture_default_str();
  exp->add_flag("--keep-warninglisted", sf->keep_warninglisted,
                "Sensor formats: also export values on the node's warninglists");
  auto coll = std::make_shared<std::string>();
  auto ev = std::make_shared<std::string>("all");
  exp->add_option("--collection,-c", *coll, "Only this collection");
  exp->add_option("--versions", *ev, "first, last or all")->capture_default_str();
  auto for_peer = std::make_shared<std::string>();
  exp->add_option("--for-peer", *for_peer,
                  "Only what this peer's agreement lets it have, as a sync would deliver it "
                  "(TLP rules, redaction profile; copies this node changed are signed by it)");
  exp->callback([g, coll, ev, for_peer, sf, exit_code] {
    if (sf->format == "stix") {
      *exit_code = Export(*g, *coll, *ev, *for_peer);
    } else if (!for_peer->empty()) {
      *exit_code = Fail(absl::InvalidArgumentError(
          "--for-peer writes a STIX bundle; it does not combine with --format"));
    } else {
      sf->collection = *coll;
      *exit_code = ExportForSensors(*g, *sf);
    }
  });

  auto* stats = app.add_subcommand("stats", "Counts per type and per collection");
  AddDataOption(stats, g);
  auto json = std::make_shared<bool>(false);
  stats->add_flag("--json", *json, "Machine-readable output");
  stats->callback([g, json, exit_code] { *exit_code = PrintStats(*g, *json); });
}

}  // namespace accord::cli
