// Logs as stream messages (framing.h).
#include "accord/stream/framing.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>
#include <utility>

#include "absl/strings/str_split.h"
#include "accord/common/encoding.h"
#include "accord/common/strings.h"

namespace accord::stream {

namespace {

// Largest JSON array input read whole (the bound `accord import` puts on one document).
constexpr size_t kMaxArrayBytes = 1u << 30;

bool IsJsonNumber(std::string_view v) {
  // JSON's grammar (RFC 8259 §6): -? int frac? exp?
  size_t i = 0;
  if (i < v.size() && v[i] == '-') ++i;
  if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  if (v[i] == '0') {
    ++i;
  } else {
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  }
  if (i < v.size() && v[i] == '.') {
    ++i;
    if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  }
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  }
  return i == v.size();
}

bool IsNumericType(std::string_view t) {
  return t == "count" || t == "int" || t == "port" || t == "double" || t == "time" ||
         t == "interval";
}

// One scalar of Zeek type `type` as JSON. Zeek's ASCII writer writes an empty string as the
// #empty_field marker `empty` (and a string equal to the marker escaped, "\x28empty)"); its
// JSON writer writes "".
void AppendValue(std::string* out, std::string_view type, std::string_view v,
                 std::string_view empty) {
  if (v == empty) {
    out->append("\"\"");
  } else if (IsNumericType(type) && IsJsonNumber(v)) {
    out->append(v);
  } else if (type == "bool" && (v == "T" || v == "F")) {
    out->append(v == "T" ? "true" : "false");
  } else {
    out->push_back('"');
    common::AppendJsonEscaped(out, v);
    out->push_back('"');
  }
}

// "\x09" -> tab; a single byte as itself.
std::optional<char> HeaderByte(std::string_view v) {
  if (v.size() == 4 && v[0] == '\\' && v[1] == 'x' &&
      std::isxdigit(static_cast<unsigned char>(v[2])) &&
      std::isxdigit(static_cast<unsigned char>(v[3]))) {
    return static_cast<char>(std::stoi(std::string(v.substr(2)), nullptr, 16));
  }
  if (v.size() == 1) return v[0];
  return std::nullopt;
}

}  // namespace

LogFramer::LogFramer(std::unique_ptr<common::InputStream> in, std::string source, Sink on_skipped)
    : lines_(std::move(in)), source_(std::move(source)), sink_(std::move(on_skipped)) {}

void LogFramer::Skip(std::string_view why) {
  ++stats_.skipped;
  if (sink_) sink_(common::Cat(source_, ":", line_no_), why);
}

void LogFramer::SkipOversized(size_t bytes) {
  Skip(common::Cat("event of ", bytes, " bytes is longer than a message may be (", kMaxMessageBytes,
                   ")"));
}

absl::StatusOr<bool> LogFramer::NextElement(std::string* msg) {
  while (next_element_ < elements_.size()) {
    line_no_ = next_element_ + 1;
    std::string& e = elements_[next_element_++];
    if (e.size() > kMaxMessageBytes) {
      SkipOversized(e.size());
      continue;
    }
    *msg = std::move(e);
    ++stats_.messages;
    return true;
  }
  return false;
}

absl::StatusOr<bool> LogFramer::Next(std::string* msg) {
  // An error ends the input: it is returned again, and nothing after it is read.
  if (!error_.ok()) return error_;
  absl::StatusOr<bool> r = NextUnchecked(msg);
  if (!r.ok()) error_ = r.status();
  return r;
}

