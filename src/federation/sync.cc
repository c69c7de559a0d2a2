#include "accord/federation/sync.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include <simdjson.h>

#include "accord/audit/log.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/federation/agreement.h"
#include "accord/federation/config.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/federation/signature.h"
#include "accord/http/message.h"
#include "accord/ingest/ingest.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/policy/gate.h"
#include "accord/stix/object.h"
#include "accord/taxii/client.h"

namespace accord::federation {

namespace {

std::string CursorKey(const std::string& peer, const std::string& collection) {
  return common::Cat("federation.cursor.", peer, ".", collection);
}
std::string StatusKey(const std::string& peer, const std::string& collection) {
  return common::Cat("federation.sync.", peer, ".", collection);
}

// The checks every received version passes before it is stored (points 5 to 7). Keys are
// looked up once per signer per round; identity objects met in a page introduce their keys
// for the rest of it.
class ReceiveCheck {
 public:
  ReceiveCheck(store::Store& store, KeyTrust trust, std::string own_identity)
      : store_(store), trust_(std::move(trust)), own_(std::move(own_identity)) {}

  enum class Outcome { kAccept, kHold, kSkip };
  struct Result {
    Outcome outcome = Outcome::kAccept;
    std::string reason;  // kHold, kSkip: why
  };

  // An identity object that carries a key and is signed by itself with it introduces that
  // key (if trust allows) for the versions that follow it.
  void Introduce(const stix::ObjectRecord& rec) {
    if (rec.type != "identity") return;
    std::optional<std::string> key = PublicKeyOf(rec.json);
    if (!key) return;
    auto sig = FindSignature(rec.json);
    if (!sig.ok() || !*sig || (*sig)->signer != rec.id || !Verify(rec.json, *key).ok()) return;
    if (trust_.manual &&
        std::find(trust_.trusted.begin(), trust_.trusted.end(), rec.id) == trust_.trusted.end()) {
      return;
    }
    introduced_.emplace(rec.id, *key);
  }

  // Check() in three steps, so that the costly middle one (Ed25519) can run on several
  // threads: Start (the signature entry, the signer's key), Verify, Finish (the verdict, and
  // version ownership, in record order).
  struct Pending {
    Result result;  // the verdict when !verify
    bool verify = false;
    std::string signer, key;
  };
  Pending Start(const stix::ObjectRecord& rec) {
    Pending p;
    absl::StatusOr<std::optional<Signature>> sig = FindSignature(rec.json);
    if (!sig.ok()) {
      p.result = Hold(common::Cat("malformed signature: ", sig.status().message()));
      return p;
    }
    if (!*sig) {
      // Accord's extension-definitions are the same bytes at every node, and unsigned.
      if ((rec.id == kSignatureExtension &&
           stix::SameJson(rec.json, SignatureExtensionDefinition())) ||
          (rec.id == kNodeKeyExtension && stix::SameJson(rec.json, NodeKeyExtensionDefinition()))) {
        return p;
      }
      p.result = Hold("unsigned: the version carries no signature");
      return p;
    }
    p.signer = (*sig)->signer;
    if (p.signer == own_) {
      p.result = {Outcome::kSkip, "signed by this node: it originated here"};
      return p;
    }
    absl::StatusOr<std::string> key = KeyOf(p.signer);
    if (!key.ok()) {
      const absl::StatusCode code = key.status().code();
      p.result =
          Hold(common::Cat(code == absl::StatusCode::kPermissionDenied ? "signer not trusted: "
                           : code == absl::StatusCode::kNotFound       ? "unknown signer: "
                                                                 : "signer's key unreadable: ",
                           key.status().message()));
      return p;
    }
    p.key = *std::move(key);
    p.verify = true;
    return p;
  }

