#include "accord/http/message.h"

#include "accord/common/encoding.h"

#include <cctype>
#include <cstdint>
#include "accord/common/strings.h"
#include "http/text.h"

namespace accord::http {
namespace {

// One media range of an Accept or Content-Type value: "type/subtype" plus the parameters we
// look at. Lower-cased.
struct MediaRange {
  std::string type;
  std::optional<std::string> version;
  double q = 1.0;
};

MediaRange ParseRange(std::string_view item) {
  MediaRange r;
  bool first = true;
  for (std::string_view part : text::Split(item, ';')) {
    part = text::Trim(part);
    if (first) {
      r.type = text::Lower(part);
      first = false;
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = text::Lower(text::Trim(part.substr(0, eq)));
    std::string_view value = text::Trim(part.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (name == "version") {
      r.version = std::string(value);
    } else if (name == "q") {
      char* end = nullptr;
      std::string v(value);
      double q = std::strtod(v.c_str(), &end);
      r.q = (end == v.c_str()) ? 1.0 : q;
    }
  }
  return r;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool AcceptsTaxii21(std::string_view accept) {
  if (text::Trim(accept).empty()) return true;
  for (std::string_view item : text::Split(accept, ',')) {
    MediaRange r = ParseRange(item);
    if (r.q <= 0) continue;
    if (r.type == "application/taxii+json" && (!r.version || *r.version == "2.1")) return true;
    if (r.type == "application/stix+json" && r.version && *r.version == "2.1") return true;
    if ((r.type == "*/*" || r.type == "application/*") && !r.version) return true;
  }
  return false;
}

bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding) {
  for (std::string_view item : text::Split(accept_encoding, ',')) {
    MediaRange r = ParseRange(item);  // "coding;q=..." has a media range's grammar
    if (r.type == coding) return r.q > 0;
  }
  return false;
}

bool IsTaxii21ContentType(std::string_view content_type) {
  MediaRange r = ParseRange(content_type);
  return r.type == "application/taxii+json" && (!r.version || *r.version == "2.1");
}

absl::StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return absl::InvalidArgumentError("truncated percent escape in the query string");
      }
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError("malformed percent escape in the query string");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  if (q.empty()) return out;
  for (std::string_view kv : text::Split(q, '&')) {
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    std::string_view k = kv.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
    auto dk = PercentDecode(k, true);
    if (!dk.ok()) return dk.status();
    auto dv = PercentDecode(v, true);
    if (!dv.ok()) return dv.status();
    out.emplace_back(std::move(*dk), std::move(*dv));
  }
  return out;
}

absl::StatusOr<Credentials> ParseAuthorization(std::string_view header) {
  Credentials c;
  header = text::Trim(header);
  if (header.empty()) return c;
  size_t sp = header.find(' ');
  if (sp == std::string_view::npos) {
    return absl::InvalidArgumentError("malformed Authorization header");
  }
  std::string_view scheme = header.substr(0, sp);
  std::string_view rest = text::Trim(header.substr(sp + 1));
  if (text::IEquals(scheme, "basic")) {
    // Strict standard base64 (RFC 7617 over RFC 4648 §4), as every layer decodes it.
    auto decoded = common::Base64Decode(rest);
    if (!decoded) return absl::InvalidArgumentError("malformed Basic credentials");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError("Basic credentials lack ':'");
    }
    c.scheme = Credentials::Scheme::kBasic;
    c.user = decoded->substr(0, colon);
    c.secret = decoded->substr(colon + 1);
    return c;
  }
  if (text::IEquals(scheme, "bearer")) {
    if (rest.empty()) return absl::InvalidArgumentError("empty bearer token");
    c.scheme = Credentials::Scheme::kBearer;
    c.secret = std::string(rest);
    return c;
  }
  return absl::InvalidArgumentError("unsupported authorization scheme (use Basic or Bearer)");
}

}  // namespace accord::http
