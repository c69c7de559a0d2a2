#include "accord/store/copy.h"

#include <xxhash.h>

#include <optional>
#include <utility>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "store/store_common.h"

namespace accord::store {

namespace {

constexpr uint64_t kPage = 1000;

// Every version of a collection in date_added order, a page at a time.
template <typename PageFn>
absl::Status EachPage(Store& s, const std::string& collection, PageFn&& fn) {
  Query q;
  q.collection = collection;
  q.versions = VersionSelect::kAll;
  q.include_revoked = true;
  q.limit = kPage;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(Page page, s.List(q));
    ACCORD_RETURN_IF_ERROR(fn(page.objects));
    if (!page.more) return absl::OkStatus();
    q.cursor = page.next;
  }
}

absl::Status Differs(const std::string& what) {
  return absl::DataLossError(common::Cat("the copy differs: ", what));
}

// Every record of a match ledger, a page at a time, in the backend's own order.
template <typename PageFn>
absl::Status EachLedgerPage(MatchLedger& l, PageFn&& fn) {
  std::optional<RecordedMatch> after;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<RecordedMatch> page,
                            l.Scan(after ? &*after : nullptr, kPage));
    if (page.empty()) return absl::OkStatus();
    ACCORD_RETURN_IF_ERROR(fn(page));
    if (page.size() < kPage) return absl::OkStatus();
    after = std::move(page.back());
  }
}

// A ledger's records and an order-free digest of them: the sums of a 128-bit hash of each
// record (event, indicator, event time, recording time). Backends scan in their own orders
// (Scan: collations), so two ledgers are compared by these, in bounded memory.
struct LedgerDigest {
  uint64_t records = 0, lo = 0, hi = 0;
};

absl::StatusOr<LedgerDigest> Digest(MatchLedger& l) {
  LedgerDigest d;
  std::string buf;
  absl::Status read = EachLedgerPage(l, [&](const std::vector<RecordedMatch>& page) {
    for (const RecordedMatch& m : page) {
      // Lengths first, so that no two records have the same bytes.
      buf.clear();
      common::Append(&buf, m.event.size(), ":", m.event, m.indicator.size(), ":", m.indicator, ":",
                     m.time, ":", m.recorded);
      const XXH128_hash_t h = XXH3_128bits(buf.data(), buf.size());
      ++d.records;
      d.lo += h.low64;
      d.hi += h.high64;
    }
    return absl::OkStatus();
  });
  ACCORD_RETURN_IF_ERROR(read);
  return d;
}

}  // namespace

