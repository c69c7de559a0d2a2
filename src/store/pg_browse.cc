// The full-text index of the PostgreSQL store and the web UI's search without a value
// (PgStore::Browse, Reindex, ValueIndexCurrent), with the SQLite backend's semantics
// (sqlite_store.cc, SqliteStore::Browse), which both backends pass (browse_test.cc).
//
// object_text (kPgTextSchema, pg_store.cc) holds one row per version with a name, a description
// or markings: `words`, a tsvector of lexemes made here, not by PostgreSQL's parser. The words
// are split and folded by FoldWords (store_common.h): SQLite's own tokenizer, so both backends
// agree on what a word is, on case and on accents, whatever the database's locale, and without
// the unaccent extension. A search's words are folded the same way and reach PostgreSQL as a
// bound tsquery in tsquery's input syntax, each lexeme quoted: no text of the query is ever
// parsed as query syntax.
//
// PERF: the index costs imports. 100,000 generated indicators with a name and a description
// (26 lexemes each), 10 transactions, Release build, PostgreSQL 15 on this 2-core machine
// (load average ~6 from other builds): 3.65 / 5.08 / 4.85 s without it (1fca0fb),
// 7.06 / 8.76 / 7.05 s with it, of which 0.45 s more CPU in Accord (folding, ~4.5 us a version).
// In SQL alone, 100,000 such rows in batches of 500 cost 0.8 s in a bare table, +0.3 s for the
// foreign key (its cascade is what removes a version's row), +1.4 to 1.7 s for the GIN index (4 MB
// pending list; a larger one would leave each search more unsorted entries to read). The GIN index
// is what a rare word's search uses: 0.8 ms per window of 20,000 versions instead of 2.9 ms
// filtering every row, more with long descriptions (EXPLAIN ANALYZE of the window's scan).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/strings.h"
#include "accord/stix/object.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"  // TermKeysOf: shared by both backends
#include "store/store_common.h"

