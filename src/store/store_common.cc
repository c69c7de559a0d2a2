#include "store/store_common.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <filesystem>
#include <optional>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/stix/reader.h"
#include "store/sqlite_util.h"

namespace accord::store::detail {

absl::Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return absl::OkStatus();
  std::filesystem::create_directories(dir, ec);
  if (!ec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        common::Cat(dir, ": cannot create the data directory: ", ec.message()));
  }
  return absl::OkStatus();
}

std::string EncodeCursor(char kind, int64_t v) { return common::Cat(std::string(1, kind), v); }

absl::StatusOr<int64_t> DecodeCursor(std::string_view c, char kind) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(c.data() + (c.empty() ? 0 : 1), c.data() + c.size(), v);
  if (c.size() < 2 || c[0] != kind || ec != std::errc() || ptr != c.data() + c.size()) {
    return absl::InvalidArgumentError(common::Cat("invalid 'next' cursor '", c.substr(0, 40), "'"));
  }
  return v;
}

absl::StatusOr<stix::ObjectRecord> RecordOf(const std::string& json, std::string_view what) {
  std::optional<stix::ObjectRecord> rec;
  std::string problems;
  stix::ReaderOptions ro;
  ro.source_name = std::string(what);
  ACCORD_RETURN_IF_ERROR(stix::ReadBuffer(
                             json, ro,
                             [&](stix::ObjectRecord&& r) {
                               rec = std::move(r);
                               return absl::OkStatus();
                             },
                             [&](stix::Problem&& p) {
                               if (!p.warning) problems += p.ToString();
                             })
                             .status());
  if (!rec || !problems.empty()) {
    return absl::DataLossError(common::Cat(what, ": cannot be read back: ", problems));
  }
  return std::move(*rec);
}

absl::Status RefusedConflict(const stix::ObjectRecord& r) {
  return absl::AlreadyExistsError(
      common::Cat(r.id, " (modified ", common::FormatTimestamp(r.modified),
                  "): this version exists with different content; all or nothing: nothing was "
                  "stored"));
}

void NoteConflict(const stix::ObjectRecord& r, uint64_t index, ImportResult* result) {
  ++result->conflicts;
  if (result->conflicting.size() < ImportResult::kMaxListedConflicts) {
    result->conflicting.push_back({r.id, r.modified, index});
  }
}

// ---------------------------------------------------------------------------------------------
// Words of the full-text index

namespace {

// The code point at `s[*i]` (UTF-8; a malformed byte stands for itself), advancing `*i`.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto b = static_cast<unsigned char>(s[*i]);
  int n = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  uint32_t cp = n == 0 ? b : b & (0x3F >> n);
  size_t j = *i + 1;
  for (int k = 0; k < n; ++k, ++j) {
    if (j >= s.size() || (static_cast<unsigned char>(s[j]) & 0xC0) != 0x80) {
      *i += 1;
      return b;
    }
    cp = (cp << 6) | (static_cast<unsigned char>(s[j]) & 0x3F);
  }
  *i = j;
  return cp;
}

// Whether a code point is part of a word as the index's tokenizer (unicode61) sees it: ASCII
// letters and digits, and everything beyond ASCII but the punctuation and symbol blocks a
// description holds (Latin-1's, General Punctuation to Miscellaneous Symbols, CJK's, the
// fullwidth forms'). What remains wrong (a separator let through) is caught by SQLite and
// refused (SqliteStore::Browse); PostgreSQL requires each token of such a word (PgStore::Browse).
bool WordCodePoint(uint32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) != 0;
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
  return true;
}

// SQLite's unicode61 tokenizer, configured as object_text's (sqlite_store.cc), for one thread:
// an FTS5 tokenizer instance keeps a buffer of its own. It is reached through the fts5_api of
// an in-memory connection, which lives as long as the thread.
class Unicode61 {
 public:
  Unicode61() = default;
  ~Unicode61() {
    if (tok_ != nullptr) api_.xDelete(tok_);
    sqlite3_close(db_);
  }
  Unicode61(const Unicode61&) = delete;
  Unicode61& operator=(const Unicode61&) = delete;

  static absl::StatusOr<Unicode61*> ForThisThread() {
    thread_local Unicode61 t;
    if (t.tok_ == nullptr) ACCORD_RETURN_IF_ERROR(t.Init());
    return &t;
  }

