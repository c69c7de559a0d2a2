// `accord policy lockdown on|off|status`: the operator's switch that closes every exit of the
// node (docs/EGRESS.md). The switch is a store setting; the egress gate of every process using
// the store (a running `accord serve` included) reads it within a second.
//
// `accord redact --profile NAME FILE`: what a redaction profile (accord.toml
// [redaction.profiles.NAME], docs/PRIVACY.md) does to a bundle, printed as the bundle that
// would leave, so that an operator can check a profile before an agreement uses it.
#include <absl/strings/str_join.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "accord/audit/checkpoint.h"
#include "accord/audit/log.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/policy/gate.h"
#include "accord/policy/redaction.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "cli/cli.h"
#include "cli/match_config.h"

namespace accord::cli {
namespace {

int Lockdown(const Globals& g, const std::string& what) {
  absl::StatusOr<store::Options> o = StoreOptions(g);
  if (!o.ok()) return Fail(o.status());
  o->create = false;  // a switch on a node that does not exist would protect nothing
  auto s = store::Store::Open(*o);
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

// --- retention (issue 13, point 6) ------------------------------------------------------------

struct PurgeFlags {
  bool dry_run = false;
  bool json = false;
};

}  // namespace

absl::StatusOr<RetentionResult> ApplyRetention(const Globals& g, bool dry_run, bool json,
                                               std::ostream* out) {
  ACCORD_ASSIGN_OR_RETURN(const Retention r, LoadRetention(g.data_dir));
  if (!r.any()) {
    return RetentionResult{
        "accord.toml has no [retention]: nothing is purged by age (docs/PRIVACY.md, "
        "\"Retention\")",
        false};
  }
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenDataStore(g, false));
  const common::Micros now = common::NowMicros();
  constexpr common::Micros kDay = 86400LL * 1000000;
  store::PurgeRules rules;
  if (r.indicator_grace_days >= 0)
    rules.indicators_expired_before = now - r.indicator_grace_days * kDay;
  if (r.sightings_days >= 0) rules.sightings_before = now - r.sightings_days * kDay;
  if (r.quarantine_days >= 0) rules.quarantine_before = now - r.quarantine_days * kDay;
  if (r.matches_days >= 0) rules.matches_before = now - r.matches_days * kDay;
  ACCORD_ASSIGN_OR_RETURN(const store::PurgeReport report, store->Purge(rules, dry_run));
  const bool purged = !report.items.empty() || report.match_records > 0;
  std::map<std::string, uint64_t> per_kind;
  for (const store::PurgeItem& it : report.items) {
    ++per_kind[it.kind];
    if (json) {
      nlohmann::ordered_json j{{"kind", it.kind},
                               {"id", it.id},
                               {"modified", common::FormatTimestamp(it.modified)},
                               {"bytes", it.bytes}};
      if (it.kind == "quarantine") j["qid"] = it.qid;
      if (out) *out << j.dump() << "\n";
    } else {
      if (out)
        *out << it.kind << "  " << it.id << "  " << common::FormatTimestamp(it.modified) << "  "
             << it.bytes << " bytes\n";
    }
  }
  // Match-ledger records: one line with their count (a ledger holds millions).
  if (report.match_records > 0) {
    per_kind["match_records"] = report.match_records;
    const std::string before = common::FormatTimestamp(rules.matches_before);
    if (out && json) {
      *out << nlohmann::ordered_json{{"kind", "match_records"},
                                     {"count", report.match_records},
                                     {"before", before}}
                  .dump()
           << "\n";
    } else if (out) {
      *out << "match_records  " << report.match_records
           << " record(s) whose event and recording are before " << before << "\n";
    }
  }
  std::string counts;
  for (const auto& [kind, n] : per_kind)
    common::Append(&counts, counts.empty() ? "" : ", ", n, " ", kind);
  if (counts.empty()) counts = "nothing";
  std::string rule_text =
      common::Cat("indicator_grace_days ", r.indicator_grace_days, ", sightings_days ",
                  r.sightings_days, ", quarantine_days ", r.quarantine_days, ", audit_days ",
                  r.audit_days, ", matches_days ", r.matches_days, " (-1: kept)");
  // The audit log goes only as whole checkpoints: through the newest one signed before the
  // cut-off, so that what is left still verifies from a signed anchor.
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<audit::Log> log,
                          audit::Log::Open(g.data_dir, store.get()));
  std::optional<audit::Checkpoint> audit_through;
  std::string summary;
  if (r.audit_days >= 0) {
    ACCORD_ASSIGN_OR_RETURN(const std::vector<audit::Checkpoint> cps,
                            audit::LoadCheckpoints(*store));
    const common::Micros cutoff = now - r.audit_days * kDay;
    for (const audit::Checkpoint& c : cps) {
      absl::StatusOr<common::ParsedTimestamp> t = common::ParseTimestamp(c.time);
      if (t.ok() && t->micros < cutoff && (!audit_through || c.seq > audit_through->seq)) {
        audit_through = c;
      }
    }
    // A checkpoint of the last entry stays until something follows it: the log is never left
    // empty (the object purge's own entry, below, follows it).
    ACCORD_ASSIGN_OR_RETURN(const audit::Head head, log->ReadHead());
    const uint64_t last = head.seq + (!dry_run && purged ? 1 : 0);
    if (audit_through && audit_through->seq >= last) {
      audit_through.reset();
      summary +=
          "the audit log's newest old checkpoint is its last entry: kept until something "
          "follows it; ";
    }
  }
  auto print_audit = [&](const char* verb) {
    if (!audit_through) return;
    if (json) {
      nlohmann::ordered_json j{{"kind", "audit"},
                               {"through_seq", audit_through->seq},
                               {"checkpoint_time", audit_through->time}};
      if (out) *out << j.dump() << "\n";
    } else {
      if (out) {
        *out << "audit  entries through seq " << audit_through->seq << " (checkpoint of "
             << audit_through->time << ")\n";
      }
    }
    common::Append(&summary, "audit entries through seq ", audit_through->seq, " ", verb, "; ");
  };
  const bool removed = purged || audit_through.has_value();
  if (dry_run) {
    print_audit("would go");
    return RetentionResult{
        common::Cat(summary, counts, " would go (", report.bytes, " bytes); ", rule_text), removed};
  }
  if (purged) {
    audit::Entry e;
    e.actor = common::Cat("operator:", OperatorName());
    e.action = "purge";
    for (const store::PurgeItem& it : report.items) {
      if (it.kind != "quarantine") e.objects.push_back(it.id, it.modified);
    }
    e.detail = common::Cat(counts, " purged, ", report.bytes, " bytes erased; ", rule_text);
    absl::Status st = log->Append(std::move(e)).status();
    if (!st.ok()) {
      return absl::Status(st.code(), common::Cat("purged, but not recorded in the audit log: ",
                                                 common::View(st.message())));
    }
  }
  if (audit_through) {
    ACCORD_ASSIGN_OR_RETURN(uint64_t dropped,
                            log->DropThrough(audit_through->seq, audit_through->hash));
    print_audit("purged");
    audit::Entry e;
    e.actor = common::Cat("operator:", OperatorName());
    e.action = "purge.audit";
    e.detail = common::Cat(dropped, " audit entries through seq ", audit_through->seq,
                           " purged (checkpoint signed ", audit_through->time, ", its hash ",
                           audit_through->hash, "); audit_days ", r.audit_days);
    ACCORD_RETURN_IF_ERROR(log->Append(std::move(e)).status());
  }
  return RetentionResult{common::Cat(summary, counts, " purged (", report.bytes,
                                     " bytes erased from disk); ", rule_text),
                         removed};
}

namespace {

int Purge(const Globals& g, const PurgeFlags& f) {
  absl::StatusOr<RetentionResult> r = ApplyRetention(g, f.dry_run, f.json, &std::cout);
  if (!r.ok()) return Fail(r.status());
  std::cerr << "accord: purge" << (f.dry_run ? " --dry-run" : "") << ": " << r->summary << "\n";
  return 0;
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

  auto* pu = app.add_subcommand(
      "purge",
      "Remove what <data>/accord.toml [retention] says was kept long enough (indicators past "
      "valid_until plus a grace period, sightings, quarantined copies, match-ledger records), "
      "and erase their bytes from disk; recorded in the audit log");
  AddDataOption(pu, g);
  auto pf = std::make_shared<PurgeFlags>();
  pu->add_flag("--dry-run", pf->dry_run, "Only list what would go");
  pu->add_flag("--json", pf->json, "One JSON object per line");
  pu->callback([g, pf, exit_code] { *exit_code = Purge(*g, *pf); });
}

}  // namespace accord::cli
