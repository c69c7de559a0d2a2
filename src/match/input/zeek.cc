// Zeek logs, TSV (#fields headers) and JSON, -> observations. Field -> SCO mappings:
// docs/MATCH_INPUTS.md ("Zeek").
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "accord/match/input.h"
#include "accord/stix/ijson.h"
#include "match/input/readers_internal.h"

namespace accord::match {

namespace {

using detail::AddIpSco;
using detail::AddValueSco;
using detail::LineEventReader;

// Zeek writes counts and ports as plain integers; STIX types them as integers (src_port,
// src_byte_count, size ...), so a clean integer becomes one and anything else (a float, an
// overflow) is kept as text rather than dropped.
void AddNumberOrString(Observation* o, std::string_view key, std::string_view text) {
  int64_t v;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) {
    o->AddInt(key, v);
  } else {
    o->AddString(key, text);
  }
}

// A Zeek record, whatever its encoding: scalar fields as text, set/vector fields as lists.
class ZeekFields {
 public:
  virtual ~ZeekFields() = default;
  virtual bool Get(std::string_view name, std::string_view* out) const = 0;
  virtual void GetList(std::string_view name, std::vector<std::string_view>* out) const = 0;
};

enum class ZeekLog { kUnknown, kConn, kDns, kHttp, kSsl, kFiles, kX509, kNotice, kOther };

// Which SCOs MapZeek builds (EventReader::SetWantedTypes): an SCO of a type no indicator
// mentions cannot make a comparison true, so it is left out, together with the SCOs only it
// refers to. `ip_refs`: the src/dst addresses, which network-traffic refers to.
struct ZeekWant {
  bool ip = true, nt = true, domain = true, url = true, file = true, x509 = true;
  bool ip_refs() const { return ip || nt; }
};

// Zeek's #path / _path names (and the file-name prefix); anything else is kOther, and an
// empty name kUnknown, which means "sniff each record".
ZeekLog LogFromPath(std::string_view path) {
  if (path == "conn") return ZeekLog::kConn;
  if (path == "dns") return ZeekLog::kDns;
  if (path == "http") return ZeekLog::kHttp;
  if (path == "ssl") return ZeekLog::kSsl;
  if (path == "files") return ZeekLog::kFiles;
  if (path == "x509") return ZeekLog::kX509;
  if (path == "notice") return ZeekLog::kNotice;
  return path.empty() ? ZeekLog::kUnknown : ZeekLog::kOther;
}

// Used only when the log name is unknown: guesses the log from fields typical of each log.
// Order matters: a dns record also carries `proto`, so conn is tried last.
ZeekLog SniffLog(const ZeekFields& f) {
  std::string_view v;
  if (f.Get("_path", &v)) return LogFromPath(v);
  if (f.Get("query", &v) || f.Get("qtype_name", &v)) return ZeekLog::kDns;
  if (f.Get("uri", &v) || f.Get("method", &v)) return ZeekLog::kHttp;
  if (f.Get("server_name", &v) || f.Get("cipher", &v)) return ZeekLog::kSsl;
  if (f.Get("certificate.serial", &v)) return ZeekLog::kX509;
  if (f.Get("fuid", &v) && (f.Get("mime_type", &v) || f.Get("md5", &v) || f.Get("sha1", &v)))
    return ZeekLog::kFiles;
  if (f.Get("note", &v)) return ZeekLog::kNotice;
  if (f.Get("conn_state", &v) || f.Get("proto", &v)) return ZeekLog::kConn;
  return ZeekLog::kOther;
}

// Maps one Zeek record to an observation (field table: docs/MATCH_INPUTS.md "Zeek"). SCOs get
// short local ids ("src", "dst", "nt", "query", ...) that *_ref properties use, like the
// object keys of observed-data.objects (STIX21-objects.md §9), so patterns such as
// [network-traffic:src_ref.value = '...'] resolve (STIX21-patterning.md §6.2).
// `list` and `tmp` are caller-owned scratch buffers reused across records (no allocation per
// record once warm). Values are views into the line, valid only while it is being handled.
// Returns false when the record has nothing to match.
bool MapZeek(ZeekLog log, const ZeekFields& f, const ZeekWant& w, Observation* o,
             std::vector<std::string_view>* list, std::string* tmp) {
  // True once the record has something to match, wanted or not: a record whose SCOs were all
  // left out is still an event (its 1-based position counts).
  bool any = false;
  std::string_view v;
  if (log == ZeekLog::kUnknown) log = SniffLog(f);
  std::string_view src, dst;
  bool have_src = f.Get("id.orig_h", &src) || (log == ZeekLog::kNotice && f.Get("src", &src));
  bool have_dst = f.Get("id.resp_h", &dst) || (log == ZeekLog::kNotice && f.Get("dst", &dst));
  any = have_src || have_dst;
  if (have_src && w.ip_refs()) AddIpSco(o, src, "src");
  if (have_dst && w.ip_refs()) AddIpSco(o, dst, "dst");
  if ((have_src || have_dst) && w.nt) {
    o->Open();
    o->AddString("type", "network-traffic");
    if (have_src) o->AddString("src_ref", "src");
    if (have_dst) o->AddString("dst_ref", "dst");
    if (f.Get("id.orig_p", &v)) AddNumberOrString(o, "src_port", v);
    if (f.Get("id.resp_p", &v)) AddNumberOrString(o, "dst_port", v);
    if (f.Get("proto", &v)) {
      o->Open();
      o->AddString({}, v);
      o->AddNode("protocols", o->Close(Node::Kind::kList));
    }
    if (log == ZeekLog::kConn) {
      if (f.Get("orig_bytes", &v)) AddNumberOrString(o, "src_byte_count", v);
      if (f.Get("resp_bytes", &v)) AddNumberOrString(o, "dst_byte_count", v);
      if (f.Get("orig_pkts", &v)) AddNumberOrString(o, "src_packets", v);
      if (f.Get("resp_pkts", &v)) AddNumberOrString(o, "dst_packets", v);
    }
    if (log == ZeekLog::kHttp) {
      // http-request-ext (STIX21-objects.md §12.12 extensions): request_header keeps the HTTP
      // header names as sent (Host, User-Agent, Referer), which is how patterns address them.
      o->Open();
      o->Open();
      if (f.Get("method", &v)) o->AddString("request_method", v);
      if (f.Get("uri", &v)) o->AddString("request_value", v);
      if (f.Get("version", &v)) o->AddString("request_version", v);
      o->Open();
      if (f.Get("host", &v)) o->AddString("Host", v);
      if (f.Get("user_agent", &v)) o->AddString("User-Agent", v);
      if (f.Get("referrer", &v)) o->AddString("Referer", v);
      o->AddNode("request_header", o->Close(Node::Kind::kObject));
      o->AddNode("http-request-ext", o->Close(Node::Kind::kObject));
      o->AddNode("extensions", o->Close(Node::Kind::kObject));
    }
    o->AddSco(o->Close(Node::Kind::kObject), "network-traffic", "nt");
  }
  auto domain = [&](std::string_view value, std::string_view id) {
    any = true;
    if (w.domain) AddValueSco(o, "domain-name", value, id);
  };
  switch (log) {
    case ZeekLog::kDns: {
      if (!f.Get("query", &v)) break;
      any = true;
      // The answers matter to ip patterns and, through resolves_to_refs, to domain ones.
      if (!w.domain && !w.ip) break;
      // Only the answers that look like addresses (hex digits, '.', ':') become IP SCOs; CNAMEs and
      // other records are skipped. AddIpSco parses the text, so this is just a cheap filter.
      // Invariant: the second loop applies the same filter and the same "ans<i>" ids as the first,
      // so every resolves_to_refs entry names an SCO that exists.
      list->clear();
      f.GetList("answers", list);
      size_t n_ips = 0;
      for (size_t i = 0; i < list->size(); ++i) {
        std::string_view a = (*list)[i];
        if (a.find_first_not_of("0123456789.:abcdefABCDEF") != std::string_view::npos ||
            a.size() < 2)
          continue;
        tmp->assign("ans");
        tmp->append(std::to_string(i));
        AddIpSco(o, a, *tmp);
        ++n_ips;
      }
      if (!w.domain) break;
      o->Open();
      o->AddString("type", "domain-name");
      o->AddString("value", v);
      if (n_ips) {
        o->Open();
        for (size_t i = 0; i < list->size(); ++i) {
          std::string_view a = (*list)[i];
          if (a.find_first_not_of("0123456789.:abcdefABCDEF") != std::string_view::npos ||
              a.size() < 2)
            continue;
          tmp->assign("ans");
          tmp->append(std::to_string(i));
          o->AddString({}, *tmp);
        }
        o->AddNode("resolves_to_refs", o->Close(Node::Kind::kList));
      }
      o->AddSco(o->Close(Node::Kind::kObject), "domain-name", "query");
      break;
    }
    case ZeekLog::kHttp: {
      std::string_view host, uri;
      bool h = f.Get("host", &host);
      bool u = f.Get("uri", &uri);
      if (h) domain(host, "host");
      if (h && u) {
        // Zeek's http.log is cleartext HTTP, so the scheme is http://; port 80 is left implicit so
        // the URL matches indicators written the usual way.
        tmp->assign("http://");
        tmp->append(host);
        std::string_view port;
        if (f.Get("id.resp_p", &port) && port != "80") {
          tmp->push_back(':');
          tmp->append(port);
        }
        tmp->append(uri);
        any = true;
        if (w.url) {
          o->Open();
          o->AddString("type", "url");
          o->AddString("value", *tmp);
          o->AddSco(o->Close(Node::Kind::kObject), "url", "url");
        }
      }
      break;
    }
    case ZeekLog::kSsl:
      if (f.Get("server_name", &v)) domain(v, "sni");
      break;
    case ZeekLog::kFiles: {
      any = true;
      if (w.file) {
        o->Open();
        o->AddString("type", "file");
        if (f.Get("filename", &v)) o->AddString("name", v);
        if (f.Get("mime_type", &v)) o->AddString("mime_type", v);
        if (f.Get("total_bytes", &v)) AddNumberOrString(o, "size", v);
        std::string_view md5, sha1, sha256;
        bool a = f.Get("md5", &md5), b = f.Get("sha1", &sha1), c = f.Get("sha256", &sha256);
        if (a || b || c) {
          o->Open();
          if (a) o->AddString("MD5", md5);
          if (b) o->AddString("SHA-1", sha1);
          if (c) o->AddString("SHA-256", sha256);
          o->AddNode("hashes", o->Close(Node::Kind::kObject));
        }
        o->AddSco(o->Close(Node::Kind::kObject), "file", "file");
      }
      if (!w.ip) break;
      list->clear();
      f.GetList("tx_hosts", list);
      // A file seen between exactly one pair of hosts gets them as IPs when the record has no
      // conn id; with several hosts it is not clear which one the indicator would be about.
      if (!have_src && list->size() == 1) AddIpSco(o, (*list)[0], "tx");
      list->clear();
      f.GetList("rx_hosts", list);
      if (!have_dst && list->size() == 1) AddIpSco(o, (*list)[0], "rx");
      break;
    }
    case ZeekLog::kX509: {
      any = true;
      if (w.x509) {
        o->Open();
        o->AddString("type", "x509-certificate");
        if (f.Get("certificate.serial", &v)) o->AddString("serial_number", v);
        if (f.Get("certificate.subject", &v)) o->AddString("subject", v);
        if (f.Get("certificate.issuer", &v)) o->AddString("issuer", v);
        // Zeek logs one fingerprint whose algorithm is configurable; the hex length tells which.
        if (f.Get("fingerprint", &v)) {
          o->Open();
          o->AddString(v.size() == 64 ? "SHA-256" : v.size() == 40 ? "SHA-1" : "MD5", v);
          o->AddNode("hashes", o->Close(Node::Kind::kObject));
        }
        o->AddSco(o->Close(Node::Kind::kObject), "x509-certificate", "cert");
      }
      if (!w.domain) break;
      list->clear();
      f.GetList("san.dns", list);
      // Untrusted bound: a certificate can carry thousands of SANs; at most 64 become SCOs.
      for (size_t i = 0; i < list->size() && i < 64; ++i) {
        tmp->assign("san");
        tmp->append(std::to_string(i));
        domain((*list)[i], *tmp);
      }
      break;
    }
    default: break;
  }
  return any || !o->scos().empty();
}

// ---- Zeek TSV
// -------------------------------------------------------------------------------------

// TSV record: `names` from the last #fields header, `values` views into the current line.
// Unset ("-") and empty ("(empty)") fields are absent, as Zeek means them (MATCH_INPUTS.md).
// PERF: Get is a linear scan over the field names; Zeek logs have a few dozen fields at most,
// and lookups stop at the first match.
class ZeekTsvFields final : public ZeekFields {
 public:
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, uint32_t> index;  // name -> position in names
  std::vector<std::string_view> values;
  char set_sep = ',';
  void SetNames(std::vector<std::string> n) {
    names = std::move(n);
    index.clear();
    for (uint32_t i = 0; i < names.size(); ++i) index.emplace(names[i], i);
  }
  // PERF: one hash probe instead of comparing the name with each field's (a dns.log row has
  // 24 fields and MapZeek asks for about 20 names).
  bool Get(std::string_view name, std::string_view* out) const override {
    auto it = index.find(absl::string_view(name.data(), name.size()));
    if (it == index.end() || it->second >= values.size()) return false;
    std::string_view v = values[it->second];
    if (v == "-" || v == "(empty)" || v.empty()) return false;
    *out = v;
    return true;
  }
  void GetList(std::string_view name, std::vector<std::string_view>* out) const override {
    std::string_view v;
    if (!Get(name, &v)) return;
    size_t start = 0;
    while (start <= v.size()) {
      size_t e = v.find(set_sep, start);
      if (e == std::string_view::npos) e = v.size();
      out->push_back(v.substr(start, e - start));
      start = e + 1;
    }
  }
};

// ---- Zeek / generic JSON
// ---------------------------------------------------------------------------

// JSON record (Zeek's JSON writer or other exporters). Numbers are rendered to text so both
// encodings look the same to MapZeek. The text lives in a ring of 8 buffers reset per record:
// REQUIRES that no more than 8 numeric views are held at once (MapZeek holds at most a few).
class JsonFields final : public ZeekFields {
 public:
  simdjson::dom::object obj;
  mutable std::string num_buf[8];
  mutable size_t num_used = 0;
  bool Lookup(std::string_view name, simdjson::dom::element* e) const {
    if (obj[name].get(*e) == simdjson::SUCCESS) return true;
    // Nested form ("id": {"orig_h": ...}) as some exporters write it.
    size_t dot = name.find('.');
    if (dot == std::string_view::npos) return false;
    simdjson::dom::object inner;
    if (obj[name.substr(0, dot)].get(inner) != simdjson::SUCCESS) return false;
    return inner[name.substr(dot + 1)].get(*e) == simdjson::SUCCESS;
  }
  bool Text(simdjson::dom::element e, std::string_view* out) const {
    if (e.is_string()) {
      *out = e.get_string().value_unsafe();
      return true;
    }
    if (e.is_number()) {
      std::string& b = num_buf[num_used++ % 8];
      b.resize(32);
      std::to_chars_result r;
      if (e.is_int64())
        r = std::to_chars(b.data(), b.data() + 32, e.get_int64().value_unsafe());
      else if (e.is_uint64())
        r = std::to_chars(b.data(), b.data() + 32, e.get_uint64().value_unsafe());
      else {
        // Fixed notation where it fits: `ts` 1700000000.0 must read "1700000000", not "1.7e+09"
        // (epoch seconds are digits and '.'); a huge value falls back to the shortest form.
        double d = e.get_double().value_unsafe();
        r = std::to_chars(b.data(), b.data() + 32, d, std::chars_format::fixed);
        if (r.ec != std::errc()) r = std::to_chars(b.data(), b.data() + 32, d);
      }
      b.resize(static_cast<size_t>(r.ptr - b.data()));
      *out = b;
      return true;
    }
    return false;
  }
  bool Get(std::string_view name, std::string_view* out) const override {
    simdjson::dom::element e;
    if (!Lookup(name, &e)) return false;
    return Text(e, out) && !out->empty();
  }
  void GetList(std::string_view name, std::vector<std::string_view>* out) const override {
    simdjson::dom::element e;
    if (!Lookup(name, &e)) return;
    simdjson::dom::array a;
    if (e.get(a) == simdjson::SUCCESS) {
      for (auto x : a) {
        std::string_view s;
        if (x.get(s) == simdjson::SUCCESS) out->push_back(s);
      }
    }
  }
};

class ZeekReader final : public LineEventReader {
 public:
  using LineEventReader::LineEventReader;

