// Suricata EVE JSON -> observations. Field -> SCO mappings: docs/MATCH_INPUTS.md ("Suricata EVE
// JSON").
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "accord/match/input.h"
#include "accord/stix/ijson.h"
#include "match/input/json_tree.h"
#include "match/input/readers_internal.h"

namespace accord::match {

namespace {

using detail::AddIpSco;
using detail::AddValueSco;
using detail::LineEventReader;

// ---- Suricata EVE
// --------------------------------------------------------------------------------

class EveReader final : public LineEventReader {
 public:
  using LineEventReader::LineEventReader;

  // Which SCOs Handle builds (issue 11, "extract only the fields some indicator uses"): an SCO
  // of a type no indicator mentions cannot make a comparison true, so it is left out, with
  // the addresses when network-traffic is left out too. An event keeps its position either way.
  void SetWantedTypes(const std::vector<std::string>& types) override {
    auto has = [&](std::string_view t) {
      return std::find(types.begin(), types.end(), t) != types.end() ||
             std::find(types.begin(), types.end(), "*") != types.end();
    };
    want_ip_ = has("ipv4-addr") || has("ipv6-addr");
    want_nt_ = has("network-traffic");
    want_domain_ = has("domain-name");
    want_url_ = has("url");
    want_file_ = has("file");
  }

 protected:
  int Handle(std::string_view line, Observation* o) override {
    simdjson::dom::element e;
    if (!ParseJson(line, &e)) return -1;
    // I-JSON (RFC 7493): an event with a duplicate key is malformed (its line is reported).
    if (auto dup = stix::FindDuplicateKey(e)) {
      Malformed(stix::DuplicateKeyMessage(*dup));
      return -1;
    }
    simdjson::dom::object ev;
    if (e.get(ev) != simdjson::SUCCESS) {
      Malformed("not a JSON object");
      return -1;
    }
    // Every EVE record has a timestamp; without a readable one the event's time is unknown, so
    // the line is malformed (never an event at 1970).
    simdjson::dom::element t;
    if (ev["timestamp"].get(t) != simdjson::SUCCESS) {
      Malformed("no 'timestamp'");
      return -1;
    }
    auto ts = detail::ParseTime(t);
    if (!ts.ok()) {
      Malformed(common::Cat("'timestamp': ", ts.status().message()));
      return -1;
    }
    o->first_observed = o->last_observed = *ts;
    std::string_view src, dst, s;
    bool hs = ev["src_ip"].get(src) == simdjson::SUCCESS;
    bool hd = ev["dest_ip"].get(dst) == simdjson::SUCCESS;
    // True once the record has something to match, wanted or not (it is then an event).
    bool any = hs || hd;
    if (hs && (want_ip_ || want_nt_)) AddIpSco(o, src, "src");
    if (hd && (want_ip_ || want_nt_)) AddIpSco(o, dst, "dst");
    if ((hs || hd) && want_nt_) {
      o->Open();
      o->AddString("type", "network-traffic");
      if (hs) o->AddString("src_ref", "src");
      if (hd) o->AddString("dst_ref", "dst");
      int64_t port;
      if (ev["src_port"].get(port) == simdjson::SUCCESS) o->AddInt("src_port", port);
      if (ev["dest_port"].get(port) == simdjson::SUCCESS) o->AddInt("dst_port", port);
      if (ev["proto"].get(s) == simdjson::SUCCESS) {
        tmp_.assign(s);
        for (char& c : tmp_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        o->Open();
        o->AddString({}, tmp_);
        o->AddNode("protocols", o->Close(Node::Kind::kList));
      }
      o->AddSco(o->Close(Node::Kind::kObject), "network-traffic", "nt");
    }
    auto domain = [&](std::string_view value, std::string_view id) {
      any = true;
      if (want_domain_) AddValueSco(o, "domain-name", value, id);
    };
    simdjson::dom::object sub;
    if (ev["dns"].get(sub) == simdjson::SUCCESS) {
      if (sub["rrname"].get(s) == simdjson::SUCCESS) domain(s, "dns");
      simdjson::dom::array qs;
      if (sub["queries"].get(qs) == simdjson::SUCCESS) {
        int k = 0;
        for (auto q : qs) {
          if (q["rrname"].get(s) == simdjson::SUCCESS && k < 16) {
            tmp_.assign("q");
            tmp_.append(std::to_string(k++));
            domain(s, tmp_);
          }
        }
      }
    }
    if (ev["http"].get(sub) == simdjson::SUCCESS) {
      std::string_view host, url;
      bool h = sub["hostname"].get(host) == simdjson::SUCCESS;
      bool u = sub["url"].get(url) == simdjson::SUCCESS;
      if (h) domain(host, "host");
      any = any || (h && u);
      if (h && u && want_url_) {
        tmp_.assign("http://");
        tmp_.append(host);
        tmp_.append(url);
        o->Open();
        o->AddString("type", "url");
        o->AddString("value", tmp_);
        o->AddSco(o->Close(Node::Kind::kObject), "url", "url");
      }
    }
    if (ev["tls"].get(sub) == simdjson::SUCCESS && sub["sni"].get(s) == simdjson::SUCCESS)
      domain(s, "sni");
    const bool has_file = ev["fileinfo"].get(sub) == simdjson::SUCCESS;
    any = any || has_file;
    if (has_file && want_file_) {
      o->Open();
      o->AddString("type", "file");
      if (sub["filename"].get(s) == simdjson::SUCCESS) o->AddString("name", s);
      int64_t size;
      if (sub["size"].get(size) == simdjson::SUCCESS) o->AddInt("size", size);
      o->Open();
      if (sub["md5"].get(s) == simdjson::SUCCESS) o->AddString("MD5", s);
      if (sub["sha1"].get(s) == simdjson::SUCCESS) o->AddString("SHA-1", s);
      if (sub["sha256"].get(s) == simdjson::SUCCESS) o->AddString("SHA-256", s);
      o->AddNode("hashes", o->Close(Node::Kind::kObject));
      o->AddSco(o->Close(Node::Kind::kObject), "file", "file");
    }
    return any ? 1 : 0;
  }

 private:
  bool want_ip_ = true, want_nt_ = true, want_domain_ = true, want_url_ = true, want_file_ = true;
};

}  // namespace

namespace detail {

std::unique_ptr<EventReader> NewEveReader(std::unique_ptr<common::InputStream> in,
                                          const std::string& source, MalformedSink on_malformed) {
  return std::unique_ptr<EventReader>(std::make_unique<EveReader>(
      AsJsonLines(std::move(in), source), source, std::move(on_malformed)));
}

}  // namespace detail

}  // namespace accord::match
