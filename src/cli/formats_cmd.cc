// accord warninglist load|list|remove, and `accord export --format` for sensors
// (docs/FORMATS.md).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/formats/export.h"
#include "accord/formats/misp.h"
#include "accord/formats/warninglist.h"
#include "cli/cli.h"
#include "cli/egress.h"
#include "cli/formats_cli.h"

namespace accord::cli {
namespace {

volatile std::sig_atomic_t g_export_stop = 0;
void OnExportSignal(int) { g_export_stop = 1; }

// A list's file name in the node's directory: its name with anything but [A-Za-z0-9._-]
// replaced, so that a hostile name cannot leave the directory.
std::string WarninglistFileName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out + ".json";
}

// The list.json files under `path` (a file, or a directory searched recursively).
std::vector<std::string> WarninglistFiles(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    out.push_back(path);
    return out;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && it->path().extension() == ".json" &&
        it->path().filename() != "schema.json") {
      out.push_back(it->path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int WarninglistLoad(const Globals& g, const std::vector<std::string>& paths) {
  std::string dir = WarninglistDir(g);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(absl::FailedPreconditionError(common::Cat(dir, ": ", ec.message())));
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  uint64_t loaded = 0, refused = 0, problems = 0;
  for (const auto& p : paths) {
    for (const auto& file : WarninglistFiles(p)) {
      auto data = common::ReadFile(file, formats::kMaxWarninglistBytes);
      if (!data.ok()) {
        std::cerr << "rejected: " << data.status().message() << "\n";
        ++refused;
        continue;
      }
      auto list = formats::ParseWarninglist(*data, file);
      if (!list.ok()) {
        std::cerr << "rejected: " << list.status().message() << "\n";
        ++refused;
        continue;
      }
      // Compile it alone first: entries that cannot be used are named now, once.
      formats::WarninglistSet probe;
      auto st = probe.Add(*list, [&](formats::Problem&& pr) {
        ++problems;
        if (problems <= 100)
          std::cerr << (pr.warning ? "warning: " : "skipped: ") << pr.ToString() << "\n";
      });
      if (!st.ok()) {
        std::cerr << "rejected: " << file << ": " << st.message() << "\n";
        ++refused;
        continue;
      }
      std::string target = (std::filesystem::path(dir) / WarninglistFileName(list->name)).string();
      if (auto w = common::WriteFileAtomic(target, *data); !w.ok()) return Fail(w);
      ::chmod(target.c_str(), 0600);
      std::cout << "loaded " << list->name << " (" << list->type << ", " << list->entries.size()
                << " entries, version " << list->version << ")\n";
      ++loaded;
    }
  }
  std::cout << loaded << " warninglist(s) loaded";
  if (refused) std::cout << ", " << refused << " refused";
  std::cout << "\n";
  return refused == 0 ? 0 : 1;
}

int WarninglistList(const Globals& g, bool json) {
  auto set = LoadNodeWarninglists(g);
  if (!set.ok()) return Fail(set.status());
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& l : set->lists()) {
    if (json) {
      std::vector<std::string> kinds;
      for (int k = 0; k < formats::kValueKindCount; ++k) {
        if (l.kinds & (1u << k)) {
          kinds.emplace_back(formats::ValueKindName(static_cast<formats::ValueKind>(k)));
        }
      }
      arr.push_back({{"name", l.name},
                     {"type", l.type},
                     {"category", l.category},
                     {"version", l.version},
                     {"entries", l.entries},
                     {"kinds", kinds},
                     {"description", l.description}});
    } else {
      std::printf("%-50s %-9s %8zu entries  v%lld\n", l.name.c_str(), l.type.c_str(), l.entries,
                  static_cast<long long>(l.version));
    }
  }
  if (json) std::cout << arr.dump() << "\n";
  if (!json && set->lists().empty()) std::cout << "no warninglist loaded\n";
  return 0;
}

int WarninglistRemove(const Globals& g, const std::string& name) {
  std::string target =
      (std::filesystem::path(WarninglistDir(g)) / WarninglistFileName(name)).string();
  std::error_code ec;
  if (!std::filesystem::remove(target, ec)) {
    return Fail(absl::NotFoundError(common::Cat("no warninglist named '", name, "'")));
  }
  std::cout << "removed " << name << "\n";
  return 0;
}

// The indicators active now, read through the egress gate, and when the set changes next by
// time alone (a valid_until or valid_from still to come; 0: never).
struct ActiveIndicators {
  std::vector<formats::ExportIndicator> indicators;
  common::Micros next_change = 0;
  uint64_t withheld = 0;
  std::string withheld_reason;
  uint64_t expired = 0, not_yet_valid = 0;
};

absl::StatusOr<ActiveIndicators> ReadActive(store::Store* s, Egress& egress,
                                            const std::string& collection) {
  ActiveIndicators out;
  const common::Micros now = common::NowMicros();
  store::Query q;
  if (!collection.empty()) q.collection = collection;
  q.types = {"indicator"};
  q.versions = store::VersionSelect::kLast;
  q.include_revoked = false;  // a revoked indicator leaves the next export
  q.limit = 10000;
  (void)s;
  while (true) {
    auto page = egress.reader.List(q, egress.audience, policy::Exit::kExport);
    if (!page.ok()) return page.status();
    if (page->withheld && out.withheld == 0) out.withheld_reason = page->withheld_reason;
    out.withheld += page->withheld;
    for (const auto& o : page->objects) {
      auto j = nlohmann::json::parse(o.json, nullptr, false);
      if (!j.is_object() || !j.contains("pattern") || !j["pattern"].is_string()) continue;
      if (j.value("pattern_type", "stix") != "stix") continue;
      auto time_of = [&](const char* key) -> std::optional<common::Micros> {
        if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
        auto t = common::ParseTimestamp(j[key].get<std::string>());
        if (!t.ok()) return std::nullopt;
        return t->micros;
      };
      if (auto until = time_of("valid_until")) {
        if (*until <= now) {
          ++out.expired;
          continue;
        }
        if (out.next_change == 0 || *until < out.next_change) out.next_change = *until;
      }
      if (auto from = time_of("valid_from"); from && *from > now) {
        ++out.not_yet_valid;
        if (out.next_change == 0 || *from < out.next_change) out.next_change = *from;
        continue;
      }
      formats::ExportIndicator ind;
      ind.id = o.id;
      ind.name = j.value("name", "");
      ind.pattern = j["pattern"].get<std::string>();
      if (j.contains("confidence") && j["confidence"].is_number_integer()) {
        ind.confidence = j["confidence"].get<int>();
      }
      ind.source = collection.empty() ? "accord" : collection;
      out.indicators.push_back(std::move(ind));
    }
    if (!page->more) break;
    q.cursor = page->next;
  }
  return out;
}

// Leaves out values on the node's warninglists: an indicator keeps its other values (its
// pattern rewritten to them), or is dropped when none is left. Returns the count left out.
uint64_t DropWarninglisted(const formats::WarninglistSet& lists,
                           std::vector<formats::ExportIndicator>* in,
                           std::map<std::string, uint64_t>* per_list) {
  if (lists.size() == 0) return 0;
  uint64_t dropped = 0;
  std::vector<formats::ExportIndicator> kept;
  kept.reserve(in->size());
  for (auto& ind : *in) {
    auto values = formats::ExportableValues(ind.pattern, nullptr);
    if (values.empty()) {
      kept.push_back(std::move(ind));
      continue;
    }
    std::string pattern;
    bool changed = false;
    for (const auto& v : values) {
      auto hits = lists.Match(v);
      if (!hits.empty()) {
        changed = true;
        ++dropped;
        for (auto h : hits) ++(*per_list)[std::string(h)];
        continue;
      }
      auto p = formats::PatternFor(v);
      if (!p) continue;
      if (!pattern.empty()) pattern += " OR ";
      pattern += *p;
    }
    if (!changed) {
      kept.push_back(std::move(ind));
    } else if (!pattern.empty()) {
      ind.pattern = std::move(pattern);
      kept.push_back(std::move(ind));
    }
  }
  *in = std::move(kept);
  return dropped;
}

// Writes `files` into `dir` atomically (write, then rename), only those whose content changed,
// and removes the files of the previous export (`previous`) that this one no longer has.
absl::Status WriteExport(const std::string& dir, const std::vector<formats::ExportedFile>& files,
                         std::set<std::string>* previous, uint64_t* written) {
  std::set<std::string> now;
  for (const auto& f : files) {
    std::string path = (std::filesystem::path(dir) / f.name).string();
    now.insert(f.name);
    auto old = common::ReadFile(path, f.content.size() + 1);
    if (old.ok() && *old == f.content) continue;
    ACCORD_RETURN_IF_ERROR(common::WriteFileAtomic(path, f.content));
    ++*written;
  }
  for (const auto& name : *previous) {
    if (!now.count(name)) {
      std::error_code ec;
      std::filesystem::remove(std::filesystem::path(dir) / name, ec);
    }
  }
  *previous = std::move(now);
  return absl::OkStatus();
}

}  // namespace

std::string WarninglistDir(const Globals& g) {
  return (std::filesystem::path(g.data_dir) / "warninglists").string();
}

absl::StatusOr<formats::WarninglistSet> LoadNodeWarninglists(const Globals& g) {
  return formats::LoadWarninglistDir(WarninglistDir(g));
}

// `accord export --format misp`: MISP events (one per STIX report, plus "Accord export" for
// indicators no report refers to) of the collection's current, unrevoked objects, through the
// egress gate; on standard output, or into --out DIR/accord-misp.json.
int ExportMisp(const Globals& g, const SensorExportFlags& f) {
  if (!f.watch_dir.empty()) {
    return Fail(absl::InvalidArgumentError("--watch is for the sensor formats, not misp"));
  }
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  store::Query q;
  if (!f.collection.empty()) q.collection = f.collection;
  q.versions = store::VersionSelect::kLast;
  q.include_revoked = false;
  q.limit = 10000;
  formats::MispWriter writer;
  uint64_t objects = 0, unreadable = 0;
  while (true) {
    auto page = egress.reader.List(q, egress.audience, policy::Exit::kExport);
    if (!page.ok()) return Fail(page.status());
    egress.Count(*page);
    for (const auto& o : page->objects) {
      if (writer.Add(o.json).ok()) {
        ++objects;
      } else {
        ++unreadable;
      }
    }
    if (!page->more) break;
    q.cursor = page->next;
  }
  std::string out = writer.Finish();
  out += '\n';
  if (f.out_dir.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (std::fflush(stdout) != 0) return 70;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(f.out_dir, ec);
    std::string path = (std::filesystem::path(f.out_dir) / "accord-misp.json").string();
    if (auto st = common::WriteFileAtomic(path, out); !st.ok()) return Fail(st);
  }
  std::cerr << "accord: export misp: " << objects << " object(s) read";
  if (writer.skipped()) {
    std::cerr << "; " << writer.skipped() << " indicator(s) whose pattern has no MISP form";
  }
  std::cerr << "\n";
  return egress.Finish(policy::Exit::kExport);
}

int ExportForSensors(const Globals& g, const SensorExportFlags& f) {
  if (f.format == "misp") return ExportMisp(g, f);
  auto fmt = formats::ParseExportFormat(f.format);
  if (!fmt.ok()) {
    return Fail(absl::InvalidArgumentError(
        common::Cat("--format: ", fmt.status().message(), ", or stix (the default) or misp")));
  }
  const bool watch = !f.watch_dir.empty();
  const std::string dir = watch ? f.watch_dir : f.out_dir;
  if (dir.empty()) {
    return Fail(absl::InvalidArgumentError(
        common::Cat("--format ", f.format,
                    " writes files: name their directory with --out DIR or --watch DIR")));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(absl::FailedPreconditionError(common::Cat(dir, ": ", ec.message())));
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  auto lists = LoadNodeWarninglists(g);
  if (!lists.ok()) return Fail(lists.status());
  formats::ExportOptions eo;
  eo.sid_base = f.sid_base;
  std::set<std::string> previous;
  if (watch) {
    std::signal(SIGINT, OnExportSignal);
    std::signal(SIGTERM, OnExportSignal);
  }
  uint64_t last_generation = 0;
  bool first = true;
  common::Micros next_change = 0;
  while (true) {
    auto gen = (*s)->Generation();
    if (!gen.ok()) return Fail(gen.status());
    const common::Micros now = common::NowMicros();
    bool due = first || *gen != last_generation || (next_change != 0 && now >= next_change);
    if (due) {
      Egress egress(s->get(), g);
      if (!egress.audit_status.ok()) return Fail(egress.audit_status);
      auto active = ReadActive(s->get(), egress, f.collection);
      if (!active.ok()) return Fail(active.status());
      std::map<std::string, uint64_t> per_list;
      uint64_t listed =
          f.keep_warninglisted ? 0 : DropWarninglisted(*lists, &active->indicators, &per_list);
      formats::ExportStats stats;
      auto files = formats::ExportIndicators(*fmt, active->indicators, &stats, eo);
      if (!files.ok()) return Fail(files.status());
      uint64_t written = 0;
      if (auto st = WriteExport(dir, *files, &previous, &written); !st.ok()) return Fail(st);
      std::cerr << "accord: export " << f.format << " to " << dir << ": " << stats.values
                << " value(s) from " << stats.indicators << " indicator(s), " << files->size()
                << " file(s), " << written << " rewritten";
      if (stats.skipped) std::cerr << "; " << stats.skipped << " indicator(s) not exportable";
      if (active->expired) std::cerr << "; " << active->expired << " past valid_until";
      if (listed) {
        std::cerr << "; " << listed << " value(s) left out, on warninglists (";
        bool first_list = true;
        for (const auto& [name, n] : per_list) {
          std::cerr << (first_list ? "" : ", ") << name << ": " << n;
          first_list = false;
        }
        std::cerr << ")";
      }
      std::cerr << "\n";
      for (const auto& r : stats.skipped_reasons) std::cerr << "  not exportable: " << r << "\n";
      if (active->withheld) {
        std::cerr << "accord: " << active->withheld
                  << " indicator version(s) withheld by the egress gate ("
                  << active->withheld_reason << ")\n";
      }
      if (!watch) return active->withheld ? egress.Finish(policy::Exit::kExport) : 0;
      next_change = active->next_change;
      last_generation = *gen;
      first = false;
    }
    for (int i = 0; i < 20 && !g_export_stop; ++i) {
      std::this_thread::sleep_for(std::chrono::duration<double>(f.interval / 20));
    }
    if (g_export_stop) break;
  }
  return 0;
}

void RegisterFormatsCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* w = app.add_subcommand("warninglist",
                               "MISP warninglists: known-benign values flagged or dropped on "
                               "import, left out of sensor exports and suppressed on matching");
  w->require_subcommand(1);
  auto* load = w->add_subcommand(
      "load", "Load MISP warninglists (list.json files, or directories of them) into the node");
  AddDataOption(load, g);
  auto paths = std::make_shared<std::vector<std::string>>();
  load->add_option("paths", *paths, "Files or directories (MISP/misp-warninglists lists/)")
      ->required();
  load->callback([g, paths, exit_code] { *exit_code = WarninglistLoad(*g, *paths); });
  auto* list = w->add_subcommand("list", "The node's warninglists");
  AddDataOption(list, g);
  auto json = std::make_shared<bool>(false);
  list->add_flag("--json", *json, "Machine-readable output");
  list->callback([g, json, exit_code] { *exit_code = WarninglistList(*g, *json); });
  auto* rm = w->add_subcommand("remove", "Remove a warninglist from the node");
  AddDataOption(rm, g);
  auto name = std::make_shared<std::string>();
  rm->add_option("name", *name, "The list's name")->required();
  rm->callback([g, name, exit_code] { *exit_code = WarninglistRemove(*g, *name); });
}

}  // namespace accord::cli