  Result Finish(const stix::ObjectRecord& rec, const Pending& p, const absl::Status& verified) {
    if (!p.verify) return p.result;
    if (!verified.ok()) return Hold(common::Cat("signature does not verify: ", verified.message()));
    // Version ownership: only the signer of the object's first version may add versions.
    absl::StatusOr<std::string> owner = OwnerOf(rec.id);
    if (!owner.ok()) return Hold(common::Cat("owner unreadable: ", owner.status().message()));
    if (!owner->empty() && *owner != p.signer) {
      return Hold(common::Cat("version ownership: the first version of ", rec.id, " was signed by ",
                              *owner, ", this one by ", p.signer));
    }
    if (owner->empty()) owners_[rec.id] = p.signer;  // later versions in this round
    return {};
  }

  Result Check(const stix::ObjectRecord& rec) {
    Pending p = Start(rec);
    return Finish(rec, p, p.verify ? Verify(rec.json, p.key) : absl::OkStatus());
  }

 private:
  static Result Hold(std::string why) { return {Outcome::kHold, std::move(why)}; }

  absl::StatusOr<std::string> KeyOf(const std::string& signer) {
    auto it = keys_.find(signer);
    if (it == keys_.end()) it = keys_.emplace(signer, SignerKey(store_, signer, trust_)).first;
    if (!it->second.ok() && it->second.status().code() == absl::StatusCode::kNotFound) {
      auto in = introduced_.find(signer);
      if (in != introduced_.end()) return in->second;
    }
    return it->second;
  }

  // The signer of the first stored version of `id` ("" when none is stored). An unsigned
  // stored version was originated here: its owner is this node.
  absl::StatusOr<std::string> OwnerOf(const std::string& id) {
    auto it = owners_.find(id);
    if (it != owners_.end()) return it->second;
    absl::StatusOr<std::vector<store::StoredObject>> first =
        store_.Get(id, store::VersionSelect::kFirst);
    if (!first.ok()) {
      if (first.status().code() == absl::StatusCode::kNotFound) return std::string();
      return first.status();
    }
    if (first->empty()) return std::string();
    auto sig = FindSignature(first->front().json);
    std::string owner = sig.ok() && *sig ? (*sig)->signer : own_;
    owners_[id] = owner;
    return owner;
  }

  store::Store& store_;
  const KeyTrust trust_;
  const std::string own_;
  std::map<std::string, absl::StatusOr<std::string>> keys_;
  std::map<std::string, std::string> introduced_;
  std::map<std::string, std::string> owners_;
};

// Reads and writes a collection's sync status (a JSON store setting).
CollectionStatus ReadStatus(store::Store& store, const std::string& peer,
                            const std::string& collection) {
  CollectionStatus s;
  s.collection = collection;
  auto v = store.GetSetting(StatusKey(peer, collection));
  if (!v.ok() || !*v) return s;
  nlohmann::json j = nlohmann::json::parse(**v, nullptr, false);
  if (!j.is_object()) return s;
  s.last_attempt = j.value("last_attempt", int64_t{0});
  s.last_success = j.value("last_success", int64_t{0});
  s.failures = j.value("failures", uint64_t{0});
  s.last_error = j.value("last_error", "");
  s.last_error_at = j.value("last_error_at", int64_t{0});
  s.caught_up = j.value("caught_up", false);
  s.lag_objects = j.value("lag_objects", uint64_t{0});
  s.received = j.value("received", uint64_t{0});
  auto c = store.GetSetting(CursorKey(peer, collection));
  if (c.ok() && *c) s.cursor = **c;
  return s;
}

void WriteStatus(store::Store& store, const std::string& peer, const CollectionStatus& s) {
  nlohmann::json j = {{"last_attempt", s.last_attempt},   {"last_success", s.last_success},
                      {"failures", s.failures},           {"last_error", s.last_error},
                      {"last_error_at", s.last_error_at}, {"caught_up", s.caught_up},
                      {"lag_objects", s.lag_objects},     {"received", s.received}};
  absl::Status st = store.PutSetting(StatusKey(peer, s.collection), j.dump());
  if (!st.ok())
    std::cerr << "accord: sync: cannot record status for " << peer << ": " << st << "\n";
}

// Verify() for every pending record, on up to one thread per core (Ed25519 verification is
// the costliest step of receiving: ~60 us a version here).
std::vector<absl::Status> VerifyAll(const std::vector<const stix::ObjectRecord*>& recs,
                                    const std::vector<ReceiveCheck::Pending>& pending) {
  std::vector<absl::Status> out(recs.size());
  auto run = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (pending[i].verify) out[i] = Verify(recs[i]->json, pending[i].key);
    }
  };
  const size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  if (threads == 1 || recs.size() < 64) {
    run(0, recs.size());
    return out;
  }
  std::vector<std::thread> workers;
  const size_t chunk = (recs.size() + threads - 1) / threads;
  for (size_t t = 1; t < threads; ++t) {
    size_t from = std::min(recs.size(), t * chunk), to = std::min(recs.size(), from + chunk);
    workers.emplace_back(run, from, to);
  }
  run(0, std::min(recs.size(), chunk));
  for (std::thread& w : workers) w.join();
  return out;
}