 protected:
  // Returns 1 with an observation, 0 for a record with nothing to match (or a header), -1 for a
  // malformed line (reported through Malformed). A line is JSON if it starts with '{', a header
  // if it starts with '#', else TSV data; formats may even mix within one stream.
  int Handle(std::string_view line, Observation* o) override {
    if (line[0] == '{') {
      simdjson::dom::element e;
      if (!ParseJson(line, &e)) return -1;
      // I-JSON (RFC 7493): an event with a duplicate key is malformed (its line is reported).
      if (auto dup = stix::FindDuplicateKey(e)) {
        Malformed(stix::DuplicateKeyMessage(*dup));
        return -1;
      }
      if (e.get(json_.obj) != simdjson::SUCCESS) {
        Malformed("not a JSON object");
        return -1;
      }
      json_.num_used = 0;
      if (!ReadTs(json_, o)) return -1;
      return MapZeek(json_log_, json_, want_, o, &list_, &tmp_) ? 1 : 0;
    }
    if (line[0] == '#') return Header(line);
    if (tsv_.names.empty()) {
      // Without #fields no row can be mapped, and neither can any later one: an error, not a
      // silently skipped file.
      return Fatal("Zeek TSV data before any #fields header");
    }
    tsv_.values.clear();
    size_t start = 0;
    while (start <= line.size()) {
      size_t e = line.find(sep_, start);
      if (e == std::string_view::npos) e = line.size();
      tsv_.values.push_back(line.substr(start, e - start));
      start = e + 1;
    }
    // A short or long row is reported, not guessed at: fields would map to the wrong names.
    if (tsv_.values.size() != tsv_.names.size()) {
      Malformed("field count differs from #fields");
      return -1;
    }
    // A log whose #fields has no `ts` at all (loaded_scripts.log) records no events: its rows
    // are ignored, not malformed.
    if (!tsv_.index.contains("ts")) return 0;
    if (!ReadTs(tsv_, o)) return -1;
    return MapZeek(tsv_log_, tsv_, want_, o, &list_, &tmp_) ? 1 : 0;
  }

