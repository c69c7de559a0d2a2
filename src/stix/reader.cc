#include "accord/stix/reader.h"

#include <simdjson.h>

#include "accord/common/strings.h"
#include "accord/common/io.h"
#include "stix/validate.h"

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
  return absl::OkStatus();
}

// Where an object sits in the input, formatted only when something is reported
// (PERF: formatting it for every accepted object cost ~3% of an import).
struct Where {
  std::string_view source;
  uint64_t line = 0;    // 1-based; 0 when the input is one document
  uint64_t object = 0;  // 1-based index in a bundle or array; 0 for none
  std::string Str() const {
    std::string out(source);
    if (line) common::Append(&out, ":", line);
    if (object) common::Append(&out, ": object #", object);
    return out;
  }
};

class ReaderImpl {
 public:
  ReaderImpl(const ReaderOptions& opts, const ObjectSink& on_object, const ProblemSink& on_problem)
      : opts_(opts), on_object_(on_object), on_problem_(on_problem) {
    vopts_.check_sco_ids = opts.check_sco_ids;
  }

  ReadStats stats() const { return stats_; }

  // One JSON document held in `text` (a whole file or one line). `line_base` is added to the
  // line numbers of locations (JSON lines: the line's number minus one).
  absl::Status Document(std::string_view text, uint64_t line_base, bool is_line) {
    element root;
    auto err = parser_.parse(text.data(), text.size(), true).get(root);
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
        ACCORD_RETURN_IF_ERROR(One(e, w, ""));
      }
      return absl::OkStatus();
    }
    if (root.type() != element_type::OBJECT) {
      Report(where.Str(), "", common::Cat("expected a STIX bundle or object, found ",
                                     TypeName(root.type())));
      return absl::OkStatus();
    }
    object o = root.get_object().value_unsafe();
    std::string_view type;
    if (!o["type"].get_string().get(type) && type == "bundle") {
      return Bundle(o, where);
    }
    // A document that is one object: keep its own bytes (minified), not a re-serialisation.
    Where w = where;
    if (!is_line) w.object = 1;
    return One(root, w, "", text);
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
      ACCORD_RETURN_IF_ERROR(One(e, w, bundle_sv));
    }
    return absl::OkStatus();
  }

  absl::Status One(element e, const Where& where, std::string_view bundle_sv,
                   std::string_view raw = {}) {
    if (e.type() != element_type::OBJECT) {
      Report(where.Str(), "", common::Cat("expected a STIX object, found ", TypeName(e.type())));
      return absl::OkStatus();
    }
    object o = e.get_object().value_unsafe();
    std::string_view id = StrOr(o, "id");
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
      if (auto err = upgrade_parser_.parse(*up).get(ue); err || ue.type() != element_type::OBJECT) {
        Report(where.Str(), std::string(id), "internal error: upgraded object does not parse");
        return absl::OkStatus();
      }
      o = ue.get_object().value_unsafe();
      rec.json = std::move(*up);
      ++stats_.upgraded;
    } else if (!raw.empty()) {
      // PERF: simdjson's SIMD minifier over the original bytes; ~3x cheaper than serialising
      // the DOM, and byte-faithful to what was received.
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
    ++stats_.objects;
    return on_object_(std::move(rec));
  }

  void Report(std::string location, std::string id, std::string message) {
    ++stats_.rejected;
    on_problem_(Problem{std::move(location), std::move(id), std::move(message)});
  }

  const ReaderOptions& opts_;
  const ObjectSink& on_object_;
  const ProblemSink& on_problem_;
  detail::ValidateOptions vopts_;
  std::vector<std::string> warnings_;
  simdjson::dom::parser parser_;
  simdjson::dom::parser upgrade_parser_;
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

