// The content-conflict quarantine of the SQLite store (store.h Quarantine, docs/INGEST.md
// "Content conflicts"). A version whose (id, modified) is already stored with other content is
// refused by the import transaction (sqlite_store.cc, SqliteImportTxn::Add) and its copy kept
// here, in the same transaction, for the administrator to drop or release.
//
// The copies live in the table itself, not in the object log: conflicts are rare, and an
// entry is deleted when it is resolved, which the append-only log cannot do.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "store/sqlite_store.h"
#include "store/store_common.h"

namespace accord::store::detail {

const char* const kQuarantineSchema = R"sql(
CREATE TABLE IF NOT EXISTS quarantine(
  qid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  idh INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  cid INTEGER NOT NULL,
  writer TEXT NOT NULL,
  received INTEGER NOT NULL,
  json_hash INTEGER NOT NULL,
  json BLOB NOT NULL,
  reason TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_copy ON quarantine(idh, modified, cid, json_hash);
)sql";

namespace {

constexpr const char* kEntryCols =
    "q.qid, q.id, q.modified, c.id, coalesce(c.alias, ''), q.writer, q.received, q.reason";

QuarantineEntry RowToEntry(sqlite3_stmt* s) {
  QuarantineEntry e;
  e.qid = sqlite3_column_int64(s, 0);
  e.id = ColText(s, 1);
  e.modified = sqlite3_column_int64(s, 2);
  e.collection = ColText(s, 3);
  e.collection_alias = ColText(s, 4);
  e.writer = ColText(s, 5);
  e.received = sqlite3_column_int64(s, 6);
  e.reason = ColText(s, 7);
  return e;
}

absl::Status NoEntry(int64_t qid) {
  return absl::NotFoundError(common::Cat("no quarantine entry #", qid));
}

}  // namespace

absl::Status SqliteStore::QuarantineCopy(Conn* c, std::string_view id, int64_t idh,
                                         int64_t modified, int64_t cid, std::string_view writer,
                                         std::string_view json, int64_t json_hash,
                                         std::string_view reason) {
  // Bounded: a writer may send endless variants. Past the cap the version is still refused;
  // only its copy is not kept. (count(*) walks the table: at most kMaxEntries rows, and only
  // on a conflict.)
  ACCORD_ASSIGN_OR_RETURN(StmtRef n, Cached(c, "SELECT count(*) FROM quarantine"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(n.get(), "count quarantine"));
  if (row && static_cast<uint64_t>(ColInt(n.get(), 0)) >= Quarantine::kMaxEntries) {
    return absl::OkStatus();
  }
  ACCORD_ASSIGN_OR_RETURN(
      StmtRef q,
      Cached(c,
             "INSERT OR IGNORE INTO quarantine(id, idh, modified, cid, writer, received, "
             "json_hash, json, reason) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 2, idh));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 3, modified));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 4, cid));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 5, writer));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 6, common::NowMicros()));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 7, json_hash));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 8, json));
  // A null data() would bind SQL NULL, which OR IGNORE would silently drop (NOT NULL).
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 9, reason.empty() ? std::string_view("") : reason));
  return StepDone(q.get(), common::Cat("quarantine ", id));
}

absl::Status SqliteStore::Hold(const std::string& collection, std::string_view id, Micros modified,
                               std::string_view writer, std::string_view reason,
                               std::string_view json) {
  ACCORD_RETURN_IF_ERROR(CheckWritable());
  if (reason.empty()) return absl::InvalidArgumentError("a held version needs a reason");
  std::unique_lock<WriteMutex> l(write_mu_);
  Conn* c = writer_.get();
  Txn t(c->get());
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(c, collection, true));
  ACCORD_RETURN_IF_ERROR(
      QuarantineCopy(c, id, IdHash(id), modified, cid, writer, json, ContentHash(json), reason));
  return t.Commit();
}

absl::StatusOr<std::vector<QuarantineEntry>> SqliteStore::ListQuarantine(uint64_t limit) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(
      Stmt q, Prepare(r.get(), common::Cat("SELECT ", kEntryCols,
                                           " FROM quarantine q JOIN collections c ON c.cid = q.cid "
                                           "ORDER BY q.qid LIMIT ?1")));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, limit == 0 ? -1 : static_cast<int64_t>(limit)));
  std::vector<QuarantineEntry> out;
  ACCORD_RETURN_IF_ERROR(ForEachRow(q.get(), "list quarantine",
                                    [&](sqlite3_stmt* st) { out.push_back(RowToEntry(st)); }));
  return out;
}

absl::StatusOr<QuarantineEntry> SqliteStore::GetQuarantined(int64_t qid) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(
      Stmt q, Prepare(r.get(), common::Cat("SELECT ", kEntryCols,
                                           ", q.json FROM quarantine q JOIN collections c ON "
                                           "c.cid = q.cid WHERE q.qid = ?1")));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, qid));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "read quarantine"));
  if (!row) return NoEntry(qid);
  QuarantineEntry e = RowToEntry(q.get());
  e.json = ColText(q.get(), 8);
  return e;
}