  // Every Zeek log record has `ts`: epoch seconds with a fraction ("1541766133.123456", the
  // default) or RFC 3339 (JSON::TS_ISO8601). A record without a readable one is malformed
  // (false, reported), never an event at 1970.
  bool ReadTs(const ZeekFields& f, Observation* o) {
    std::string_view ts;
    if (!f.Get("ts", &ts)) {
      Malformed("no 'ts'");
      return false;
    }
    auto t = common::ParseEventTime(ts);
    if (!t.ok()) {
      Malformed(common::Cat("'ts': ", t.status().message()));
      return false;
    }
    o->first_observed = o->last_observed = *t;
    return true;
  }

 public:
  void SetJsonLog(ZeekLog l) { json_log_ = l; }
  void SetWantedTypes(const std::vector<std::string>& types) override {
    auto has = [&](std::string_view t) {
      return std::find(types.begin(), types.end(), t) != types.end() ||
             std::find(types.begin(), types.end(), "*") != types.end();
    };
    want_.ip = has("ipv4-addr") || has("ipv6-addr");
    want_.nt = has("network-traffic");
    want_.domain = has("domain-name");
    want_.url = has("url");
    want_.file = has("file");
    want_.x509 = has("x509-certificate");
  }

 private:
  // One byte of a header value: "\xHH" (as Zeek writes #separator) or, when `literal_ok`, the
  // byte itself (as Zeek writes #set_separator). nullopt: anything else.
  static std::optional<char> OneByte(std::string_view v, bool literal_ok) {
    if (v.size() == 4 && v[0] == '\\' && v[1] == 'x') {
      int b = 0;
      auto r = std::from_chars(v.data() + 2, v.data() + 4, b, 16);
      if (r.ec == std::errc() && r.ptr == v.data() + 4) return static_cast<char>(b);
      return std::nullopt;
    }
    if (literal_ok && v.size() == 1) return v[0];
    return std::nullopt;
  }
  // A byte that cannot separate fields: lines end at '\n' (and '\r' is stripped), and a NUL
  // separator makes the whole row one field (a file that matches nothing, silently).
  static bool BadSeparator(char c) { return c == '\0' || c == '\n' || c == '\r'; }