absl::StatusOr<bool> LogFramer::NextUnchecked(std::string* msg) {
  if (array_) return NextElement(msg);
  for (;;) {
    std::string_view line;
    bool too_long = false;
    ACCORD_ASSIGN_OR_RETURN(bool more, lines_.Next(&line, &line_no_, &too_long));
    if (!more) return false;
    ++stats_.lines;
    if (too_long) {
      Skip(common::Cat("line of ", lines_.line_bytes(), " bytes is longer than the limit of ",
                       lines_.max_line(), " bytes"));
      continue;
    }
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    if (!started_ && line[first] == '[') {
      // A JSON array: read whole, within a bound, and hand out its elements.
      std::string text(line);
      for (;;) {
        ACCORD_ASSIGN_OR_RETURN(bool m, lines_.Next(&line, &line_no_, &too_long));
        if (!m) break;
        if (too_long)
          return absl::InvalidArgumentError(
              common::Cat(source_, ":", line_no_, ": line too long in a JSON array"));
        text.push_back('\n');
        text.append(line);
        if (text.size() > kMaxArrayBytes) {
          return absl::ResourceExhaustedError(common::Cat(source_, ": JSON array larger than ",
                                                          kMaxArrayBytes,
                                                          " bytes; write it as JSON lines"));
        }
      }
      nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_array()) {
        return absl::InvalidArgumentError(
            common::Cat(source_, ": starts with '[' but is not a JSON array"));
      }
      array_ = true;
      elements_.reserve(doc.size());
      for (const nlohmann::json& e : doc) {
        elements_.push_back(e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      stats_.lines = elements_.size();
      return NextElement(msg);
    }
    started_ = true;
    if (line[first] == '{') {
      if (line.size() > kMaxMessageBytes) {
        SkipOversized(line.size());
        continue;
      }
      msg->assign(line);
      ++stats_.messages;
      return true;
    }
    if (line[0] == '#') {
      ACCORD_RETURN_IF_ERROR(Header(line));
      continue;
    }
    if (names_.empty()) {
      return absl::InvalidArgumentError(
          common::Cat(source_, ":", line_no_, ": Zeek TSV data before any #fields header"));
    }
    if (Row(line, msg)) {
      ++stats_.messages;
      return true;
    }
  }
}

absl::Status LogFramer::Header(std::string_view line) {
  // "#separator \x09" uses a space; the others use the separator.
  size_t sp = 0;
  while (sp < line.size() && line[sp] != ' ' && line[sp] != sep_) ++sp;
  if (sp == line.size()) sp = std::string_view::npos;
  std::string_view key = line.substr(0, sp == std::string_view::npos ? line.size() : sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        common::Cat(source_, ":", line_no_, ": invalid Zeek header: ", why));
  };
  if (key == "#separator") {
    auto b = HeaderByte(rest);
    if (!b) return bad("#separator must be \\xHH");
    sep_ = *b;
    // A new header block (a rotated or concatenated log): its own fields follow.
    names_.clear();
    types_.clear();
    path_.clear();
  } else if (key == "#set_separator") {
    auto b = HeaderByte(rest);
    if (!b) return bad("#set_separator must be one byte");
    set_sep_ = *b;
  } else if (key == "#empty_field") {
    empty_ = rest;
  } else if (key == "#unset_field") {
    unset_ = rest;
  } else if (key == "#path") {
    path_ = rest;
  } else if (key == "#fields") {
    names_ = absl::StrSplit(absl::string_view(rest.data(), rest.size()), sep_);
    types_.clear();
  } else if (key == "#types") {
    types_ = absl::StrSplit(absl::string_view(rest.data(), rest.size()), sep_);
    if (types_.size() != names_.size()) return bad("#types and #fields differ in length");
  }
  // #open, #close and comments carry nothing an event needs.
  return absl::OkStatus();
}

bool LogFramer::Row(std::string_view line, std::string* msg) {
  values_.clear();
  size_t start = 0;
  while (start <= line.size()) {
    size_t e = line.find(sep_, start);
    if (e == std::string_view::npos) e = line.size();
    values_.push_back(line.substr(start, e - start));
    start = e + 1;
  }
  if (values_.size() != names_.size()) {
    Skip("field count differs from #fields");
    return false;
  }
  msg->clear();
  msg->push_back('{');
  bool first = true;
  if (!path_.empty()) {
    msg->append("\"_path\":\"");
    common::AppendJsonEscaped(msg, path_);
    msg->push_back('"');
    first = false;
  }
  for (size_t i = 0; i < values_.size(); ++i) {
    std::string_view v = values_[i];
    if (v == unset_) continue;
    if (!first) msg->push_back(',');
    first = false;
    msg->push_back('"');
    common::AppendJsonEscaped(msg, names_[i]);
    msg->append("\":");
    std::string_view type = i < types_.size() ? std::string_view(types_[i]) : "string";
    bool container = type.rfind("set[", 0) == 0 || type.rfind("vector[", 0) == 0;
    if (!container) {
      AppendValue(msg, type, v, empty_);
      continue;
    }
    std::string_view inner = type.substr(type.find('[') + 1);
    if (!inner.empty() && inner.back() == ']') inner.remove_suffix(1);
    msg->push_back('[');
    if (v != empty_) {
      size_t s = 0;
      bool first_item = true;
      while (s <= v.size()) {
        size_t e = v.find(set_sep_, s);
        if (e == std::string_view::npos) e = v.size();
        if (!first_item) msg->push_back(',');
        first_item = false;
        AppendValue(msg, inner, v.substr(s, e - s), empty_);
        s = e + 1;
      }
    }
    msg->push_back(']');
  }
  msg->push_back('}');
  if (msg->size() > kMaxMessageBytes) {
    SkipOversized(msg->size());
    return false;
  }
  return true;
}

}  // namespace accord::stream