// The envelope's `more` and `next` (TAXII §3.5), read before its objects so that the next page
// can be fetched while this one is checked (its objects are read by the ingest path).
struct Paging {
  bool more = false;
  std::string next;  // "" when absent
};
Paging PagingOf(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  Paging p;
  simdjson::dom::object env;
  if (parser.parse(body).get_object().get(env) != simdjson::SUCCESS) return p;
  std::string_view next;
  if (env["more"].get_bool().get(p.more) != simdjson::SUCCESS) p.more = false;
  if (env["next"].get_string().get(next) == simdjson::SUCCESS && next.size() <= 4096) {
    p.next = next;
  }
  return p;
}

struct RoundContext {
  store::Store& store;
  const FederationConfig& config;
  const ingest::PatternPolicy& pattern_policy;  // [pattern] of accord.toml, read once a round
  const std::atomic<bool>* stop;
  audit::Log* audit;  // every committed page of a peer's objects is a write by "peer:NAME"
};

// Pulls one remote collection of one peer. Fills `r`; returns the error of the round (the
// status is recorded by the caller).
absl::Status PullCollection(RoundContext& ctx, const Peer& peer, const Agreement& agreement,
                            taxii::Client& client, taxii::Client& prefetch, ReceiveCheck& check,
                            SyncCollectionReport& r, uint64_t* lag) {
  const std::string cursor_key = CursorKey(peer.name, r.collection);
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> saved, ctx.store.GetSetting(cursor_key));
  std::string cursor = saved.value_or("");
  // Pages follow the peer's `next` while it gives one (it continues past versions its gate
  // withholds from us, which leave no X-TAXII-Date-Added-Last behind); the stored cursor is
  // the date_added of the last version received, so a new round (or a restart) resumes there.
  // TAXII §3.5: `next` goes with the same filters as the first request.
  auto base_of = [&](const std::string& after) {
    std::string u = taxii::JoinUrl(
        peer.url, common::Cat("collections/", http::PercentEncode(r.collection),
                              "/objects/?match[version]=all&limit=", ctx.config.page_size));
    if (!after.empty()) common::Append(&u, "&added_after=", http::PercentEncode(after));
    return u;
  };
  std::string base = base_of(cursor), next;
  std::future<absl::StatusOr<taxii::HttpResult>> ahead;
  std::string ahead_url;
  const int64_t max_pages = ctx.config.max_pages_per_round;
  for (int64_t page = 0; page < max_pages; ++page) {
    if (ctx.stop && ctx.stop->load()) return absl::OkStatus();
    const std::string url =
        next.empty() ? base : common::Cat(base, "&next=", http::PercentEncode(next));
    absl::StatusOr<taxii::HttpResult> got = absl::UnknownError("not fetched");
    if (ahead.valid() && ahead_url == url) {
      got = ahead.get();
    } else {
      if (ahead.valid()) ahead.wait();
      got = client.Get(url);
    }
    if (!got.ok() && got.status().code() == absl::StatusCode::kNotFound && page == 0) {
      // The agreement names a collection the peer does not serve us (yet: a "from-x" exists
      // once that peer's first sync stored something). Nothing to pull; not a failure.
      r.caught_up = true;
      r.note = common::Cat("the peer serves no collection '", r.collection, "' to this node");
      *lag = 0;
      return absl::OkStatus();
    }
    if (!got.ok()) return got.status();
    taxii::HttpResult& res = *got;
    ++r.pages;
    // PERF: the next page is fetched (and the peer prepares it: its gate signs what it
    // originated) while this one is checked and committed.
    Paging paging = PagingOf(res.body);
    if (paging.more && !paging.next.empty() && paging.next != next && page + 1 < max_pages) {
      ahead_url = common::Cat(base, "&next=", http::PercentEncode(paging.next));
      ahead =
          std::async(std::launch::async, [&prefetch, u = ahead_url] { return prefetch.Get(u); });
    }
    auto on_member = [](std::string_view, std::string_view) {};  // read by PagingOf
    ingest::Options io;
    io.collection = agreement.accept.into;
    io.origin = {"federation", peer.name};
    ingest::ApplyPatternPolicy(ctx.pattern_policy, &io, agreement.accept.into);
    auto src = ingest::EnvelopeSource(url, res.body, on_member);
    absl::StatusOr<ingest::Checked> checked = ingest::CheckSource(*src, io);
    if (!checked.ok()) {
      return absl::DataLossError(
          common::Cat(url, ": not a TAXII envelope: ", checked.status().message()));
    }
    const uint64_t n = checked->accepted + checked->rejected;
    if (n > static_cast<uint64_t>(ctx.config.page_size)) {
      return absl::DataLossError(common::Cat(url, ": the peer sent ", n,
                                             " objects for a page of at most ",
                                             ctx.config.page_size, "; nothing of it was kept"));
    }
    r.received += n;
    r.refused += checked->rejected;
    for (const auto& p : checked->problems) {
      std::cerr << "accord: sync " << peer.name << ": refused " << p.ToString() << "\n";
    }
    std::string last = res.Header("x-taxii-date-added-last");
    if (n > 0 && last.empty()) {
      return absl::DataLossError(
          common::Cat(url, ": a page without X-TAXII-Date-Added-Last cannot be resumed"));
    }
    if (n > 0 && last == cursor) {
      return absl::DataLossError(common::Cat(url, ": the peer's cursor does not advance"));
    }
    // The checks, then holds (each its own transaction), then one transaction with the
    // accepted versions and the cursor.
    for (const stix::ObjectRecord& rec : checked->records) check.Introduce(rec);
    std::vector<const stix::ObjectRecord*> keep;
    std::vector<const stix::ObjectRecord*> wanted;
    for (const stix::ObjectRecord& rec : checked->records) {
      if (!agreement.accept.types.empty() &&
          std::find(agreement.accept.types.begin(), agreement.accept.types.end(), rec.type) ==
              agreement.accept.types.end()) {
        ++r.skipped;
        continue;
      }
      if (policy::IsRequestChannelType(rec.type)) {
        // Requests and their steps arrive only over the request channel, from their sender
        // to their addressee (docs/REQUESTS.md); never from a collection.
        ++r.skipped;
        continue;
      }
      wanted.push_back(&rec);
    }
    std::vector<ReceiveCheck::Pending> pending;
    pending.reserve(wanted.size());
    for (const stix::ObjectRecord* rec : wanted) pending.push_back(check.Start(*rec));
    std::vector<absl::Status> verified = VerifyAll(wanted, pending);
    for (size_t i = 0; i < wanted.size(); ++i) {
      const stix::ObjectRecord& rec = *wanted[i];
      ReceiveCheck::Result c = check.Finish(rec, pending[i], verified[i]);
      if (c.outcome == ReceiveCheck::Outcome::kSkip) {
        ++r.skipped;
      } else if (c.outcome == ReceiveCheck::Outcome::kHold) {
        ++r.quarantined;
        std::cerr << "accord: sync " << peer.name << ": quarantined " << rec.id << ": " << c.reason
                  << "\n";
        ACCORD_RETURN_IF_ERROR(ctx.store.quarantine()->Hold(
            agreement.accept.into, rec.id, rec.modified, peer.name, c.reason, rec.json));
      } else {
        keep.push_back(&rec);
        if (rec.type == "identity") r.identities = true;
      }
    }
    if (n > 0) {
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<store::ImportTxn> txn,
                              ctx.store.BeginImport(agreement.accept.into));
      txn->SetWriter(peer.name);
      for (const stix::ObjectRecord* rec : keep) ACCORD_RETURN_IF_ERROR(txn->Add(*rec));
      ACCORD_RETURN_IF_ERROR(txn->PutSetting(cursor_key, last));
      ACCORD_ASSIGN_OR_RETURN(store::ImportResult done, txn->Commit());
      if (ctx.audit != nullptr && done.memberships > 0) {
        ACCORD_RETURN_IF_ERROR(ctx.audit
                                   ->Append(ingest::WriteEntry({"federation-sync", peer.name},
                                                               agreement.accept.into, done))
                                   .status());
      }
      r.added += done.added;
      r.duplicates += done.duplicates;
      r.quarantined += done.conflicts;
      cursor = last;
    }
    if (!paging.more) {
      r.caught_up = true;
      *lag = 0;
      return absl::OkStatus();
    }
    if (!paging.next.empty()) {
      if (paging.next == next) {
        return absl::DataLossError(common::Cat(url, ": the peer's next token does not advance"));
      }
      next = std::move(paging.next);
    } else {
      if (n == 0) {
        return absl::DataLossError(common::Cat(url, ": an empty page says more, with no next"));
      }
      base = base_of(cursor);
      next.clear();
    }
  }
  *lag = 1;  // at least one more page waits for the next round
  return absl::OkStatus();
}

