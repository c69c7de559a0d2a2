// The PostgreSQL backend (pg_store.h). The statements mirror the SQLite backend's
// (sqlite_store.cc), whose tests both backends pass (store_contract_test.cc).
#include "store/pg_store.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/stix/object.h"
#include "store/sqlite_store.h"  // ContentHash, BucketLast: shared by both backends
#include "store/store_common.h"

namespace accord::store::detail {

namespace {

// The schema. Times are microseconds since the epoch (bigint), as in SQLite.
//
// Several frontends share one database, so an open never changes the schema of a store that
// exists (issue 17): a fresh database is created at kPgSchemaVersion directly, and an older
// one is brought up to date only by Migrate() (`accord migrate`), through kPgMigrations.
// Every statement is idempotent (IF NOT EXISTS): schema 1 as first released already had the
// match ledger, which version 2 adds. A step is one SQL text, so that a later one is a line
// more in kPgMigrations.
constexpr int kPgSchemaVersion = 6;
// Version 1 (with kPgAuthSchema, pg_auth.cc).
constexpr const char* kPgSchema1 = R"sql(
CREATE TABLE IF NOT EXISTS accord_meta(
  one integer PRIMARY KEY CHECK (one = 1),
  schema_version integer NOT NULL,
  generation bigint NOT NULL,
  last_added bigint NOT NULL);
CREATE TABLE IF NOT EXISTS objects(
  vid bigserial PRIMARY KEY,
  id text NOT NULL,
  modified bigint NOT NULL,
  type text NOT NULL,
  spec_version text NOT NULL,
  has_modified boolean NOT NULL,
  revoked boolean NOT NULL,
  valid_from bigint,
  valid_until bigint,
  first_added bigint NOT NULL,
  json_hash bigint NOT NULL,
  json text NOT NULL,
  UNIQUE (id, modified));
CREATE INDEX IF NOT EXISTS objects_type ON objects(type);
CREATE INDEX IF NOT EXISTS objects_revoked ON objects(id) WHERE revoked;
CREATE TABLE IF NOT EXISTS collections(
  cid bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  alias text UNIQUE,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  is_public boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS membership(
  cid bigint NOT NULL REFERENCES collections,
  date_added bigint NOT NULL,
  vid bigint NOT NULL REFERENCES objects,
  PRIMARY KEY (cid, date_added),
  UNIQUE (vid, cid));
CREATE TABLE IF NOT EXISTS settings(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS value_keys(
  key bigint NOT NULL,
  vid bigint NOT NULL REFERENCES objects ON DELETE CASCADE,
  PRIMARY KEY (key, vid));
CREATE TABLE IF NOT EXISTS quarantine(
  qid bigserial PRIMARY KEY,
  id text NOT NULL,
  modified bigint NOT NULL,
  cid bigint NOT NULL REFERENCES collections,
  writer text NOT NULL,
  received bigint NOT NULL,
  json_hash bigint NOT NULL,
  json text NOT NULL,
  reason text NOT NULL DEFAULT '',
  UNIQUE (id, modified, cid, json_hash));
)sql";
// Version 2: match_records, match_clock: the match ledger, as in SQLite (sqlite_store.cc,
// kMatchSchema).
constexpr const char* kPgMatchSchema = R"sql(
CREATE TABLE IF NOT EXISTS match_records(
  event text NOT NULL,
  indicator text NOT NULL,
  time bigint NOT NULL,
  recorded bigint NOT NULL,
  PRIMARY KEY (event, indicator));
CREATE INDEX IF NOT EXISTS match_records_indicator ON match_records(indicator, time, recorded);
CREATE TABLE IF NOT EXISTS match_clock(
  one integer PRIMARY KEY CHECK (one = 1),
  last_recorded bigint NOT NULL);
INSERT INTO match_clock SELECT 1, coalesce(max(recorded), 0) FROM match_records
  ON CONFLICT DO NOTHING;
)sql";
// The full-text index (pg_browse.cc, Browse): per version with a name, a description or
// markings, their lexemes as made in C++ (PgTextOf), searched through the GIN index; a version
// removed from the store takes its row along. Versions stored before it existed are indexed by
// Reindex, which `accord serve` and `accord related` run when ValueIndexCurrent() says so (as
// for a SQLite store predating its index): the migration marks them instead of reading every
// version's JSON under the lock that stops all writers.
constexpr const char* kPgTextSchema = R"sql(
CREATE TABLE IF NOT EXISTS object_text(
  vid bigint PRIMARY KEY REFERENCES objects ON DELETE CASCADE,
  words tsvector NOT NULL);
CREATE INDEX IF NOT EXISTS object_text_words ON object_text USING gin(words);
INSERT INTO settings(key, value) SELECT 'value_index.stale', '1'
  WHERE EXISTS (SELECT 1 FROM objects) AND NOT EXISTS (SELECT 1 FROM object_text)
  ON CONFLICT (key) DO NOTHING;
)sql";

// Version 6: IndicatorGeneration(), moved with the generation when a write changed an
// indicator.
constexpr const char* kPgIndicatorGenerationSchema = R"sql(
ALTER TABLE accord_meta ADD COLUMN IF NOT EXISTS indicator_generation bigint NOT NULL DEFAULT 0;
)sql";

// The steps from one version to the next: `sql` brings version `to` - 1 to `to`.
struct PgMigration {
  int to;
  const char* sql;
};
// (kPgAuditSchema and kPgSessionSchema are in pg_store.h.)
constexpr PgMigration kPgMigrations[] = {{2, kPgMatchSchema},
                                         {3, kPgTextSchema},
                                         {4, kPgAuditSchema},
                                         {5, kPgSessionSchema},
                                         {6, kPgIndicatorGenerationSchema}};
static_assert(std::size(kPgMigrations) == kPgSchemaVersion - 1 &&
                  kPgMigrations[std::size(kPgMigrations) - 1].to == kPgSchemaVersion,
              "one migration step per schema version after 1");

// The recorded schema version; 0 when the database holds no store yet.
absl::StatusOr<int64_t> RecordedVersion(PgConn* c) {
  ACCORD_ASSIGN_OR_RETURN(
      PgRows t, c->Run("SELECT to_regclass('accord_meta') IS NOT NULL", "look for the store"));
  if (t.size() != 1 || !t.flag(0, 0)) return 0;
  ACCORD_ASSIGN_OR_RETURN(PgRows v, c->Run("SELECT schema_version FROM accord_meta WHERE one = 1",
                                           "read the schema version"));
  if (v.size() != 1)
    return absl::DataLossError("the PostgreSQL store's accord_meta row is missing");
  return v.num(0, 0);
}

// Why a store of `version` is not opened as it is (REQUIRES: version != kPgSchemaVersion).
absl::Status VersionError(const std::string& location, int64_t version) {
  if (version == 0) {
    return absl::NotFoundError(common::Cat(location, ": no Accord store in this database"));
  }
  if (version > kPgSchemaVersion) {
    return absl::FailedPreconditionError(common::Cat(
        location, ": store schema version ", version,
        " was written by a newer Accord (this one writes ", kPgSchemaVersion, "); upgrade accord"));
  }
  return absl::FailedPreconditionError(common::Cat(
      location, ": store schema version ", version, ", this Accord writes ", kPgSchemaVersion,
      "; run 'accord migrate' (with every frontend of this store stopped or upgraded)"));
}

// Creates the latest schema in an empty database (REQUIRES: in a WriteTxn).
absl::Status CreateSchema(PgConn* c) {
  ACCORD_RETURN_IF_ERROR(c->Exec(kPgSchema1, "create the schema"));
  ACCORD_RETURN_IF_ERROR(c->Exec(kPgAuthSchema, "create the auth schema"));
  for (const PgMigration& m : kPgMigrations) {
    ACCORD_RETURN_IF_ERROR(c->Exec(m.sql, common::Cat("create the schema (", m.to, ")")));
  }
  return c
      ->Run("INSERT INTO accord_meta VALUES (1, $1, 0, 0)", PgParams().Num(kPgSchemaVersion),
            "record the schema version")
      .status();
}

