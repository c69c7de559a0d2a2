#include "accord/policy/gate.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <absl/strings/str_join.h>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/policy/granular.h"
#include "accord/store/generation_poll.h"

namespace accord::policy {

std::span<const Exit> AllExits() { return kAllExits; }

std::string_view ExitName(Exit exit) {
  // No default: -Wswitch (an error in CI) flags an Exit added without a name.
  switch (exit) {
    case Exit::kTaxiiObjects: return "taxii-objects";
    case Exit::kTaxiiObject: return "taxii-object";
    case Exit::kTaxiiManifest: return "taxii-manifest";
    case Exit::kTaxiiVersions: return "taxii-versions";
    case Exit::kExport: return "export";
    case Exit::kGet: return "get";
    case Exit::kListJson: return "list";
    case Exit::kTaxiiPush: return "taxii-push";
    case Exit::kMatchOutput: return "match-output";
    case Exit::kSightings: return "sightings";
    case Exit::kRequestChannel: return "request-channel";
    case Exit::kUiSearch: return "ui-search";
    case Exit::kUiObject: return "ui-object";
    case Exit::kUiIndicators: return "ui-indicators";
    case Exit::kUiSightings: return "ui-sightings";
    case Exit::kUiRequests: return "ui-requests";
  }
  return "unknown-exit";
}

std::string Audience::Key() const {
  // Length-prefixed, so that no two (name, role) pairs share a key ("a|b" + "" vs "a" + "b|").
  return common::Cat(static_cast<int>(kind), ':', name.size(), ':', name, ':', role);
}

std::string Audience::ToString() const {
  switch (kind) {
    case Kind::kLocalOperator: return "the local operator";
    case Kind::kUser: return common::Cat("user '", name, "' (", role, ")");
    case Kind::kAnonymous: return "an anonymous client";
    case Kind::kPeer: return common::Cat("peer '", name, "'");
    case Kind::kSensor: return common::Cat("consumer '", name, "'");
  }
  return "an unknown audience";
}

absl::Status Gate::CheckExit(const Audience& audience, Exit exit) {
  try {
    return DoCheckExit(audience, exit);
  } catch (const std::exception& e) {
    return absl::PermissionDeniedError(
        common::Cat(ExitName(exit), ": the egress gate failed (", e.what(), "); nothing leaves"));
  }
}

Decision Gate::Admit(const Object& object, const Audience& audience, Exit exit) {
  // Fail closed: whatever goes wrong in the rules, the object stays in.
  try {
    absl::StatusOr<Decision> d = DoAdmit(object, audience, exit);
    if (!d.ok()) {
      return Decision::Deny(
          common::Cat("the egress gate failed on ", object.id, ": ", d.status().message()));
    }
    if (d->verdict == Decision::Verdict::kReplace && d->json.empty()) {
      return Decision::Deny(common::Cat("the egress gate replaced ", object.id, " with nothing"));
    }
    return *std::move(d);
  } catch (const std::exception& e) {
    return Decision::Deny(common::Cat("the egress gate failed on ", object.id, ": ", e.what()));
  }
}

uint64_t Gate::generation() { return DoGeneration(); }

bool Gate::CollectionOpen(const Audience& audience, const store::CollectionInfo& c) {
  try {
    absl::StatusOr<bool> open = DoCollectionOpen(audience, c);
    return open.ok() && *open;
  } catch (const std::exception&) {
    return false;  // fail closed
  }
}

namespace {

class AllowAllGate final : public Gate {
 private:
  absl::Status DoCheckExit(const Audience&, Exit) override { return absl::OkStatus(); }
  absl::StatusOr<Decision> DoAdmit(const Object& object, const Audience& audience,
                                   Exit exit) override {
    return Decision::Allow();
  }
  uint64_t DoGeneration() override { return 1; }
};

// The node's rules. The state a decision reads (lockdown, broken) is in atomics, so Admit()
// takes no lock; Refresh() runs under `mu_` at most once per refresh interval.
class NodeGate final : public Gate {
 public:
  NodeGate(store::Store* store, NodeGateOptions options)
      : store_(store), options_(std::move(options)) {}