absl::StatusOr<ReadStats> ReadBuffer(std::string_view data, const ReaderOptions& options,
                                     const ObjectSink& on_object, const ProblemSink& on_problem) {
  ReaderImpl impl(options, on_object, on_problem);
  if (IsBlank(data)) {
    on_problem(Problem{options.source_name, "", "empty input: no STIX content"});
    ReadStats s;
    s.rejected = 1;
    return s;
  }
  if (LooksLikeJsonLines(data.substr(0, 1 << 20))) {
    uint64_t line_no = 0;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string_view::npos) nl = data.size();
      std::string_view line = data.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      if (IsBlank(line)) continue;
      ACCORD_RETURN_IF_ERROR(impl.Document(line, line_no - 1, true));
    }
    return impl.stats();
  }
  ACCORD_RETURN_IF_ERROR(impl.Document(data, 0, false));
  return impl.stats();
}

absl::StatusOr<ReadStats> ReadFile(const std::string& path, const ReaderOptions& options,
                                   const ObjectSink& on_object, const ProblemSink& on_problem) {
  ReaderOptions opts = options;
  if (opts.source_name == "<input>") opts.source_name = path == "-" ? "<stdin>" : path;
  ACCORD_ASSIGN_OR_RETURN(auto in, common::InputStream::Open(path));
  // Peek at the head to choose between streaming JSON lines and a whole document.
  std::string head(1 << 20, '\0');
  size_t got = 0;
  while (got < head.size()) {
    ACCORD_ASSIGN_OR_RETURN(size_t r, in->Read(head.data() + got, head.size() - got));
    if (r == 0) break;
    got += r;
  }
  head.resize(got);
  if (!LooksLikeJsonLines(head)) {
    // Whole document: read the rest and parse it at once.
    std::string all = std::move(head);
    size_t chunk = 1 << 20;
    while (true) {
      size_t old = all.size();
      all.resize(old + chunk);
      ACCORD_ASSIGN_OR_RETURN(size_t r, in->Read(all.data() + old, chunk));
      all.resize(old + r);
      if (r == 0) break;
      if (all.size() > opts.max_document_bytes) {
        return absl::ResourceExhaustedError(common::Cat(
            opts.source_name, ": document larger than ", opts.max_document_bytes,
            " bytes; split it or use JSON lines (one object per line), which stream"));
      }
    }
    return ReadBuffer(all, opts, on_object, on_problem);
  }
  // JSON lines: bounded memory, one line at a time.
  class PrefixedStream : public common::InputStream {
   public:
    PrefixedStream(std::string head, std::unique_ptr<common::InputStream> rest)
        : head_(std::move(head)), rest_(std::move(rest)) {}
    absl::StatusOr<size_t> Read(char* buf, size_t n) override {
      if (pos_ < head_.size()) {
        size_t k = std::min(n, head_.size() - pos_);
        std::memcpy(buf, head_.data() + pos_, k);
        pos_ += k;
        return k;
      }
      return rest_->Read(buf, n);
    }

   private:
    std::string head_;
    size_t pos_ = 0;
    std::unique_ptr<common::InputStream> rest_;
  };
  common::LineReader lines(std::make_unique<PrefixedStream>(std::move(head), std::move(in)),
                           opts.max_line_bytes);
  ReaderImpl impl(opts, on_object, on_problem);
  ReadStats extra;
  std::string_view line;
  uint64_t line_no = 0;
  bool too_long = false;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool more, lines.Next(&line, &line_no, &too_long));
    if (!more) break;
    if (too_long) {
      ++extra.rejected;
      on_problem(Problem{common::Cat(opts.source_name, ":", line_no), "",
                         common::Cat("line longer than ", opts.max_line_bytes, " bytes")});
      continue;
    }
    if (IsBlank(line)) continue;
    ACCORD_RETURN_IF_ERROR(impl.Document(line, line_no - 1, true));
  }
  ReadStats s = impl.stats();
  s.rejected += extra.rejected;
  return s;
}

bool IsScoType(std::string_view type) {
  static constexpr std::string_view kSco[] = {
      "artifact",  "autonomous-system", "directory",  "domain-name",  "email-addr",
      "email-message", "file",          "ipv4-addr",  "ipv6-addr",    "mac-addr",
      "mutex",     "network-traffic",   "process",    "software",     "url",
      "user-account", "windows-registry-key", "x509-certificate"};
  for (auto t : kSco) {
    if (t == type) return true;
  }
  return false;
}

}  // namespace accord::stix