absl::Status SqliteStore::DropQuarantined(int64_t qid) {
  ACCORD_RETURN_IF_ERROR(CheckWritable());
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, "DELETE FROM quarantine WHERE qid = ?1"));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, qid));
  ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "drop quarantine entry"));
  if (sqlite3_changes(db) == 0) return NoEntry(qid);
  return absl::OkStatus();
}

absl::Status SqliteStore::ReleaseQuarantined(int64_t qid, Winner winner) {
  ACCORD_RETURN_IF_ERROR(CheckWritable());
  // Read outside the write lock first (BeginImport takes it), then again inside the
  // transaction: an entry dropped meanwhile fails the release below.
  ACCORD_ASSIGN_OR_RETURN(QuarantineEntry e, GetQuarantined(qid));
  // The import transaction holds the write lock and the writer connection's transaction from
  // here to Commit; the statements below run on that connection, so everything is one
  // transaction: a failure anywhere rolls all of it back.
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<ImportTxn> txn, BeginImport(e.collection));
  Conn* c = writer_.get();
  sqlite3* db = c->get();
  ACCORD_ASSIGN_OR_RETURN(Stmt del, Prepare(db, "DELETE FROM quarantine WHERE qid = ?1"));
  ACCORD_RETURN_IF_ERROR(BindInt(del.get(), 1, qid));
  ACCORD_RETURN_IF_ERROR(StepDone(del.get(), "release quarantine entry"));
  if (sqlite3_changes(db) == 0) return NoEntry(qid);

  const int64_t idh = IdHash(e.id);
  ACCORD_ASSIGN_OR_RETURN(Stmt find, Prepare(db,
                                             "SELECT vid, log_off, log_len FROM objects "
                                             "WHERE idh = ?1 AND modified = ?2 AND id = ?3"));
  ACCORD_RETURN_IF_ERROR(BindInt(find.get(), 1, idh));
  ACCORD_RETURN_IF_ERROR(BindInt(find.get(), 2, e.modified));
  ACCORD_RETURN_IF_ERROR(BindText(find.get(), 3, e.id));
  ACCORD_ASSIGN_OR_RETURN(bool stored, Step(find.get(), "find stored version"));
  std::string stored_json;
  int64_t vid = -1;
  if (stored) {
    vid = ColInt(find.get(), 0);
    ACCORD_RETURN_IF_ERROR(
        log_->Read({{ColInt(find.get(), 1), ColInt(find.get(), 2), &stored_json}}));
  }
  find.reset();
  std::string what = common::Cat(e.id, " (modified ", common::FormatTimestamp(e.modified), ")");

  if (winner == Winner::kStored) {
    if (!stored) {
      return absl::FailedPreconditionError(
          common::Cat(what, ": no stored copy is left to release (release the quarantined one)"));
    }
    // Re-adding the stored copy is a duplicate: it is linked into the targeted collection.
    ACCORD_ASSIGN_OR_RETURN(stix::ObjectRecord rec, RecordOf(stored_json, what));
    ACCORD_RETURN_IF_ERROR(txn->Add(rec));
    return txn->Commit().status();
  }

  ACCORD_ASSIGN_OR_RETURN(stix::ObjectRecord rec, RecordOf(e.json, what));
  if (stored) {
    // A version is immutable: the losing copy leaves the store and every collection, and is
    // kept in quarantine in its place, once per collection that held it.
    ACCORD_ASSIGN_OR_RETURN(Stmt held, Prepare(db, "SELECT cid FROM membership WHERE vid = ?1"));
    ACCORD_RETURN_IF_ERROR(BindInt(held.get(), 1, vid));
    std::vector<int64_t> cids;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(bool row, Step(held.get(), "list collections of a version"));
      if (!row) break;
      cids.push_back(ColInt(held.get(), 0));
    }
    held.reset();
    if (cids.empty()) {
      ACCORD_ASSIGN_OR_RETURN(int64_t target, CollectionRowId(c, e.collection, false));
      cids.push_back(target);
    }
    std::string replaced = common::Cat("replaced (release of #", qid, ")");
    for (int64_t cid : cids) {
      ACCORD_RETURN_IF_ERROR(QuarantineCopy(c, e.id, idh, e.modified, cid, replaced, stored_json,
                                            ContentHash(stored_json)));
    }
    for (const char* sql :
         {"DELETE FROM membership WHERE vid = ?1", "DELETE FROM objects WHERE vid = ?1"}) {
      ACCORD_ASSIGN_OR_RETURN(Stmt d, Prepare(db, sql));
      ACCORD_RETURN_IF_ERROR(BindInt(d.get(), 1, vid));
      ACCORD_RETURN_IF_ERROR(StepDone(d.get(), "remove the replaced version"));
    }
    ACCORD_RETURN_IF_ERROR(DeleteTerms(c, vid, rec.type, stored_json));
  }
  ACCORD_RETURN_IF_ERROR(txn->Add(rec));
  return txn->Commit().status();
}

}  // namespace accord::store::detail