// The advisory lock every writing transaction takes (an arbitrary constant: "accord" in
// ASCII), and the one that serialises schema creation between frontends starting together.
constexpr const char* kWriteLock = "SELECT pg_advisory_xact_lock(97999111114100)";
constexpr const char* kPgBumpGeneration =
    "UPDATE accord_meta SET generation = generation + 1 WHERE one = 1";
// With kPgBumpGeneration, when the write changed an indicator (IndicatorGeneration).
constexpr const char* kPgBumpIndicatorGeneration =
    "UPDATE accord_meta SET indicator_generation = indicator_generation + 1 WHERE one = 1";

constexpr const char* kPgObjCols =
    "o.id, o.type, o.spec_version, o.modified, o.has_modified, o.revoked, o.json, o.vid";
constexpr int kPgDateCol = 8;  // the column after kPgObjCols

StoredObject RowToObject(const PgRows& r, int i) {
  StoredObject o;
  o.id = std::string(r.text(i, 0));
  o.type = std::string(r.text(i, 1));
  o.spec_version = std::string(r.text(i, 2));
  o.modified = r.num(i, 3);
  o.has_modified = r.flag(i, 4);
  o.revoked = r.flag(i, 5);
  o.json = std::string(r.text(i, 6));
  o.date_added = r.num(i, kPgDateCol);
  return o;
}

CollectionInfo RowToCollection(const PgRows& r, int i) {
  CollectionInfo c;
  c.id = std::string(r.text(i, 0));
  c.alias = std::string(r.text(i, 1));
  c.title = std::string(r.text(i, 2));
  c.description = std::string(r.text(i, 3));
  c.is_public = r.flag(i, 4);
  return c;
}

// "($3,$4)" for `v`, added to `p`.
template <typename T>
std::string In(PgParams* p, const std::vector<T>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    common::Append(&s, i ? "," : "", p->Next());
    if constexpr (std::is_integral_v<T>) {
      p->Num(v[i]);
    } else {
      p->Text(v[i]);
    }
  }
  return s + ")";
}

std::string One(PgParams* p, int64_t v) {
  std::string s = p->Next();
  p->Num(v);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connections and transactions

PgStore::Lease::~Lease() {
  if (!c_) return;
  if (!c_->healthy()) return;  // a broken connection is not returned
  std::lock_guard<std::mutex> l(s_->pool_mu_);
  if (s_->pool_.size() < 16) s_->pool_.push_back(std::move(c_));
}

absl::Status PgStore::Lease::Open() {
  {
    std::lock_guard<std::mutex> l(s_->pool_mu_);
    if (!s_->pool_.empty()) {
      c_ = std::move(s_->pool_.back());
      s_->pool_.pop_back();
      return absl::OkStatus();
    }
  }
  ACCORD_ASSIGN_OR_RETURN(c_, PgConn::Connect(s_->options_.url));
  return absl::OkStatus();
}

absl::Status PgStore::CheckWritable() const {
  if (options_.read_only) return absl::FailedPreconditionError("store opened read-only");
  return absl::OkStatus();
}

absl::Status PgStore::WriteTxn::Begin() {
  ACCORD_RETURN_IF_ERROR(s_->CheckWritable());
  lock_ = std::unique_lock<std::mutex>(s_->write_mu_);
  ACCORD_RETURN_IF_ERROR(lease_.Open());
  ACCORD_RETURN_IF_ERROR(lease_->Exec("BEGIN", "begin a write"));
  open_ = true;
  return lease_->Run(kWriteLock, "take the store's write lock").status();
}

absl::Status PgStore::WriteTxn::Commit() {
  open_ = false;
  return lease_->Exec("COMMIT", "commit");
}

PgStore::WriteTxn::~WriteTxn() {
  if (open_ && lease_.get() != nullptr) (void)lease_->Exec("ROLLBACK", "roll back");
}

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::OpenAt(const Options& options) {
  // The data directory still holds what is the node's own (its keys, its audit log).
  if (options.create && !options.dir.empty()) ACCORD_RETURN_IF_ERROR(MakeDataDir(options.dir));
  std::unique_ptr<PgStore> s(new PgStore(options));
  if (options.allow_old_schema) {
    // For Schema() and Migrate(): nothing is checked or changed but that the server answers.
    Lease c(s.get());
    ACCORD_RETURN_IF_ERROR(c.Open());
  } else if (!options.read_only) {
    ACCORD_RETURN_IF_ERROR(s->ApplySchema());
  } else {
    Lease c(s.get());
    ACCORD_RETURN_IF_ERROR(c.Open());
    ACCORD_ASSIGN_OR_RETURN(int64_t version, RecordedVersion(c.get()));
    if (version != kPgSchemaVersion) return VersionError(s->location_, version);
  }
  return s;
}

PgStore::PgStore(Options options)
    : options_(std::move(options)), location_(PgLocation(options_.url)) {}

PgStore::~PgStore() = default;

absl::Status PgStore::ApplySchema() {
  WriteTxn t(this);
  // The advisory lock is taken before the tables exist: frontends starting together create
  // them one at a time.
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(int64_t version, RecordedVersion(t.conn()));
  if (version == 0) {
    ACCORD_RETURN_IF_ERROR(CreateSchema(t.conn()));
  } else if (version != kPgSchemaVersion) {
    return VersionError(location_, version);
  }
  if (options_.create_default_collection) {
    ACCORD_RETURN_IF_ERROR(CollectionRowId(t.conn(), "default", true).status());
  }
  return t.Commit();
}

absl::StatusOr<SchemaState> PgStore::Schema() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  SchemaState st;
  ACCORD_ASSIGN_OR_RETURN(st.current, RecordedVersion(c.get()));
  st.latest = kPgSchemaVersion;
  st.location = location_;
  return st;
}

absl::StatusOr<SchemaState> PgStore::Migrate() {
  {
    // The lock of ApplySchema: no frontend creates the schema, nor writes, meanwhile.
    WriteTxn t(this);
    ACCORD_RETURN_IF_ERROR(t.Begin());
    PgConn* c = t.conn();
    ACCORD_ASSIGN_OR_RETURN(int64_t version, RecordedVersion(c));
    if (version > kPgSchemaVersion) return VersionError(location_, version);
    if (version == kPgSchemaVersion) return SchemaState{version, kPgSchemaVersion, location_};
    if (version == 0) {
      ACCORD_RETURN_IF_ERROR(CreateSchema(c));
      if (options_.create_default_collection) {
        ACCORD_RETURN_IF_ERROR(CollectionRowId(c, "default", true).status());
      }
    } else {
      for (const PgMigration& m : kPgMigrations) {
        if (m.to <= version) continue;
        ACCORD_RETURN_IF_ERROR(
            c->Exec(m.sql, common::Cat("migrate the schema from ", m.to - 1, " to ", m.to)));
      }
      ACCORD_RETURN_IF_ERROR(c->Run("UPDATE accord_meta SET schema_version = $1 WHERE one = 1",
                                    PgParams().Num(kPgSchemaVersion), "record the schema version")
                                 .status());
    }
    ACCORD_RETURN_IF_ERROR(t.Commit());
  }
  return Schema();
}

absl::StatusOr<int64_t> PgStore::CollectionRowId(PgConn* c, const std::string& id_or_alias,
                                                 bool create) {
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT cid FROM collections WHERE id = $1 OR alias = $1",
                                 PgParams().Text(id_or_alias), "find collection"));
  if (r.size() > 0) return r.num(0, 0);
  if (!create) return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  bool is_uuid = common::IsUuid(id_or_alias);
  PgParams p;
  p.Text(is_uuid ? id_or_alias : common::NewUuid4());
  if (is_uuid) {
    p.Null();
  } else {
    p.Text(id_or_alias);
  }
  p.Text(id_or_alias);
  ACCORD_ASSIGN_OR_RETURN(
      PgRows made,
      c->Run("INSERT INTO collections(id, alias, title) VALUES($1, $2, $3) RETURNING cid", p,
             "create collection"));
  ACCORD_RETURN_IF_ERROR(c->Run(kPgBumpGeneration, "bump the generation").status());
  return made.num(0, 0);
}

