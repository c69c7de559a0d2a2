// accord quarantine list | show | drop | release: the administrator's side of content
// conflicts (issue 10, docs/INGEST.md "Content conflicts"). A version whose (id, modified) was
// already stored with other content is refused for its writer and its copy kept here; the
// administrator decides which copy of the version is the right one.
//
// What is printed passes the node's egress gate for the local operator (the `get` exit), as
// `accord get` does: quarantined copies are objects of the node like stored ones.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/sync.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

struct QuarantineFlags {
  int64_t qid = 0;
  std::string keep;  // release: "stored" or "quarantined"
  bool json = false;
  uint64_t limit = 0;
};

// The store and its quarantine, or the error to exit with.
struct Opened {
  std::unique_ptr<store::Store> store;
  store::Quarantine* q = nullptr;
};

absl::StatusOr<Opened> OpenQuarantine(const Globals& g) {
  ACCORD_ASSIGN_OR_RETURN(store::Options o, StoreOptions(g));
  o.create = false;
  Opened out;
  ACCORD_ASSIGN_OR_RETURN(out.store, store::Store::Open(o));
  out.q = out.store->quarantine();
  if (out.q == nullptr) {
    return absl::UnimplementedError("this store backend keeps no quarantine");
  }
  return out;
}

std::string CollectionName(const store::QuarantineEntry& e) {
  return e.collection_alias.empty() ? e.collection : e.collection_alias;
}

int List(const Globals& g, const QuarantineFlags& f) {
  auto o = OpenQuarantine(g);
  if (!o.ok()) return Fail(o.status());
  auto entries = o->q->ListQuarantine(f.limit);
  if (!entries.ok()) return Fail(entries.status());
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *entries) {
      out.push_back(
          {{"qid", e.qid},
           {"id", e.id},
           {"modified", common::FormatTimestamp(e.modified)},
           {"collection", e.collection},
           {"collection_alias", e.collection_alias},
           {"writer", e.writer},
           {"peer", e.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.writer)},
           {"received", common::FormatTimestamp(e.received)},
           {"reason", e.reason.empty() ? "content conflict" : e.reason}});
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (entries->empty()) {
    std::cout << "the quarantine is empty\n";
    return 0;
  }
  // One line per refused copy; `show QID` prints both copies.
  std::cout << "QID\tID\tMODIFIED\tCOLLECTION\tWRITER\tRECEIVED\tREASON\n";
  for (const auto& e : *entries) {
    std::cout << e.qid << "\t" << e.id << "\t" << common::FormatTimestamp(e.modified) << "\t"
              << CollectionName(e) << "\t" << e.writer << "\t"
              << common::FormatTimestamp(e.received) << "\t"
              << (e.reason.empty() ? "content conflict" : e.reason) << "\n";
  }
  return 0;
}

// Prints {"entry": {...}, "stored": <the stored copy or null>, "quarantined": <the copy>}.
int Show(const Globals& g, const QuarantineFlags& f) {
  auto o = OpenQuarantine(g);
  if (!o.ok()) return Fail(o.status());
  auto e = o->q->GetQuarantined(f.qid);
  if (!e.ok()) return Fail(e.status());
  std::unique_ptr<policy::Gate> gate = policy::NewNodeGate(o->store.get());
  policy::EgressReader reader(o->store.get(), gate.get());
  auto audience = policy::Audience::LocalOperator();
  nlohmann::json stored = nullptr;
  auto versions = reader.Get(e->id, store::VersionSelect::kAll, audience, policy::Exit::kGet);
  if (!versions.ok() && !absl::IsNotFound(versions.status())) return Fail(versions.status());
  uint64_t withheld = versions.ok() ? versions->withheld : 0;
  if (versions.ok()) {
    for (const auto& v : versions->objects) {
      if (v.modified == e->modified) stored = nlohmann::json::parse(v.json, nullptr, false);
    }
  }
  nlohmann::json quarantined = nullptr;
  store::StoredObject copy;
  copy.id = e->id;
  copy.modified = e->modified;
  copy.json = e->json;
  policy::Decision d = gate->Admit(copy, audience, policy::Exit::kGet);
  if (!d.allowed()) {
    ++withheld;
  } else {
    quarantined = nlohmann::json::parse(d.json.empty() ? e->json : d.json, nullptr, false);
  }
  nlohmann::json out = {{"entry",
                         {{"qid", e->qid},
                          {"id", e->id},
                          {"modified", common::FormatTimestamp(e->modified)},
                          {"collection", e->collection},
                          {"collection_alias", e->collection_alias},
                          {"writer", e->writer},
                          {"received", common::FormatTimestamp(e->received)},
                          {"reason", e->reason.empty() ? "content conflict" : e->reason}}},
                        {"stored", stored},
                        {"quarantined", quarantined}};
  std::cout << out.dump(2) << "\n";
  if (withheld > 0) {
    return Fail(absl::PermissionDeniedError(
        common::Cat(withheld, " copy(ies) withheld by the egress gate (shown as null)")));
  }
  return 0;
}