absl::StatusOr<SyncReport> Round(store::Store& store, const std::string& data_dir,
                                 const std::string& only_peer, const std::atomic<bool>* stop) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> node, LoadNode(store));
  if (!node) {
    return absl::FailedPreconditionError("this node has no identity yet: run 'accord node init'");
  }
  ACCORD_ASSIGN_OR_RETURN(FederationConfig config, LoadFederationConfig(data_dir));
  ACCORD_ASSIGN_OR_RETURN(KeyTrust trust, LoadKeyTrust(store, data_dir));
  ACCORD_ASSIGN_OR_RETURN(std::vector<Peer> peers, ListPeers(store));
  if (!only_peer.empty() && std::none_of(peers.begin(), peers.end(),
                                         [&](const Peer& p) { return p.name == only_peer; })) {
    return absl::NotFoundError(common::Cat("no peer '", only_peer, "'"));
  }
  ACCORD_ASSIGN_OR_RETURN(ingest::PatternPolicy pattern_policy,
                          ingest::LoadPatternPolicy(data_dir));
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<audit::Log> audit_log,
                          audit::Log::Open(data_dir, &store));
  RoundContext ctx{store, config, pattern_policy, stop, audit_log.get()};
  SyncReport report;
  ReceiveCheck check(store, trust, node->identity);
  for (const Peer& peer : peers) {
    if (!only_peer.empty() && peer.name != only_peer) continue;
    ACCORD_ASSIGN_OR_RETURN(std::optional<Agreement> current, CurrentAgreement(store, peer.name));
    if (!current) continue;
    const Agreement& agreement = *current;
    taxii::ClientOptions co;
    absl::StatusOr<std::string> key = PeerApiKey(data_dir, peer.name);
    absl::StatusOr<std::string> ca = PeerCaFile(data_dir, peer);
    if (key.ok()) co.key = *key;
    if (ca.ok()) co.ca_file = *ca;
    co.timeout_s = config.request_timeout_s;
    co.connect_timeout_s = std::min<int64_t>(config.request_timeout_s, 10);
    co.max_response_bytes = static_cast<uint64_t>(config.max_page_bytes);
    co.retries = 1;    // the round's back-off does the rest
    co.cancel = stop;  // a stopping serve does not wait out a hanging peer
    co.retry_base_ms = 200;
    taxii::Client client(co), prefetch(co);
    for (const std::string& collection : agreement.accept.from) {
      SyncCollectionReport r;
      r.peer = peer.name;
      r.collection = collection;
      r.into = agreement.accept.into;
      CollectionStatus status = ReadStatus(store, peer.name, collection);
      const common::Micros now = common::NowMicros();
      status.last_attempt = now;
      uint64_t lag = 0;
      absl::Status st =
          !key.ok()  ? key.status()
          : !ca.ok() ? ca.status()
                     : PullCollection(ctx, peer, agreement, client, prefetch, check, r, &lag);
      status.received += r.received;
      if (st.ok()) {
        status.last_success = common::NowMicros();
        status.failures = 0;
        status.caught_up = r.caught_up;
        status.lag_objects = lag;
      } else {
        r.error = std::string(st.message());
        ++status.failures;
        status.last_error = r.error;
        status.last_error_at = common::NowMicros();
        status.caught_up = false;
      }
      WriteStatus(store, peer.name, status);
      report.collections.push_back(std::move(r));
    }
  }
  // Versions held for an unknown signer pass once the signer's identity has come in: checked
  // again after a round that brought identity objects (at most kMaxRecheck of them a round,
  // the oldest first; `accord quarantine release` does one on demand).
  constexpr size_t kMaxRecheck = 10000;
  const bool identities = std::any_of(report.collections.begin(), report.collections.end(),
                                      [](const SyncCollectionReport& c) { return c.identities; });
  auto held = identities ? store.quarantine()->ListQuarantine(0)
                         : absl::StatusOr<std::vector<store::QuarantineEntry>>();
  if (identities && held.ok()) {
    size_t rechecked = 0;
    for (const store::QuarantineEntry& e : *held) {
      if (e.reason.rfind("unknown signer", 0) != 0) continue;
      if (++rechecked > kMaxRecheck) break;
      if (ReleaseHeld(store, data_dir, e.qid).ok()) ++report.released;
    }
  }
  return report;
}

}  // namespace