// ---------------------------------------------------------------------------------------------
// Import

class PgImportTxn final : public ImportTxn {
 public:
  explicit PgImportTxn(PgStore* s) : s_(s), txn_(s) {}

  absl::Status Start(const std::string& collection) {
    ACCORD_RETURN_IF_ERROR(txn_.Begin());
    PgConn* c = txn_.conn();
    ACCORD_ASSIGN_OR_RETURN(cid_, s_->CollectionRowId(c, collection, true));
    ACCORD_ASSIGN_OR_RETURN(
        PgRows r, c->Run("SELECT last_added FROM accord_meta WHERE one = 1", "read date_added"));
    if (r.size() != 1)
      return absl::DataLossError("the PostgreSQL store's accord_meta row is missing");
    last_added_ = r.num(0, 0);
    result_.added_after = last_added_;
    return absl::OkStatus();
  }

  // PERF: records are written in batches of kBatch, a handful of statements each (arrays
  // through unnest) instead of three or four round trips per record: 100k indicators took 33 s
  // one by one. With SetRefuseConflicts each record is written at once, so that Add itself
  // reports the conflict (all or nothing).
  static constexpr size_t kBatch = 500;

  absl::Status Add(const stix::ObjectRecord& r) override {
    // Conservative, as in SQLite: an indicator in a transaction that changed anything moves
    // IndicatorGeneration.
    indicators_ |= IsIndicatorId(r.id);
    Pending p;
    p.id = r.id;
    p.modified = r.modified;
    p.type = r.type;
    p.spec_version = r.spec_version;
    p.has_modified = r.has_modified;
    p.revoked = r.revoked;
    p.valid_from = r.valid_from;
    p.valid_until = r.valid_until;
    p.json = r.json;
    p.json_hash = r.prepared ? r.prepared->content_hash : ContentHash(r.json);
    if (r.prepared) {
      p.keys = r.prepared->term_keys;
      p.text = r.prepared->text;
    } else {
      TermKeysOf(s_->deriver(), r, &p.keys);
      ACCORD_RETURN_IF_ERROR(PgTextOf(r, &p.text));
    }
    p.index = adds_++;
    p.date_added = NextAdded();
    pending_.push_back(std::move(p));
    if (refuse_conflicts_ || pending_.size() >= kBatch) return Flush();
    return absl::OkStatus();
  }

  absl::StatusOr<ImportResult> Commit() override {
    ACCORD_RETURN_IF_ERROR(Flush());
    PgConn* c = txn_.conn();
    // As in SQLite: the generation moves only when a row did (a quarantined copy included; a
    // collection created here moved it already).
    if (changed_ || quarantined_) {
      ACCORD_RETURN_IF_ERROR(c->Run(kPgBumpGeneration, "bump the generation").status());
      if (indicators_) {
        ACCORD_RETURN_IF_ERROR(
            c->Run(kPgBumpIndicatorGeneration, "bump the indicator generation").status());
      }
    }
    for (const auto& [key, value] : settings_) {
      ACCORD_RETURN_IF_ERROR(c->Run("INSERT INTO settings(key, value) VALUES($1, $2) "
                                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                    PgParams().Text(key).Text(value),
                                    common::Cat("put setting '", key, "'"))
                                 .status());
    }
    ACCORD_RETURN_IF_ERROR(c->Run("UPDATE accord_meta SET last_added = $1 WHERE one = 1",
                                  PgParams().Num(last_added_), "store date_added")
                               .status());
    ACCORD_RETURN_IF_ERROR(txn_.Commit());
    // Fresh statistics after a write that grew the tables by a tenth or more (autovacuum's
    // own threshold), now rather than at autovacuum's next round, up to a minute later: until
    // then the planner takes the tables for nearly empty, and reading 10,000 indicators just
    // imported took 15.7 s instead of 0.2 s (bench/scale/match.sh). Best effort: the write
    // is committed either way.
    if (result_.added >= kAnalyzeMinRows) {
      absl::StatusOr<PgRows> n = c->Run(
          "SELECT reltuples::bigint FROM pg_class WHERE oid = 'objects'::regclass", "table size");
      if (n.ok() && n->size() == 1 &&
          (n->num(0, 0) < 0 || static_cast<double>(result_.added) * 10 >= n->num(0, 0))) {
        (void)c->Exec("ANALYZE objects, membership, value_keys, object_text", "analyze");
      }
    }
    return result_;
  }
  static constexpr uint64_t kAnalyzeMinRows = 1000;

  void SetWriter(std::string_view writer) override { writer_ = std::string(writer); }
  void SetRefuseConflicts(bool refuse) override { refuse_conflicts_ = refuse; }
  absl::Status PutSetting(const std::string& key, const std::string& value) override {
    settings_.emplace_back(key, value);
    return absl::OkStatus();
  }
  PgConn* conn() const { return txn_.conn(); }
  void MarkQuarantined() { quarantined_ = true; }

 private:
  int64_t NextAdded() {
    if ((counter_++ & 1023) == 0) clock_ = common::NowMicros();
    last_added_ = std::max(clock_, last_added_ + 1);
    return last_added_;
  }

  // A record Added and not written yet.
  struct Pending {
    std::string id, type, spec_version, json;
    int64_t modified = 0, json_hash = 0, date_added = 0;
    bool has_modified = false, revoked = false;
    std::optional<int64_t> valid_from, valid_until;
    std::vector<int64_t> keys;
    std::string text;    // PgTextOf
    uint64_t index = 0;  // among the transaction's Adds
  };

