// Fuzzes TAXII request handling in-process, with no sockets: the input is a raw HTTP/1.1
// request, parsed by Beast's request parser exactly as http::Server does (header and body
// limits included), turned into an http::Request and handed to taxii::Service::Handle over a
// real SQLite store (with its AuthDb) in a scratch directory. Paths, query strings (filters, `next`
// cursors, limits), Accept/Content-Type, Authorization and POST bodies all reach their
// parsers. The request helpers of accord/http/message.h are also called on the raw pieces.
//
// Credentials: the literal token `KEY` in an Authorization header stands for a real admin key
// (`Bearer KEY`, `Basic base64(admin:KEY)` is spelled `Basic KEY64`), so authenticated paths
// are reachable. Collections: `pub` (public, with a few versioned objects) and `priv`.
#include <stdlib.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "accord/common/encoding.h"
#include "accord/http/auth.h"
#include "accord/http/message.h"
#include "accord/http/server.h"
#include "accord/store/store.h"
#include "accord/taxii/service.h"

namespace {

namespace bhttp = boost::beast::http;
using namespace accord;

struct World {
  std::string dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<http::AuthDb> auth;
  std::unique_ptr<taxii::ChangeSource> changes;
  std::unique_ptr<taxii::Service> service;
  std::string key, basic;

  World() {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/accord-taxii-fuzz.XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    store::Options so;
    so.dir = dir + "/data";
    auto st = store::Store::Open(so);
    if (!st.ok()) Die(st.status());
    store = std::move(*st);
    http::AuthDb::Options ao;
    ao.opslimit = 1;  // argon2id minimum: mutated secrets must stay cheap
    ao.memlimit = 8192;
    auto au = http::AuthDb::Open(store.get(), ao);
    if (!au.ok()) Die(au.status());
    auth = std::move(*au);
    if (auto s = auth->AddUser("admin", http::Role::kAdmin); !s.ok()) Die(s);
    if (auto s = auth->AddUser("bob", http::Role::kAnalyst); !s.ok()) Die(s);
    auto k = auth->CreateKey("admin");
    if (!k.ok()) Die(k.status());
    key = *k;
    basic = common::Base64Encode("admin:" + key);
    store::CollectionInfo pub;
    pub.id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    pub.alias = "pub";
    pub.title = "Public";
    pub.is_public = true;
    store::CollectionInfo priv;
    priv.id = "52892447-4d7e-4f70-b94d-d7f22742ff63";
    priv.alias = "priv";
    priv.title = "Private";
    if (auto c = store->CreateCollection(pub); !c.ok()) Die(c.status());
    if (auto c = store->CreateCollection(priv); !c.ok()) Die(c.status());
    changes = taxii::NewStoreChangeSource(store.get(), 0);
    service = std::make_unique<taxii::Service>(store.get(), auth.get(), taxii::ServiceOptions{},
                                               changes.get());
    // A few objects, one with three versions, so that filters and cursors have rows to walk.
    for (const char* col : {"pub", "priv"}) {
      for (int v = 1; v <= 3; ++v) {
        std::string body = R"({"objects":[)";
        for (int i = 0; i < 4; ++i) {
          if (i) body += ',';
          char buf[512];
          std::snprintf(
              buf, sizeof buf,
              R"({"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",)"
              R"("created":"2025-01-01T00:00:00.000Z","modified":"2025-01-0%dT00:00:00.000Z",)"
              R"("pattern":"[ipv4-addr:value = '10.0.0.%d']","pattern_type":"stix",)"
              R"("valid_from":"2025-01-01T00:00:00Z"})",
              i, i == 0 ? v : 1, i);
          body += buf;
        }
        body += "]}";
        http::Request rq;
        rq.method = "POST";
        rq.path = std::string("/api/collections/") + col + "/objects/";
        rq.target = rq.path;
        rq.headers = {{"authorization", "Bearer " + key},
                      {"content-type", std::string(http::kTaxiiMediaType)},
                      {"accept", std::string(http::kTaxiiMediaType)}};
        rq.body = body;
        http::Response rs;
        service->Handle(rq, rs);
        http::AwaitDeferred(rs);
        if (rs.status != 202) {
          std::fprintf(stderr, "seed POST failed: %d %s\n", rs.status, rs.body.c_str());
          std::abort();
        }
      }
    }
  }

  ~World() {
    service.reset();
    changes.reset();
    auth.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  [[noreturn]] static void Die(const absl::Status& s) {
    std::fprintf(stderr, "taxii_fuzz setup: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
};

World& TheWorld() {
  static World* w = new World();  // never destroyed: fuzzers exit without unwinding
  static const bool registered = [] {
    std::atexit([] { delete &TheWorld(); });
    return true;
  }();
  (void)registered;
  return *w;
}

std::string_view SV(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return o;
}

void ReplaceAll(std::string& s, std::string_view from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

// The network-free request helpers on arbitrary text.
void FuzzHelpers(std::string_view s) {
  (void)http::AcceptsTaxii21(s);
  (void)http::IsTaxii21ContentType(s);
  (void)http::ParseQuery(s);
  (void)http::PercentDecode(s, true);
  (void)http::ParseAuthorization(s);
  (void)common::Base64Decode(s);
  std::string out;
  http::AppendJsonEscaped(&out, s);
  auto enc = http::PercentEncode(s);
  auto dec = http::PercentDecode(enc, false);
  if (!dec.ok() || *dec != s) {
    std::fprintf(stderr, "PercentDecode(PercentEncode(s)) != s\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  FuzzHelpers(in.substr(0, 4096));

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16u << 10);
  parser.body_limit(64u << 10);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
  (void)used;
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;

  auto& req = parser.get();
  http::Request r;
  r.method = std::string(SV(req.method_string()));
  r.target = std::string(SV(req.target()));
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : req) {
    std::string v(SV(f.value()));
    std::string name = Lower(SV(f.name_string()));
    if (name == "authorization") {
      ReplaceAll(v, "KEY64", w.basic);
      ReplaceAll(v, "KEY", w.key);
    }
    FuzzHelpers(v);
    r.headers.emplace_back(std::move(name), std::move(v));
  }
  r.body = std::move(req.body());
  r.remote = "127.0.0.1:1";
  FuzzHelpers(r.query);

  http::Response res;
  w.service->Handle(r, res);
  http::AwaitDeferred(res);
  if (res.status < 200 || res.status > 599) {
    std::fprintf(stderr, "bad status %d\n", res.status);
    std::abort();
  }
  if (res.status >= 500 && res.status != 503) {
    // A 500 is a bug in request handling: the service maps every client error to 4xx.
    std::fprintf(stderr, "500 for request:\n%.*s\nbody: %s\n", static_cast<int>(size),
                 reinterpret_cast<const char*>(data), res.body.c_str());
    std::abort();
  }
  return 0;
}