int Drop(const Globals& g, const QuarantineFlags& f) {
  auto o = OpenQuarantine(g);
  if (!o.ok()) return Fail(o.status());
  if (auto st = o->q->DropQuarantined(f.qid); !st.ok()) return Fail(st);
  std::cout << "dropped quarantine entry #" << f.qid << " (the stored version is unchanged)\n";
  absl::Status st = AuditChange(g, "quarantine.drop", common::Cat("entry #", f.qid));
  return st.ok() ? 0 : Fail(st);
}

int Release(const Globals& g, const QuarantineFlags& f) {
  auto o = OpenQuarantine(g);
  if (!o.ok()) return Fail(o.status());
  auto e = o->q->GetQuarantined(f.qid);
  if (!e.ok()) return Fail(e.status());
  if (!e->reason.empty()) {
    // A version held back by federation's checks (issue 12) is released by running them again.
    if (!f.keep.empty()) {
      return Fail(absl::InvalidArgumentError(
          common::Cat("#", f.qid, " was held back (", e->reason,
                      "), not refused as a content conflict: "
                      "release it without --keep, which checks it again")));
    }
    if (auto st = federation::ReleaseHeld(*o->store, g.data_dir, f.qid); !st.ok()) return Fail(st);
    std::cout << "released #" << f.qid << ": " << e->id << " passed every check and is in "
              << "collection '" << CollectionName(*e) << "'\n";
    absl::Status st = AuditChange(
        g, "quarantine.release", common::Cat("entry #", f.qid, ": ", e->id, " passed every check"));
    return st.ok() ? 0 : Fail(st);
  }
  store::Quarantine::Winner winner;
  if (f.keep == "stored") {
    winner = store::Quarantine::Winner::kStored;
  } else if (f.keep == "quarantined") {
    winner = store::Quarantine::Winner::kQuarantined;
  } else {
    return Fail(absl::InvalidArgumentError(
        common::Cat("--keep must be 'stored' or 'quarantined', found '", f.keep, "'")));
  }
  if (auto st = o->q->ReleaseQuarantined(f.qid, winner); !st.ok()) return Fail(st);
  std::string what = common::Cat(e->id, " (modified ", common::FormatTimestamp(e->modified), ")");
  if (winner == store::Quarantine::Winner::kStored) {
    std::cout << "released #" << f.qid << ": the stored copy of " << what
              << " is now also in collection '" << CollectionName(*e) << "'\n";
  } else {
    std::cout << "released #" << f.qid << ": the quarantined copy of " << what
              << " replaced the stored one, in collection '" << CollectionName(*e)
              << "' only; the replaced copy is in quarantine ('accord quarantine list')\n";
  }
  absl::Status st =
      AuditChange(g, "quarantine.release",
                  common::Cat("entry #", f.qid, ": ", e->id, ", kept the ", f.keep, " copy"));
  return st.ok() ? 0 : Fail(st);
}

}  // namespace

void RegisterQuarantineCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* q = app.add_subcommand(
      "quarantine",
      "Versions refused because their (id, modified) is stored with other content "
      "(docs/INGEST.md), and versions received from peers that failed a check (bad or missing "
      "signature, untrusted signer, not the object's originator; docs/FEDERATION.md)");
  q->require_subcommand(1);
  auto f = std::make_shared<QuarantineFlags>();

  auto* list = q->add_subcommand("list", "List the refused copies, oldest first");
  AddDataOption(list, g);
  list->add_flag("--json", f->json, "One JSON array");
  list->add_option("--limit", f->limit, "At most this many (default: all)");
  list->callback([g, f, exit_code] { *exit_code = List(*g, *f); });

  auto* show = q->add_subcommand(
      "show", "Print an entry with both copies: the stored one and the quarantined one (JSON)");
  AddDataOption(show, g);
  show->add_option("QID", f->qid, "Entry number (from list)")->required();
  show->callback([g, f, exit_code] { *exit_code = Show(*g, *f); });

  auto* drop = q->add_subcommand(
      "drop", "Discard the quarantined copy; the stored version stays as it is, where it is");
  AddDataOption(drop, g);
  drop->add_option("QID", f->qid, "Entry number (from list)")->required();
  drop->callback([g, f, exit_code] { *exit_code = Drop(*g, *f); });

  auto* release = q->add_subcommand(
      "release",
      "Decide which copy of the version is right. --keep stored: the stored version is also "
      "linked into the collection the refused write targeted. --keep quarantined: a version is "
      "immutable, so the stored copy is taken out of every collection and out of the store (it "
      "goes to quarantine in its place) and the quarantined copy becomes the version, in the "
      "targeted collection only");
  AddDataOption(release, g);
  release->add_option("QID", f->qid, "Entry number (from list)")->required();
  release->add_option("--keep", f->keep,
                      "stored or quarantined (content conflicts; a held-back version is checked "
                      "again instead)");
  release->callback([g, f, exit_code] { *exit_code = Release(*g, *f); });
}

}  // namespace accord::cli