  // Writes pending_: finds which versions are stored, inserts the new ones with their
  // value-index keys, links new and duplicate versions into the collection, and refuses (and
  // quarantines) conflicting copies, with the SQLite backend's rules and counts.
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    PgConn* c = txn_.conn();
    // The versions stored already.
    PgArray ids, mods;
    for (const Pending& p : pending_) {
      ids.Text(p.id);
      mods.Num(p.modified);
    }
    ACCORD_ASSIGN_OR_RETURN(
        PgRows found,
        c->Run("SELECT o.id, o.modified, o.vid, o.json_hash, o.json FROM objects o JOIN "
               "unnest($1::text[], $2::bigint[]) AS k(id, modified) ON o.id = k.id AND "
               "o.modified = k.modified",
               PgParams().Array(ids).Array(mods), "find stored versions"));
    // (id, modified) -> the version: stored (vid) or new in this batch (new_slot).
    struct Known {
      int64_t vid = -1;
      size_t new_slot = 0;
      int64_t json_hash = 0;
      std::string_view json;
    };
    std::map<std::pair<std::string_view, int64_t>, Known> known;
    for (int i = 0; i < found.size(); ++i) {
      known[{found.text(i, 0), found.num(i, 1)}] =
          Known{found.num(i, 2), 0, found.num(i, 3), found.text(i, 4)};
    }
    std::vector<size_t> inserts;                   // pending_ indexes of new versions
    std::vector<std::pair<size_t, Known*>> links;  // records to link, and their version
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      auto [it, fresh] = known.try_emplace({p.id, p.modified});
      Known& k = it->second;
      if (fresh) {
        k = Known{-1, inserts.size(), p.json_hash, p.json};
        inserts.push_back(i);
        ++result_.added;
        changed_ = true;
      } else if ((k.json_hash != p.json_hash || k.json != p.json) &&
                 !stix::SameJson(k.json, p.json)) {
        // Equal fingerprints are confirmed on the bytes (see sqlite_store.cc).
        stix::ObjectRecord r;
        r.id = p.id;
        r.modified = p.modified;
        if (refuse_conflicts_) return RefusedConflict(r);
        NoteConflict(r, p.index, &result_);
        ACCORD_ASSIGN_OR_RETURN(bool kept, s_->QuarantineCopy(c, p.id, p.modified, cid_, writer_,
                                                              p.json, p.json_hash, ""));
        quarantined_ = quarantined_ || kept;
        continue;
      } else {
        ++result_.duplicates;
      }
      links.emplace_back(i, &k);
    }
    std::vector<int64_t> new_vids(inserts.size(), -1);
    if (!inserts.empty()) {
      PgArray id, mod, type, spec, has_mod, rev, from, until, added, hash, json;
      for (size_t i : inserts) {
        const Pending& p = pending_[i];
        id.Text(p.id);
        mod.Num(p.modified);
        type.Text(p.type);
        spec.Text(p.spec_version);
        has_mod.Flag(p.has_modified);
        rev.Flag(p.revoked);
        from.Opt(p.valid_from);
        until.Opt(p.valid_until);
        added.Num(p.date_added);
        hash.Num(p.json_hash);
        json.Text(p.json);
      }
      ACCORD_ASSIGN_OR_RETURN(
          PgRows made,
          c->Run("INSERT INTO objects(id, modified, type, spec_version, has_modified, revoked, "
                 "valid_from, valid_until, first_added, json_hash, json) SELECT * FROM "
                 "unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::boolean[], "
                 "$6::boolean[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "
                 "$11::text[]) RETURNING vid, first_added",
                 PgParams()
                     .Array(id)
                     .Array(mod)
                     .Array(type)
                     .Array(spec)
                     .Array(has_mod)
                     .Array(rev)
                     .Array(from)
                     .Array(until)
                     .Array(added)
                     .Array(hash)
                     .Array(json),
                 "store versions"));
      // first_added (this batch's date_added values, distinct) names each returned row.
      std::map<int64_t, int64_t> vid_of;
      for (int i = 0; i < made.size(); ++i) vid_of[made.num(i, 1)] = made.num(i, 0);
      PgIndexRows index;  // the value index and the full-text index
      for (size_t slot = 0; slot < inserts.size(); ++slot) {
        const Pending& p = pending_[inserts[slot]];
        auto v = vid_of.find(p.date_added);
        if (v == vid_of.end()) return absl::InternalError("store versions: a row went missing");
        new_vids[slot] = v->second;
        index.Add(v->second, p.keys, p.text);
      }
      ACCORD_RETURN_IF_ERROR(index.Write(c));
    }
    if (!links.empty()) {
      PgArray dates, vids;
      std::map<int64_t, size_t> record_at;  // date_added -> pending_ index
      for (const auto& [i, k] : links) {
        dates.Num(pending_[i].date_added);
        vids.Num(k->vid >= 0 ? k->vid : new_vids[k->new_slot]);
        record_at[pending_[i].date_added] = i;
      }
      // Only an existing (version, collection) pair is no change; a date_added drawn twice is
      // an error, never a membership silently dropped.
      ACCORD_ASSIGN_OR_RETURN(
          PgRows linked,
          c->Run("INSERT INTO membership(cid, date_added, vid) SELECT $1, d, v FROM "
                 "unnest($2::bigint[], $3::bigint[]) AS t(d, v) ON CONFLICT (vid, cid) DO "
                 "NOTHING RETURNING date_added",
                 PgParams().Num(cid_).Array(dates).Array(vids), "link versions"));
      std::vector<int64_t> new_dates;
      new_dates.reserve(static_cast<size_t>(linked.size()));
      for (int i = 0; i < linked.size(); ++i) new_dates.push_back(linked.num(i, 0));
      std::sort(new_dates.begin(), new_dates.end());  // the order they were added in
      for (int64_t d : new_dates) {
        const Pending& p = pending_[record_at[d]];
        changed_ = true;
        ++result_.memberships;
        if (result_.written.size() < ImportResult::kMaxListedWritten) {
          result_.written.emplace_back(p.id, p.modified);
        }
        result_.added_last = d;
      }
    }
    pending_.clear();
    return absl::OkStatus();
  }

  PgStore* s_;
  PgStore::WriteTxn txn_;
  int64_t cid_ = 0;
  int64_t last_added_ = 0, clock_ = 0;
  uint64_t counter_ = 0, adds_ = 0;
  bool changed_ = false, quarantined_ = false;
  bool indicators_ = false;  // an indicator was Added
  bool refuse_conflicts_ = false;
  std::string writer_ = "import";
  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<Pending> pending_;
  ImportResult result_;
};

void PgStore::PrepareWrite(stix::ObjectRecord* r) const {
  stix::ObjectRecord::Prepared p;
  p.content_hash = ContentHash(r->json);
  p.id_hash = IdHash(r->id);
  TermKeysOf(options_.derive_terms, *r, &p.term_keys);
  if (!PgTextOf(*r, &p.text).ok()) return;  // Add tries again, and reports the failure
  r->prepared = std::move(p);
  // What they were read for is in `prepared`: the queue to the writer holds less.
  r->index_text.reset();
  r->index_terms = {};
}

absl::StatusOr<std::unique_ptr<ImportTxn>> PgStore::BeginImport(const std::string& collection) {
  auto t = std::make_unique<PgImportTxn>(this);
  ACCORD_RETURN_IF_ERROR(t->Start(collection));
  return std::unique_ptr<ImportTxn>(std::move(t));
}

// ---------------------------------------------------------------------------------------------
// Reads

absl::StatusOr<std::vector<StoredObject>> PgStore::Get(const std::string& id,
                                                       VersionSelect versions) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  std::string sql = common::Cat("SELECT ", kPgObjCols,
                                ", o.first_added FROM objects o WHERE o.id = $1 ORDER BY "
                                "o.modified");
  if (versions == VersionSelect::kFirst) sql += " LIMIT 1";
  if (versions == VersionSelect::kLast) sql += " DESC LIMIT 1";
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run(sql, PgParams().Text(id), "get"));
  if (r.size() == 0) return absl::NotFoundError(common::Cat("no object '", id, "'"));
  std::vector<StoredObject> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToObject(r, i));
  return out;
}

