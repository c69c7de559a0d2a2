#include "accord/formats/formats.h"

#include <array>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "stix/sco_id.h"

namespace accord::formats {

const std::string_view kReadableFormats =
    "stix (a bundle, object, array or JSON lines), misp (MISP event JSON, one event or many, "
    "or a MISP feed folder), csv (with --columns), list (one value a line) and text (free text: "
    "reports, e-mails, chats)";

namespace {

constexpr std::array<std::string_view, 5> kFormatNames = {"stix", "misp", "csv", "list", "text"};
constexpr std::array<std::string_view, kValueKindCount> kKindNames = {
    "ipv4",  "ipv6", "ipv4-cidr", "ipv6-cidr", "domain", "url",
    "email", "md5",  "sha1",      "sha256",    "sha512", "cve"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string_view LowerExt(std::string_view name, std::string* buf) {
  if (EndsWith(name, ".gz")) name.remove_suffix(3);
  size_t dot = name.rfind('.');
  size_t slash = name.find_last_of("/\\");
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
  buf->assign(name.substr(dot));
  for (char& c : *buf) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return *buf;
}

// True when the head looks like text (no NUL, few control bytes).
bool LooksLikeText(std::string_view head) {
  size_t bad = 0;
  for (unsigned char c : head) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') ++bad;
  }
  return bad * 100 <= head.size();
}

// Scans the head of a JSON document for a member name (cheap: the sniff only needs a hint).
bool HasKey(std::string_view head, std::string_view key) {
  std::string quoted = common::Cat("\"", key, "\"");
  return head.find(quoted) != std::string_view::npos;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  common::AppendJsonEscaped(out, s);
  out->push_back('"');
}

void AppendPatternString(std::string* out, std::string_view s) {
  out->push_back('\'');
  for (char c : s) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

std::string_view FormatName(Format f) { return kFormatNames[static_cast<size_t>(f)]; }

absl::StatusOr<Format> ParseFormat(std::string_view name) {
  for (size_t i = 0; i < kFormatNames.size(); ++i) {
    if (name == kFormatNames[i]) return static_cast<Format>(i);
  }
  return absl::InvalidArgumentError(
      common::Cat("unknown format '", name, "': Accord reads ", kReadableFormats));
}

std::optional<Sniffed> Sniff(std::string_view name, std::string_view head) {
  std::string ext_buf;
  std::string_view ext = LowerExt(name, &ext_buf);
  size_t i = 0;
  if (head.size() >= 3 && static_cast<unsigned char>(head[0]) == 0xEF &&
      static_cast<unsigned char>(head[1]) == 0xBB && static_cast<unsigned char>(head[2]) == 0xBF) {
    i = 3;  // UTF-8 byte order mark
  }
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
    ++i;
  if (!LooksLikeText(head)) return std::nullopt;
  if (i == head.size()) return Sniffed{Format::kStix, "empty: the STIX reader reports it"};
  if (i < head.size() && (head[i] == '{' || head[i] == '[')) {
    // JSON: STIX has "type" with "spec_version", bundles and "objects"; MISP has "Event",
    // "Attribute" or a feed manifest's "info"/"uuid" map.
    bool misp = HasKey(head, "Event") || HasKey(head, "Attribute") || HasKey(head, "response") ||
                (HasKey(head, "info") && HasKey(head, "threat_level_id"));
    bool stix =
        HasKey(head, "spec_version") || HasKey(head, "objects") || (HasKey(head, "type") && !misp);
    if (misp && !HasKey(head, "spec_version")) {
      return Sniffed{Format::kMisp, "JSON with MISP's \"Event\"/\"Attribute\" members"};
    }
    if (stix) return Sniffed{Format::kStix, "JSON with STIX's \"type\"/\"spec_version\" members"};
    // JSON lines: the STIX reader reports each line that is no STIX object, and reads on.
    if (ext == ".jsonl" || ext == ".ndjson") {
      return Sniffed{Format::kStix, common::Cat("JSON lines (", ext, ")")};
    }
    return std::nullopt;
  }
  // Named as JSON but not JSON at its start: the STIX reader says where and why, line by line.
  if (ext == ".json" || ext == ".jsonl" || ext == ".ndjson") {
    return Sniffed{Format::kStix, common::Cat("named ", ext, ", so read as STIX")};
  }
  if (ext == ".csv" || ext == ".tsv") {
    return Sniffed{Format::kCsv, common::Cat("file name ends in ", ext)};
  }
  // One value a line (comments allowed) is a list; prose is text.
  size_t lines = 0, listy = 0;
  size_t pos = i;
  while (pos < head.size() && lines < 200) {
    size_t eol = head.find('\n', pos);
    bool last = eol == std::string_view::npos;
    if (last && lines > 0) break;  // the head may cut the last line
    std::string_view line = head.substr(pos, last ? std::string_view::npos : eol - pos);
    pos = last ? head.size() : eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    ++lines;
    if (line.find(' ') == std::string_view::npos && line.find('\t') == std::string_view::npos &&
        line.size() <= 2048) {
      ++listy;
    }
  }
  if (lines > 0 && listy * 10 >= lines * 9) {
    return Sniffed{Format::kList, "one value a line"};
  }
  return Sniffed{Format::kText, "prose: not JSON, CSV or one value a line"};
}

std::string_view ValueKindName(ValueKind k) { return kKindNames[static_cast<size_t>(k)]; }

std::optional<ValueKind> ParseValueKind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (name == kKindNames[i]) return static_cast<ValueKind>(i);
  }
  return std::nullopt;
}

std::optional<std::string> PatternFor(const Value& v) {
  std::string p = "[";
  switch (v.kind) {
    case ValueKind::kIpv4:
    case ValueKind::kIpv4Cidr: p += "ipv4-addr:value = "; break;
    case ValueKind::kIpv6:
    case ValueKind::kIpv6Cidr: p += "ipv6-addr:value = "; break;
    case ValueKind::kDomain: p += "domain-name:value = "; break;
    case ValueKind::kUrl: p += "url:value = "; break;
    case ValueKind::kEmail: p += "email-addr:value = "; break;
    case ValueKind::kMd5: p += "file:hashes.MD5 = "; break;
    case ValueKind::kSha1: p += "file:hashes.'SHA-1' = "; break;
    case ValueKind::kSha256: p += "file:hashes.'SHA-256' = "; break;
    case ValueKind::kSha512: p += "file:hashes.'SHA-512' = "; break;
    case ValueKind::kCve: return std::nullopt;
  }
  AppendPatternString(&p, v.value);
  p += ']';
  return p;
}

std::string DerivedId(std::string_view type, std::string_view name) {
  return common::Cat(type, "--", stix::detail::UuidV5(kAccordNamespace, name));
}

std::string IndicatorFor(const Value& v, const ConvertOptions& o, std::string_view extra) {
  std::string pattern = PatternFor(v).value_or("");
  std::string ts = common::FormatTimestampMillis(o.now);
  std::string out = R"({"type":"indicator","spec_version":"2.1","id":")";
  out += DerivedId("indicator", pattern);
  out += R"(","created":")";
  out += ts;
  out += R"(","modified":")";
  out += ts;
  out += R"(","name":)";
  AppendJsonString(&out, common::Cat(ValueKindName(v.kind), " ", v.value));
  out += R"(,"pattern_type":"stix","pattern":)";
  AppendJsonString(&out, pattern);
  out += R"(,"valid_from":")";
  out += ts;
  out += '"';
  if (!o.created_by_ref.empty()) {
    out += R"(,"created_by_ref":)";
    AppendJsonString(&out, o.created_by_ref);
  }
  if (!o.labels.empty()) {
    out += R"(,"labels":[)";
    for (size_t i = 0; i < o.labels.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(&out, o.labels[i]);
    }
    out += ']';
  }
  if (!extra.empty()) {
    out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

}  // namespace accord::formats