absl::StatusOr<CopyReport> CopyStore(Store& from, Store& to,
                                     const std::function<void(uint64_t)>& progress) {
  // The target is empty.
  ACCORD_ASSIGN_OR_RETURN(std::vector<CollectionInfo> there, to.ListCollections());
  ACCORD_ASSIGN_OR_RETURN(Stats there_stats, to.GetStats());
  ACCORD_ASSIGN_OR_RETURN(bool there_users, to.auth()->HasUsers());
  ACCORD_ASSIGN_OR_RETURN(auto there_settings, to.ListSettings());
  uint64_t there_matches = 0;
  if (to.matches() != nullptr) {
    ACCORD_ASSIGN_OR_RETURN(there_matches, to.matches()->Count());
  }
  if (!there.empty() || there_stats.versions > 0 || there_users || !there_settings.empty() ||
      there_matches > 0) {
    return absl::FailedPreconditionError(
        "the target store is not empty (collections, versions, users, settings or match "
        "records): copy into a new one");
  }
  CopyReport report;
  ACCORD_ASSIGN_OR_RETURN(std::vector<CollectionInfo> collections, from.ListCollections());
  for (const CollectionInfo& c : collections) {
    ACCORD_RETURN_IF_ERROR(to.CreateCollection(c).status());
    ++report.collections;
  }
  for (const CollectionInfo& c : collections) {
    absl::Status copied = EachPage(from, c.id, [&](const std::vector<StoredObject>& objs) {
      if (objs.empty()) return absl::OkStatus();
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<ImportTxn> txn, to.BeginImport(c.id));
      for (const StoredObject& o : objs) {
        ACCORD_ASSIGN_OR_RETURN(
            stix::ObjectRecord rec,
            detail::RecordOf(o.json, common::Cat(o.id, " (modified ",
                                                 common::FormatTimestamp(o.modified), ")")));
        ACCORD_RETURN_IF_ERROR(txn->Add(rec));
      }
      ACCORD_ASSIGN_OR_RETURN(ImportResult done, txn->Commit());
      report.versions += done.added;
      report.memberships += done.memberships;
      // A stored version never differs from its own copy: a conflict here is corruption.
      if (done.memberships != objs.size() || done.conflicts > 0) {
        return absl::InternalError(common::Cat("collection ", c.id, ": ", objs.size(),
                                               " versions read, ", done.memberships, " linked"));
      }
      if (progress) progress(report.memberships);
      return absl::OkStatus();
    });
    ACCORD_RETURN_IF_ERROR(copied);
  }
  ACCORD_ASSIGN_OR_RETURN(Stats from_stats, from.GetStats());
  report.not_copied_unlinked = from_stats.versions - report.versions;
  // Users, keys (with their hashes), grants.
  AuthStore* fa = from.auth();
  AuthStore* ta = to.auth();
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthUser> users, fa->ListUsers());
  for (const AuthUser& u : users) {
    ACCORD_RETURN_IF_ERROR(ta->AddUser(u));
    ++report.users;
    ACCORD_ASSIGN_OR_RETURN(std::vector<AuthGrant> grants, fa->ListGrants(u.name));
    for (const AuthGrant& g : grants) {
      ACCORD_RETURN_IF_ERROR(ta->SetGrant(g));
      ++report.grants;
    }
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthKey> keys, fa->ListKeys(""));
  for (const AuthKey& listed : keys) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<AuthKey> k, fa->FindKey(listed.key_id));
    if (!k) continue;  // revoked and removed meanwhile
    ACCORD_RETURN_IF_ERROR(ta->AddKey(*k));
    ++report.keys;
  }
  ACCORD_ASSIGN_OR_RETURN(auto settings, from.ListSettings());
  for (const auto& [key, value] : settings) {
    ACCORD_RETURN_IF_ERROR(to.PutSetting(key, value));
    ++report.settings;
  }
  // The match ledger, with its recording times (MatchLedger::Restore), a page per transaction.
  if (MatchLedger* ledger = from.matches()) {
    absl::Status copied = EachLedgerPage(*ledger, [&](const std::vector<RecordedMatch>& page) {
      if (to.matches() == nullptr) {
        return absl::UnimplementedError("the target store has no match ledger");
      }
      ACCORD_RETURN_IF_ERROR(to.matches()->Restore(page));
      report.match_records += page.size();
      return absl::OkStatus();
    });
    ACCORD_RETURN_IF_ERROR(copied);
  }
  if (Quarantine* q = from.quarantine()) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<QuarantineEntry> held, q->ListQuarantine(0));
    report.not_copied_quarantine = held.size();
  }
  return report;
}