// PERF: a page of a large collection is read in windows of the collection's memberships in
// date_added order (store-wide: of versions in vid order), each an index range of the primary
// key, with the filters evaluated on the window's rows only: one query over the whole
// collection with a LIMIT lets PostgreSQL's planner join and sort everything first (100k
// indicators: a hash join of all of them per page, and minutes before statistics existed).
// A window starts at limit + 1 rows and doubles while filters leave the page short. Without a
// limit, or given ids (found through the (id, modified) index), one query does it.
absl::StatusOr<Page> PgStore::List(const Query& query) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  PgParams p;
  const bool by_collection = query.collection.has_value();
  const char kind = by_collection ? 'c' : 'v';
  const bool windowed = query.limit > 0 && query.ids.empty();
  int64_t cid = 0;
  if (by_collection) {
    ACCORD_ASSIGN_OR_RETURN(cid, CollectionRowId(c.get(), *query.collection, false));
  }
  int64_t lo = 0;  // keys above this: the cursor, and added_after within a collection
  if (!query.cursor.empty()) {
    ACCORD_ASSIGN_OR_RETURN(lo, DecodeCursor(query.cursor, kind));
  }
  if (by_collection && query.added_after) lo = std::max(lo, *query.added_after);
  // The source rows: $1 the lower key, $2 the window's size (windowed), $3 the collection.
  p.Num(lo).Num(0);
  if (by_collection) p.Num(cid);
  std::string source;
  if (windowed && by_collection) {
    source =
        "(SELECT date_added, vid, cid FROM membership WHERE cid = $3 AND date_added > $1 ORDER BY "
        "date_added LIMIT $2) m JOIN objects o ON o.vid = m.vid WHERE true";
  } else if (windowed) {
    source = "(SELECT * FROM objects WHERE vid > $1 ORDER BY vid LIMIT $2) o WHERE true";
  } else if (by_collection) {
    source =
        "membership m JOIN objects o ON o.vid = m.vid WHERE m.cid = $3 AND m.date_added > $1 AND "
        "$2::bigint >= 0";
  } else {
    source = "objects o WHERE o.vid > $1 AND $2::bigint >= 0";
  }
  const std::string key_col = by_collection ? "m.date_added" : "o.vid";
  const std::string scope =
      by_collection ? "FROM membership m2 JOIN objects o2 ON o2.vid = m2.vid WHERE m2.cid = m.cid "
                      "AND o2.id = o.id"
                    : "FROM objects o2 WHERE o2.id = o.id";
  std::string filter = "true";
  if (!query.ids.empty()) common::Append(&filter, " AND o.id IN ", In(&p, query.ids));
  if (!query.types.empty()) common::Append(&filter, " AND o.type IN ", In(&p, query.types));
  if (!query.spec_versions.empty()) {
    common::Append(&filter, " AND o.spec_version IN ", In(&p, query.spec_versions));
  }
  if (!query.version_times.empty()) {
    common::Append(&filter, " AND o.modified IN ", In(&p, query.version_times));
  } else if (query.versions == VersionSelect::kLast) {
    common::Append(&filter, " AND o.modified = (SELECT max(o2.modified) ", scope, ")");
  } else if (query.versions == VersionSelect::kFirst) {
    common::Append(&filter, " AND o.modified = (SELECT min(o2.modified) ", scope, ")");
  }
  if (!query.include_revoked && by_collection) {
    // Only a revocation in this collection counts (issue 10).
    common::Append(&filter,
                   " AND NOT EXISTS (SELECT 1 FROM objects rv JOIN membership m3 ON m3.vid = "
                   "rv.vid AND m3.cid = m.cid WHERE rv.id = o.id AND rv.revoked)");
  } else if (!query.include_revoked) {
    common::Append(&filter,
                   " AND NOT EXISTS (SELECT 1 FROM objects rv WHERE rv.id = o.id AND "
                   "rv.revoked)");
  }
  if (query.added_after && !by_collection) {
    common::Append(&filter, " AND o.first_added > ", One(&p, *query.added_after));
  }
  // Windowed, every row of the source comes back (its key says where the window ended), with its
  // JSON only where the filters hold: a NULL JSON marks a row left out.
  std::string sql = common::Cat(
      "SELECT o.id, o.type, o.spec_version, o.modified, o.has_modified, o.revoked, ",
      windowed ? common::Cat("CASE WHEN ", filter, " THEN o.json END") : std::string("o.json"),
      ", o.vid, ", key_col, " FROM ", source, windowed ? "" : common::Cat(" AND ", filter),
      " ORDER BY ", key_col);
  Page page;
  int64_t last_key = 0;
  int64_t window = static_cast<int64_t>(query.limit) + 1;
  while (true) {
    PgParams run = p;
    run.SetNum(0, lo).SetNum(1, window);
    ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run(sql, run, "list"));
    for (int i = 0; i < r.size(); ++i) {
      lo = r.num(i, kPgDateCol);
      if (r.null(i, 6)) continue;  // left out by the filters
      if (query.limit > 0 && page.objects.size() == query.limit) {
        page.more = true;
        break;
      }
      page.objects.push_back(RowToObject(r, i));
      last_key = lo;
    }
    if (page.more || !windowed || r.size() < window) break;
    window = std::min<int64_t>(window * 2, 20000);
  }
  if (page.more) page.next = EncodeCursor(kind, last_key);
  return page;
}

namespace {
// A hit of `term`, from row `i` of (o.id, o.type, o.modified, o.revoked).
TermHit HitOf(std::string term, const PgRows& r, int i) {
  TermHit h;
  h.term = std::move(term);
  h.id = std::string(r.text(i, 0));
  h.type = std::string(r.text(i, 1));
  h.modified = r.num(i, 2);
  h.revoked = r.flag(i, 3);
  return h;
}
}  // namespace

absl::StatusOr<std::vector<TermHit>> PgStore::FindTerms(const std::vector<std::string>& terms,
                                                        uint64_t limit) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  std::vector<TermHit> out;
  for (const auto& term : terms) {
    ACCORD_ASSIGN_OR_RETURN(
        PgRows r, c->Run("SELECT o.id, o.type, o.modified, o.revoked FROM value_keys t JOIN "
                         "objects o ON o.vid = t.vid WHERE t.key = $1 ORDER BY t.vid LIMIT $2",
                         PgParams().Num(TermKey(term)).Num(static_cast<int64_t>(limit)),
                         "read the value index"));
    for (int i = 0; i < r.size(); ++i) out.push_back(HitOf(term, r, i));
  }
  return out;
}

absl::StatusOr<std::vector<TermHit>> PgStore::FindTermRange(const std::string& lo,
                                                            const std::string& hi, uint64_t limit) {
  const int64_t lo_key = TermKey(lo), hi_key = TermKey(hi);
  if (RangeTermOfKey(lo_key).empty() || RangeTermOfKey(hi_key).empty()) {
    return absl::InvalidArgumentError(common::Cat(
        "the value index has ranges of \"ipv4n:\" terms only, not [", lo, ", ", hi, "]"));
  }
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT o.id, o.type, o.modified, o.revoked, t.key FROM value_keys t JOIN "
                       "objects o ON o.vid = t.vid WHERE t.key >= $1 AND t.key <= $2 ORDER BY "
                       "t.key, t.vid LIMIT $3",
                       PgParams().Num(lo_key).Num(hi_key).Num(static_cast<int64_t>(limit)),
                       "read the value index"));
  std::vector<TermHit> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(HitOf(RangeTermOfKey(r.num(i, 4)), r, i));
  return out;
}

