// For tests: a Store that passes every call to a real one. A test derives from it and
// overrides the calls it fails, counts or watches.
// NOTE for maintainers: every Store virtual must be forwarded here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accord/store/store.h"

namespace accord::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store* real) : real_(real) {}

  absl::StatusOr<SchemaState> Schema() override { return real_->Schema(); }
  absl::StatusOr<SchemaState> Migrate() override { return real_->Migrate(); }
  absl::StatusOr<std::unique_ptr<ImportTxn>> BeginImport(const std::string& c) override {
    return real_->BeginImport(c);
  }
  bool WritersWaiting() const override { return real_->WritersWaiting(); }
  void PrepareWrite(stix::ObjectRecord* record) const override { real_->PrepareWrite(record); }
  absl::StatusOr<std::vector<StoredObject>> Get(const std::string& id, VersionSelect v) override {
    return real_->Get(id, v);
  }
  absl::StatusOr<Page> List(const Query& q) override { return real_->List(q); }
  absl::StatusOr<uint64_t> Delete(const std::string& c, const std::string& id,
                                  const std::vector<Micros>& t) override {
    return real_->Delete(c, id, t);
  }
  absl::StatusOr<CollectionInfo> CreateCollection(const CollectionInfo& i) override {
    return real_->CreateCollection(i);
  }
  absl::StatusOr<std::vector<CollectionInfo>> ListCollections() override {
    return real_->ListCollections();
  }
  absl::StatusOr<uint64_t> CountMembers(const std::string& c) override {
    return real_->CountMembers(c);
  }
  absl::StatusOr<CollectionInfo> GetCollection(const std::string& c) override {
    return real_->GetCollection(c);
  }
  absl::StatusOr<Stats> GetStats() override { return real_->GetStats(); }
  absl::StatusOr<uint64_t> Generation() override { return real_->Generation(); }
  absl::StatusOr<uint64_t> IndicatorGeneration() override { return real_->IndicatorGeneration(); }
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& k) override {
    return real_->GetSetting(k);
  }
  absl::Status PutSetting(const std::string& k, const std::string& v) override {
    return real_->PutSetting(k, v);
  }
  absl::StatusOr<std::string> PutSettingIfAbsent(const std::string& k,
                                                 const std::string& v) override {
    return real_->PutSettingIfAbsent(k, v);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListSettings() override {
    return real_->ListSettings();
  }
  AuthStore* auth() override { return real_->auth(); }
  StatusStore* statuses() override { return real_->statuses(); }
  MatchLedger* matches() override { return real_->matches(); }
  Quarantine* quarantine() override { return real_->quarantine(); }
  AuditStore* audit_log() override { return real_->audit_log(); }
  SessionStore* sessions() override { return real_->sessions(); }
  absl::StatusOr<PurgeReport> Purge(const PurgeRules& rules, bool dry_run) override {
    return real_->Purge(rules, dry_run);
  }
  absl::StatusOr<std::vector<TermHit>> FindTerms(const std::vector<std::string>& terms,
                                                 uint64_t limit) override {
    return real_->FindTerms(terms, limit);
  }
  absl::StatusOr<std::vector<TermHit>> FindTermRange(const std::string& lo, const std::string& hi,
                                                     uint64_t limit) override {
    return real_->FindTermRange(lo, hi, limit);
  }
  absl::StatusOr<BrowsePage> Browse(const BrowseQuery& query) override {
    return real_->Browse(query);
  }
  absl::StatusOr<bool> ValueIndexCurrent() override { return real_->ValueIndexCurrent(); }
  absl::StatusOr<uint64_t> Reindex() override { return real_->Reindex(); }

 protected:
  Store* real() const { return real_; }

 private:
  Store* real_;
};

}  // namespace accord::store