absl::Status VerifyCopy(Store& from, Store& to) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<CollectionInfo> a, from.ListCollections());
  ACCORD_ASSIGN_OR_RETURN(std::vector<CollectionInfo> b, to.ListCollections());
  if (a.size() != b.size()) {
    return Differs(common::Cat(a.size(), " collections, ", b.size(), " in the copy"));
  }
  for (const CollectionInfo& c : a) {
    absl::StatusOr<CollectionInfo> d = to.GetCollection(c.id);
    if (!d.ok()) return Differs(common::Cat("collection ", c.id, " is missing"));
    if (d->alias != c.alias || d->title != c.title || d->description != c.description ||
        d->is_public != c.is_public) {
      return Differs(common::Cat("collection ", c.id,
                                 ": its alias, title, description or "
                                 "public flag"));
    }
    // Both in date_added order, page by page in step (bounded memory): the same versions in
    // the same order, byte for byte.
    Query q;
    q.collection = c.id;
    q.versions = VersionSelect::kAll;
    q.include_revoked = true;
    q.limit = kPage;
    Query r = q;
    uint64_t at = 0;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(Page pa, from.List(q));
      ACCORD_ASSIGN_OR_RETURN(Page pb, to.List(r));
      for (size_t i = 0; i < pa.objects.size() || i < pb.objects.size(); ++i, ++at) {
        if (i >= pa.objects.size() || i >= pb.objects.size()) {
          return Differs(common::Cat("collection ", c.id, ": not as many versions (",
                                     i >= pa.objects.size() ? "an extra one" : "one missing",
                                     " at ", at, ")"));
        }
        const StoredObject& m = pa.objects[i];
        const StoredObject& o = pb.objects[i];
        if (m.id != o.id || m.modified != o.modified || m.json != o.json) {
          return Differs(common::Cat("collection ", c.id, ", version ", at, ": ", m.id, " (",
                                     common::FormatTimestamp(m.modified), ") against ", o.id, " (",
                                     common::FormatTimestamp(o.modified), ")"));
        }
      }
      if (pa.more != pb.more) return Differs(common::Cat("collection ", c.id, ": its length"));
      if (!pa.more) break;
      q.cursor = pa.next;
      r.cursor = pb.next;
    }
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthUser> ua, from.auth()->ListUsers());
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthUser> ub, to.auth()->ListUsers());
  if (ua.size() != ub.size()) return Differs("the users");
  for (size_t i = 0; i < ua.size(); ++i) {
    if (ua[i].name != ub[i].name || ua[i].role != ub[i].role || ua[i].created != ub[i].created) {
      return Differs(common::Cat("user '", ua[i].name, "'"));
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<AuthGrant> ga, from.auth()->ListGrants(ua[i].name));
    ACCORD_ASSIGN_OR_RETURN(std::vector<AuthGrant> gb, to.auth()->ListGrants(ua[i].name));
    bool same = ga.size() == gb.size();
    for (size_t k = 0; same && k < ga.size(); ++k) {
      same = ga[k].collection == gb[k].collection && ga[k].read == gb[k].read &&
             ga[k].write == gb[k].write;
    }
    if (!same) return Differs(common::Cat("the grants of '", ua[i].name, "'"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthKey> ka, from.auth()->ListKeys(""));
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuthKey> kb, to.auth()->ListKeys(""));
  if (ka.size() != kb.size()) return Differs("the API keys");
  for (const AuthKey& k : ka) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<AuthKey> x, from.auth()->FindKey(k.key_id));
    ACCORD_ASSIGN_OR_RETURN(std::optional<AuthKey> y, to.auth()->FindKey(k.key_id));
    if (!x || !y || x->user != y->user || x->hash != y->hash || x->revoked != y->revoked ||
        x->created != y->created || x->label != y->label) {
      return Differs(common::Cat("API key ", k.key_id));
    }
  }
  ACCORD_ASSIGN_OR_RETURN(auto sa, from.ListSettings());
  ACCORD_ASSIGN_OR_RETURN(auto sb, to.ListSettings());
  if (sa != sb) return Differs("the settings");
  LedgerDigest la, lb;
  if (from.matches() != nullptr) {
    ACCORD_ASSIGN_OR_RETURN(la, Digest(*from.matches()));
  }
  if (to.matches() != nullptr) {
    ACCORD_ASSIGN_OR_RETURN(lb, Digest(*to.matches()));
  }
  if (la.records != lb.records) {
    return Differs(
        common::Cat("the match ledger: ", la.records, " records, ", lb.records, " in the copy"));
  }
  if (la.lo != lb.lo || la.hi != lb.hi) {
    return Differs(common::Cat("the match ledger: ", la.records,
                               " records on each side, but not the same (event, indicator, "
                               "event time or recording time)"));
  }
  return absl::OkStatus();
}

}  // namespace accord::store