// Retention, with the SQLite backend's rules (sqlite_store.cc): an indicator goes whole once
// even its newest version has expired; sightings, quarantined copies and match records by age. One
// transaction; then a VACUUM of the tables, so that the space of the deleted rows (their JSON,
// in TOAST) is marked free. PostgreSQL overwrites it as it reuses it; `VACUUM FULL` rewrites
// the tables at once (docs/SCALE_OUT.md).
absl::StatusOr<PurgeReport> PgStore::Purge(const PurgeRules& rules, bool dry_run) {
  WriteTxn t(this);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  PgConn* c = t.conn();
  PurgeReport report;
  PgArray vids, qids;
  auto collect = [&](const char* kind, const std::string& sql, Micros cutoff,
                     PgArray* keys) -> absl::Status {
    if (cutoff == 0) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run(sql, PgParams().Num(cutoff), "list what to purge"));
    for (int i = 0; i < r.size(); ++i) {
      PurgeItem it;
      it.kind = kind;
      it.id = std::string(r.text(i, 1));
      it.modified = r.num(i, 2);
      it.bytes = r.num(i, 3);
      if (it.kind == "quarantine") it.qid = r.num(i, 0);
      keys->Num(r.num(i, 0));
      report.bytes += it.bytes;
      report.items.push_back(std::move(it));
    }
    return absl::OkStatus();
  };
  ACCORD_RETURN_IF_ERROR(collect(
      "indicator",
      "SELECT o.vid, o.id, o.modified, octet_length(o.json) FROM objects o WHERE o.type = "
      "'indicator' AND NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND (n.valid_until "
      "IS NULL OR n.valid_until >= $1)) ORDER BY o.vid",
      rules.indicators_expired_before, &vids));
  ACCORD_RETURN_IF_ERROR(collect("sighting",
                                 "SELECT vid, id, modified, octet_length(json) FROM objects WHERE "
                                 "type = 'sighting' AND modified < $1 ORDER BY vid",
                                 rules.sightings_before, &vids));
  ACCORD_RETURN_IF_ERROR(collect("quarantine",
                                 "SELECT qid, id, modified, octet_length(json) FROM quarantine "
                                 "WHERE received < $1 ORDER BY qid",
                                 rules.quarantine_before, &qids));
  // Match-ledger records are counted, not listed. PERF: a scan of the ledger, which has no
  // index by time (every recording would pay for one; a purge runs once a day).
  constexpr const char* kOldMatches = " FROM match_records WHERE time < $1 AND recorded < $1";
  if (rules.matches_before != 0) {
    ACCORD_ASSIGN_OR_RETURN(
        PgRows r, c->Run(common::Cat("SELECT count(*)", kOldMatches),
                         PgParams().Num(rules.matches_before), "count match records to purge"));
    if (r.size() == 1) report.match_records = static_cast<uint64_t>(r.num(0, 0));
  }
  if (dry_run || (report.items.empty() && report.match_records == 0)) return report;  // rolled back
  if (!vids.empty()) {
    // The versions' value-index rows go with them (ON DELETE CASCADE).
    for (const char* sql : {"DELETE FROM membership WHERE vid = ANY($1::bigint[])",
                            "DELETE FROM objects WHERE vid = ANY($1::bigint[])"}) {
      ACCORD_RETURN_IF_ERROR(c->Run(sql, PgParams().Array(vids), "purge versions").status());
    }
  }
  if (!qids.empty()) {
    ACCORD_RETURN_IF_ERROR(c->Run("DELETE FROM quarantine WHERE qid = ANY($1::bigint[])",
                                  PgParams().Array(qids), "purge quarantined copies")
                               .status());
  }
  if (report.match_records > 0) {
    ACCORD_RETURN_IF_ERROR(c->Run(common::Cat("DELETE", kOldMatches),
                                  PgParams().Num(rules.matches_before), "purge match records")
                               .status());
  }
  // The ledger is not an object write (MatchLedger): it alone leaves the generation.
  if (!report.items.empty()) {
    ACCORD_RETURN_IF_ERROR(c->Run(kPgBumpGeneration, "bump the generation").status());
  }
  if (std::any_of(report.items.begin(), report.items.end(), [](const PurgeItem& i) {
        return i.kind != "quarantine" && IsIndicatorId(i.id);
      })) {
    ACCORD_RETURN_IF_ERROR(
        c->Run(kPgBumpIndicatorGeneration, "bump the indicator generation").status());
  }
  ACCORD_RETURN_IF_ERROR(t.Commit());
  // Outside the transaction (VACUUM cannot run in one); the rows are gone either way. The
  // full-text index lost the purged versions' words too (ON DELETE CASCADE).
  (void)c->Exec("VACUUM object_text", "vacuum");
  (void)c->Exec(report.match_records > 0
                    ? "VACUUM objects, membership, value_keys, quarantine, match_records"
                    : "VACUUM objects, membership, value_keys, quarantine",
                "vacuum");
  return report;
}

absl::StatusOr<uint64_t> PgStore::Delete(const std::string& collection, const std::string& id,
                                         const std::vector<Micros>& version_times) {
  WriteTxn t(this);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(t.conn(), collection, false));
  PgParams p;
  // (One parameter per Cat: the order in which arguments are evaluated is unspecified.)
  std::string sql = common::Cat("DELETE FROM membership WHERE cid = ", One(&p, cid));
  common::Append(&sql, " AND vid IN (SELECT vid FROM objects WHERE id = ", p.Next());
  p.Text(id);
  if (!version_times.empty()) common::Append(&sql, " AND modified IN ", In(&p, version_times));
  sql += ")";
  ACCORD_ASSIGN_OR_RETURN(PgRows r, t.conn()->Run(sql, p, "delete"));
  uint64_t n = r.changed();
  if (n > 0)
    ACCORD_RETURN_IF_ERROR(t.conn()->Run(kPgBumpGeneration, "bump the generation").status());
  if (n > 0 && IsIndicatorId(id)) {
    ACCORD_RETURN_IF_ERROR(
        t.conn()->Run(kPgBumpIndicatorGeneration, "bump the indicator generation").status());
  }
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return n;
}

absl::StatusOr<CollectionInfo> PgStore::CreateCollection(const CollectionInfo& info) {
  std::string id = info.id.empty() ? common::NewUuid4() : info.id;
  if (!common::IsUuid(id)) {
    return absl::InvalidArgumentError(common::Cat("collection id '", id, "' is not a UUID"));
  }
  {
    WriteTxn t(this);
    ACCORD_RETURN_IF_ERROR(t.Begin());
    PgParams p;
    p.Text(id);
    if (info.alias.empty()) {
      p.Null();
    } else {
      p.Text(info.alias);
    }
    p.Text(info.title.empty() ? (info.alias.empty() ? id : info.alias) : info.title);
    p.Text(info.description).Flag(info.is_public);
    absl::Status made = t.conn()
                            ->Run(
                                "INSERT INTO collections(id, alias, title, description, "
                                "is_public) VALUES($1, $2, $3, $4, $5)",
                                p, "create collection")
                            .status();
    if (made.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(
          common::Cat("a collection '", info.alias.empty() ? id : info.alias, "' already exists"));
    }
    ACCORD_RETURN_IF_ERROR(made);
    ACCORD_RETURN_IF_ERROR(t.conn()->Run(kPgBumpGeneration, "bump the generation").status());
    ACCORD_RETURN_IF_ERROR(t.Commit());
  }
  return GetCollection(id);
}

absl::StatusOr<std::vector<CollectionInfo>> PgStore::ListCollections() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT id, coalesce(alias, ''), title, description, "
                                           "is_public FROM collections ORDER BY cid",
                                           "list collections"));
  std::vector<CollectionInfo> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToCollection(r, i));
  return out;
}

absl::StatusOr<uint64_t> PgStore::CountMembers(const std::string& id_or_alias) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT (SELECT count(*) FROM membership m WHERE m.cid = c.cid) FROM "
                       "collections c WHERE c.id = $1 OR c.alias = $1",
                       PgParams().Text(id_or_alias), "count members"));
  if (r.size() == 0) return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  return static_cast<uint64_t>(r.num(0, 0));
}

absl::StatusOr<CollectionInfo> PgStore::GetCollection(const std::string& id_or_alias) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT id, coalesce(alias, ''), title, description, "
                                           "is_public FROM collections WHERE id = $1 OR alias = $1",
                                           PgParams().Text(id_or_alias), "get collection"));
  if (r.size() == 0) return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  return RowToCollection(r, 0);
}

absl::StatusOr<Stats> PgStore::GetStats() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  Stats st;
  ACCORD_ASSIGN_OR_RETURN(PgRows a,
                          c->Run("SELECT count(*), count(DISTINCT id) FROM objects", "stats"));
  st.versions = static_cast<uint64_t>(a.num(0, 0));
  st.objects = static_cast<uint64_t>(a.num(0, 1));
  ACCORD_ASSIGN_OR_RETURN(
      PgRows t, c->Run("SELECT type, count(DISTINCT id) FROM objects GROUP BY type ORDER BY type",
                       "stats per type"));
  for (int i = 0; i < t.size(); ++i)
    st.per_type.emplace_back(std::string(t.text(i, 0)), t.num(i, 1));
  ACCORD_ASSIGN_OR_RETURN(
      PgRows k, c->Run("SELECT coalesce(c.alias, c.id), (SELECT count(*) FROM membership m WHERE "
                       "m.cid = c.cid) FROM collections c ORDER BY c.cid",
                       "stats per collection"));
  for (int i = 0; i < k.size(); ++i) {
    st.per_collection.emplace_back(std::string(k.text(i, 0)), k.num(i, 1));
  }
  return st;
}

absl::StatusOr<uint64_t> PgStore::IndicatorGeneration() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r,
      c->Run("SELECT indicator_generation FROM accord_meta WHERE one = 1", "indicator generation"));
  if (r.size() != 1)
    return absl::DataLossError("the PostgreSQL store's accord_meta row is missing");
  return static_cast<uint64_t>(r.num(0, 0));
}