namespace accord::store::detail {

namespace {

// PostgreSQL refuses a lexeme of more than 2047 bytes (tsvector and tsquery alike). A longer
// word is not indexed, and a search for one finds nothing.
constexpr size_t kMaxLexeme = 2047;

// Whether `w` may be a lexeme: PostgreSQL takes it (well-formed UTF-8, short enough), and it
// holds no space (object_text's rows travel space-separated; FoldWords never makes one).
bool Lexeme(std::string_view w) {
  return !w.empty() && w.size() <= kMaxLexeme && w.find(' ') == std::string_view::npos &&
         ValidUtf8(w);
}

// A marking's lexeme: its token as SQLite's index holds it (MarkingToken, so that case is
// folded alike) behind a '~', which no folded word holds: a description cannot pose as a
// marking, nor a search's word prefix reach one.
std::string MarkingLexeme(std::string_view id) { return common::Cat("~", MarkingToken(id)); }

// `lexeme` quoted for tsquery's input syntax: between single quotes, ' and \ escaped.
void AppendQuoted(std::string_view lexeme, std::string* out) {
  out->push_back('\'');
  for (char ch : lexeme) {
    if (ch == '\'' || ch == '\\') out->push_back(ch);  // doubled: the character itself
    out->push_back(ch);
  }
  out->push_back('\'');
}

// The tsquery of a search, in tsquery's input syntax (cast with ::tsquery; to_tsquery would
// parse the lexemes again with PostgreSQL's parser): every token of every word of `text`
// (SearchWords, FoldWords), ANDed, the last token of a prefix word with ":*"; and one of the
// markings' lexemes. "" when neither filters; nullopt when nothing can match: text without a
// word (only punctuation) matches nothing rather than everything, as in SQLite, and so does a
// word no lexeme can be. A word of several tokens (a separator that SearchWords let through,
// such as U+0E3F) needs each of them, where SQLite refuses it.
absl::StatusOr<std::optional<std::string>> TsQuery(std::string_view text,
                                                   const std::vector<std::string>& markings) {
  std::string out;
  bool unmatchable = false;
  bool any_word = false;
  for (const SearchWord& w : SearchWords(text)) {
    std::vector<std::string> tokens;
    ACCORD_RETURN_IF_ERROR(FoldWords(w.text, [&](std::string_view t) { tokens.emplace_back(t); }));
    for (size_t k = 0; k < tokens.size(); ++k) {
      any_word = true;
      if (!Lexeme(tokens[k])) unmatchable = true;
      if (!out.empty()) out += " & ";
      AppendQuoted(tokens[k], &out);
      if (w.prefix && k + 1 == tokens.size()) out += ":*";
    }
  }
  if (unmatchable || (!text.empty() && !any_word)) return std::optional<std::string>();
  if (!markings.empty()) {
    common::Append(&out, out.empty() ? "(" : " & (");
    for (size_t k = 0; k < markings.size(); ++k) {
      if (k > 0) out += " | ";
      AppendQuoted(MarkingLexeme(markings[k]), &out);
    }
    out += ")";
  }
  return std::optional<std::string>(std::move(out));
}

// A read-only transaction on a leased connection, so that every statement of a page reads one
// snapshot; ended on destruction (rolled back: it wrote nothing), also after an error, before
// the connection goes back to the pool.
class PgReadSnapshot {
 public:
  explicit PgReadSnapshot(PgConn* c) : c_(c) {}
  ~PgReadSnapshot() {
    if (open_) (void)c_->Exec("ROLLBACK", "end a search");
  }
  PgReadSnapshot(const PgReadSnapshot&) = delete;
  PgReadSnapshot& operator=(const PgReadSnapshot&) = delete;
  absl::Status Begin() {
    ACCORD_RETURN_IF_ERROR(
        c_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin a search"));
    open_ = true;
    return absl::OkStatus();
  }

 private:
  PgConn* c_;
  bool open_ = false;
};

// Versions read per statement by Reindex.
constexpr int64_t kReindexBatch = 1000;
// The setting that says versions were stored before the full-text index existed
// (kPgTextSchema sets it; Reindex clears it), as in SQLite.
constexpr const char* kIndexStale = "value_index.stale";

}  // namespace

absl::Status PgTextOf(const stix::ObjectRecord& r, std::string* out) {
  out->clear();
  std::optional<stix::IndexText> read;
  const stix::IndexText& t = r.index_text ? *r.index_text : read.emplace(stix::IndexTextOf(r.json));
  if (t.empty()) return absl::OkStatus();
  std::vector<std::string> lexemes;
  auto keep = [&](std::string_view w) {
    if (Lexeme(w)) lexemes.emplace_back(w);
  };
  ACCORD_RETURN_IF_ERROR(FoldWords(t.name, keep));
  ACCORD_RETURN_IF_ERROR(FoldWords(t.description, keep));
  std::string_view markings = t.markings;
  while (!markings.empty()) {
    const size_t end = std::min(markings.find(' '), markings.size());
    if (end > 0) keep(MarkingLexeme(markings.substr(0, end)));
    markings.remove_prefix(std::min(end + 1, markings.size()));
  }
  // A tsvector holds each lexeme once; sorted, as PostgreSQL would sort them.
  std::sort(lexemes.begin(), lexemes.end());
  lexemes.erase(std::unique(lexemes.begin(), lexemes.end()), lexemes.end());
  for (const std::string& w : lexemes) common::Append(out, out->empty() ? "" : " ", w);
  return absl::OkStatus();
}

void PgIndexRows::Add(int64_t vid, const std::vector<int64_t>& keys, const std::string& text) {
  for (int64_t k : keys) {
    keys_.Num(k);
    key_vids_.Num(vid);
  }
  if (!text.empty()) {
    text_vids_.Num(vid);
    texts_.Text(text);
  }
}

absl::Status PgIndexRows::Write(PgConn* c) {
  // The value index (issue 15): the same 64-bit keys as SQLite's (TermKey).
  if (!keys_.empty()) {
    ACCORD_RETURN_IF_ERROR(c->Run("INSERT INTO value_keys(key, vid) SELECT * FROM "
                                  "unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
                                  PgParams().Array(keys_).Array(key_vids_), "index the values")
                               .status());
  }
  // array_to_tsvector takes the lexemes as they are (PgTextOf made them).
  if (!texts_.empty()) {
    ACCORD_RETURN_IF_ERROR(
        c->Run("INSERT INTO object_text(vid, words) SELECT v, array_to_tsvector(string_to_array("
               "w, ' ')) FROM unnest($1::bigint[], $2::text[]) AS u(v, w)",
               PgParams().Array(text_vids_).Array(texts_), "index the words")
            .status());
  }
  *this = PgIndexRows();
  return absl::OkStatus();
}

absl::StatusOr<BrowsePage> PgStore::Browse(const BrowseQuery& query) {
  ACCORD_RETURN_IF_ERROR(CheckBrowseQuery(query));
  BrowsePage page;
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> tsquery, TsQuery(query.text, query.markings));
  if (!tsquery) return page;
  Lease c(this);
  ACCORD_RETURN_IF_ERROR(c.Open());
  PgReadSnapshot snapshot(c.get());
  ACCORD_RETURN_IF_ERROR(snapshot.Begin());
  PgArray cids;
  for (const std::string& name : query.collections) {
    ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(c.get(), name, false));
    cids.Num(cid);
  }
  int64_t hi = 0;  // versions below this vid are still to examine
  if (!query.cursor.empty()) {
    ACCORD_ASSIGN_OR_RETURN(hi, DecodeCursor(query.cursor, kBrowseCursor));
  } else {
    ACCORD_ASSIGN_OR_RETURN(PgRows r,
                            c->Run("SELECT coalesce(max(vid), 0) + 1 FROM objects", "search"));
    hi = r.num(0, 0);
  }
  // $1 the upper (exclusive) vid, $2 the lower, $3 the row limit: they change per window
  // (BrowseWindows); the filters follow. Arrays keep the statement's text the same however many
  // values they hold. PERF: each window is a backward range scan of a primary key that stops at
  // its LIMIT. Measured with EXPLAIN ANALYZE on 200,000 versions of short texts (PostgreSQL 15
  // on this machine, 2 cores): a page of a word in every version 0.4 ms; a word in one version
  // of 20,000, 2.9 ms per window (all of it read); a type held by one version in ten, 17 ms per
  // window.
  PgParams p;
  p.Num(0).Num(0).Num(0);
  std::string sql = "SELECT o.vid, o.id, o.type, o.modified, o.revoked, o.first_added FROM ";
  if (!tsquery->empty()) {
    common::Append(&sql,
                   "object_text t JOIN objects o ON o.vid = t.vid WHERE t.vid < $1::bigint AND "
                   "t.vid >= $2::bigint AND t.words @@ ",
                   p.Next(), "::tsquery");
    p.Text(*tsquery);
  } else {
    sql += "objects o WHERE o.vid < $1::bigint AND o.vid >= $2::bigint";
  }
  if (!query.types.empty()) {
    PgArray types;
    for (const std::string& t : query.types) types.Text(t);
    common::Append(&sql, " AND o.type = ANY(", p.Next(), "::text[])");
    p.Array(types);
  }
  if (query.modified_from) {
    common::Append(&sql, " AND o.modified >= ", p.Next(), "::bigint");
    p.Num(*query.modified_from);
  }
  if (query.modified_until) {
    common::Append(&sql, " AND o.modified < ", p.Next(), "::bigint");
    p.Num(*query.modified_until);
  }
  common::Append(&sql,
                 " AND EXISTS (SELECT 1 FROM membership m WHERE m.vid = o.vid AND m.cid = ANY(",
                 p.Next(), "::bigint[]))");
  p.Array(cids);
  sql +=
      " AND o.modified = (SELECT max(o2.modified) FROM objects o2 WHERE o2.id = o.id) ORDER BY "
      "o.vid DESC LIMIT $3::bigint";
  auto window = [&](int64_t upper, int64_t lower, uint64_t max_rows,
                    std::vector<BrowseRow>* rows) -> absl::Status {
    PgParams run = p;
    run.SetNum(0, upper).SetNum(1, lower).SetNum(2, static_cast<int64_t>(max_rows));
    ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run(sql, run, "search"));
    for (int i = 0; i < r.size(); ++i) {
      BrowseRow& h = rows->emplace_back();
      h.vid = r.num(i, 0);
      h.hit.id = std::string(r.text(i, 1));
      h.hit.type = std::string(r.text(i, 2));
      h.hit.modified = r.num(i, 3);
      h.hit.revoked = r.flag(i, 4);
      h.hit.stored = r.num(i, 5);
    }
    return absl::OkStatus();
  };
  ACCORD_ASSIGN_OR_RETURN(hi, BrowseWindows(query, hi, window, &page));
  if (page.more) {
    ACCORD_ASSIGN_OR_RETURN(
        PgRows r, c->Run("SELECT first_added FROM objects WHERE vid >= $1::bigint ORDER BY vid "
                         "LIMIT 1",
                         PgParams().Num(hi), "search"));
    if (r.size() > 0) page.reached = r.num(0, 0);
  }
  return page;
}