  absl::Status Tokenize(std::string_view text, const std::function<void(std::string_view)>& each) {
    if (text.size() > static_cast<size_t>(INT_MAX)) {
      return absl::InvalidArgumentError("a text of more than 2 GiB cannot be split into words");
    }
    auto token = [](void* ctx, int, const char* p, int n, int, int) -> int {
      (*static_cast<const std::function<void(std::string_view)>*>(ctx))(
          std::string_view(p, static_cast<size_t>(n)));
      return SQLITE_OK;
    };
    // The flag says what the text is for; unicode61 splits both alike.
    if (api_.xTokenize(tok_, const_cast<std::function<void(std::string_view)>*>(&each),
                       FTS5_TOKENIZE_DOCUMENT, text.data(), static_cast<int>(text.size()),
                       token) != SQLITE_OK) {
      return absl::ResourceExhaustedError("split a text into words: out of memory");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Init() {
    ConfigureSqlite();
    if (db_ == nullptr &&
        sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
            SQLITE_OK) {
      return absl::InternalError("the word tokenizer: cannot open an in-memory SQLite database");
    }
    fts5_api* fts = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_bind_pointer(st, 1, static_cast<void*>(&fts), "fts5_api_ptr", nullptr) ==
            SQLITE_OK) {
      (void)sqlite3_step(st);  // sets `fts`, or leaves it null
    }
    sqlite3_finalize(st);
    void* user = nullptr;
    if (fts == nullptr || fts->xFindTokenizer(fts, "unicode61", &user, &api_) != SQLITE_OK) {
      return absl::InternalError("the word tokenizer: this SQLite has no FTS5 unicode61");
    }
    const char* args[] = {"remove_diacritics", "2"};
    if (api_.xCreate(user, args, 2, &tok_) != SQLITE_OK) {
      tok_ = nullptr;
      return absl::InternalError("the word tokenizer: cannot create unicode61");
    }
    return absl::OkStatus();
  }

  sqlite3* db_ = nullptr;
  fts5_tokenizer api_{};
  Fts5Tokenizer* tok_ = nullptr;
};

}  // namespace

absl::Status CheckBrowseQuery(const BrowseQuery& query) {
  if (query.collections.empty()) {
    return absl::InvalidArgumentError("a search must name the collections it reads");
  }
  if (query.limit == 0 || query.budget == 0) {
    return absl::InvalidArgumentError("a search's limit and budget must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BrowseWindows(const BrowseQuery& query, int64_t hi,
                                      const BrowseWindow& window, BrowsePage* page) {
  // PERF: versions examined per statement; a page runs statements over consecutive windows of
  // storage order until it is full or the query's budget is spent.
  constexpr uint64_t kBrowseWindow = 20000;
  uint64_t examined = 0;
  std::vector<BrowseRow> rows;
  while (hi > 0 && examined < query.budget) {
    const auto step =
        static_cast<int64_t>(std::min<uint64_t>(kBrowseWindow, query.budget - examined));
    const int64_t lo = hi > step ? hi - step : 0;
    const uint64_t wanted = query.limit - page->hits.size();
    rows.clear();
    ACCORD_RETURN_IF_ERROR(window(hi, lo, wanted + 1, &rows));
    if (rows.size() > wanted) {
      rows.resize(wanted);
      for (BrowseRow& r : rows) page->hits.push_back(std::move(r.hit));
      hi = rows.back().vid;  // the next page starts below the last hit
      break;
    }
    for (BrowseRow& r : rows) page->hits.push_back(std::move(r.hit));
    examined += static_cast<uint64_t>(hi - lo);
    hi = lo;
    if (page->hits.size() == query.limit) break;  // full: whether more exist is the next page's
  }
  page->more = hi > 0;
  if (page->more) page->next = EncodeCursor(kBrowseCursor, hi);
  return hi;
}

std::vector<SearchWord> SearchWords(std::string_view text) {
  std::vector<SearchWord> words;
  std::string word;
  auto end_word = [&](bool prefix) {
    if (word.empty()) return;
    words.push_back({std::move(word), prefix});
    word.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t at = i;
    uint32_t cp = NextCodePoint(text, &i);
    if (WordCodePoint(cp)) {
      word.append(text.substr(at, i - at));
    } else {
      end_word(cp == '*');
    }
  }
  end_word(false);
  return words;
}

void AppendMarkingToken(std::string_view id, std::string* out) {
  size_t at = id.rfind("--");
  std::string_view uuid = at == std::string_view::npos ? id : id.substr(at + 2);
  out->append("mk");
  for (char c : uuid) {
    if (c >= 'A' && c <= 'Z') {
      out->push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out->push_back(c);
    }
  }
  out->push_back(' ');
}

std::string MarkingToken(std::string_view id) {
  std::string out;
  AppendMarkingToken(id, &out);
  out.pop_back();
  return out;
}

absl::Status FoldWords(std::string_view text, const std::function<void(std::string_view)>& each) {
  if (text.empty()) return absl::OkStatus();
  ACCORD_ASSIGN_OR_RETURN(Unicode61 * t, Unicode61::ForThisThread());
  return t->Tokenize(text, each);
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;  // continuation bytes
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    uint32_t cp = b & (0x3Fu >> n);
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF.
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace accord::store::detail