absl::StatusOr<uint64_t> PgStore::Generation() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT generation FROM accord_meta WHERE one = 1", "generation"));
  if (r.size() != 1)
    return absl::DataLossError("the PostgreSQL store's accord_meta row is missing");
  return static_cast<uint64_t>(r.num(0, 0));
}

absl::StatusOr<std::optional<std::string>> PgStore::GetSetting(const std::string& key) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT value FROM settings WHERE key = $1", PgParams().Text(key),
                                 common::Cat("read setting '", key, "'")));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.text(0, 0)));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PgStore::ListSettings() {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT key, value FROM settings ORDER BY key", "list settings"));
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.emplace_back(std::string(r.text(i, 0)), std::string(r.text(i, 1)));
  }
  return out;
}

absl::Status PgStore::PutSetting(const std::string& key, const std::string& value) {
  if (options_.read_only) return absl::FailedPreconditionError("store opened read-only");
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  return c
      ->Run(
          "INSERT INTO settings(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET "
          "value = excluded.value",
          PgParams().Text(key).Text(value), common::Cat("put setting '", key, "'"))
      .status();
}

absl::StatusOr<std::string> PgStore::PutSettingIfAbsent(const std::string& key,
                                                        const std::string& value) {
  if (options_.read_only) return absl::FailedPreconditionError("store opened read-only");
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  // The first insert wins (the primary key); whoever lost reads the winner's value.
  ACCORD_RETURN_IF_ERROR(
      c->Run("INSERT INTO settings(key, value) VALUES($1, $2) ON CONFLICT(key) DO NOTHING",
             PgParams().Text(key).Text(value), common::Cat("put setting '", key, "'"))
          .status());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT value FROM settings WHERE key = $1",
                                           PgParams().Text(key), "read a setting"));
  if (r.size() != 1) return absl::InternalError(common::Cat("setting '", key, "' vanished"));
  return std::string(r.text(0, 0));
}

// ---------------------------------------------------------------------------------------------
// The match ledger (the SQLite backend's rules: sqlite_store.cc)

namespace {
// PERF: records per statement (arrays through unnest), as imports write versions.
constexpr size_t kMatchBatch = 1000;
}  // namespace

absl::StatusOr<std::vector<size_t>> PgMatchLedger::Record(const std::vector<MatchRecord>& records) {
  std::vector<size_t> fresh;
  if (records.empty()) return fresh;
  // The first occurrence of each pair in `records`: the only one sent.
  std::map<std::pair<std::string_view, std::string_view>, size_t> first;
  std::vector<size_t> sent;
  for (size_t i = 0; i < records.size(); ++i) {
    if (first.try_emplace({records[i].event, records[i].indicator}, i).second) sent.push_back(i);
  }
  PgStore::WriteTxn t(store_);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  PgConn* c = t.conn();
  // Drawn under the store's advisory lock, as date_added is: this transaction commits its
  // recording time before any later writer (on any frontend) draws one.
  ACCORD_ASSIGN_OR_RETURN(
      PgRows clock,
      c->Run("SELECT last_recorded FROM match_clock WHERE one = 1", "read the match clock"));
  if (clock.size() != 1) {
    return absl::DataLossError("the PostgreSQL store's match_clock row is missing");
  }
  const int64_t recorded = std::max(common::NowMicros(), clock.num(0, 0) + 1);
  for (size_t from = 0; from < sent.size(); from += kMatchBatch) {
    PgArray events, indicators, times;
    for (size_t k = from; k < std::min(sent.size(), from + kMatchBatch); ++k) {
      const MatchRecord& m = records[sent[k]];
      events.Text(m.event);
      indicators.Text(m.indicator);
      times.Num(m.time);
    }
    ACCORD_ASSIGN_OR_RETURN(
        PgRows made,
        c->Run("INSERT INTO match_records(event, indicator, time, recorded) SELECT e, i, t, "
               "$4::bigint FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(e, i, t) "
               "ON CONFLICT (event, indicator) DO NOTHING RETURNING event, indicator",
               PgParams().Array(events).Array(indicators).Array(times).Num(recorded),
               "record matches"));
    for (int r = 0; r < made.size(); ++r) {
      auto at = first.find({made.text(r, 0), made.text(r, 1)});
      if (at == first.end()) return absl::InternalError("record matches: a row went missing");
      fresh.push_back(at->second);
    }
  }
  std::sort(fresh.begin(), fresh.end());
  if (!fresh.empty()) {
    ACCORD_RETURN_IF_ERROR(c->Run("UPDATE match_clock SET last_recorded = $1 WHERE one = 1",
                                  PgParams().Num(recorded), "store the match clock")
                               .status());
  }
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return fresh;
}

absl::StatusOr<std::vector<MatchTally>> PgMatchLedger::Tally(
    Micros bucket_len, const std::vector<std::pair<std::string, Micros>>& keys) {
  if (bucket_len <= 0) {
    return absl::InvalidArgumentError(common::Cat("bucket length ", bucket_len, " is not > 0"));
  }
  std::vector<MatchTally> out;
  if (keys.empty()) return out;
  PgArray indicators, los, his;
  for (const auto& [indicator, bucket] : keys) {
    indicators.Text(indicator);
    los.Num(bucket);
    his.Num(BucketLast(bucket, bucket_len));
  }
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  // One statement: every key's tally from one snapshot; a key without records has no group.
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r,
      c->Run("SELECT k.n, count(*), min(m.time), max(m.time), min(m.recorded), max(m.recorded) "
             "FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS "
             "k(indicator, lo, hi, n) JOIN match_records m ON m.indicator = k.indicator AND "
             "m.time BETWEEN k.lo AND k.hi GROUP BY k.n ORDER BY k.n",
             PgParams().Array(indicators).Array(los).Array(his), "tally matches"));
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    const int64_t n = r.num(i, 0);
    if (n < 1 || static_cast<size_t>(n) > keys.size()) {
      return absl::InternalError("tally matches: a key out of range");
    }
    const auto& [indicator, bucket] = keys[static_cast<size_t>(n - 1)];
    out.push_back(MatchTally{indicator, bucket, static_cast<uint64_t>(r.num(i, 1)), r.num(i, 2),
                             r.num(i, 3), r.num(i, 4), r.num(i, 5)});
  }
  return out;
}

absl::StatusOr<uint64_t> PgMatchLedger::Count() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT count(*) FROM match_records", "count matches"));
  if (r.size() != 1) return absl::InternalError("count matches: no result");
  return static_cast<uint64_t>(r.num(0, 0));
}

absl::StatusOr<std::vector<RecordedMatch>> PgMatchLedger::Scan(const RecordedMatch* after,
                                                               uint64_t limit) {
  std::vector<RecordedMatch> out;
  if (limit == 0) return out;
  // PERF: by the primary key's index, one range read per page. Its order is the database's
  // collation, which Scan's contract leaves to the backend.
  PgParams p;
  p.Num(static_cast<int64_t>(std::min<uint64_t>(limit, INT64_MAX)));
  std::string sql = "SELECT event, indicator, time, recorded FROM match_records ";
  if (after != nullptr) {
    sql += "WHERE (event, indicator) > ($2, $3) ";
    p.Text(after->event).Text(after->indicator);
  }
  sql += "ORDER BY event, indicator LIMIT $1";
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run(sql, p, "scan matches"));
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.num(i, 2), r.num(i, 3)});
  }
  return out;
}