 private:
  absl::Status DoCheckExit(const Audience& audience, Exit exit) override {
    ++tl_batch_;  // a new batch: what was looked up holds only if the store is unchanged (LookUp)
    MaybeRefresh();
    if (broken_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> l(mu_);
      return absl::PermissionDeniedError(common::Cat(ExitName(exit), " to ", audience.ToString(),
                                                     " refused: the egress policy cannot be read (",
                                                     broken_reason_,
                                                     "); nothing leaves the node until it can"));
    }
    if (lockdown_.load(std::memory_order_acquire)) {
      return absl::PermissionDeniedError(common::Cat(
          ExitName(exit), " to ", audience.ToString(),
          " refused: the node is in lockdown, nothing leaves it ('accord policy lockdown off' "
          "lifts it)"));
    }
    if (IsAuditor(audience)) {
      return absl::PermissionDeniedError(
          common::Cat(ExitName(exit), " to ", audience.ToString(),
                      " refused: an auditor reads the audit log and the agreements, never "
                      "intelligence"));
    }
    if (exit == Exit::kRequestChannel) {
      if (audience.kind != Audience::Kind::kPeer) {
        return absl::PermissionDeniedError(common::Cat(ExitName(exit), " to ", audience.ToString(),
                                                       " refused: it carries requests to peers"));
      }
      std::shared_ptr<const FederationRules> rules = Rules();
      if (rules->peer_identities.find(audience.name) == rules->peer_identities.end()) {
        return absl::PermissionDeniedError(common::Cat(ExitName(exit), " to ", audience.ToString(),
                                                       " refused: not a peer of this node"));
      }
      return absl::OkStatus();
    }
    if (audience.kind == Audience::Kind::kPeer && !FindPeer(*Rules(), audience.name)) {
      // An operator's explicit push to a TAXII server that is not a peer is theirs to make,
      // as an export is; every server exit a peer reads needs its agreement.
      if (exit == Exit::kTaxiiPush) return absl::OkStatus();
      return absl::PermissionDeniedError(common::Cat(
          ExitName(exit), " to ", audience.ToString(),
          " refused: no agreement with this peer ('accord agreement set' gives it one)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> DoCollectionOpen(const Audience& audience,
                                        const store::CollectionInfo& c) override {
    if (audience.kind != Audience::Kind::kPeer) return true;
    MaybeRefresh();
    if (broken_.load(std::memory_order_acquire) || lockdown_.load(std::memory_order_acquire)) {
      return false;
    }
    // The request channel's collection is never served to a peer, whatever it shares.
    if (c.alias == kRequestsCollection || c.id == kRequestsCollection) return false;
    std::shared_ptr<const FederationRules> rules = Rules();
    const PeerRules* peer = FindPeer(*rules, audience.name);
    if (!peer) return false;
    for (const std::string& name : peer->collections) {
      if (name == c.id || (!c.alias.empty() && name == c.alias)) return true;
    }
    return false;
  }

  // Roles as http::RoleName names them (the policy layer sits below http).
  static bool IsAuditor(const Audience& a) {
    return a.kind == Audience::Kind::kUser && a.role == "auditor";
  }
  // Who never sees TLP:RED: readers and anonymous clients (of public collections).
  static bool BarredFromRed(const Audience& a) {
    return a.kind == Audience::Kind::kAnonymous ||
           (a.kind == Audience::Kind::kUser && a.role == "reader");
  }

  static const PeerRules* FindPeer(const FederationRules& rules, std::string_view name) {
    auto it = rules.peers.find(name);
    return it == rules.peers.end() ? nullptr : &it->second;
  }

  std::shared_ptr<const FederationRules> Rules() {
    std::lock_guard<std::mutex> l(rules_mu_);
    return rules_;
  }

  // The rules as this thread last read them from this gate, read again once they have been
  // swapped (rules_version_). The reference stays valid until this thread's next call after
  // a swap (the rules before are kept for one more, for a caller that asks twice).
  // PERF: Admit() runs per object, on every handler thread at once; Rules() took the mutex
  // and the shared count of one pointer per object, cache lines that two cores passed back
  // and forth (~30 ns an object of a page read under a role's profile, docs/PERFORMANCE.md).
  const FederationRules& ThreadRules() {
    struct Held {
      uint64_t gate = 0, version = 0;
      std::shared_ptr<const FederationRules> rules, before;
    };
    thread_local Held held;
    if (held.gate != uid_ || held.version != rules_version_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> l(rules_mu_);
      held.before = std::move(held.rules);
      held.rules = rules_;
      held.version = rules_version_.load(std::memory_order_relaxed);
      held.gate = uid_;
    }
    return *held.rules;
  }

  // The agreement's decision for one object leaving for `peer` (issue 12, points 3 and 4).
  // Requests and their steps reach a peer only over the request channel, when this node made
  // them and they are addressed to that peer; nothing else travels over the channel.
  absl::StatusOr<Decision> AdmitOnRequestChannel(const Object& object, const Audience& audience,
                                                 Exit exit) {
    if (exit != Exit::kRequestChannel) {
      return Decision::Deny(
          "requests and their steps reach a peer only over the request channel, to their "
          "addressee");
    }
    if (!IsRequestChannelType(object.type)) {
      return Decision::Deny("only requests and their steps travel over the request channel");
    }
    if (audience.kind != Audience::Kind::kPeer) {
      return Decision::Deny("the request channel delivers to peers only");
    }
    const FederationRules* rules = &ThreadRules();
    auto peer = rules->peer_identities.find(audience.name);
    if (peer == rules->peer_identities.end()) return Decision::Deny("not a peer of this node");
    nlohmann::json o = nlohmann::json::parse(object.json, nullptr, false);
    if (!o.is_object()) return Decision::Deny("not a JSON object");
    auto text = [&o](const char* key) {
      auto it = o.find(key);
      return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (rules->own_identity.empty() || text("created_by_ref") != rules->own_identity) {
      return Decision::Deny("only this node's own requests and steps leave over the channel");
    }
    const std::string to = text(object.type == kRequestType ? "addressee_ref" : "to_ref");
    if (to != peer->second) {
      return Decision::Deny(
          common::Cat("addressed to ", to.empty() ? "nobody" : to, ", not to this peer"));
    }
    return Decision::Allow();
  }

  absl::StatusOr<Decision> AdmitForPeer(const Object& object, const FederationRules& rules,
                                        const PeerRules& peer) {
    if (rules.own_identity.empty()) {
      return Decision::Deny("this node has no identity yet ('accord node init')");
    }
    if (!peer.types.empty() &&
        std::find(peer.types.begin(), peer.types.end(), object.type) == peer.types.end()) {
      return Decision::Deny(common::Cat("type '", object.type, "' is not shared with this peer"));
    }
    if (object.type == "observed-data" && !peer.share_observed_data) {
      return Decision::Deny("raw observed-data is not shared with this peer (share_observed_data)");
    }
    EgressFacts facts = EgressFactsOf(object.json, rules.default_tlp, rules.signature_extension);
    if (facts.signature_entry && facts.signer.empty()) {
      return Decision::Deny("its signature entry names no signer");
    }
    if (!facts.signer.empty() && facts.signer == peer.identity) {
      return Decision::Deny("it originated at this peer");
    }
    const bool forwarded = !facts.signer.empty() && facts.signer != rules.own_identity;
    std::string source;
    const Tlp tlp = DerivedTlp(object, facts.tlp, rules.default_tlp, &source);
    if (!TlpAllows(tlp, peer.terms, forwarded)) {
      return Decision::Deny(common::Cat("TLP:", TlpName(tlp), forwarded ? " (forwarded)" : "",
                                        source, " may not go to this peer"));
    }
    if (forwarded && !peer.given_into.empty()) {
      // The peer gave us this very version: it never goes back.
      store::Query q;
      q.collection = peer.given_into;
      q.ids = {object.id};
      q.versions = store::VersionSelect::kAll;
      q.include_revoked = true;
      absl::StatusOr<store::Page> given = store_->List(q);
      if (!given.ok() && given.status().code() != absl::StatusCode::kNotFound) {
        return given.status();
      }
      if (given.ok()) {
        for (const store::StoredObject& o : given->objects) {
          if (o.modified == object.modified) return Decision::Deny("this peer gave it to us");
        }
      }
    }
    // Issue 13: parts under a granular marking the peer may not have are withheld; sightings
    // leave as counts and coarse times only, and the redaction profile works on a copy. A
    // changed copy is this node's: signed by it, whoever originated it.
    std::string copy;
    std::vector<std::string> changes;
    if (facts.granular && !TlpAllows(*facts.granular, peer.terms, forwarded)) {
      PartsResult parts = WithholdMarkedParts(
          object.json, [&](Tlp t) { return TlpAllows(t, peer.terms, forwarded); });
      if (parts.kind == PartsResult::Kind::kDropped) return Decision::Deny(parts.reason);
      if (parts.kind == PartsResult::Kind::kRedacted) {
        copy = std::move(parts.json);
        changes.push_back(std::move(parts.reason));
      }
    }
    if (object.type == "sighting") {
      ACCORD_ASSIGN_OR_RETURN(
          std::optional<Decision> refused,
          ShapeSighting(copy.empty() ? object.json : copy, peer, &copy, &changes));
      if (refused) return *refused;
    }
    if (peer.redactor) {
      Redactor::Result r =
          RedactOnExit(*peer.redactor, copy.empty() ? std::string_view(object.json) : copy);
      if (r.kind == Redactor::Result::Kind::kDropped) {
        Decision d = Decision::Deny(r.reason);
        d.profile = peer.redactor->profile().name;
        return d;
      }
      if (r.kind == Redactor::Result::Kind::kRedacted) {
        copy = std::move(r.json);
        changes.push_back(r.reason);
      }
    }
    if (!changes.empty()) {
      ACCORD_ASSIGN_OR_RETURN(std::string signed_json, options_.peers->Sign(copy));
      Decision d =
          Decision::Replace(std::move(signed_json),
                            common::Cat(absl::StrJoin(changes, "; "), "; signed by this node"));
      if (peer.redactor) d.profile = peer.redactor->profile().name;
      return d;
    }
    if (facts.signer.empty() && std::find(rules.unsigned_ok.begin(), rules.unsigned_ok.end(),
                                          object.id) == rules.unsigned_ok.end()) {
      // This node originated it: it leaves signed (Ed25519 is deterministic, so every copy
      // that leaves is the same bytes).
      ACCORD_ASSIGN_OR_RETURN(std::string signed_json, options_.peers->Sign(object.json));
      return Decision::Replace(std::move(signed_json), "signed by this node");
    }
    return Decision::Allow();
  }

  // Derived objects inherit restriction (issue 13, point 2): a sighting, relationship, note or
  // opinion is at least as restricted as what it is about (looked up in the store; an object
  // the node does not hold adds nothing). `*source` says which reference raised it.
  Tlp DerivedTlp(const Object& object, Tlp own, Tlp default_tlp, std::string* source) {
    if (object.type != "sighting" && object.type != "relationship" && object.type != "note" &&
        object.type != "opinion") {
      return own;
    }
    nlohmann::json o = nlohmann::json::parse(object.json, nullptr, false);
    if (!o.is_object()) return Tlp::kRed;  // fail closed
    std::vector<std::string> refs;
    for (const char* key : {"sighting_of_ref", "source_ref", "target_ref"}) {
      if (o.contains(key) && o[key].is_string()) refs.push_back(o[key].get<std::string>());
    }
    if (o.contains("object_refs") && o["object_refs"].is_array()) {
      for (const auto& r : o["object_refs"]) {
        if (r.is_string()) refs.push_back(r.get<std::string>());
      }
    }
    Tlp tlp = own;
    const Redactor::Lookup lookup = Lookup();
    for (const std::string& id : refs) {
      std::optional<std::string> target = lookup(id);
      if (!target) continue;
      // What it refers to is the object (shared at its object level), not a marked part.
      Tlp t = EgressFactsOf(*target, default_tlp, {}).tlp;
      if (t > tlp) {
        tlp = t;
        *source = common::Cat(" (inherited from ", id, ")");
      }
    }
    return tlp;
  }

  // The latest stored version of a referenced object, for the redaction of references and
  // the restriction a derived object inherits.
  Redactor::Lookup Lookup() {
    return [this](std::string_view id) { return LookUp(id); };
  }

  // PERF: what this thread looked up is remembered while the store does not change: each new
  // batch (a CheckExit) and, within a long one, each refresh interval first reads the store's
  // generation, which every write moves, and forgets the memo when it moved. A feed's or a
  // report's objects all refer to the same identity, and each look-up was a read of the store
  // (a SQLite read transaction and a pread of the object log, ~5 us), most of a page read under
  // a profile with classes to drop; then two such reads a page (docs/PERFORMANCE.md). A page
  // read while a referenced object changes sees it as it was up to change_poll_us before the
  // page began, or after.
  struct Memo {
    uint64_t gate = 0, batch = 0;
    uint64_t epoch = 0;  // a number no other thread's memo, nor this one before a reset, had
    int64_t since_us = 0;
    std::optional<uint64_t> generation;  // the store's, read before the first look-up
    std::unordered_map<std::string, std::optional<std::string>> objects;
    size_t bytes = 0;        // of the ids and texts in `objects`
    uint32_t unclocked = 0;  // calls in this batch since the clock was last read
  };
  // This thread's memo. At a new batch, or after the refresh interval, what it holds is kept
  // if the store has not changed since it was looked up; out of room (objects or bytes,
  // NodeGateOptions::memo_bytes), it is forgotten. PERF: within a batch the clock is read at
  // every kClockEvery-th call, not at each (a call an object and a look-up; the read was 1% of
  // a 1,000-object page's server CPU under a profile, docs/PERFORMANCE.md): a long batch may
  // keep the memo that many calls past the interval.
  Memo& ThreadMemo() {
    constexpr size_t kMemoMax = 1024;  // distinct objects remembered (then: forgotten)
    constexpr uint32_t kClockEvery = 32;
    thread_local Memo memo;
    const bool room = memo.objects.size() < kMemoMax && memo.bytes < options_.memo_bytes;
    const bool same_batch = memo.gate == uid_ && memo.batch == tl_batch_ && room;
    if (same_batch && options_.refresh_interval_us > 0 && ++memo.unclocked < kClockEvery) {
      return memo;
    }
    memo.unclocked = 0;
    const int64_t now = common::SteadyMicros();
    if (same_batch && now - memo.since_us < options_.refresh_interval_us) return memo;
    const bool keep =
        memo.gate == uid_ && room && memo.generation && StoreGeneration() == memo.generation;
    memo.gate = uid_;
    memo.batch = tl_batch_;
    memo.since_us = now;
    if (!keep) {
      memo.objects.clear();
      memo.bytes = 0;
      memo.generation.reset();
      memo.epoch = NewEpoch();
    }
    return memo;
  }
  // The store's generation, read at most once per change_poll_us by all threads (PERF: a read
  // of it is a SQLite read transaction, ~5 us); nullopt when it cannot be read.
  std::optional<uint64_t> StoreGeneration() {
    const uint64_t g = generation_poll_.Get();
    if (g & store::GenerationPoll::kFailed) return std::nullopt;
    return g;
  }
  static uint64_t NewEpoch() {
    static std::atomic<uint64_t> epochs{0};
    return epochs.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // What `redactor` does to a stored object (or the gate's copy of one) on its way out, with
  // this thread's look-ups and their stamp: the memo's epoch, the same until the memo is
  // forgotten and never the same again after (Redactor::Redact).
  Redactor::Result RedactOnExit(const Redactor& redactor, std::string_view json) {
    return redactor.Redact(json, Lookup(), Redactor::Input::kObject, ThreadMemo().epoch);
  }
  std::optional<std::string> LookUp(std::string_view id) {
    Memo& memo = ThreadMemo();
    std::string key(id);
    if (auto it = memo.objects.find(key); it != memo.objects.end()) return it->second;
    if (!memo.generation) {
      memo.generation = StoreGeneration();  // before the read: a write between them is seen
      if (!memo.generation) {
        memo.epoch = NewEpoch();  // a store error: no answer (below)
        return std::nullopt;
      }
    }
    absl::StatusOr<std::vector<store::StoredObject>> v =
        store_->Get(key, store::VersionSelect::kLast);
    // Absent is an answer (real feeds refer to creators they do not carry); an error is not,
    // and is not remembered.
    std::optional<std::string> found;
    if (!v.ok() && v.status().code() != absl::StatusCode::kNotFound) {
      memo.epoch = NewEpoch();  // nor is it an answer to hold under the stamp (RedactOnExit)
      return std::nullopt;
    }
    if (v.ok() && !v->empty()) found = std::move(v->back().json);
    memo.bytes += key.size() + (found ? found->size() : 0);
    memo.objects.emplace(std::move(key), found);
    return found;
  }

  // A sighting on its way to `peer`: refused under the agreement's k-threshold; its times
  // coarsened to the agreement's buckets, and its observed-data references removed unless
  // observed data is shared. `*copy` is the changed sighting (empty: unchanged).
  static absl::StatusOr<std::optional<Decision>> ShapeSighting(const std::string& json,
                                                               const PeerRules& peer,
                                                               std::string* copy,
                                                               std::vector<std::string>* changes) {
    nlohmann::ordered_json o = nlohmann::ordered_json::parse(json, nullptr, false);
    if (o.is_discarded() || !o.is_object()) {
      return std::optional<Decision>(Decision::Deny("the sighting is not a JSON object"));
    }
    // A sighting without a count was seen at least once (STIX21-objects.md: count is optional).
    const int64_t count =
        o.contains("count") && o["count"].is_number_integer() ? o["count"].get<int64_t>() : 1;
    if (count < peer.sighting_min_count) {
      return std::optional<Decision>(Decision::Deny(
          common::Cat("its count ", count, " is under the agreement's sighting_min_count ",
                      peer.sighting_min_count)));
    }
    bool changed = false;
    if (peer.sighting_bucket_s > 0) {
      const common::Micros bucket = peer.sighting_bucket_s * 1000000;
      for (const char* key : {"first_seen", "last_seen"}) {
        if (!o.contains(key) || !o[key].is_string()) continue;
        absl::StatusOr<common::ParsedTimestamp> t =
            common::ParseTimestamp(o[key].get<std::string>());
        if (!t.ok()) {
          return std::optional<Decision>(
              Decision::Deny(common::Cat("its ", key, " is no timestamp")));
        }
        // first_seen down to its bucket's start, last_seen up to its bucket's end.
        common::Micros v = t->micros;
        common::Micros floor = v - ((v % bucket) + bucket) % bucket;
        common::Micros to =
            std::string_view(key) == "first_seen" || floor == v ? floor : floor + bucket;
        if (to != v) {
          o[key] = common::FormatTimestamp(to);
          changed = true;
        }
      }
      if (changed)
        changes->push_back(common::Cat("sighting times in ", peer.sighting_bucket_s, " s buckets"));
    }
    if (!peer.share_observed_data && o.contains("observed_data_refs")) {
      o.erase("observed_data_refs");
      changes->push_back("observed_data_refs removed (share_observed_data)");
      changed = true;
    }
    if (changed) *copy = o.dump();
    return std::optional<Decision>();
  }

  absl::StatusOr<Decision> DoAdmit(const Object& object, const Audience& audience,
                                   Exit exit) override {
    // PERF: per object, so no refresh here (CheckExit() refreshed for the batch), and no lock:
    // the rules are this thread's (ThreadRules).
    if (broken_.load(std::memory_order_acquire)) {
      return Decision::Deny("the egress policy cannot be read");
    }
    if (lockdown_.load(std::memory_order_acquire)) {
      return Decision::Deny("the node is in lockdown");
    }
    if (exit == Exit::kRequestChannel || IsRequestChannelType(object.type)) {
      if (audience.kind == Audience::Kind::kPeer || exit == Exit::kRequestChannel) {
        return AdmitOnRequestChannel(object, audience, exit);
      }
    }
    if (audience.kind == Audience::Kind::kPeer) {
      const FederationRules& rules = ThreadRules();
      const PeerRules* peer = FindPeer(rules, audience.name);
      if (peer) return AdmitForPeer(object, rules, *peer);
      if (exit != Exit::kTaxiiPush) return Decision::Deny("no agreement with this peer");
    }
    if (IsAuditor(audience)) return Decision::Deny("an auditor reads no intelligence");
    const FederationRules* rules = nullptr;
    std::string copy;  // the object as it leaves, when changed
    std::vector<std::string> changes;
    if (BarredFromRed(audience)) {
      rules = &ThreadRules();
      std::string source;
      const EgressFacts facts = EgressFactsOf(object.json, rules->default_tlp, {});
      if (facts.tlp == Tlp::kRed ||
          DerivedTlp(object, facts.tlp, rules->default_tlp, &source) == Tlp::kRed) {
        return Decision::Deny(
            common::Cat("TLP:RED", source, " is never shown to ", audience.ToString()));
      }
      if (facts.granular == Tlp::kRed) {
        PartsResult parts = WithholdMarkedParts(object.json, [](Tlp t) { return t != Tlp::kRed; });
        if (parts.kind == PartsResult::Kind::kDropped) return Decision::Deny(parts.reason);
        if (parts.kind == PartsResult::Kind::kRedacted) {
          copy = std::move(parts.json);
          changes.push_back(std::move(parts.reason));
        }
      }
    }
    // PERF: an admin's or analyst's page takes no lock per object unless some role has a
    // profile (role_redactors_ mirrors the rules, set when they are swapped in).
    Decision d = Decision::Allow();
    if (audience.kind == Audience::Kind::kUser && role_redactors_.load(std::memory_order_acquire)) {
      // The role's redaction profile ([redaction.roles]), if it has one.
      if (!rules) rules = &ThreadRules();
      auto it = rules->role_redactors.find(audience.role);
      if (it != rules->role_redactors.end()) {
        Redactor::Result r =
            RedactOnExit(*it->second, copy.empty() ? std::string_view(object.json) : copy);
        if (r.kind == Redactor::Result::Kind::kDropped) {
          d = Decision::Deny(r.reason);
          d.profile = it->second->profile().name;
          return d;
        }
        if (r.kind == Redactor::Result::Kind::kRedacted) {
          copy = std::move(r.json);
          changes.push_back(std::move(r.reason));
          d.profile = it->second->profile().name;
        }
      }
    }
    if (!copy.empty()) {
      std::string profile = std::move(d.profile);
      d = Decision::Replace(std::move(copy), absl::StrJoin(changes, "; "));
      d.profile = std::move(profile);
    }
    return d;
  }

  uint64_t DoGeneration() override {
    MaybeRefresh();
    return generation_.load(std::memory_order_acquire);
  }

  void MaybeRefresh() {
    int64_t now = common::SteadyMicros();
    if (now < next_refresh_us_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> l(mu_);
    if (now < next_refresh_us_.load(std::memory_order_relaxed)) return;  // another thread did
    bool lockdown = true, broken = false;
    absl::StatusOr<bool> on = LockdownOn(*store_);
    if (on.ok()) {
      lockdown = *on;
    } else {
      broken = true;
      broken_reason_ = std::string(on.status().message());
    }
    bool rules_changed = false;
    if (!broken) {
      auto rules = std::make_shared<FederationRules>();
      if (options_.peers) {
        absl::StatusOr<FederationRules> loaded = options_.peers->Load();
        if (loaded.ok()) {
          *rules = *std::move(loaded);
        } else {
          broken = true;
          broken_reason_ = common::Cat("peers and agreements: ", loaded.status().message());
        }
      }
      if (!broken && rules->fingerprint != Rules()->fingerprint) {
        std::lock_guard<std::mutex> rl(rules_mu_);
        const bool role_redactors = !rules->role_redactors.empty();
        rules_ = std::move(rules);
        rules_version_.fetch_add(1, std::memory_order_release);
        role_redactors_.store(role_redactors, std::memory_order_release);
        rules_changed = true;
      }
    }
    if (rules_changed || lockdown != lockdown_.load() || broken != broken_.load()) {
      lockdown_.store(lockdown, std::memory_order_release);
      broken_.store(broken, std::memory_order_release);
      generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    next_refresh_us_.store(now + options_.refresh_interval_us, std::memory_order_release);
  }

  store::Store* const store_;
  const NodeGateOptions options_;
  std::mutex mu_;
  std::string broken_reason_;  // guarded by mu_
  std::atomic<int64_t> next_refresh_us_{0};
  store::GenerationPoll generation_poll_{store_, options_.change_poll_us};
  // Until the first refresh the gate is closed: `broken_` starts true, so that nothing is
  // admitted on state that was never read.
  std::atomic<bool> lockdown_{false};
  std::atomic<bool> broken_{true};
  std::atomic<bool> role_redactors_{false};  // whether rules_->role_redactors is not empty
  std::atomic<uint64_t> generation_{1};
  std::mutex rules_mu_;  // guards the pointer only; the rules themselves are immutable
  std::shared_ptr<const FederationRules> rules_ = std::make_shared<FederationRules>();
  std::atomic<uint64_t> rules_version_{1};  // bumped under rules_mu_ when rules_ is swapped
  // This thread's batches (CheckExit calls), for LookUp's memo.
  static inline thread_local uint64_t tl_batch_ = 0;
  // This gate among every gate of the process (ThreadRules' key: an address can be reused).
  const uint64_t uid_ = [] {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }();
};

}  // namespace

std::unique_ptr<Gate> NewAllowAllGate() { return std::make_unique<AllowAllGate>(); }

std::unique_ptr<Gate> NewNodeGate(store::Store* store, NodeGateOptions options) {
  return std::make_unique<NodeGate>(store, std::move(options));
}

absl::Status SetLockdown(store::Store& store, bool on) {
  return store.PutSetting(std::string(kLockdownSetting), on ? "on" : "off");
}

absl::StatusOr<bool> LockdownOn(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> v,
                          store.GetSetting(std::string(kLockdownSetting)));
  if (!v.has_value() || *v == "off") return false;
  if (*v == "on") return true;
  // Fail closed on a value nobody wrote through SetLockdown.
  return absl::DataLossError(common::Cat("store setting '", kLockdownSetting, "' holds '", *v,
                                         "', expected 'on' or 'off'"));
}

}  // namespace accord::policy