absl::StatusOr<SyncReport> SyncOnce(store::Store& store, const std::string& data_dir,
                                    const std::string& only_peer) {
  return Round(store, data_dir, only_peer, nullptr);
}

absl::Status ReleaseHeld(store::Store& store, const std::string& data_dir, int64_t qid) {
  ACCORD_ASSIGN_OR_RETURN(store::QuarantineEntry e, store.quarantine()->GetQuarantined(qid));
  if (e.reason.empty()) {
    return absl::InvalidArgumentError(
        common::Cat("#", qid, " is a content conflict: release it with --keep stored|quarantined"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> node, LoadNode(store));
  if (!node) return absl::FailedPreconditionError("this node has no identity yet");
  ACCORD_ASSIGN_OR_RETURN(KeyTrust trust, LoadKeyTrust(store, data_dir));
  ACCORD_ASSIGN_OR_RETURN(ingest::PatternPolicy pattern_policy,
                          ingest::LoadPatternPolicy(data_dir));
  ingest::Options io;
  io.collection = e.collection;
  io.origin = {"federation", e.writer};
  ingest::ApplyPatternPolicy(pattern_policy, &io, e.collection);
  auto src = ingest::BufferSource(common::Cat("quarantine #", qid), e.json);
  ACCORD_ASSIGN_OR_RETURN(ingest::Checked checked, ingest::CheckSource(*src, io));
  if (checked.records.size() != 1) {
    return absl::FailedPreconditionError(common::Cat("#", qid, ": not one valid STIX object"));
  }
  const stix::ObjectRecord& rec = checked.records.front();
  ReceiveCheck check(store, trust, node->identity);
  ReceiveCheck::Result r = check.Check(rec);
  if (r.outcome != ReceiveCheck::Outcome::kAccept) {
    return absl::FailedPreconditionError(common::Cat("#", qid, " still fails: ", r.reason));
  }
  {
    // Scoped: the transaction holds the store's write lock until it is destroyed, and the drop
    // below needs it.
    ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<store::ImportTxn> txn, store.BeginImport(e.collection));
    txn->SetWriter(e.writer);
    ACCORD_RETURN_IF_ERROR(txn->Add(rec));
    ACCORD_ASSIGN_OR_RETURN(store::ImportResult done, txn->Commit());
    if (done.memberships > 0) {
      // The peer's version, written now: recorded as the peer's write, released from hold.
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<audit::Log> log, audit::Log::Open(data_dir, &store));
      audit::Entry entry = ingest::WriteEntry({"federation-sync", e.writer}, e.collection, done);
      entry.detail += common::Cat("; released from quarantine #", qid);
      ACCORD_RETURN_IF_ERROR(log->Append(std::move(entry)).status());
    }
  }
  // Stored first, then the entry dropped: a crash between leaves an entry whose release is a
  // duplicate.
  return store.quarantine()->DropQuarantined(qid);
}