absl::Status PgMatchLedger::Restore(const std::vector<RecordedMatch>& records) {
  if (records.empty()) return absl::OkStatus();
  ACCORD_RETURN_IF_ERROR(CheckRestorable(records));
  PgStore::WriteTxn t(store_);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  PgConn* c = t.conn();
  int64_t last = 0;
  for (size_t from = 0; from < records.size(); from += kMatchBatch) {
    PgArray events, indicators, times, recorded;
    for (size_t k = from; k < std::min(records.size(), from + kMatchBatch); ++k) {
      const RecordedMatch& m = records[k];
      events.Text(m.event);
      indicators.Text(m.indicator);
      times.Num(m.time);
      recorded.Num(m.recorded);
      last = std::max(last, m.recorded);
    }
    // A pair in the ledger already violates the primary key: AlreadyExists (pg_util.h), and
    // the transaction rolls back.
    ACCORD_RETURN_IF_ERROR(
        c->Run("INSERT INTO match_records(event, indicator, time, recorded) SELECT * FROM "
               "unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])",
               PgParams().Array(events).Array(indicators).Array(times).Array(recorded),
               "restore matches")
            .status());
  }
  ACCORD_RETURN_IF_ERROR(
      c->Run("UPDATE match_clock SET last_recorded = greatest(last_recorded, $1) WHERE one = 1",
             PgParams().Num(last), "store the match clock")
          .status());
  return t.Commit();
}

// ---------------------------------------------------------------------------------------------
// Quarantine (the SQLite backend's rules: sqlite_quarantine.cc)

namespace {

constexpr const char* kPgEntryCols =
    "q.qid, q.id, q.modified, c.id, coalesce(c.alias, ''), q.writer, q.received, q.reason";

QuarantineEntry RowToEntry(const PgRows& r, int i) {
  QuarantineEntry e;
  e.qid = r.num(i, 0);
  e.id = std::string(r.text(i, 1));
  e.modified = r.num(i, 2);
  e.collection = std::string(r.text(i, 3));
  e.collection_alias = std::string(r.text(i, 4));
  e.writer = std::string(r.text(i, 5));
  e.received = r.num(i, 6);
  e.reason = std::string(r.text(i, 7));
  return e;
}

absl::Status NoPgEntry(int64_t qid) {
  return absl::NotFoundError(common::Cat("no quarantine entry #", qid));
}

}  // namespace

absl::StatusOr<bool> PgStore::QuarantineCopy(PgConn* c, std::string_view id, Micros modified,
                                             int64_t cid, std::string_view writer,
                                             std::string_view json, int64_t json_hash,
                                             std::string_view reason) {
  ACCORD_ASSIGN_OR_RETURN(PgRows n, c->Run("SELECT count(*) FROM quarantine", "count quarantine"));
  if (static_cast<uint64_t>(n.num(0, 0)) >= Quarantine::kMaxEntries) return false;
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r,
      c->Run(
          "INSERT INTO quarantine(id, modified, cid, writer, received, json_hash, json, "
          "reason) VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id, modified, cid, json_hash) DO "
          "NOTHING",
          PgParams()
              .Text(id)
              .Num(modified)
              .Num(cid)
              .Text(writer)
              .Num(common::NowMicros())
              .Num(json_hash)
              .Text(json)
              .Text(reason),
          common::Cat("quarantine ", id)));
  return r.changed() > 0;
}

absl::Status PgStore::Hold(const std::string& collection, std::string_view id, Micros modified,
                           std::string_view writer, std::string_view reason,
                           std::string_view json) {
  if (reason.empty()) return absl::InvalidArgumentError("a held version needs a reason");
  WriteTxn t(this);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(t.conn(), collection, true));
  ACCORD_ASSIGN_OR_RETURN(bool kept, QuarantineCopy(t.conn(), id, modified, cid, writer, json,
                                                    ContentHash(json), reason));
  (void)kept;
  return t.Commit();
}

absl::StatusOr<std::vector<QuarantineEntry>> PgStore::ListQuarantine(uint64_t limit) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run(common::Cat("SELECT ", kPgEntryCols,
                                   " FROM quarantine q JOIN collections c ON c.cid = q.cid ORDER "
                                   "BY q.qid LIMIT $1"),
                       PgParams().Num(limit == 0 ? INT64_MAX : static_cast<int64_t>(limit)),
                       "list quarantine"));
  std::vector<QuarantineEntry> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToEntry(r, i));
  return out;
}

absl::StatusOr<QuarantineEntry> PgStore::GetQuarantined(int64_t qid) {
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run(common::Cat("SELECT ", kPgEntryCols,
                                   ", q.json FROM quarantine q JOIN collections c ON c.cid = "
                                   "q.cid WHERE q.qid = $1"),
                       PgParams().Num(qid), "read quarantine"));
  if (r.size() == 0) return NoPgEntry(qid);
  QuarantineEntry e = RowToEntry(r, 0);
  e.json = std::string(r.text(0, 8));
  return e;
}

absl::Status PgStore::DropQuarantined(int64_t qid) {
  WriteTxn t(this);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, t.conn()->Run("DELETE FROM quarantine WHERE qid = $1",
                                                  PgParams().Num(qid), "drop quarantine entry"));
  if (r.changed() == 0) return NoPgEntry(qid);
  return t.Commit();
}

absl::Status PgStore::ReleaseQuarantined(int64_t qid, Winner winner) {
  ACCORD_ASSIGN_OR_RETURN(QuarantineEntry e, GetQuarantined(qid));
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<ImportTxn> txn, BeginImport(e.collection));
  auto* pt = static_cast<PgImportTxn*>(txn.get());
  PgConn* c = pt->conn();
  ACCORD_ASSIGN_OR_RETURN(PgRows del, c->Run("DELETE FROM quarantine WHERE qid = $1",
                                             PgParams().Num(qid), "release quarantine entry"));
  if (del.changed() == 0) return NoPgEntry(qid);
  pt->MarkQuarantined();
  ACCORD_ASSIGN_OR_RETURN(PgRows found,
                          c->Run("SELECT vid, json FROM objects WHERE id = $1 AND modified = $2",
                                 PgParams().Text(e.id).Num(e.modified), "find stored version"));
  const bool stored = found.size() > 0;
  const int64_t vid = stored ? found.num(0, 0) : -1;
  const std::string stored_json = stored ? std::string(found.text(0, 1)) : std::string();
  std::string what = common::Cat(e.id, " (modified ", common::FormatTimestamp(e.modified), ")");
  if (winner == Winner::kStored) {
    if (!stored) {
      return absl::FailedPreconditionError(
          common::Cat(what, ": no stored copy is left to release (release the quarantined one)"));
    }
    ACCORD_ASSIGN_OR_RETURN(stix::ObjectRecord rec, RecordOf(stored_json, what));
    ACCORD_RETURN_IF_ERROR(txn->Add(rec));
    return txn->Commit().status();
  }
  ACCORD_ASSIGN_OR_RETURN(stix::ObjectRecord rec, RecordOf(e.json, what));
  if (stored) {
    ACCORD_ASSIGN_OR_RETURN(PgRows held,
                            c->Run("SELECT cid FROM membership WHERE vid = $1", PgParams().Num(vid),
                                   "list collections of a version"));
    std::vector<int64_t> cids;
    cids.reserve(static_cast<size_t>(held.size()));
    for (int i = 0; i < held.size(); ++i) cids.push_back(held.num(i, 0));
    if (cids.empty()) {
      ACCORD_ASSIGN_OR_RETURN(int64_t target, CollectionRowId(c, e.collection, false));
      cids.push_back(target);
    }
    std::string replaced = common::Cat("replaced (release of #", qid, ")");
    for (int64_t cid : cids) {
      ACCORD_RETURN_IF_ERROR(QuarantineCopy(c, e.id, e.modified, cid, replaced, stored_json,
                                            ContentHash(stored_json), "")
                                 .status());
    }
    for (const char* sql :
         {"DELETE FROM membership WHERE vid = $1", "DELETE FROM objects WHERE vid = $1"}) {
      ACCORD_RETURN_IF_ERROR(
          c->Run(sql, PgParams().Num(vid), "remove the replaced version").status());
    }
  }
  ACCORD_RETURN_IF_ERROR(txn->Add(rec));
  return txn->Commit().status();
}

}  // namespace accord::store::detail
