// `accord policy lockdown on|off|status`: the operator's switch that closes every exit of the
// node (docs/EGRESS.md). The switch is a store setting; the egress gate of every process using
// the store (a running `accord serve` included) reads it within a second.
//
// `accord redact --profile NAME FILE`: what a redaction profile (accord.toml
// [redaction.profiles.NAME], docs/PRIVACY.md) does to a bundle, printed as the bundle that
// would leave, so that an operator can check a profile before an agreement uses it.
#include <absl/strings/str_join.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/policy/gate.h"
#include "accord/policy/redaction.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

int Lockdown(const Globals& g, const std::string& what) {
  store::Options o;
  o.dir = g.data_dir;
  o.create = false;  // a switch on a node that does not exist would protect nothing
  auto s = store::Store::Open(o);
  if (!s.ok()) return Fail(s.status());
  if (what == "on" || what == "off") {
    auto st = policy::SetLockdown(**s, what == "on");
    if (!st.ok()) return Fail(st);
    st = AuditChange(g, "policy.lockdown", what);
    if (!st.ok()) return Fail(st);
  } else if (what != "status") {
    return Fail(absl::InvalidArgumentError(
        common::Cat("lockdown takes on, off or status, found '", what, "'")));
  }
  auto on = policy::LockdownOn(**s);
  if (!on.ok()) return Fail(on.status());
  std::cout << (*on ? "lockdown: on (nothing leaves this node: TAXII reads, export, get, list, "
                      "push, match output and sightings are refused)\n"
                    : "lockdown: off\n");
  return 0;
}

struct RedactFlags {
  std::string profile, file;
  bool quiet = false;
};

int Redact(const Globals& g, const RedactFlags& f) {
  auto config = policy::LoadRedactionConfig(g.data_dir);
  if (!config.ok()) return Fail(config.status());
  auto it = config->profiles.find(f.profile);
  if (it == config->profiles.end()) {
    std::string known;
    for (const auto& [name, p] : config->profiles) known += (known.empty() ? "" : ", ") + name;
    return Fail(absl::NotFoundError(
        common::Cat("no redaction profile '", f.profile, "' in ", g.data_dir, "/accord.toml (",
                    known.empty() ? "it defines none" : "defined: " + known, ")")));
  }
  auto redactor = policy::Redactor::Create(it->second);
  if (!redactor.ok()) return Fail(redactor.status());
  // The file's objects, in order, and by id for the references (the last version read wins).
  std::vector<std::pair<std::string, std::string>> objects;  // (id, json)
  std::map<std::string, size_t, std::less<>> by_id;
  uint64_t problems = 0;
  stix::ReaderOptions ro;
  ro.source_name = f.file;
  auto read = stix::ReadFile(
      f.file, ro,
      [&](stix::ObjectRecord&& rec) {
        by_id[rec.id] = objects.size();
        objects.emplace_back(rec.id, std::move(rec.json));
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) {
        if (p.warning) return;
        ++problems;
        std::cerr << "accord: " << p.ToString() << " (left out)\n";
      });
  if (!read.ok()) return Fail(read.status());
  const policy::Redactor::Lookup lookup = [&](std::string_view id) -> std::optional<std::string> {
    auto found = by_id.find(id);
    if (found == by_id.end()) return std::nullopt;
    return objects[found->second].second;
  };
  std::string out =
      common::Cat(R"({"type":"bundle","id":"bundle--)", common::NewUuid4(), R"(","objects":[)");
  uint64_t kept = 0, redacted = 0, dropped = 0;
  for (const auto& [id, json] : objects) {
    policy::Redactor::Result r = (*redactor)->Redact(json, lookup);
    switch (r.kind) {
      case policy::Redactor::Result::Kind::kDropped:
        ++dropped;
        if (!f.quiet) std::cerr << "dropped  " << id << ": " << r.reason << "\n";
        continue;
      case policy::Redactor::Result::Kind::kRedacted:
        ++redacted;
        if (!f.quiet) {
          std::cerr << "redacted " << id << ": " << absl::StrJoin(r.actions, ", ") << "\n";
        }
        common::Append(&out, kept + redacted > 1 ? "," : "", r.json);
        break;
      case policy::Redactor::Result::Kind::kUnchanged:
        ++kept;
        common::Append(&out, kept + redacted > 1 ? "," : "", json);
        break;
    }
  }
  out += "]}";
  std::cout << out << "\n";
  std::cerr << "accord: profile '" << f.profile << "': " << objects.size() << " objects, " << kept
            << " unchanged, " << redacted << " redacted, " << dropped << " dropped";
  if (problems) std::cerr << "; " << problems << " could not be read";
  std::cerr << "\n";
  return problems ? 1 : 0;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* p = app.add_subcommand("policy", "The node's egress policy (docs/EGRESS.md)");
  p->require_subcommand(1);
  auto* l = p->add_subcommand(
      "lockdown", "Close (on) or reopen (off) every exit of the node, or show the switch");
  AddDataOption(l, g);
  auto what = std::make_shared<std::string>();
  l->add_option("STATE", *what, "on, off or status")->required();
  l->callback([g, what, exit_code] { *exit_code = Lockdown(*g, *what); });

  auto* r = app.add_subcommand(
      "redact",
      "Show what a redaction profile does to a bundle: the bundle that would leave on standard "
      "output, each change on standard error (the stored objects are not touched)");
  AddDataOption(r, g);
  auto rf = std::make_shared<RedactFlags>();
  r->add_option("--profile", rf->profile, "A profile of <data>/accord.toml [redaction.profiles]")
      ->required();
  r->add_option("FILE", rf->file, "A STIX bundle, JSON array or JSON lines ('-': standard input)")
      ->required();
  r->add_flag("-q,--quiet", rf->quiet, "Only the summary on standard error");
  r->callback([g, rf, exit_code] { *exit_code = Redact(*g, *rf); });
}

}  // namespace accord::cli