  // Headers may appear again mid-stream (concatenated or rotated logs): #separator (Zeek
  // writes it first) or #close starts a new header block, which redefines the separators, log
  // name and field list for the rows that follow. A header that would make every row misread
  // (a separator that is not one usable byte, a second #fields in a block, #types that do not
  // match #fields) is an error that ends the input (Fatal), never a silently skipped file.
  // Returns 0 (a header, nothing to match) or kFatal.
  int Header(std::string_view line) {
    auto rest = [&](std::string_view key) -> std::optional<std::string_view> {
      if (!line.starts_with(key)) return std::nullopt;
      std::string_view r = line.substr(key.size());
      if (!r.empty() && r[0] != ' ' && r[0] != sep_) return std::nullopt;  // "#fieldsX"
      if (!r.empty()) r.remove_prefix(1);
      return r;
    };
    auto shown = [](std::string_view v) {
      return std::string(v.substr(0, 40)) + (v.size() > 40 ? "..." : "");
    };
    if (auto r = rest("#separator")) {
      std::optional<char> c = OneByte(*r, false);
      if (!c) {
        return Fatal(
            common::Cat("invalid Zeek header: #separator must be one byte written as "
                        "\\xHH (such as \\x09), found '",
                        shown(*r), "'"));
      }
      if (BadSeparator(*c)) {
        return Fatal(common::Cat("invalid Zeek header: #separator ", *r,
                                 " cannot separate fields (NUL, CR and LF are not allowed)"));
      }
      sep_ = *c;
      NewBlock();
    } else if (auto r2 = rest("#set_separator")) {
      std::optional<char> c = OneByte(*r2, true);
      if (!c || BadSeparator(*c) || *c == sep_) {
        return Fatal(
            common::Cat("invalid Zeek header: #set_separator must be one byte other "
                        "than the field separator, NUL, CR and LF, found '",
                        shown(*r2), "'"));
      }
      tsv_.set_sep = *c;
    } else if (auto r3 = rest("#path")) {
      tsv_log_ = LogFromPath(*r3);
    } else if (auto r4 = rest("#fields")) {
      if (fields_line_ > 0) {
        return Fatal(common::Cat("invalid Zeek header: duplicate #fields (the first is at line ",
                                 fields_line_, ")"));
      }
      std::vector<std::string> names = Split(*r4);
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i].empty()) return Fatal("invalid Zeek header: #fields has an empty name");
        for (size_t k = 0; k < i; ++k) {
          if (names[k] == names[i]) {
            return Fatal(common::Cat("invalid Zeek header: field '", shown(names[i]),
                                     "' appears twice in #fields"));
          }
        }
      }
      if (types_count_ > 0 && types_count_ != names.size()) {
        return Fatal(common::Cat("invalid Zeek header: #fields names ", names.size(),
                                 " fields but #types ", types_count_));
      }
      tsv_.SetNames(std::move(names));
      fields_line_ = line_no_;
    } else if (auto r5 = rest("#types")) {
      if (types_count_ > 0) return Fatal("invalid Zeek header: duplicate #types");
      types_count_ = Split(*r5).size();
      if (fields_line_ > 0 && types_count_ != tsv_.names.size()) {
        return Fatal(common::Cat("invalid Zeek header: #types names ", types_count_,
                                 " types but #fields ", tsv_.names.size(), " fields"));
      }
    } else if (rest("#close")) {
      NewBlock();
    }
    return 0;
  }

  std::vector<std::string> Split(std::string_view v) const {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= v.size()) {
      size_t e = v.find(sep_, start);
      if (e == std::string_view::npos) e = v.size();
      out.emplace_back(v.substr(start, e - start));
      start = e + 1;
    }
    return out;
  }

  // A new header block: its #fields and #types are expected afresh. The fields of the previous
  // block stay until the new #fields (rows in between keep their meaning).
  void NewBlock() {
    fields_line_ = 0;
    types_count_ = 0;
  }

  uint64_t fields_line_ = 0;  // line of this block's #fields (0: none yet)
  size_t types_count_ = 0;    // fields named by this block's #types (0: none yet)
  char sep_ = '\t';
  ZeekTsvFields tsv_;
  JsonFields json_;
  ZeekLog tsv_log_ = ZeekLog::kUnknown;
  ZeekLog json_log_ = ZeekLog::kUnknown;
  ZeekWant want_;
};

}  // namespace

namespace detail {

// Creates the reader for `source`. Not thread-safe: one reader per input stream.
std::unique_ptr<EventReader> NewZeekReader(std::unique_ptr<common::InputStream> in,
                                           const std::string& source, MalformedSink on_malformed) {
  auto r = std::make_unique<ZeekReader>(std::move(in), source, std::move(on_malformed));
  // Zeek JSON files carry no #path: take the log name from the file name.
  std::string base = source.substr(
      source.find_last_of('/') == std::string::npos ? 0 : source.find_last_of('/') + 1);
  r->SetJsonLog(LogFromPath(base.substr(0, base.find('.'))) == ZeekLog::kOther
                    ? ZeekLog::kUnknown
                    : LogFromPath(base.substr(0, base.find('.'))));
  return std::unique_ptr<EventReader>(std::move(r));
}

}  // namespace detail

}  // namespace accord::match
