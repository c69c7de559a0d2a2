// Suricata EVE JSON -> observations. Field -> SCO mappings: docs/MATCH_INPUTS.md ("Suricata EVE
// JSON").
#include <simdjson.h>

#include <cctype>

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
    if (hs) AddIpSco(o, src, "src");
    if (hd) AddIpSco(o, dst, "dst");
    if (hs || hd) {
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
      AddValueSco(o, "domain-name", value, id);
    };
    simdjson::dom::object sub;
    if (ev["dns"].get(sub) == simdjson::SUCCESS) {
      if (sub["rrname"].get(s) == simdjson::SUCCESS) domain(s, "dns");
      simdjson::dom::array qs;
      if (sub["queries"].get(qs) == simdjson::SUCCESS) {
        int k = 0;
        for (auto q : qs) {
          if (q["rrname"].get(s) == simdjson::SUCCESS && k < 16) {
            tmp_ = "q" + std::to_string(k++);
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
      if (h && u) {
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
    if (ev["fileinfo"].get(sub) == simdjson::SUCCESS) {
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
    return o->scos().empty() ? 0 : 1;
  }
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
