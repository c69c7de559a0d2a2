#include "accord/stix/reader.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "accord/common/io.h"
#include "accord/common/json_stream.h"
#include "accord/common/strings.h"
#include "accord/stix/dom.h"
#include "accord/stix/ijson.h"
#include "accord/stix/read_lines.h"
#include "stix/index_text.h"
#include "stix/validate.h"
#include "stix/validate_internal.h"

namespace accord::stix {

std::string Problem::ToString() const {
  if (object_id.empty()) return common::Cat(location, ": ", message);
  return common::Cat(location, ": ", object_id, ": ", message);
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr int kMaxLocateDepth = 1024;
// Room for an object's JSON of `n` bytes in `json`: for one of 1 MiB or more, in memory advised
// for huge pages, with simdjson's padding after it, so that a later parse of the record's JSON
// (the store's value-index deriver, for a caller that did not derive the terms from this
// reader's parse through ReaderOptions::with_dom) reads it in place instead of copying it.
void ReserveLargeCopy(std::string* json, size_t n) {
  if (n >= (size_t{1} << 20)) common::ReserveHuge(json, n + simdjson::SIMDJSON_PADDING);
}

const char* TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

// The kind of a JSON value that is not an object, from its first byte (as TypeName names it);
// nullptr for an object, or for bytes that the parser must look at.
const char* ScalarKind(std::string_view v) {
  size_t i = v.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return nullptr;
  switch (v[i]) {
    case '[': return "an array";
    case '"': return "a string";
    case 't':
    case 'f': return "a boolean";
    case 'n': return "null";
    default: return v[i] == '-' || (v[i] >= '0' && v[i] <= '9') ? "a number" : nullptr;
  }
}

// Walks a document with simdjson's On-Demand API to find where it stops being valid JSON;
// used only after the DOM parser has refused the input, to give a line and column.
simdjson::error_code Walk(simdjson::ondemand::value v, int depth) {
  if (depth > kMaxLocateDepth) return simdjson::DEPTH_ERROR;
  simdjson::ondemand::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto field : o) {
        simdjson::ondemand::value fv;
        if (auto e = field.value().get(fv)) return e;
        if (auto e = Walk(fv, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto item : a) {
        simdjson::ondemand::value iv;
        if (auto e = item.get(iv)) return e;
        if (auto e = Walk(iv, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number n;
      return v.get_number().get(n);
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case simdjson::ondemand::json_type::null: {
      bool n;
      return v.is_null().get(n);
    }
  }
  return simdjson::SUCCESS;
}

// Where in `text` the JSON goes wrong: byte offset, or text.size() if not found.
size_t LocateJsonError(std::string_view text) {
  simdjson::padded_string padded(text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return 0;
  simdjson::ondemand::value root;
  simdjson::error_code err = doc.get_value().get(root);
  if (!err) err = Walk(root, 0);
  const char* loc = nullptr;
  if (doc.current_location().get(loc) || loc == nullptr) return text.size();
  size_t off = static_cast<size_t>(loc - padded.data());
  return off > text.size() ? text.size() : off;
}

// A string member, or "" when absent or not a string.
std::string_view StrOr(object o, const char* key) {
  std::string_view s;
  if (o[key].get_string().get(s)) return {};
  return s;
}

std::string Located(std::string_view source, std::string_view text, size_t offset,
                    uint64_t line_base) {
  common::TextPosition p = common::PositionOf(text, offset);
  return common::Cat(source, ":", p.line + line_base, ":", p.column);
}

// Extracts the indexed properties; `json` must already be set.
absl::Status Extract(object obj, ObjectRecord* r) {
  std::string_view s;
  if (obj["type"].get_string().get(s)) return absl::InvalidArgumentError("'type' is missing");
  r->type.assign(s);
  if (obj["id"].get_string().get(s)) return absl::InvalidArgumentError("'id' is missing");
  r->id.assign(s);
  if (!obj["spec_version"].get_string().get(s)) r->spec_version.assign(s);
  auto ts = [&](const char* key, std::optional<common::Micros>* out) -> absl::Status {
    std::string_view v;
    auto field = obj[key];
    if (field.error() == simdjson::NO_SUCH_FIELD) return absl::OkStatus();
    if (field.get_string().get(v)) {
      return absl::InvalidArgumentError(common::Cat("'", key, "' must be a timestamp string"));
    }
    auto parsed = common::ParseTimestamp(v);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(common::Cat("'", key, "': ", parsed.status().message()));
    }
    *out = parsed->micros;
    return absl::OkStatus();
  };
  std::optional<common::Micros> modified;
  ACCORD_RETURN_IF_ERROR(ts("created", &r->created));
  ACCORD_RETURN_IF_ERROR(ts("modified", &modified));
  ACCORD_RETURN_IF_ERROR(ts("valid_from", &r->valid_from));
  ACCORD_RETURN_IF_ERROR(ts("valid_until", &r->valid_until));
  if (modified) {
    r->modified = *modified;
    r->has_modified = true;
  } else if (r->created) {
    r->modified = *r->created;
    r->has_modified = true;
  }
  bool revoked = false;
  if (!obj["revoked"].get_bool().get(revoked)) r->revoked = revoked;
  if (!obj["pattern"].get_string().get(s)) r->pattern.assign(s);
  if (!obj["pattern_type"].get_string().get(s)) r->pattern_type.assign(s);
  simdjson::dom::array refs;
  if (!obj["object_marking_refs"].get_array().get(refs)) {
    for (element m : refs) {
      if (!m.get_string().get(s)) r->marking_refs.emplace_back(s);
    }
  }
  // PERF: read here, from the parse at hand, rather than by parsing the JSON again later.
  r->index_text = IndexTextOf(obj);
  return absl::OkStatus();
}

// Where an object sits in the input, formatted only when something is reported
// (PERF: formatting it for every accepted object cost ~3% of an import).
struct Where {
  std::string_view source;
  uint64_t line = 0;            // 1-based; 0 when the input is one document
  uint64_t object = 0;          // 1-based index in a bundle or array; 0 for none
  uint64_t offset = kNoOffset;  // byte offset of a streamed element
  static constexpr uint64_t kNoOffset = ~uint64_t{0};
  std::string Str() const {
    std::string out(source);
    if (offset != kNoOffset) {
      common::Append(&out, ": byte offset ", offset, ", object #", object);
      return out;
    }
    if (line) common::Append(&out, ":", line);
    if (object) common::Append(&out, ": object #", object);
    return out;
  }
};

// The two simdjson parsers a read uses (documents, and upgraded STIX 2.0 objects).
struct Parsers {
  simdjson::dom::parser main;
  simdjson::dom::parser upgrade;
  bool in_use = false;
};

// PERF: a simdjson parser keeps its buffers (a padded copy of the input, structural indexes,
// tape: about ten times the document's size) between documents. A parser per ReadFile call
// allocated them afresh for every file; importing 1,000 small ATT&CK files spent most of its
// time there (20.7 s under ASan, whose allocator hands out fresh pages for each). Each thread
// keeps one pair and lends it to one read at a time; a nested read (a sink that reads another
// document) gets its own pair. Buffers grown past kKeepBytes by a large document are released
// when the read ends, so an idle thread does not hold them.
class ParserLease {
 public:
  ParserLease() {
    thread_local Parsers cached;
    if (cached.in_use) {
      owned_ = std::make_unique<Parsers>();
      p_ = owned_.get();
    } else {
      p_ = &cached;
    }
    p_->in_use = true;
  }
  ~ParserLease() {
    if (owned_) return;
    constexpr size_t kKeepBytes = 16u << 20;
    if (p_->main.capacity() > kKeepBytes) p_->main = simdjson::dom::parser();
    if (p_->upgrade.capacity() > kKeepBytes) p_->upgrade = simdjson::dom::parser();
    p_->in_use = false;
  }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;
  Parsers* operator->() const { return p_; }

 private:
  Parsers* p_ = nullptr;
  std::unique_ptr<Parsers> owned_;
};

class ReaderImpl {
 public:
  ReaderImpl(const ReaderOptions& opts, const ObjectSink& on_object, const ProblemSink& on_problem)
      : opts_(opts), on_object_(on_object), on_problem_(on_problem) {
    vopts_.check_sco_ids = opts.check_sco_ids;
  }

  ReadStats stats() const { return stats_; }
  // Lines are minified JSON already (ReadJsonLines' `minified`): kept as they are.
  void KeepMinified() { keep_minified_ = true; }

  // One JSON document held in `text` (a whole file or one line). `line_base` is added to the
  // line numbers of locations (JSON lines: the line's number minus one). `padded`: at least
  // SIMDJSON_PADDING readable bytes follow `text`, so simdjson parses it in place instead of
  // copying it.
  absl::Status Document(std::string_view text, uint64_t line_base, bool is_line,
                        bool padded = false, uint64_t object_no = 1) {
    element root;
    ReserveForLarge(&parsers_->main, text.size());
    auto err = parsers_->main.parse(text.data(), text.size(), !padded).get(root);
    if (err) {
      size_t off = LocateJsonError(text);
      Report(Located(opts_.source_name, text, off, line_base), "",
             common::Cat("malformed JSON: ", simdjson::error_message(err)));
      return absl::OkStatus();
    }
    Where where{opts_.source_name, is_line ? line_base + 1 : 0, 0};
    if (root.type() == element_type::ARRAY) {
      uint64_t i = 0;
      simdjson::dom::array arr = root.get_array().value_unsafe();
      for (element e : arr) {
        Where w = where;
        w.object = ++i;
        ACCORD_RETURN_IF_ERROR(One(e, w, "", {}, ""));
      }
      return absl::OkStatus();
    }
    if (root.type() != element_type::OBJECT) {
      Report(where.Str(), "",
             common::Cat("expected a STIX bundle or object, found ", TypeName(root.type())));
      return absl::OkStatus();
    }
    object o = root.get_object().value_unsafe();
    std::string_view type;
    if (!o["type"].get_string().get(type) && type == "bundle") {
      // I-JSON: a bundle with two "objects" (or "id") members is refused whole; its objects are
      // checked one by one in One(), so that one bad object fails alone.
      if (auto dup = FindDuplicateOwnKey(o)) {
        Report(where.Str(), "", DuplicateKeyMessage(*dup));
        return absl::OkStatus();
      }
      return Bundle(o, where);
    }
    // A document that is one object: keep its own bytes (minified), not a re-serialisation.
    Where w = where;
    if (!is_line) w.object = object_no;
    return One(root, w, "", text, nullptr);
  }

  // One element handed out by common::JsonStreamReader: an element of a bundle's 'objects' or
  // of a top-level array is parsed and checked alone; a whole top-level value as a document.
  absl::Status Element(const common::JsonElement& el, std::string_view bundle_sv) {
    if (el.container == common::JsonContainer::kValue) {
      return Document(el.bytes, el.line - 1, false, false, el.index);
    }
    Where w{opts_.source_name, 0, el.index, el.offset};
    // PERF: an element that is not an object is refused without parsing it (a hostile array of
    // millions of scalars must cost a byte each, not a parse each).
    if (const char* kind = ScalarKind(el.bytes)) {
      if (OnlyCounting()) {
        ++stats_.rejected;  // (no report built: under ASan even that churn costs 500 MB)
        return absl::OkStatus();
      }
      Report(w.Str(), "", common::Cat("expected a STIX object, found ", kind));
      return absl::OkStatus();
    }
    element e;
    ReserveForLarge(&parsers_->main, el.bytes.size());
    if (auto err = parsers_->main.parse(el.bytes.data(), el.bytes.size(), true).get(e); err) {
      Report(w.Str(), "", common::Cat("malformed JSON: ", simdjson::error_message(err)));
      return absl::OkStatus();
    }
    // (Its own bytes, as for a line: the SIMD minifier over them is ~3x cheaper than
    // serialising the DOM, and keeps what was received.)
    return One(e, w, bundle_sv, el.bytes,
               el.container == common::JsonContainer::kBundleObjects ? "objects" : "");
  }

  // A problem with the input as a whole (its framing, or the bundle's own members).
  void ReportInput(std::string location, std::string message) {
    Report(std::move(location), "", std::move(message));
  }

 private:
  absl::Status Bundle(object bundle, const Where& where) {
    std::string_view bundle_id = StrOr(bundle, "id");
    std::string_view bundle_sv = StrOr(bundle, "spec_version");
    if (bundle_id.substr(0, 8) != "bundle--") {
      Report(where.Str(), std::string(bundle_id),
             "a bundle's 'id' must have the form bundle--<UUID>");
    }
    auto objs = bundle["objects"];
    if (objs.error() == simdjson::NO_SUCH_FIELD) return absl::OkStatus();  // empty bundle
    simdjson::dom::array arr;
    if (objs.get_array().get(arr)) {
      Report(where.Str(), std::string(bundle_id), "a bundle's 'objects' must be an array");
      return absl::OkStatus();
    }
    uint64_t i = 0;
    for (element e : arr) {
      Where w = where;
      w.object = ++i;
      ACCORD_RETURN_IF_ERROR(One(e, w, bundle_sv, {}, "objects"));
    }
    return absl::OkStatus();
  }

  // One object `e`; `raw`: its own bytes when it is the whole document. `container`: the
  // member that holds it ("objects" in a bundle, "" in a top-level array, nullptr when it is
  // the document), for the path of a duplicate key.
  absl::Status One(element e, const Where& where, std::string_view bundle_sv, std::string_view raw,
                   const char* container) {
    if (e.type() != element_type::OBJECT) {
      Report(where.Str(), "", common::Cat("expected a STIX object, found ", TypeName(e.type())));
      return absl::OkStatus();
    }
    object o = e.get_object().value_unsafe();
    std::string_view id = StrOr(o, "id");
    // I-JSON (RFC 7493, required by STIX 2.1 §3.1): a duplicate member name anywhere in the
    // object refuses it, before anything reads a member that another parser would read
    // differently ('id' above is only used to name the object in the report).
    if (auto dup = FindDuplicateKey(e)) {
      // The path from the document's root (built only here: most objects have no duplicate).
      std::string path;
      if (container != nullptr) {
        path = common::Cat(container, "[", where.object - 1, "]", (*dup)[0] == '[' ? "" : ".");
      }
      path += *dup;
      Report(where.Str(), std::string(id), DuplicateKeyMessage(path));
      return absl::OkStatus();
    }
    ObjectRecord rec;
    if (detail::IsStix20(o, bundle_sv)) {
      if (!opts_.upgrade_20) {
        Report(where.Str(), std::string(id),
               "STIX 2.0 content is refused (--no-upgrade); Accord stores STIX 2.1");
        return absl::OkStatus();
      }
      auto up = detail::UpgradeFrom20(o);
      if (!up.ok()) {
        Report(where.Str(), std::string(id),
               common::Cat("cannot upgrade STIX 2.0 object: ", up.status().message()));
        return absl::OkStatus();
      }
      element ue;
      if (auto err = parsers_->upgrade.parse(*up).get(ue);
          err || ue.type() != element_type::OBJECT) {
        Report(where.Str(), std::string(id), "internal error: upgraded object does not parse");
        return absl::OkStatus();
      }
      o = ue.get_object().value_unsafe();
      rec.json = std::move(*up);
      ++stats_.upgraded;
    } else if (!raw.empty() && keep_minified_) {
      // PERF: minified by the caller (a converter): ~5% of its read. A large object's copy
      // goes into huge pages (a MISP event's report, 7 MB, took ~20 ms of 4 KiB page faults;
      // ReserveLargeCopy).
      ReserveLargeCopy(&rec.json, raw.size());
      rec.json.assign(raw);
    } else if (!raw.empty()) {
      // PERF: simdjson's SIMD minifier over the original bytes; ~3x cheaper than serialising
      // the DOM, and byte-faithful to what was received.
      ReserveLargeCopy(&rec.json, raw.size());
      rec.json.resize(raw.size());
      size_t len = 0;
      if (simdjson::minify(raw.data(), raw.size(), rec.json.data(), len) == simdjson::SUCCESS) {
        rec.json.resize(len);
      } else {
        rec.json = simdjson::minify(e);
      }
    } else {
      rec.json = simdjson::minify(e);
    }
    warnings_.clear();
    vopts_.warnings = &warnings_;
    if (auto st = detail::ValidateObject(o, vopts_); !st.ok()) {
      Report(where.Str(), std::string(id), std::string(st.message()));
      return absl::OkStatus();
    }
    if (auto st = Extract(o, &rec); !st.ok()) {
      Report(where.Str(), std::string(id), std::string(st.message()));
      return absl::OkStatus();
    }
    if (opts_.object_check) {
      if (auto st = opts_.object_check(rec); !st.ok()) {
        Report(where.Str(), std::string(id), std::string(st.message()));
        return absl::OkStatus();
      }
    }
    for (auto& w : warnings_) {
      ++stats_.warnings;
      on_problem_(Problem{where.Str(), std::string(id), std::move(w), /*warning=*/true});
    }
    if (opts_.with_dom) opts_.with_dom(o, &rec);
    ++stats_.objects;
    return on_object_(std::move(rec));
  }

  // Past opts_.max_listed_problems, problems are counted (stats_.rejected) but no longer
  // handed out, after one that says so: a hostile input of millions of bad elements costs a
  // counter each, not a report each.
  bool OnlyCounting() const { return listed_ > opts_.max_listed_problems; }
  void Report(std::string location, std::string id, std::string message) {
    ++stats_.rejected;
    if (listed_ < opts_.max_listed_problems) {
      ++listed_;
      on_problem_(Problem{std::move(location), std::move(id), std::move(message)});
    } else if (listed_ == opts_.max_listed_problems) {
      ++listed_;
      on_problem_(Problem{std::move(location), "",
                          common::Cat("more than ", opts_.max_listed_problems,
                                      " problems in this input: the rest are counted in the "
                                      "summary, not listed")});
    }
  }

  const ReaderOptions& opts_;
  const ObjectSink& on_object_;
  const ProblemSink& on_problem_;
  detail::ValidateOptions vopts_;
  std::vector<std::string> warnings_;
  uint64_t listed_ = 0;  // problems handed to on_problem_
  bool keep_minified_ = false;
  ParserLease parsers_;
  ReadStats stats_;
};

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// JSON lines when the first line is a complete JSON value by itself and another value follows.
bool LooksLikeJsonLines(std::string_view head) {
  size_t nl = head.find('\n');
  if (nl == std::string_view::npos) return false;
  std::string_view first = head.substr(0, nl);
  if (IsBlank(first) || IsBlank(head.substr(nl + 1))) return false;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return !p.parse(first.data(), first.size(), true).get(e);
}

}  // namespace

namespace {

// How much of the input decides between JSON lines and one document (LooksLikeJsonLines).
constexpr size_t kHeadBytes = 1u << 20;

// A growable byte buffer that is never zero-filled (std::string::resize writes every byte it
// adds), with SIMDJSON_PADDING spare bytes after the content so simdjson parses it in place.
class FileBuffer {
 public:
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }
  // Room for `n` more bytes (plus padding) after the content; returns where they go.
  char* Reserve(size_t n) {
    size_t need = size_ + n + simdjson::SIMDJSON_PADDING;
    if (need > cap_) {
      size_t cap = std::max(need, cap_ + cap_ / 2);
      auto fresh = std::make_unique_for_overwrite<char[]>(cap);
      if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
      data_ = std::move(fresh);
      cap_ = cap;
    }
    return data_.get() + size_;
  }
  void Grow(size_t n) { size_ += n; }
  // Zeroes the padding: simdjson may read it (its content does not change the result, but
  // reading bytes never written is best avoided).
  void PadWithZeros() {
    Reserve(0);
    std::memset(data_.get() + size_, 0, simdjson::SIMDJSON_PADDING);
  }
  void Clear() { size_ = 0; }
  // Releases memory a large document left behind.
  void Trim(size_t keep) {
    if (cap_ > keep) {
      data_.reset();
      cap_ = 0;
    }
    size_ = 0;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// Reads from `in` into `buf` until `buf` holds `limit` bytes or the input ends, in chunks of
// `chunk` bytes (the file's size, when known, so that a small file is read in one call).
absl::Status ReadUpTo(common::InputStream* in, FileBuffer* buf, size_t limit, size_t chunk,
                      bool* eof) {
  while (buf->size() < limit) {
    size_t want = std::min(chunk, limit - buf->size());
    char* at = buf->Reserve(want);
    ACCORD_ASSIGN_OR_RETURN(size_t r, in->Read(at, want));
    if (r == 0) {
      *eof = true;
      return absl::OkStatus();
    }
    buf->Grow(r);
  }
  return absl::OkStatus();
}

// The size of `path` when it is a regular file (the exact byte count unless it is gzip), else 0.
size_t FileSizeHint(const std::string& path) {
  struct stat st;
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<size_t>(st.st_size);
}

// A first line longer than the sniffed head, followed by more content: JSON lines whose first
// line is huge (or garbage), not one document. A pretty-printed document's first line is short,
// and a minified one has nothing but blanks after its one newline.
bool LongFirstLineThenMore(std::string_view data) {
  if (data.size() <= kHeadBytes) return false;
  const void* nl = std::memchr(data.data() + kHeadBytes, '\n', data.size() - kHeadBytes);
  if (!nl) return false;
  size_t at = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
  if (data.substr(0, kHeadBytes).find('\n') != std::string_view::npos) return false;
  return !IsBlank(data.substr(at + 1));
}

// The report for a line over max_line_bytes: where it is (line and byte offset) and how long.
Problem TooLongLine(const ReaderOptions& opts, uint64_t line_no, uint64_t offset, uint64_t len) {
  return Problem{common::Cat(opts.source_name, ":", line_no), "",
                 common::Cat("line of ", len, " bytes at byte offset ", offset,
                             " is longer than the limit of ", opts.max_line_bytes,
                             " bytes (--max-line-bytes); skipped")};
}

// JsonStreamReader's "NAME:LINE: rest" as a problem's location "NAME:LINE" and message "rest";
// a message of another shape stays whole, located at the source.
std::pair<std::string, std::string> SplitLocation(std::string_view msg, std::string_view name) {
  if (msg.substr(0, name.size()) == name && msg.substr(name.size(), 1) == ":") {
    size_t digits = name.size() + 1, end = digits;
    while (end < msg.size() && msg[end] >= '0' && msg[end] <= '9') ++end;
    if (end > digits && msg.substr(end, 2) == ": ") {
      return {std::string(msg.substr(0, end)), std::string(msg.substr(end + 2))};
    }
  }
  return {std::string(name), std::string(msg)};
}

// A bundle, a bare array, or concatenated / pretty-printed values, streamed element by element
// (bounded memory: one element at a time, never the whole document). A framing error keeps the
// objects before it and is reported as a problem naming byte offset and object index.
absl::StatusOr<ReadStats> ReadStreamed(std::unique_ptr<common::InputStream> in,
                                       const ReaderOptions& opts, const ObjectSink& on_object,
                                       const ProblemSink& on_problem) {
  ReaderImpl impl(opts, on_object, on_problem);
  common::JsonStreamReader reader(std::move(in), opts.source_name);
  std::string type, id, spec_version;
  reader.set_member_sink([&](std::string_view name, std::string_view raw) {
    // Only string values matter here (their JSON quotes removed; escapes do not occur in them).
    std::string v;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      v.assign(raw.substr(1, raw.size() - 2));
    }
    if (name == "type") type = v;
    if (name == "id") id = v;
    if (name == "spec_version") spec_version = v;
  });
  bool checked = false;
  bool refused = false;
  common::JsonElement el;
  while (true) {
    auto more = reader.Next(&el);
    if (!more.ok()) {
      // An unreadable input (a read error, a gzip bomb) fails the read, as it does for JSON
      // lines; a framing error keeps the objects before it and is reported as a problem.
      if (reader.input_failed() || (more.status().code() != absl::StatusCode::kInvalidArgument &&
                                    more.status().code() != absl::StatusCode::kResourceExhausted)) {
        return more.status();
      }
      auto [location, message] = SplitLocation(
          std::string_view(more.status().message().data(), more.status().message().size()),
          opts.source_name);
      impl.ReportInput(std::move(location), std::move(message));
      break;
    }
    if (!*more) break;
    if (el.container == common::JsonContainer::kBundleObjects && !checked) {
      checked = true;
      if (!type.empty() && type != "bundle") {
        impl.ReportInput(opts.source_name,
                         common::Cat("a top-level object with an 'objects' array must be a "
                                     "bundle (type 'bundle'), found type '",
                                     type, "'; its objects are refused"));
        refused = true;
      } else if (id.substr(0, 8) != "bundle--") {
        impl.ReportInput(opts.source_name, "a bundle's 'id' must have the form bundle--<UUID>");
      }
    }
    if (refused && el.container == common::JsonContainer::kBundleObjects) continue;
    ACCORD_RETURN_IF_ERROR(impl.Element(el, spec_version));
  }
  return impl.stats();
}

absl::StatusOr<ReadStats> ReadEnvelopeImpl(std::unique_ptr<common::InputStream> in,
                                           const ReaderOptions& opts, const ObjectSink& on_object,
                                           const ProblemSink& on_problem,
                                           const MemberSink& on_member) {
  ReaderImpl impl(opts, on_object, on_problem);
  common::JsonStreamReader reader(std::move(in), opts.source_name);
  reader.set_member_sink(on_member);
  common::JsonElement el;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool more, reader.Next(&el));
    if (!more) break;
    if (el.container == common::JsonContainer::kBundleObjects) {
      ACCORD_RETURN_IF_ERROR(impl.Element(el, ""));
      continue;
    }
    // A top-level value without an `objects` array: an envelope of no objects (§3.7: it may
    // be absent), whose members are read here; anything else is not an envelope.
    simdjson::dom::parser parser;
    simdjson::dom::object o;
    if (el.container != common::JsonContainer::kValue || el.index != 1 ||
        parser.parse(el.bytes.data(), el.bytes.size()).get_object().get(o)) {
      return absl::InvalidArgumentError(common::Cat(opts.source_name, ": byte offset ", el.offset,
                                                    ": not a TAXII envelope (a JSON object)"));
    }
    for (auto [key, value] : o) on_member(key, simdjson::minify(value));
  }
  return impl.stats();
}

// `data` as JSON lines, the first numbered `first_line` and starting at byte `first_offset` in
// locations.
absl::StatusOr<ReadStats> ReadLines(ReaderImpl& impl, std::string_view data, uint64_t first_line,
                                    uint64_t first_offset, const ReaderOptions& options,
                                    const ProblemSink& on_problem) {
  uint64_t line_no = first_line - 1;
  size_t pos = 0;
  ReadStats extra;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    std::string_view line = data.substr(pos, nl - pos);
    const uint64_t line_offset = first_offset + pos;
    ++line_no;
    pos = nl + 1;
    if (line.size() > options.max_line_bytes) {
      // Never handed to the parser: its DOM would cost ~10x the line.
      ++extra.rejected;
      on_problem(TooLongLine(options, line_no, line_offset, line.size()));
      continue;
    }
    if (IsBlank(line)) continue;
    ACCORD_RETURN_IF_ERROR(impl.Document(line, line_no - 1, true));
  }
  ReadStats s = impl.stats();
  s.rejected += extra.rejected;
  return s;
}

// ReadBuffer, told whether `data` is followed by SIMDJSON_PADDING readable bytes.
absl::StatusOr<ReadStats> ReadBufferImpl(std::string_view data, bool padded,
                                         const ReaderOptions& options, const ObjectSink& on_object,
                                         const ProblemSink& on_problem) {
  ReaderImpl impl(options, on_object, on_problem);
  if (IsBlank(data)) {
    on_problem(Problem{options.source_name, "", "empty input: no STIX content"});
    ReadStats s;
    s.rejected = 1;
    return s;
  }
  if (LooksLikeJsonLines(data.substr(0, kHeadBytes)) || LongFirstLineThenMore(data)) {
    return ReadLines(impl, data, 1, 0, options, on_problem);
  }
  ACCORD_RETURN_IF_ERROR(impl.Document(data, 0, false, padded));
  return impl.stats();
}

}  // namespace

absl::StatusOr<ReadStats> ReadJsonLines(std::string_view data, uint64_t first_line,
                                        uint64_t first_offset, bool minified,
                                        const ReaderOptions& options, const ObjectSink& on_object,
                                        const ProblemSink& on_problem) {
  ReaderImpl impl(options, on_object, on_problem);
  if (minified) impl.KeepMinified();
  return ReadLines(impl, data, first_line, first_offset, options, on_problem);
}

absl::StatusOr<ReadStats> ReadBuffer(std::string_view data, const ReaderOptions& options,
                                     const ObjectSink& on_object, const ProblemSink& on_problem) {
  return ReadBufferImpl(data, /*padded=*/false, options, on_object, on_problem);
}

absl::StatusOr<ReadStats> ReadFile(const std::string& path, const ReaderOptions& options,
                                   const ObjectSink& on_object, const ProblemSink& on_problem) {
  ReaderOptions opts = options;
  if (opts.source_name == "<input>") opts.source_name = path == "-" ? "<stdin>" : path;
  ACCORD_ASSIGN_OR_RETURN(auto in, common::InputStream::Open(path));
  // PERF: one buffer per thread, reused from file to file, never zero-filled, and read in
  // chunks of the file's own size: the former 1 MiB zero-filled head and 1 MiB chunks per file
  // dominated reading many small files (see ParserLease). A nested read gets its own buffer.
  thread_local FileBuffer cached;
  thread_local bool cached_in_use = false;
  FileBuffer own;
  FileBuffer* buf = cached_in_use ? &own : &cached;
  bool lent = buf == &cached;
  if (lent) cached_in_use = true;
  struct Return {
    FileBuffer* buf;
    bool lent;
    ~Return() {
      if (!lent) return;
      buf->Trim(64u << 20);
      cached_in_use = false;
    }
  } give_back{buf, lent};
  buf->Clear();

  size_t hint = FileSizeHint(path);
  // A gzip file inflates to several times its size: start there and grow.
  size_t chunk = std::clamp<size_t>(hint + 1, 4096, kHeadBytes);
  bool eof = false;
  // Peek at the head to choose between streaming JSON lines and a whole document.
  ACCORD_RETURN_IF_ERROR(ReadUpTo(in.get(), buf, kHeadBytes, chunk, &eof));
  // The sniff reads at most kHeadBytes. A head without a newline means a first line longer than
  // that: if it cannot start a JSON document it is a bad first line of JSON lines; if it can,
  // it is read as a document up to max_document_bytes, and past that its first line is
  // skipped as over-long and the lines after it are read (a 2 GB garbage first line must not
  // cost the valid lines behind it).
  std::string_view head_view = buf->view();
  if (eof && IsBlank(head_view)) {
    on_problem(Problem{opts.source_name, "", "empty input: no STIX content"});
    ReadStats s;
    s.rejected = 1;
    return s;
  }
  bool no_newline = !eof && head_view.find('\n') == std::string_view::npos;
  size_t first = head_view.find_first_not_of(" \t\r");
  bool can_be_document =
      first != std::string_view::npos && (head_view[first] == '{' || head_view[first] == '[');
  uint64_t skipped_first_line = 0;  // > 0: line 1 was skipped, this long
  std::string head;
  if (no_newline && !can_be_document) {
    head.assign(head_view);
  } else if (!LooksLikeJsonLines(head_view) &&
             (!no_newline || head_view.find("\"objects\"") != std::string_view::npos)) {
    // (A first line longer than the head that is not a bundle goes the way below: read whole up
    // to max_document_bytes, else skipped as an over-long first line of JSON lines.)
    // A bundle, an array or pretty-printed values: streamed, one element at a time.
    return ReadStreamed(common::InputStream::Prefixed(std::string(head_view), std::move(in)), opts,
                        on_object, on_problem);
  } else if (!LooksLikeJsonLines(head_view)) {
    // Whole document: read the rest and parse it in place.
    while (!eof && buf->size() <= opts.max_document_bytes) {
      size_t next = std::max<size_t>(buf->size(), kHeadBytes);  // doubles the buffer each time
      // Never more than one byte past the limit: that byte says "over".
      size_t limit =
          static_cast<size_t>(std::min<uint64_t>(buf->size() + next, opts.max_document_bytes + 1));
      ACCORD_RETURN_IF_ERROR(ReadUpTo(in.get(), buf, limit, next, &eof));
    }
    if (buf->size() <= opts.max_document_bytes) {
      buf->PadWithZeros();
      return ReadBufferImpl(buf->view(), /*padded=*/true, opts, on_object, on_problem);
    }
    std::string_view v = buf->view();
    if (!no_newline) {
      return absl::ResourceExhaustedError(common::Cat(
          opts.source_name, ": document larger than ", opts.max_document_bytes,
          " bytes (--max-document-bytes); split it or use JSON lines (one object per line), "
          "which stream"));
    }
    // Skip the rest of line 1 without keeping it (linear: each byte is looked at once).
    size_t nl = v.find('\n');
    uint64_t seen = v.size();
    std::string chunk_buf;
    while (nl == std::string_view::npos && !eof) {
      chunk_buf.resize(1 << 20);
      ACCORD_ASSIGN_OR_RETURN(size_t r, in->Read(chunk_buf.data(), chunk_buf.size()));
      chunk_buf.resize(r);
      if (r == 0) {
        eof = true;
        break;
      }
      v = chunk_buf;
      nl = v.find('\n');
      seen += nl == std::string_view::npos ? r : nl;
    }
    if (nl != std::string_view::npos && v.data() == buf->data()) seen = nl;
    skipped_first_line = std::max<uint64_t>(seen, 1);
    head.assign(nl == std::string_view::npos ? std::string_view{} : v.substr(nl + 1));
    buf->Clear();
  } else {
    head.assign(head_view);
  }
  // JSON lines: bounded memory, one line at a time.
  common::LineReader lines(common::InputStream::Prefixed(std::move(head), std::move(in)),
                           opts.max_line_bytes);
  ReaderImpl impl(opts, on_object, on_problem);
  ReadStats extra;
  // Line numbers and offsets continue after a first line skipped above.
  const uint64_t line_base = skipped_first_line > 0 ? 1 : 0;
  const uint64_t offset_base = skipped_first_line > 0 ? skipped_first_line + 1 : 0;
  if (skipped_first_line > 0) {
    ++extra.rejected;
    on_problem(TooLongLine(opts, 1, 0, skipped_first_line));
  }
  std::string_view line;
  uint64_t line_no = 0;
  bool too_long = false;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool more, lines.Next(&line, &line_no, &too_long));
    if (!more) break;
    line_no += line_base;
    if (too_long) {
      ++extra.rejected;
      on_problem(TooLongLine(opts, line_no, offset_base + lines.line_offset(), lines.line_bytes()));
      continue;
    }
    if (IsBlank(line)) continue;
    ACCORD_RETURN_IF_ERROR(impl.Document(line, line_no - 1, true));
  }
  ReadStats s = impl.stats();
  s.rejected += extra.rejected;
  return s;
}

absl::StatusOr<ReadStats> ReadEnvelope(std::unique_ptr<common::InputStream> in,
                                       const ReaderOptions& options, const ObjectSink& on_object,
                                       const ProblemSink& on_problem, const MemberSink& on_member) {
  return ReadEnvelopeImpl(std::move(in), options, on_object, on_problem, on_member);
}

// The one list of STIX 2.1 SCO types is the validator's schema table (validate_schema.cc).
bool IsScoType(std::string_view type) { return detail::IsSco(type); }

bool IsStandardType(std::string_view type) { return detail::Specs().count(type) > 0; }

}  // namespace accord::stix