absl::StatusOr<std::vector<PeerStatus>> SyncStatus(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<Peer> peers, ListPeers(store));
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::QuarantineEntry> held,
                          store.quarantine()->ListQuarantine(0));
  std::vector<PeerStatus> out;
  for (const Peer& p : peers) {
    PeerStatus ps;
    ps.peer = p.name;
    ACCORD_ASSIGN_OR_RETURN(std::optional<Agreement> a, CurrentAgreement(store, p.name));
    if (a) {
      for (const std::string& c : a->accept.from)
        ps.collections.push_back(ReadStatus(store, p.name, c));
    }
    for (const auto& e : held) ps.quarantined += e.writer == p.name ? 1 : 0;
    out.push_back(std::move(ps));
  }
  return out;
}

SyncLoop::SyncLoop(store::Store* store, std::string data_dir)
    : store_(store), data_dir_(std::move(data_dir)) {}

SyncLoop::~SyncLoop() { Stop(); }

void SyncLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SyncLoop::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyncLoop::Run() {
  std::mt19937_64 rng(std::random_device{}());
  std::map<std::string, std::pair<int64_t, int>> backoff;  // peer: (next due us, failures)
  for (;;) {
    absl::StatusOr<FederationConfig> config = LoadFederationConfig(data_dir_);
    int64_t interval_ms = config.ok() ? config->sync_interval_ms : 30000;
    const bool enabled = config.ok() && config->sync_interval_ms > 0;
    if (!enabled) interval_ms = 1000;  // the setting is re-read: sync may be switched on
    absl::StatusOr<std::vector<Peer>> peers = ListPeers(*store_);
    if (enabled && peers.ok()) {
      for (const Peer& p : *peers) {
        if (stopping_) return;
        auto& [due, failures] = backoff[p.name];
        if (common::NowMicros() < due) continue;
        absl::StatusOr<SyncReport> r = Round(*store_, data_dir_, p.name, &stopping_);
        if (r.ok()) {
          // The log says what changed and what failed (quiet when nothing came).
          for (const SyncCollectionReport& c : r->collections) {
            if (!c.error.empty()) {
              std::cerr << "accord: sync " << c.peer << " " << c.collection << ": " << c.error
                        << "\n";
            } else if (c.added > 0 || c.quarantined > 0) {
              std::cerr << "accord: sync " << c.peer << " " << c.collection << " -> " << c.into
                        << ": " << c.added << " added, " << c.quarantined << " quarantined\n";
            }
          }
        }
        bool ok = r.ok() && r->ok();
        if (ok) {
          failures = 0;
          due = 0;
          continue;
        }
        ++failures;
        // Exponential back-off with jitter: base * 2^(failures-1), capped, times [0.5, 1).
        double delay_ms = std::min<double>(
            static_cast<double>(config->retry_base_ms) * std::pow(2.0, std::min(failures - 1, 30)),
            static_cast<double>(config->retry_max_s) * 1000.0);
        delay_ms *= std::uniform_real_distribution<double>(0.5, 1.0)(rng);
        due = common::NowMicros() + static_cast<int64_t>(delay_ms * 1000);
        if (!r.ok()) std::cerr << "accord: sync " << p.name << ": " << r.status() << "\n";
      }
    }
    std::unique_lock<std::mutex> l(mu_);
    if (cv_.wait_for(l, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) return;
  }
}

}  // namespace accord::federation