absl::StatusOr<bool> PgStore::ValueIndexCurrent() {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> stale, GetSetting(kIndexStale));
  return !stale.has_value();
}

absl::StatusOr<uint64_t> PgStore::Reindex() {
  if (!options_.derive_terms) {
    return absl::FailedPreconditionError("no value-index deriver in this process");
  }
  // One transaction under the write lock: readers see the old indexes until it commits.
  WriteTxn t(this);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  PgConn* c = t.conn();
  ACCORD_RETURN_IF_ERROR(
      c->Exec("DELETE FROM value_keys; DELETE FROM object_text", "empty the indexes"));
  uint64_t rows = 0;
  int64_t after = 0;
  std::vector<int64_t> keys;
  std::string text;
  PgIndexRows index;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(
        PgRows r, c->Run("SELECT vid, id, type, modified, json FROM objects WHERE vid > "
                         "$1::bigint ORDER BY vid LIMIT $2::bigint",
                         PgParams().Num(after).Num(kReindexBatch), "read versions to index"));
    for (int i = 0; i < r.size(); ++i) {
      stix::ObjectRecord rec;
      after = r.num(i, 0);
      rec.id = std::string(r.text(i, 1));
      rec.type = std::string(r.text(i, 2));
      rec.modified = r.num(i, 3);
      rec.json = std::string(r.text(i, 4));
      TermKeysOf(options_.derive_terms, rec, &keys);
      ACCORD_RETURN_IF_ERROR(PgTextOf(rec, &text));
      index.Add(after, keys, text);
      ++rows;
    }
    ACCORD_RETURN_IF_ERROR(index.Write(c));
    if (r.size() < kReindexBatch) break;
  }
  ACCORD_RETURN_IF_ERROR(c->Run("DELETE FROM settings WHERE key = $1", PgParams().Text(kIndexStale),
                                "mark the indexes current")
                             .status());
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return rows;
}

}  // namespace accord::store::detail
