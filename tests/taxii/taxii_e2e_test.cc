// End-to-end: `accord serve` on a loopback port, driven with curl and `accord taxii`.
// Covers every TAXII 2.1 endpoint (../shared/spec/TAXII21.md §3), every error status the
// issue lists (400, 401, 403, 404, 406, 413, 415, 422), pagination over several pages, the
// date-added headers, and graceful SIGTERM.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/gen_indicators.h"
#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr const char* kAccept = "Accept: application/taxii+json;version=2.1";
constexpr const char* kType = "Content-Type: application/taxii+json;version=2.1";

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json Json() const { return body.empty() ? json() : json::parse(body, nullptr, false); }
};

class TaxiiE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("taxii-e2e");
    data_ = (dir_->path() / "data").string();
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start(data_, {"--max-body", "1048576"}));
    ASSERT_FALSE(server_->admin_key().empty());
    admin_ = server_->admin_key();
    alice_ = Setup("user add alice --role user", true);
    alice_ = Setup("key create alice", false);
    bob_ = Setup("user add bob --role user", true);
    bob_ = Setup("key create bob", false);
    shared_ = Setup("collection create shared --title Shared", false);
    secret_ = Setup("collection create secret", false);
    readonly_ = Setup("collection create readonly", false);
    public_ = Setup("collection create pub --public", false);
    Setup("collection grant shared alice --read --write", true);
    Setup("collection grant readonly alice --read", true);
    Setup("collection grant shared bob --write", true);
  }

  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // Runs an accord CLI command against the node's data dir; returns its first output line.
  static std::string Setup(const std::string& args, bool quiet) {
    auto r = RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), dir_->path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    std::string line = r.out.substr(0, r.out.find('\n'));
    (void)quiet;
    return line;
  }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  // curl with `args` (already quoted), returning status, headers and body.
  static HttpReply Curl(const std::string& args) {
    auto hdr = dir_->path() / "h.txt";
    auto body = dir_->path() / "b.txt";
    auto r = RunCmd("curl -s -g -o " + ShellQuote(body.string()) + " -D " +
                        ShellQuote(hdr.string()) + " " + args,
                    dir_->path());
    HttpReply out;
    std::ifstream in(hdr);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("HTTP/", 0) == 0) {
        out.status = std::stoi(line.substr(line.find(' ') + 1));
        out.headers.clear();
        continue;
      }
      size_t c = line.find(':');
      if (c == std::string::npos) continue;
      std::string k = line.substr(0, c);
      for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers[k] = line.substr(c + 2);
    }
    out.body = Slurp(body);
    return out;
  }

  static HttpReply Get(const std::string& path, const std::string& user = "admin",
                       const std::string& extra = "") {
    std::string auth;
    if (user == "admin") auth = "-u admin:" + admin_;
    if (user == "alice") auth = "-u alice:" + alice_;
    if (user == "bob") auth = "-H " + ShellQuote("Authorization: Bearer " + bob_);
    return Curl(auth + " -H " + ShellQuote(kAccept) + " " + extra + " " + ShellQuote(Url(path)));
  }

  static HttpReply Post(const std::string& path, const std::string& body,
                        const std::string& user = "admin", const std::string& type = kType) {
    auto f = dir_->path() / "post.json";
    std::ofstream(f) << body;
    std::string auth = user == "admin"   ? "-u admin:" + admin_
                       : user == "alice" ? "-u alice:" + alice_
                       : user == "bob"   ? "-u bob:" + bob_
                                         : "";
    return Curl(auth + " -X POST -H " + ShellQuote(kAccept) + " -H " + ShellQuote(type) +
                " --data-binary @" + ShellQuote(f.string()) + " " + ShellQuote(Url(path)));
  }

  static std::string Envelope(uint64_t from, uint64_t n, uint64_t seed = 7) {
    IndicatorGenerator gen(seed);
    std::string s = "{\"objects\":[";
    for (uint64_t i = 0; i < from + n; ++i) {
      std::string o = gen.Next(i);
      if (i < from) continue;
      if (i > from) s += ",";
      s += o;
    }
    return s + "]}";
  }

  static std::string Col(const std::string& id) { return "/api/collections/" + id + "/"; }

  static TempDir* dir_;
  static std::string data_, admin_, alice_, bob_;
  static std::string shared_, secret_, readonly_, public_;
  static ServerProcess* server_;
};

TempDir* TaxiiE2E::dir_ = nullptr;
ServerProcess* TaxiiE2E::server_ = nullptr;
std::string TaxiiE2E::data_, TaxiiE2E::admin_, TaxiiE2E::alice_, TaxiiE2E::bob_;
std::string TaxiiE2E::shared_, TaxiiE2E::secret_, TaxiiE2E::readonly_, TaxiiE2E::public_;

TEST_F(TaxiiE2E, DiscoveryListsTheApiRoot) {
  auto r = Get("/taxii2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/taxii+json;version=2.1");
  auto j = r.Json();
  EXPECT_EQ(j["api_roots"][0], "/api/");
  EXPECT_EQ(j["default"], "/api/");
  EXPECT_TRUE(j["title"].is_string());
}

TEST_F(TaxiiE2E, ApiRootAdvertisesVersionAndMaxContentLength) {
  auto j = Get("/api/").Json();
  EXPECT_EQ(j["versions"][0], "application/taxii+json;version=2.1");
  EXPECT_EQ(j["max_content_length"], 1048576);
}

TEST_F(TaxiiE2E, UnknownApiRootIs404) {
  auto r = Get("/nope/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Json()["http_status"], "404");
}

TEST_F(TaxiiE2E, PathWithoutTrailingSlashIs404) { EXPECT_EQ(Get("/api").status, 404); }

TEST_F(TaxiiE2E, WrongMethodIs405) {
  auto r = Curl("-u admin:" + admin_ + " -X PUT " + ShellQuote(Url("/api/collections/")));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
}

TEST_F(TaxiiE2E, BadKeyIs401WithChallenge) {
  auto r = Curl("-u admin:0123456789abcdef.wrong -H " + ShellQuote(kAccept) + " " +
                ShellQuote(Url("/taxii2/")));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.headers["www-authenticate"].find("Basic"), std::string::npos);
  EXPECT_EQ(r.headers["content-type"], "application/taxii+json;version=2.1");
}

TEST_F(TaxiiE2E, KeyOfAnotherUserIs401) {
  auto r = Curl("-u bob:" + alice_ + " -H " + ShellQuote(kAccept) + " " +
                ShellQuote(Url("/api/collections/")));
  EXPECT_EQ(r.status, 401);
}

TEST_F(TaxiiE2E, MalformedAuthorizationIs401) {
  auto r = Curl("-H 'Authorization: Basic !!!' " + ShellQuote(Url("/taxii2/")));
  EXPECT_EQ(r.status, 401);
}

TEST_F(TaxiiE2E, RevokedKeyIs401) {
  std::string k = Setup("key create alice", false);
  Setup("key revoke " + k.substr(0, k.find('.')), true);
  auto r = Curl("-u alice:" + k + " " + ShellQuote(Url("/api/collections/")));
  EXPECT_EQ(r.status, 401);
}

TEST_F(TaxiiE2E, AnonymousSeesOnlyPublicCollections) {
  auto r = Curl("-H " + ShellQuote(kAccept) + " " + ShellQuote(Url("/api/collections/")));
  ASSERT_EQ(r.status, 200);
  auto cols = r.Json()["collections"];
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0]["alias"], "pub");
  EXPECT_EQ(cols[0]["can_read"], true);
  EXPECT_EQ(cols[0]["can_write"], false);
}

TEST_F(TaxiiE2E, AnonymousOnPrivateCollectionIs401NotRevealing) {
  auto existing = Curl(ShellQuote(Url(Col(secret_) + "objects/")));
  auto missing = Curl(ShellQuote(Url(Col("00000000-0000-4000-8000-000000000000") + "objects/")));
  EXPECT_EQ(existing.status, 401);
  EXPECT_EQ(missing.status, 401);
}

TEST_F(TaxiiE2E, AnonymousCannotWritePublicCollection) {
  EXPECT_EQ(Post(Col(public_) + "objects/", Envelope(0, 1), "").status, 401);
}

TEST_F(TaxiiE2E, CollectionsShowOnlyWhatTheUserMaySee) {
  auto j = Get("/api/collections/", "alice").Json();
  std::map<std::string, json> by_alias;
  for (auto& c : j["collections"]) by_alias[c["alias"]] = c;
  EXPECT_EQ(by_alias.count("secret"), 0u);
  ASSERT_EQ(by_alias.count("shared"), 1u);
  EXPECT_EQ(by_alias["shared"]["can_read"], true);
  EXPECT_EQ(by_alias["shared"]["can_write"], true);
  EXPECT_EQ(by_alias["readonly"]["can_write"], false);
  EXPECT_EQ(by_alias["shared"]["title"], "Shared");
}

// Issue 16: a browser session made from alice's key reads what alice reads, through the same
// TAXII routes; its writes need the CSRF token (same origin); signing out ends it on the server.
TEST_F(TaxiiE2E, BrowserSessionReadsAsItsUserAndItsWritesNeedTheCsrfToken) {
  auto f = dir_->path() / "signin.json";
  std::ofstream(f) << json{{"key", alice_}}.dump();
  HttpReply in = Curl("-X POST -H 'Content-Type: application/json' --data-binary @" +
                      ShellQuote(f.string()) + " " + ShellQuote(Url("/api/ui/v1/session")));
  ASSERT_EQ(in.status, 201) << in.body;
  std::string cookie = in.headers["set-cookie"];
  ASSERT_EQ(cookie.rfind("accord_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  std::string session = cookie.substr(0, cookie.find(';'));
  std::string csrf = in.Json()["csrf_token"];
  EXPECT_EQ(in.Json()["user"], "alice");
  const std::string jar = " -H " + ShellQuote("Cookie: " + session);

  // Reads: alice's collections, not the secret one.
  auto j =
      Curl(jar + " -H " + ShellQuote(kAccept) + " " + ShellQuote(Url("/api/collections/"))).Json();
  std::set<std::string> aliases;
  for (auto& c : j["collections"]) aliases.insert(c["alias"]);
  EXPECT_EQ(aliases.count("shared"), 1u);
  EXPECT_EQ(aliases.count("secret"), 0u);

  // Writes: without the token refused before the body is read; with it (and this origin)
  // accepted as alice's.
  auto body = dir_->path() / "post-session.json";
  std::ofstream(body) << Envelope(0, 1, 1616);
  const std::string post = " -X POST -H " + ShellQuote(kAccept) + " -H " + ShellQuote(kType) +
                           " --data-binary @" + ShellQuote(body.string()) + " " +
                           ShellQuote(Url(Col(shared_) + "objects/"));
  EXPECT_EQ(Curl(jar + post).status, 403);
  EXPECT_EQ(Curl(jar + " -H " + ShellQuote("X-CSRF-Token: " + csrf) +
                 " -H 'Origin: https://evil.example'" + post)
                .status,
            403);
  HttpReply ok =
      Curl(jar + " -H " + ShellQuote("X-CSRF-Token: " + csrf) + " -H " +
           ShellQuote("Origin: http://127.0.0.1:" + std::to_string(server_->port())) + post);
  EXPECT_EQ(ok.status, 202) << ok.body;

  // Search finds what alice posted by its value, narrowed by type and collection; counts
  // from the one indicator posted here.
  auto ioc = dir_->path() / "post-ioc.json";
  std::ofstream(ioc)
      << R"({"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--16161616-0000-4000-8000-000000000016","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ui search probe","pattern":"[ipv4-addr:value = '203.0.113.77']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]})";
  ASSERT_EQ(Curl(jar + " -H " + ShellQuote("X-CSRF-Token: " + csrf) + " -X POST -H " +
                 ShellQuote(kAccept) + " -H " + ShellQuote(kType) + " --data-binary @" +
                 ShellQuote(ioc.string()) + " " + ShellQuote(Url(Col(shared_) + "objects/")))
                .status,
            202);
  auto found = [&](const std::string& query) {
    HttpReply r = Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?" + query)));
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return r.Json().value("results", json::array()).size();
  };
  EXPECT_EQ(found("value=203.0.113.77"), 1u);
  EXPECT_EQ(found("value=203[.]0[.]113[.]77"), 1u);  // defanged
  EXPECT_EQ(found("value=203.0.113.0/24"), 1u);      // a CIDR finds the address inside it
  EXPECT_EQ(found("value=203.0.113.77&type=indicator"), 1u);
  EXPECT_EQ(found("value=203.0.113.77&type=malware,report"), 0u);
  EXPECT_EQ(found("value=203.0.113.77&collection=shared"), 1u);
  EXPECT_EQ(found("value=203.0.113.77&collection=readonly"), 0u);
  EXPECT_EQ(found("value=203.0.113.78"), 0u);

  // The UI's search answers people only, and says what it cannot read as a value.
  EXPECT_EQ(Curl(ShellQuote(Url("/api/ui/v1/search?value=198.51.100.7"))).status, 401);
  EXPECT_EQ(Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?value=198.51.100.7"))).status, 200);
  EXPECT_EQ(Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?value=not-a-value"))).status, 400);
  EXPECT_EQ(Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?value=1.2.3.4&limit=0"))).status,
            400);
  EXPECT_EQ(Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?valu=1.2.3.4"))).status, 400);

  // Signing out ends the session: the same cookie is then nobody.
  EXPECT_EQ(Curl(jar + " -X DELETE -H " + ShellQuote("X-CSRF-Token: " + csrf) + " " +
                 ShellQuote(Url("/api/ui/v1/session")))
                .status,
            204);
  EXPECT_EQ(Curl(jar + " " + ShellQuote(Url("/api/ui/v1/session"))).status, 401);
  EXPECT_EQ(Curl(jar + post).status, 401);  // anonymous now: authentication required
}

// The UI's import of the field's formats (docs/UI_API.md "Import"): a list uploaded through a
// browser session is stored as alice's, and each line that is no value is reported with its
// line and reason; the expected values are the lines written here.
TEST_F(TaxiiE2E, BrowserUploadOfAListReportsEachRejectedRecord) {
  auto f = dir_->path() / "signin-import.json";
  std::ofstream(f) << json{{"key", alice_}}.dump();
  HttpReply in = Curl("-X POST -H 'Content-Type: application/json' --data-binary @" +
                      ShellQuote(f.string()) + " " + ShellQuote(Url("/api/ui/v1/session")));
  ASSERT_EQ(in.status, 201) << in.body;
  const std::string cookie = in.headers["set-cookie"];
  const std::string jar = " -H " + ShellQuote("Cookie: " + cookie.substr(0, cookie.find(';')));
  const std::string token =
      " -H " + ShellQuote("X-CSRF-Token: " + in.Json()["csrf_token"].get<std::string>());
  auto list = dir_->path() / "upload.txt";
  std::ofstream(list) << "198.51.100.200\n"
                         "evil-upload.com\n"
                         "not a value at all\n"
                         "10.0.0.999\n"
                         "https://bad.example.com/x\n";
  auto upload = [&](const std::string& auth, const std::string& query) {
    return Curl(auth + " -X POST -H 'Content-Type: text/plain' --data-binary @" +
                ShellQuote(list.string()) + " " + ShellQuote(Url("/api/ui/v1/import?" + query)));
  };
  HttpReply r = upload(jar + token, "collection=shared&format=list&name=upload.txt");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.Json();
  EXPECT_EQ(j["accepted"], 3) << r.body;  // lines 1, 2 and 5
  EXPECT_EQ(j["added"], 3) << r.body;
  ASSERT_EQ(j["rejected_count"], 2) << r.body;
  ASSERT_EQ(j["rejected"].size(), 2u);
  EXPECT_EQ(j["rejected"][0]["record"], "upload.txt:3") << r.body;
  EXPECT_EQ(j["rejected"][1]["record"], "upload.txt:4") << r.body;
  for (const json& x : j["rejected"]) EXPECT_FALSE(x["reason"].get<std::string>().empty());
  // Stored and found by value.
  HttpReply found = Curl(jar + " " + ShellQuote(Url("/api/ui/v1/search?value=evil-upload.com")));
  EXPECT_EQ(found.Json()["results"].size(), 1u) << found.body;
  // The same list again: nothing new (values already held are left as they are).
  EXPECT_EQ(upload(jar + token, "collection=shared&format=list").Json()["added"], 0);
  // Refusals: no CSRF token; a collection alice may only read; one she may not read (as if it
  // did not exist); not signed in; a format this endpoint does not take.
  EXPECT_EQ(upload(jar, "collection=shared&format=list").status, 403);
  EXPECT_EQ(upload(jar + token, "collection=readonly&format=list").status, 403);
  EXPECT_EQ(upload(jar + token, "collection=secret&format=list").status, 404);
  EXPECT_EQ(upload("", "collection=shared&format=list").status, 401);
  EXPECT_EQ(upload(jar + token, "collection=shared&format=stix").status, 400);
}

// The web UI's indicators view (issue 16; docs/UI_API.md "Indicators"): a collection's
// indicators by state, worked out here from each one's valid_until and revoked against the
// clock; text filter; paging that neither skips nor repeats; a reader never gets TLP:RED.
TEST_F(TaxiiE2E, IndicatorsViewListsByStateFiltersAndPages) {
  const std::string coll = Setup("collection create ind-view", false);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto stamp = [](int64_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  const int64_t day = 86400;
  struct Ind {
    std::string key, name, state;
    int64_t until;  // 0: no valid_until
    bool revoked = false, red = false;
  };
  const std::vector<Ind> inds = {
      {"a1", "plain active", "active", 0},
      {"a2", "valid a month more", "active", now + 30 * day},
      {"a3", "Emotet loader C2", "active", 0},
      {"e1", "ends in two days", "expiring", now + 2 * day},
      {"e2", "ends in five days", "expiring", now + 5 * day},
      {"x1", "ended yesterday", "expired", now - day},
      {"r1", "withdrawn", "revoked", 0, true},
      {"red", "red one", "active", 0, false, true},
  };
  std::map<std::string, std::string> id_of, state_of;  // key -> id; id -> expected state
  std::string lines;
  for (size_t i = 0; i < inds.size(); ++i) {
    const Ind& x = inds[i];
    char id[64];
    std::snprintf(id, sizeof id, "indicator--5e000000-0000-4000-8000-%012zx", i + 1);
    json o = {{"type", "indicator"},
              {"spec_version", "2.1"},
              {"id", id},
              {"created", "2020-01-01T00:00:00.000Z"},
              {"modified", "2020-01-01T00:00:00.000Z"},
              {"name", x.name},
              {"pattern", "[domain-name:value = '" + x.key + ".view.example']"},
              {"pattern_type", "stix"},
              {"valid_from", "2020-01-01T00:00:00Z"}};
    if (x.until) o["valid_until"] = stamp(x.until);
    if (x.revoked) o["revoked"] = true;
    if (x.red) {
      o["object_marking_refs"] = {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
    }
    lines += o.dump() + "\n";
    id_of[x.key] = id;
    state_of[id] = x.state;
  }
  // Not an indicator: never listed.
  lines +=
      R"({"type":"malware","spec_version":"2.1","id":"malware--5e000000-0000-4000-8000-000000000099","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"not listed","is_family":true})"
      "\n";
  auto file = dir_->path() / "ind-view.jsonl";
  std::ofstream(file) << lines;
  Setup("import -q -c ind-view " + ShellQuote(file.string()), true);
  Setup("user add rita --role reader", true);
  const std::string rita = Setup("key create rita", false);

  auto ask = [&](const std::string& query, const std::string& auth = "") {
    return Curl((auth.empty() ? "-u admin:" + admin_ : auth) + " " +
                ShellQuote(Url("/api/ui/v1/indicators?collection=ind-view" + query)));
  };
  auto ids = [](const HttpReply& r) {
    std::set<std::string> out;
    for (const json& x : r.Json().value("indicators", json::array())) out.insert(x["id"]);
    return out;
  };
  auto keys = [&](std::initializer_list<const char*> ks) {
    std::set<std::string> out;
    for (const char* k : ks) out.insert(id_of[k]);
    return out;
  };
  HttpReply all = ask("");
  ASSERT_EQ(all.status, 200) << all.body;
  const json listed = all.Json();
  EXPECT_EQ(listed["collection"], "ind-view");
  ASSERT_EQ(listed["indicators"].size(), inds.size()) << all.body;
  for (const json& x : listed["indicators"]) {
    EXPECT_EQ(x["state"], state_of[x["id"]]) << x.dump();
    EXPECT_EQ(x["pattern_type"], "stix");
    EXPECT_NE(x["pattern"].get<std::string>().find(".view.example"), std::string::npos);
  }
  EXPECT_EQ(ids(ask("&state=active")), keys({"a1", "a2", "a3", "red"}));
  EXPECT_EQ(ids(ask("&state=expiring")), keys({"e1", "e2"}));  // within 7 days by default
  EXPECT_EQ(ids(ask("&state=expiring&within=3")), keys({"e1"}));
  EXPECT_EQ(ids(ask("&state=expired")), keys({"x1"}));
  EXPECT_EQ(ids(ask("&state=revoked")), keys({"r1"}));
  EXPECT_EQ(ids(ask("&q=emotet")), keys({"a3"}));  // case-insensitive, over name and more
  EXPECT_EQ(ids(ask("&q=ENDS%20IN&state=expiring")), keys({"e1", "e2"}));
  // Pages of 3: every indicator once, none twice, each page within its limit.
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (; pages < 20; ++pages) {
    HttpReply r = ask("&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.Json();
    EXPECT_LE(j["indicators"].size(), 3u);
    for (const json& x : j["indicators"]) EXPECT_TRUE(seen.insert(x["id"]).second) << x["id"];
    if (!j["more"].get<bool>()) break;
    cursor = j["next"];
  }
  EXPECT_EQ(seen.size(), inds.size());
  EXPECT_GE(pages, 2);
  // A reader never gets TLP:RED; an analyst without a grant gets what an unknown collection
  // gets; wrong parameters are refused.
  const std::string as_rita = "-H " + ShellQuote("Authorization: Bearer " + rita);
  std::set<std::string> no_red = keys({"a1", "a2", "a3", "e1", "e2", "x1", "r1"});
  EXPECT_EQ(ids(ask("", as_rita)), no_red);
  EXPECT_EQ(ask("", "-u alice:" + alice_).status, 404);
  EXPECT_EQ(Curl(ShellQuote(Url("/api/ui/v1/indicators?collection=ind-view"))).status, 401);
  EXPECT_EQ(ask("&state=soon").status, 400);
  EXPECT_EQ(ask("&limit=0").status, 400);
  EXPECT_EQ(ask("&within=0").status, 400);
  EXPECT_EQ(ask("&cursor=not-a-cursor").status, 400);
  EXPECT_EQ(Curl("-u admin:" + admin_ + " " + ShellQuote(Url("/api/ui/v1/indicators"))).status,
            400);
  EXPECT_EQ(
      Curl("-u admin:" + admin_ + " " + ShellQuote(Url("/api/ui/v1/indicators?collection=nope")))
          .status,
      404);
}

// The web UI's search without a value (issue 16; docs/UI_API.md "Search"): words of names and
// descriptions, type, collection, marking (by TLP name, either TLP version's id) and modified
// time, newest stored first, in pages; only what the caller may read. Every expected list is
// written out here from the objects imported, in the order they were imported.
TEST_F(TaxiiE2E, SearchByWordsTypeMarkingAndTimeInPagesOfWhatTheCallerReads) {
  Setup("collection create srch", false);
  Setup("collection create srch-hidden", false);
  Setup("collection grant srch alice --read", true);
  const std::string green2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
  const std::string red2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
  const std::string amber1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
  auto sdo = [](const std::string& type, int n, const std::string& modified,
                const std::string& name, const std::string& description,
                const std::string& marking) {
    char id[80];
    std::snprintf(id, sizeof id, "%s--5ea00000-0000-4000-8000-%012d", type.c_str(), n);
    json o = {{"type", type},
              {"spec_version", "2.1"},
              {"id", id},
              {"created", modified},
              {"modified", modified},
              {"name", name},
              {"description", description}};
    if (!marking.empty()) o["object_marking_refs"] = {marking};
    return o;
  };
  json m1 = sdo("malware", 1, "2021-01-01T00:00:00.000Z", "Quokka Strike", "beacon loader", green2);
  m1["is_family"] = true;
  json m2 = sdo("malware", 2, "2022-06-01T00:00:00.000Z", "Bilbyloader", "banking trojan", red2);
  m2["is_family"] = true;
  json r1 = sdo("report", 3, "2023-03-01T00:00:00.000Z", "Weekly quokka report", "", amber1);
  r1["published"] = "2023-03-01T00:00:00Z";
  r1["object_refs"] = {m1["id"]};
  json i1 = sdo("indicator", 4, "2024-01-01T00:00:00.000Z", "quokka C2 address", "", "");
  i1["pattern"] = "[ipv4-addr:value = '203.0.113.177']";
  i1["pattern_type"] = "stix";
  i1["valid_from"] = "2024-01-01T00:00:00Z";
  std::string lines;
  for (const json& o : {m1, m2, r1, i1}) lines += o.dump() + "\n";
  std::vector<std::string> fillers;  // newest first, as listed
  for (int n = 1; n <= 12; ++n) {
    json f = sdo("malware", 100 + n, "2020-01-01T00:00:00.000Z", "wombatfill " + std::to_string(n),
                 "", "");
    f["is_family"] = false;
    lines += f.dump() + "\n";
    fillers.insert(fillers.begin(), f["id"].get<std::string>());
  }
  json hidden = sdo("malware", 5, "2021-01-01T00:00:00.000Z", "quokka hidden", "", "");
  hidden["is_family"] = true;
  auto file = dir_->path() / "srch.jsonl";
  std::ofstream(file) << lines;
  Setup("import -q -c srch " + ShellQuote(file.string()), true);
  std::ofstream(file) << hidden.dump() << "\n";
  Setup("import -q -c srch-hidden " + ShellQuote(file.string()), true);
  Setup("user add rosa --role reader", true);
  const std::string rosa = Setup("key create rosa", false);

  auto ask = [&](const std::string& query, const std::string& auth = "") {
    return Curl((auth.empty() ? "-u admin:" + admin_ : auth) + " " +
                ShellQuote(Url("/api/ui/v1/search?" + query)));
  };
  auto ids = [&](const std::string& query, const std::string& auth = "") {
    HttpReply r = ask(query, auth);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> out;
    for (const json& x : r.Json().value("results", json::array())) out.push_back(x["id"]);
    return out;
  };
  using Ids = std::vector<std::string>;
  const std::string as_alice = "-u alice:" + alice_;
  const std::string as_rosa = "-H " + ShellQuote("Authorization: Bearer " + rosa);
  // Words, in the name or the description, any case; newest stored first.
  EXPECT_EQ(ids("q=QUOKKA"), (Ids{hidden["id"], i1["id"], r1["id"], m1["id"]}));
  EXPECT_EQ(ids("q=quokka+beacon"), (Ids{m1["id"]}));
  EXPECT_EQ(ids("q=quok*"), (Ids{hidden["id"], i1["id"], r1["id"], m1["id"]}));
  EXPECT_EQ(ask("q=quokka").Json()["query"]["kind"], "words");
  // Only the collections the caller reads: alice has no grant on srch-hidden.
  EXPECT_EQ(ids("q=quokka", as_alice), (Ids{i1["id"], r1["id"], m1["id"]}));
  // Type; collection.
  EXPECT_EQ(ids("q=quokka&type=malware"), (Ids{hidden["id"], m1["id"]}));
  EXPECT_EQ(ids("q=quokka&type=report,indicator"), (Ids{i1["id"], r1["id"]}));
  EXPECT_EQ(ids("q=quokka&collection=srch-hidden"), (Ids{hidden["id"]}));
  // Markings by TLP name: TLP 2.0 and 1.0 ids alike. A reader never gets TLP:RED.
  EXPECT_EQ(ids("collection=srch&marking=red"), (Ids{m2["id"]}));
  EXPECT_EQ(ids("collection=srch&marking=tlp:amber"), (Ids{r1["id"]}));
  EXPECT_EQ(ids("collection=srch&marking=GREEN,amber"), (Ids{r1["id"], m1["id"]}));
  EXPECT_EQ(ids("collection=srch&marking=" + red2), (Ids{m2["id"]}));
  EXPECT_EQ(ids("collection=srch&marking=red", as_rosa), Ids{});
  EXPECT_EQ(ids("q=bilbyloader", as_rosa), Ids{});
  EXPECT_EQ(ids("q=bilbyloader"), (Ids{m2["id"]}));
  // Modified time: from a day, before another.
  EXPECT_EQ(ids("collection=srch&since=2022-01-01&until=2023-12-31"), (Ids{r1["id"], m2["id"]}));
  EXPECT_EQ(ids("collection=srch&since=2024-01-01T00:00:00Z"), (Ids{i1["id"]}));
  // Pages: every filler once, in order, none twice.
  Ids seen;
  std::string cursor;
  int pages = 0;
  for (; pages < 10; ++pages) {
    HttpReply r =
        ask("collection=srch&q=wombatfill&limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    json j = r.Json();
    EXPECT_LE(j["results"].size(), 5u);
    for (const json& x : j["results"]) seen.push_back(x["id"]);
    if (!j["more"].get<bool>()) break;
    cursor = j["next"];
  }
  EXPECT_EQ(seen, fillers);
  EXPECT_EQ(pages, 2);  // 5 + 5 + 2
  // One value in q= is a search by that value.
  HttpReply by_value = ask("q=203.0.113.177");
  ASSERT_EQ(by_value.status, 200) << by_value.body;
  EXPECT_EQ(by_value.Json()["query"]["kind"], "ipv4");
  EXPECT_EQ(ids("q=203.0.113.177"), (Ids{i1["id"]}));
  // Refused: what is not a filter, a collection the caller may not read (as one that does not
  // exist), a cursor that is not one.
  EXPECT_EQ(ask("marking=purple").status, 400);
  EXPECT_EQ(ask("since=yesterday").status, 400);
  EXPECT_EQ(ask("q=x&cursor=zzz").status, 400);
  EXPECT_EQ(ask("value=203.0.113.177&q=x").status, 400);
  EXPECT_EQ(ask("collection=srch-hidden", as_alice).status, 404);
  EXPECT_EQ(ask("collection=no-such", as_alice).status, 404);
  EXPECT_EQ(Curl(ShellQuote(Url("/api/ui/v1/search?q=quokka"))).status, 401);
}

// The web UI's sightings dashboard (issue 16; docs/UI_API.md "Sightings"), on a node of its
// own with a peer x whose agreement lands objects in "from-x": counts per day of first_seen, per
// indicator, per source (who saw it) and per peer (who sent it), all worked out here by hand
// from the sightings imported.
TEST_F(TaxiiE2E, SightingsDashboardCountsPerDayIndicatorSourceAndPeer) {
  TempDir tmp("sightings-ui");
  const std::string data = (tmp.path() / "node").string(), other = (tmp.path() / "x").string();
  auto cli = [&](const std::string& d, const std::string& args) {
    RunResult r = RunCmd(Accord() + " " + args + " --data " + ShellQuote(d), tmp.path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out;
  };
  const json me = json::parse(cli(data, "node init --name here --json"));
  const json x = json::parse(cli(other, "node init --name x --json"));
  cli(data, "peer add x --url http://127.0.0.1:9/api/ --identity " +
                x["identity"].get<std::string>() + " --public-key " +
                x["public_key"].get<std::string>() + " --key none-issued");
  std::ofstream(tmp.path() / "x.toml")
      << "same_organization = false\n[share]\ncollections = []\nmax_tlp = \"amber\"\n"
         "forward = false\n[accept]\nfrom = [\"out\"]\ninto = \"from-x\"\n";
  cli(data, "agreement set x " + ShellQuote((tmp.path() / "x.toml").string()));
  const int64_t today = std::time(nullptr) / 86400 * 86400;
  auto at = [](int64_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return std::string(buf);
  };
  const std::string i1 = "indicator--5f000000-0000-4000-8000-000000000001";
  const std::string i2 = "indicator--5f000000-0000-4000-8000-000000000002";
  const std::string third = "identity--5f000000-0000-4000-8000-0000000000cc";
  auto sighting = [&](int n, const std::string& of, int count, int64_t first_seen,
                      const std::string& where) {
    char id[64];
    std::snprintf(id, sizeof id, "sighting--5f000000-0000-4000-8000-%012d", n);
    return json{{"type", "sighting"},
                {"spec_version", "2.1"},
                {"id", id},
                {"created", at(first_seen)},
                {"modified", at(first_seen)},
                {"first_seen", at(first_seen + 60)},
                {"count", count},
                {"sighting_of_ref", of},
                {"where_sighted_refs", {where}}}
        .dump();
  };
  const int64_t day = 86400;
  std::ofstream(tmp.path() / "local.jsonl")
      << json{{"type", "indicator"},
              {"spec_version", "2.1"},
              {"id", i1},
              {"created", "2020-01-01T00:00:00.000Z"},
              {"modified", "2020-01-01T00:00:00.000Z"},
              {"name", "first indicator"},
              {"pattern", "[ipv4-addr:value = '198.51.100.1']"},
              {"pattern_type", "stix"},
              {"valid_from", "2020-01-01T00:00:00Z"}}
             .dump()
      << "\n"
      << sighting(1, i1, 5, today, me["identity"]) << "\n";
  std::ofstream(tmp.path() / "from-x.jsonl")
      << sighting(2, i1, 2, today - 2 * day, x["identity"]) << "\n"
      << sighting(3, i2, 4, today - 1 * day, third) << "\n"
      << sighting(4, i2, 7, today - 40 * day, third) << "\n";
  cli(data, "import -q -c local " + ShellQuote((tmp.path() / "local.jsonl").string()));
  cli(data, "import -q -c from-x " + ShellQuote((tmp.path() / "from-x.jsonl").string()));
  ServerProcess server;
  ASSERT_TRUE(server.Start(data));
  cli(data, "user add ada --role admin");
  const std::string created = cli(data, "key create ada");
  const std::string key = created.substr(0, created.find('\n'));
  auto ask = [&](const std::string& query) {
    return Curl("-H " + ShellQuote("Authorization: Bearer " + key) + " " +
                ShellQuote("http://127.0.0.1:" + std::to_string(server.port()) +
                           "/api/ui/v1/sightings" + query));
  };
  HttpReply r = ask("");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.Json();
  ASSERT_EQ(j["days"].size(), 30u);
  EXPECT_EQ(j["days"][29], at(today).substr(0, 10));
  EXPECT_EQ(j["sightings"], 3);  // the fourth was first seen 40 days ago
  EXPECT_EQ(j["total"]["total"], 5 + 2 + 4);
  std::vector<uint64_t> per_day(30, 0);
  per_day[29] = 5;
  per_day[28] = 4;
  per_day[27] = 2;
  EXPECT_EQ(j["total"]["series"].get<std::vector<uint64_t>>(), per_day);
  ASSERT_EQ(j["indicators"].size(), 2u) << r.body;
  EXPECT_EQ(j["indicators"][0]["id"], i1);
  EXPECT_EQ(j["indicators"][0]["name"], "first indicator");
  EXPECT_EQ(j["indicators"][0]["total"], 7);
  EXPECT_EQ(j["indicators"][1]["id"], i2);
  EXPECT_EQ(j["indicators"][1]["name"], "");  // not held here
  EXPECT_EQ(j["indicators"][1]["total"], 4);
  ASSERT_EQ(j["sources"].size(), 3u) << r.body;
  EXPECT_EQ(j["sources"][0]["id"], me["identity"]);
  EXPECT_EQ(j["sources"][0]["name"], "here (this node)");
  EXPECT_EQ(j["sources"][0]["total"], 5);
  EXPECT_EQ(j["sources"][1]["id"], third);
  EXPECT_EQ(j["sources"][1]["total"], 4);
  EXPECT_EQ(j["sources"][2]["name"], "x");
  EXPECT_EQ(j["sources"][2]["total"], 2);
  ASSERT_EQ(j["peers"].size(), 2u) << r.body;
  EXPECT_EQ(j["peers"][0]["peer"], "x");
  EXPECT_EQ(j["peers"][0]["total"], 6);
  EXPECT_EQ(j["peers"][1]["peer"], "");
  EXPECT_EQ(j["peers"][1]["total"], 5);
  // Sixty days hold the fourth; one indicator alone.
  EXPECT_EQ(ask("?days=60").Json()["total"]["total"], 18);
  json only = ask("?days=60&indicator=" + i2).Json();
  ASSERT_EQ(only["indicators"].size(), 1u);
  EXPECT_EQ(only["indicators"][0]["total"], 11);
  EXPECT_EQ(only["total"]["total"], 11);
  EXPECT_EQ(ask("?days=0").status, 400);
  EXPECT_EQ(ask("?days=367").status, 400);
  EXPECT_EQ(ask("?since=1").status, 400);
  EXPECT_EQ(
      Curl(ShellQuote("http://127.0.0.1:" + std::to_string(server.port()) + "/api/ui/v1/sightings"))
          .status,
      401);
}

// The web UI's object view lists related objects (issue 16; docs/UI_API.md "Related"): what
// shares a value with the object, or refers to it, through the value index; only what the
// caller may read, as `accord related` names it.
TEST_F(TaxiiE2E, ObjectRelatedSharesValuesAndReferencesOnlyWhatTheCallerReads) {
  auto ind = [](const char* id, const char* ip, const char* name) {
    return json{{"type", "indicator"},
                {"spec_version", "2.1"},
                {"id", id},
                {"created", "2024-01-01T00:00:00.000Z"},
                {"modified", "2024-01-01T00:00:00.000Z"},
                {"name", name},
                {"pattern", std::string("[ipv4-addr:value = '") + ip + "']"},
                {"pattern_type", "stix"},
                {"valid_from", "2024-01-01T00:00:00Z"}}
        .dump();
  };
  const char* a = "indicator--7e000000-0000-4000-8000-00000000000a";
  const char* b = "indicator--7e000000-0000-4000-8000-00000000000b";
  const char* c = "indicator--7e000000-0000-4000-8000-00000000000c";
  const char* d = "indicator--7e000000-0000-4000-8000-00000000000d";
  const char* r = "report--7e000000-0000-4000-8000-0000000000ee";
  const std::string report = json{
      {"type", "report"},
      {"spec_version", "2.1"},
      {"id", r},
      {"created", "2024-01-01T00:00:00.000Z"},
      {"modified", "2024-01-01T00:00:00.000Z"},
      {"name", "the report"},
      {"published", "2024-01-01T00:00:00Z"},
      {"object_refs", {a}}}.dump();
  auto put = [&](const std::string& collection, const std::string& lines) {
    auto f = dir_->path() / ("related-" + collection + ".jsonl");
    std::ofstream(f) << lines;
    Setup("import -q -c " + collection + " " + ShellQuote(f.string()), true);
  };
  put("shared", ind(a, "192.0.2.77", "asked about") + "\n" + ind(d, "192.0.2.78", "other ip") +
                    "\n" + report + "\n");
  put("readonly", ind(b, "192.0.2.77", "same ip, readable") + "\n");
  put("secret", ind(c, "192.0.2.77", "same ip, secret") + "\n");
  auto related = [&](const std::string& id, const std::string& auth) {
    HttpReply reply = Curl(auth + " " + ShellQuote(Url("/api/ui/v1/objects/" + id + "/related")));
    std::map<std::string, std::set<std::string>> by_kind;  // kind -> ids
    for (const json& g : reply.Json().value("values", json::array())) {
      for (const json& o : g["objects"]) by_kind[g["kind"]].insert(o["id"]);
    }
    return std::make_pair(reply.status, by_kind);
  };
  auto [s1, as_alice] = related(a, "-u alice:" + alice_);
  ASSERT_EQ(s1, 200);
  EXPECT_EQ(as_alice["ipv4"], std::set<std::string>({b}));  // c is in a collection she can't read
  EXPECT_EQ(as_alice["refers-to"], std::set<std::string>({r}));
  EXPECT_EQ(as_alice.size(), 2u);  // d shares nothing
  auto [s2, as_admin] = related(a, "-u admin:" + admin_);
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(as_admin["ipv4"], std::set<std::string>({b, c}));
  EXPECT_EQ(related(c, "-u alice:" + alice_).first, 404);
  EXPECT_EQ(Curl("-u alice:" + alice_ + " " +
                 ShellQuote(Url(std::string("/api/ui/v1/objects/") + a + "/related?x=1")))
                .status,
            400);
}

TEST_F(TaxiiE2E, CollectionByIdAndByAlias) {
  auto a = Get(Col(shared_), "alice");
  auto b = Get(Col("shared"), "alice");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.Json()["id"], shared_);
  EXPECT_EQ(b.Json()["id"], shared_);
  EXPECT_EQ(a.Json()["media_types"][0], "application/stix+json;version=2.1");
}

TEST_F(TaxiiE2E, HiddenAndUnknownCollectionsAreBoth404) {
  auto hidden = Get(Col(secret_), "alice");
  auto unknown = Get(Col("00000000-0000-4000-8000-000000000000"), "alice");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(hidden.Json()["title"], unknown.Json()["title"]);
}

TEST_F(TaxiiE2E, WriteOnlyUserCannotRead403) {
  EXPECT_EQ(Get(Col(shared_) + "objects/", "bob").status, 403);
  EXPECT_EQ(Get(Col(shared_) + "manifest/", "bob").status, 403);
}

TEST_F(TaxiiE2E, WrongAcceptIs406) {
  auto r =
      Curl("-u admin:" + admin_ + " -H 'Accept: application/json' " + ShellQuote(Url("/taxii2/")));
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(r.Json()["http_status"], "406");
  auto v20 = Curl("-u admin:" + admin_ + " -H 'Accept: application/taxii+json;version=2.0' " +
                  ShellQuote(Url("/taxii2/")));
  EXPECT_EQ(v20.status, 406);
}

TEST_F(TaxiiE2E, UnversionedTaxiiAcceptIsServed) {
  auto r = Curl("-u admin:" + admin_ + " -H 'Accept: application/taxii+json' " +
                ShellQuote(Url("/taxii2/")));
  EXPECT_EQ(r.status, 200);
}

TEST_F(TaxiiE2E, PostReturnsCompleteStatusAndStatusEndpointServesIt) {
  auto r = Post(Col(shared_) + "objects/", Envelope(1000, 3), "alice");
  ASSERT_EQ(r.status, 202) << r.body;
  auto st = r.Json();
  EXPECT_EQ(st["status"], "complete");
  EXPECT_EQ(st["total_count"], 3);
  EXPECT_EQ(st["success_count"], 3);
  // Statuses keep counts and failures, not every success id (`successes` is optional).
  EXPECT_FALSE(st.contains("successes"));
  EXPECT_EQ(st["failure_count"], 0);
  EXPECT_EQ(st["pending_count"], 0);
  auto again = Get("/api/status/" + st["id"].get<std::string>() + "/", "alice");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["id"], st["id"]);
  // Another user does not see it; an unknown id is 404 too.
  EXPECT_EQ(Get("/api/status/" + st["id"].get<std::string>() + "/", "bob").status, 404);
  EXPECT_EQ(Get("/api/status/00000000-0000-4000-8000-000000000000/").status, 404);
}

TEST_F(TaxiiE2E, PostDuplicateIsSuccess) {
  auto a = Post(Col(shared_) + "objects/", Envelope(2000, 2), "alice");
  auto b = Post(Col(shared_) + "objects/", Envelope(2000, 2), "alice");
  ASSERT_EQ(b.status, 202);
  EXPECT_EQ(b.Json()["success_count"], 2);
}

TEST_F(TaxiiE2E, PostInvalidObjectIsReportedAsFailure) {
  std::string body =
      R"({"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--6b5e7a3c-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[broken","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]})";
  auto r = Post(Col(shared_) + "objects/", body, "alice");
  ASSERT_EQ(r.status, 202) << r.body;
  auto st = r.Json();
  // "[broken" is not STIX Patterning: the one ingest path refuses the indicator (issue 9).
  EXPECT_EQ(st["total_count"], 1);
  EXPECT_EQ(st["success_count"], 0);
  EXPECT_EQ(st["failure_count"], 1);
  ASSERT_EQ(st["failures"].size(), 1u) << r.body;
  EXPECT_EQ(st["failures"][0]["id"], "indicator--6b5e7a3c-0000-4000-8000-000000000001");
  EXPECT_EQ(st["failures"][0]["version"], "2024-01-01T00:00:00.000Z");
  std::string msg = st["failures"][0]["message"].get<std::string>();
  EXPECT_EQ(msg.rfind("invalid STIX pattern: ", 0), 0u) << msg;
  // The status resource keeps the failure and its message.
  auto again = Get("/api/status/" + st["id"].get<std::string>() + "/", "alice");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["failure_count"], 1);
  EXPECT_EQ(again.Json()["failures"][0]["message"], msg);
  // And the indicator is not stored.
  EXPECT_EQ(Get(Col(shared_) + "objects/indicator--6b5e7a3c-0000-4000-8000-000000000001/", "alice")
                .status,
            404);
}

TEST_F(TaxiiE2E, PostWrongContentTypeIs415) {
  EXPECT_EQ(
      Post(Col(shared_) + "objects/", Envelope(0, 1), "alice", "Content-Type: application/json")
          .status,
      415);
}

TEST_F(TaxiiE2E, PostMalformedJsonIs400) {
  EXPECT_EQ(Post(Col(shared_) + "objects/", "{\"objects\": [", "alice").status, 400);
}

TEST_F(TaxiiE2E, PostNonEnvelopeIs422) {
  EXPECT_EQ(Post(Col(shared_) + "objects/", "{\"type\":\"bundle\"}", "alice").status, 422);
  EXPECT_EQ(Post(Col(shared_) + "objects/", "[1,2]", "alice").status, 422);
}

TEST_F(TaxiiE2E, PostTooLargeIs413) {
  std::string big = "{\"objects\":[\"" + std::string(1100000, 'x') + "\"]}";
  auto r = Post(Col(shared_) + "objects/", big, "alice");
  EXPECT_EQ(r.status, 413);
}

TEST_F(TaxiiE2E, PostToReadOnlyCollectionIs403AndToHiddenIs404) {
  EXPECT_EQ(Post(Col(readonly_) + "objects/", Envelope(0, 1), "alice").status, 403);
  EXPECT_EQ(Post(Col(secret_) + "objects/", Envelope(0, 1), "alice").status, 404);
}

// `accord import` in another process while the server writes to the same store: both append
// to the object log under the store's write lock, so every object comes back as it was sent.
TEST_F(TaxiiE2E, CliImportBetweenPostsKeepsEveryObjectIntact) {
  std::string cid = Setup("collection create mixed", false);
  IndicatorGenerator gen(23);
  std::map<std::string, json> sent;
  auto batch = [&](uint64_t from, uint64_t n, std::string* envelope, std::string* lines) {
    for (uint64_t i = from; i < from + n; ++i) {
      std::string o = gen.Next(i);
      json j = json::parse(o);
      sent[j["id"].get<std::string>()] = j;
      if (envelope) *envelope += (envelope->size() > 12 ? "," : "") + o;
      if (lines) *lines += o + "\n";
    }
  };
  std::string env1 = "{\"objects\":[", lines, env2 = "{\"objects\":[";
  batch(0, 60, &env1, nullptr);
  batch(60, 60, nullptr, &lines);
  batch(120, 60, &env2, nullptr);
  ASSERT_EQ(Post(Col(cid) + "objects/", env1 + "]}").status, 202);
  auto f = dir_->path() / "mixed.jsonl";
  std::ofstream(f) << lines;
  auto imp = RunCmd(Accord() + " import --collection " + cid + " " + ShellQuote(f.string()) +
                        " --data " + ShellQuote(data_),
                    dir_->path());
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  ASSERT_EQ(Post(Col(cid) + "objects/", env2 + "]}").status, 202);
  auto r = Get(Col(cid) + "objects/?limit=1000");
  ASSERT_EQ(r.status, 200) << r.body;
  auto objs = r.Json()["objects"];
  ASSERT_EQ(objs.size(), sent.size());
  for (const auto& o : objs) {
    auto it = sent.find(o["id"].get<std::string>());
    ASSERT_NE(it, sent.end()) << o.dump();
    EXPECT_EQ(o, it->second);  // member by member
  }
}

TEST_F(TaxiiE2E, PaginationOverSeveralPagesWithNextAndDateHeaders) {
  std::string cid = Setup("collection create paged", false);
  ASSERT_EQ(Post(Col(cid) + "objects/", Envelope(0, 250, 11)).status, 202);
  std::set<std::string> seen;
  std::string next, last_added;
  int pages = 0;
  for (;;) {
    std::string q = "objects/?limit=100" + (next.empty() ? "" : "&next=" + next);
    auto r = Get(Col(cid) + q);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    auto j = r.Json();
    for (auto& o : j["objects"]) seen.insert(o["id"].get<std::string>());
    ASSERT_TRUE(r.headers.count("x-taxii-date-added-first"));
    ASSERT_TRUE(r.headers.count("x-taxii-date-added-last"));
    EXPECT_LE(r.headers["x-taxii-date-added-first"], r.headers["x-taxii-date-added-last"]);
    EXPECT_GE(r.headers["x-taxii-date-added-first"], last_added);
    last_added = r.headers["x-taxii-date-added-last"];
    EXPECT_LE(j["objects"].size(), 100u);
    if (!j.value("more", false)) break;
    next = j["next"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 250u);
  // added_after the last page's header: nothing newer.
  auto after = Get(Col(cid) + "objects/?added_after=" + last_added);
  EXPECT_EQ(after.status, 200);
  EXPECT_FALSE(after.Json().contains("objects"));
  EXPECT_FALSE(after.headers.count("x-taxii-date-added-first"));
  // The manifest paginates the same way.
  auto m = Get(Col(cid) + "manifest/?limit=100").Json();
  EXPECT_EQ(m["objects"].size(), 100u);
  EXPECT_EQ(m["more"], true);
  EXPECT_EQ(m["objects"][0]["media_type"], "application/stix+json;version=2.1");
}

TEST_F(TaxiiE2E, FiltersMatchTypeIdVersionSpecVersion) {
  std::string cid = Setup("collection create filters", false);
  const std::string id = "indicator--11111111-2222-4333-8444-555555555555";
  auto ind = [&](const std::string& modified) {
    return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
           R"(","created":"2024-01-01T00:00:00.000Z","modified":")" + modified +
           R"(","pattern":"[ipv4-addr:value = '10.1.1.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  };
  std::string body =
      "{\"objects\":[" + ind("2024-01-01T00:00:00.000Z") + "," + ind("2024-02-01T00:00:00.000Z") +
      "," + ind("2024-03-01T00:00:00.000Z") +
      R"(,{"type":"identity","spec_version":"2.1","id":"identity--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"X","identity_class":"organization"}]})";
  ASSERT_EQ(Post(Col(cid) + "objects/", body).status, 202);
  auto objs = [&](const std::string& q) {
    return Get(Col(cid) + "objects/" + q).Json()["objects"];
  };
  EXPECT_EQ(objs("").size(), 2u);  // latest version of each
  EXPECT_EQ(objs("?match[type]=identity").size(), 1u);
  EXPECT_EQ(objs("?match[type]=indicator,identity").size(), 2u);
  EXPECT_EQ(objs("?match[id]=" + id).size(), 1u);
  EXPECT_EQ(objs("?match[id]=" + id)[0]["modified"], "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(objs("?match[id]=" + id + "&match[version]=first")[0]["modified"],
            "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(objs("?match[id]=" + id + "&match[version]=all").size(), 3u);
  EXPECT_EQ(objs("?match[id]=" + id + "&match[version]=2024-02-01T00:00:00.000Z")[0]["modified"],
            "2024-02-01T00:00:00.000Z");
  EXPECT_EQ(objs("?match[id]=" + id + "&match[version]=first,last").size(), 2u);
  EXPECT_EQ(objs("?match[spec_version]=2.1").size(), 2u);
  EXPECT_EQ(objs("?match[spec_version]=2.0").size(), 0u);
  // Object, versions.
  auto one = Get(Col(cid) + "objects/" + id + "/");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.Json()["objects"].size(), 1u);
  EXPECT_TRUE(one.headers.count("x-taxii-date-added-last"));
  auto filtered = Get(Col(cid) + "objects/" + id + "/?match[version]=1999-01-01T00:00:00.000Z");
  EXPECT_EQ(filtered.status, 200);
  EXPECT_FALSE(filtered.Json().contains("objects"));
  auto versions = Get(Col(cid) + "objects/" + id + "/versions/");
  ASSERT_EQ(versions.status, 200);
  EXPECT_EQ(
      versions.Json()["versions"],
      json({"2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"}));
  EXPECT_TRUE(versions.headers.count("x-taxii-date-added-first"));
  // Delete the latest version, then all.
  auto del = Curl("-u admin:" + admin_ + " -X DELETE -H " + ShellQuote(kAccept) + " " +
                  ShellQuote(Url(Col(cid) + "objects/" + id + "/")));
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.headers["content-type"], "application/taxii+json;version=2.1");
  EXPECT_EQ(objs("?match[id]=" + id + "&match[version]=all").size(), 2u);
  del = Curl("-u admin:" + admin_ + " -g -X DELETE " +
             ShellQuote(Url(Col(cid) + "objects/" + id + "/?match[version]=all")));
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(Get(Col(cid) + "objects/" + id + "/").status, 404);
  EXPECT_EQ(Get(Col(cid) + "objects/" + id + "/versions/").status, 404);
}

TEST_F(TaxiiE2E, MalformedFiltersAre400) {
  const std::string base = Col(shared_) + "objects/";
  for (const char* q : {"?limit=0", "?limit=-1", "?limit=abc", "?added_after=yesterday",
                        "?match[version]=all,last", "?match[version]=sometime", "?limit=1&limit=2",
                        "?match[type]=a,,b", "?match[spec_version]=3.0", "?next=%zz"}) {
    auto r = Get(base + q, "alice");
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
  }
  EXPECT_EQ(Get(Col(shared_) + "objects/indicator--x/?match[type]=indicator", "alice").status, 400);
}

TEST_F(TaxiiE2E, ObjectUnknownIs404) {
  EXPECT_EQ(Get(Col(shared_) + "objects/indicator--00000000-0000-4000-8000-00000000abcd/", "alice")
                .status,
            404);
}

TEST_F(TaxiiE2E, DeletePermissionTable) {
  ASSERT_EQ(Post(Col(readonly_) + "objects/", Envelope(3000, 1)).status, 202);
  IndicatorGenerator gen(7);
  std::string o;
  for (int i = 0; i <= 3000; ++i) o = gen.Next(static_cast<uint64_t>(i));
  std::string id = json::parse(o)["id"];
  auto del = [&](const std::string& col, const std::string& who) {
    std::string auth = who == "alice" ? "-u alice:" + alice_ : "-u bob:" + bob_;
    return Curl(auth + " -X DELETE " + ShellQuote(Url(Col(col) + "objects/" + id + "/"))).status;
  };
  EXPECT_EQ(del(readonly_, "alice"), 403);  // read, no write
  EXPECT_EQ(del(shared_, "bob"), 403);      // write, no read
  EXPECT_EQ(del(secret_, "alice"), 404);    // neither
  EXPECT_EQ(del(shared_, "alice"), 404);    // may, but the object is not there
}

TEST_F(TaxiiE2E, HeadCarriesTheContentLengthOfGet) {
  std::string cid = Setup("collection create headed", false);
  ASSERT_EQ(Post(Col(cid) + "objects/", Envelope(0, 3, 31)).status, 202);
  auto g = Get(Col(cid) + "objects/");
  ASSERT_EQ(g.status, 200);
  auto h = Get(Col(cid) + "objects/", "admin", "-I");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.headers["content-length"], std::to_string(g.body.size()));
  EXPECT_EQ(h.body.find("\"objects\""), std::string::npos);  // curl -I writes only the head
}

TEST_F(TaxiiE2E, CachedPagesSeeWritesAndDeletes) {
  std::string cid = Setup("collection create cached", false);
  ASSERT_EQ(Post(Col(cid) + "objects/", Envelope(0, 2, 41)).status, 202);
  auto a = Get(Col(cid) + "objects/?limit=10");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.Json()["objects"].size(), 2u);
  EXPECT_EQ(Get(Col(cid) + "objects/?limit=10").body, a.body);  // served from the cache
  ASSERT_EQ(Post(Col(cid) + "objects/", Envelope(2, 1, 41)).status, 202);
  auto b = Get(Col(cid) + "objects/?limit=10");
  EXPECT_EQ(b.Json()["objects"].size(), 3u);
  std::string id = b.Json()["objects"][0]["id"];
  auto d = Curl("-u admin:" + admin_ + " -X DELETE -H " + ShellQuote(kAccept) + " " +
                ShellQuote(Url(Col(cid) + "objects/" + id + "/")));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(Get(Col(cid) + "objects/?limit=10").Json()["objects"].size(), 2u);
  EXPECT_EQ(Get(Col(cid) + "objects/" + id + "/").status, 404);
}

TEST_F(TaxiiE2E, ClientPushThenPullResumes) {
  auto file = dir_->path() / "push.jsonl";
  {
    std::ofstream f(file);
    IndicatorGenerator gen(99);
    for (int i = 0; i < 120; ++i) f << gen.Next(static_cast<uint64_t>(i)) << "\n";
  }
  std::string cid = Setup("collection create pushed", false);
  std::string root = Url("/api/");
  auto push = RunCmd(Accord() + " taxii push " + root + " " + cid + " " +
                         ShellQuote(file.string()) + " --batch 50 --user admin --key " + admin_,
                     dir_->path());
  ASSERT_EQ(push.exit_code, 0) << push.err;
  EXPECT_NE(push.err.find("120 accepted"), std::string::npos) << push.err;
  auto local = (dir_->path() / "puller").string();
  std::string pull = Accord() + " taxii pull " + root + " " + cid +
                     " --page-size 50 --into mirror --data " + ShellQuote(local) + " --key " +
                     admin_;
  auto p1 = RunCmd(pull, dir_->path());
  ASSERT_EQ(p1.exit_code, 0) << p1.err;
  EXPECT_NE(p1.err.find("pulled 120 object versions in 3 pages"), std::string::npos) << p1.err;
  auto p2 = RunCmd(pull, dir_->path());
  ASSERT_EQ(p2.exit_code, 0) << p2.err;
  EXPECT_NE(p2.err.find("pulled 0 object versions"), std::string::npos) << p2.err;
  // Issue 13: the puller's audit log has the pull's writes, 120 versions in 3 pages (the
  // second pull linked nothing: no entry), by the remote API root.
  {
    auto q = RunCmd(Accord() + " audit query --json --action write --data " + ShellQuote(local),
                    dir_->path());
    ASSERT_EQ(q.exit_code, 0) << q.err;
    std::istringstream in(q.out);
    size_t entries = 0, versions = 0;
    for (std::string l; std::getline(in, l);) {
      auto e = nlohmann::json::parse(l);
      EXPECT_EQ(e["actor"], "taxii-pull:" + root);
      ++entries;
      versions += e["objects"].size();
    }
    EXPECT_EQ(entries, 3u);
    EXPECT_EQ(versions, 120u);
  }
  // A push from a node is an egress entry in its log, before anything is sent: the puller
  // pushes its mirror back (the same 120 versions: duplicates there, accepted).
  {
    auto pushed =
        RunCmd(Accord() + " export --collection mirror --data " + ShellQuote(local), dir_->path());
    ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
    std::ofstream(dir_->path() / "mirror.json") << pushed.out;
    auto back = RunCmd(Accord() + " taxii push " + root + " " + cid + " " +
                           ShellQuote((dir_->path() / "mirror.json").string()) +
                           " --user admin --key " + admin_ + " --data " + ShellQuote(local),
                       dir_->path());
    ASSERT_EQ(back.exit_code, 0) << back.err;
    auto q = RunCmd(Accord() + " audit query --json --action egress --data " + ShellQuote(local),
                    dir_->path());
    ASSERT_EQ(q.exit_code, 0) << q.err;
    std::istringstream in(q.out);
    bool found = false;
    for (std::string l; std::getline(in, l);) {
      auto e = nlohmann::json::parse(l);
      if (e.value("exit", "") != "taxii-push") continue;
      found = true;
      EXPECT_EQ(e["peer"], root);
      EXPECT_EQ(e["collection"], cid);
      EXPECT_EQ(e["objects"].size(), 120u);
      EXPECT_EQ(e["actor"].get<std::string>().rfind("operator:", 0), 0u);
    }
    EXPECT_TRUE(found) << q.out;
  }
  auto d =
      RunCmd(Accord() + " taxii discover " + Url("/taxii2/") + " --key " + admin_, dir_->path());
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_NE(d.out.find("/api/"), std::string::npos);
  auto c = RunCmd(Accord() + " taxii collections " + root + " --user alice --key " + alice_,
                  dir_->path());
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_NE(c.out.find(shared_), std::string::npos);
  auto bad = RunCmd(Accord() + " taxii collections " + root + " --key nope.nope", dir_->path());
  EXPECT_EQ(bad.exit_code, 4) << bad.err;
}

// A search that looks inside objects answers a person whose role has a redaction profile only
// with copies that still hold what they were found by (docs/UI_API.md "Search"): the indexes
// hold the stored text, so a hit on a redacted copy by the redacted part would tell it.
TEST(UiSearch, ARedactedCopyIsFoundOnlyByWhatItStillHolds) {
  TempDir dir("ui-search-redacted");
  const std::string data = (dir.path() / "d").string();
  auto cli = [&](const std::string& args) {
    auto r = RunCmd(Accord() + " " + args + " --data " + ShellQuote(data), dir.path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  cli("node init --name n");
  std::ofstream(dir.path() / "d" / "accord.toml")
      << "[redaction.profiles.people]\n"
         "text_patterns = ['[\\w.+-]+@[\\w-]+\\.[\\w.]+']\n"
         "[redaction.roles]\n"
         "reader = \"people\"\n";
  cli("collection create c");
  const std::string id = "malware--5eb00000-0000-4000-8000-000000000001";
  json m = {{"type", "malware"},
            {"spec_version", "2.1"},
            {"id", id},
            {"created", "2024-01-01T00:00:00.000Z"},
            {"modified", "2024-01-01T00:00:00.000Z"},
            {"name", "numbat loader"},
            {"description", "C2 at numbat-c2.net; victim contact ops@victim-corp.org"},
            {"is_family", true}};
  std::ofstream(dir.path() / "m.jsonl") << m.dump() << "\n";
  cli("import -q -c c " + ShellQuote((dir.path() / "m.jsonl").string()));
  cli("user add rosa --role reader");
  const std::string rosa = cli("key create rosa");
  cli("user add ada --role admin");
  const std::string ada = cli("key create ada");
  ServerProcess server;
  ASSERT_TRUE(server.Start(data));
  auto found = [&](const std::string& query, const std::string& auth) {
    auto body = dir.path() / "b.json";
    auto r =
        RunCmd("curl -s -g -o " + ShellQuote(body.string()) + " -w '%{http_code}' " + auth + " " +
                   ShellQuote("http://127.0.0.1:" + std::to_string(server.port()) +
                              "/api/ui/v1/search?" + query),
               dir.path());
    EXPECT_EQ(r.out, "200") << query << ": " << Slurp(body);
    std::vector<std::string> ids;
    json j = json::parse(Slurp(body), nullptr, false);
    for (const json& x : j.value("results", json::array())) ids.push_back(x["id"]);
    return ids;
  };
  const std::string admin = "-H " + ShellQuote("Authorization: Bearer " + ada);
  const std::string reader = "-H " + ShellQuote("Authorization: Bearer " + rosa);
  using Ids = std::vector<std::string>;
  // The admin receives the object as stored: found by every value and word it holds.
  EXPECT_EQ(found("value=ops@victim-corp.org", admin), Ids{id});
  EXPECT_EQ(found("q=ops+victim", admin), Ids{id});
  // The reader receives it with the address redacted: found by what the copy still holds...
  EXPECT_EQ(found("value=numbat-c2.net", reader), Ids{id});
  EXPECT_EQ(found("q=numbat+loader", reader), Ids{id});
  EXPECT_EQ(found("type=malware", reader), Ids{id});
  // ... never by what the redaction took out.
  EXPECT_EQ(found("value=ops@victim-corp.org", reader), Ids{});
  EXPECT_EQ(found("q=ops+victim", reader), Ids{});
  EXPECT_EQ(server.Stop(), 0);
}

TEST(TaxiiServe, SigtermStopsGracefully) {
  TempDir dir("taxii-stop");
  ServerProcess s;
  ASSERT_TRUE(s.Start((dir.path() / "d").string()));
  EXPECT_EQ(s.Stop(), 0);
  bool stopped = false;
  for (auto& l : s.lines()) stopped = stopped || l.find("stopped") != std::string::npos;
  EXPECT_TRUE(stopped);
}

// POSTs in flight when SIGTERM arrives: the server answers each request it read, and every
// 202 it sent means the objects were committed (they are in the store after the exit).
TEST(TaxiiServe, SigtermCommitsEveryAcceptedPost) {
  TempDir dir("taxii-stop-post");
  std::string data = (dir.path() / "d").string();
  ServerProcess s;
  ASSERT_TRUE(s.Start(data));
  constexpr int kPosts = 8, kPer = 200;
  IndicatorGenerator gen(11);
  std::vector<std::vector<std::string>> ids(kPosts);
  std::string script;
  for (int p = 0; p < kPosts; ++p) {
    std::string env = "{\"objects\":[";
    for (int i = 0; i < kPer; ++i) {
      std::string o = gen.Next(static_cast<uint64_t>(p * kPer + i));
      ids[p].push_back(json::parse(o)["id"].get<std::string>());
      env += (i ? "," : "") + o;
    }
    env += "]}";
    auto f = dir.path() / ("env" + std::to_string(p) + ".json");
    std::ofstream(f) << env;
    script += "curl -s -o " + ShellQuote(f.string() + ".out") +
              " -w '%{http_code}' -u admin:" + s.admin_key() + " -H " + ShellQuote(kAccept) +
              " -H " + ShellQuote(kType) + " --data-binary @" + ShellQuote(f.string()) +
              " http://127.0.0.1:" + std::to_string(s.port()) +
              "/api/collections/default/objects/ > " + ShellQuote(f.string() + ".code") + " & ";
  }
  script += "wait";
  std::thread clients([&] { RunCmd(script, dir.path()); });
  // Stop once the first answer is in: the others are then being read, validated or committed.
  auto first_code = [&] {
    for (int p = 0; p < kPosts; ++p) {
      if (!Slurp(dir.path() / ("env" + std::to_string(p) + ".json.code")).empty()) return true;
    }
    return false;
  };
  for (int i = 0; i < 2000 && !first_code(); ++i) usleep(1000);
  EXPECT_EQ(s.Stop(), 0);
  clients.join();
  auto listed = RunCmd(Accord() + " list --collection default --limit 0 --data " + ShellQuote(data),
                       dir.path());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  int accepted = 0;
  for (int p = 0; p < kPosts; ++p) {
    auto base = dir.path() / ("env" + std::to_string(p) + ".json");
    std::string code = Slurp(base.string() + ".code");
    if (code != "202") continue;  // refused or cut off by the stop: no promise was made
    ++accepted;
    json st = json::parse(Slurp(base.string() + ".out"));
    EXPECT_EQ(st["status"], "complete");
    EXPECT_EQ(st["success_count"], kPer);
    for (const auto& id : ids[p]) {
      EXPECT_NE(listed.out.find(id), std::string::npos)
          << "POST " << p << " answered 202 but " << id << " is not stored";
    }
  }
  EXPECT_GE(accepted, 1);
}

TEST(TaxiiServe, PlainHttpOnPublicAddressIsRefused) {
  TempDir dir("taxii-plain");
  auto r = RunCmd(
      Accord() + " serve --listen 0.0.0.0:0 --data " + ShellQuote((dir.path() / "d").string()),
      dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("refusing plain HTTP"), std::string::npos) << r.err;
}

TEST(TaxiiServe, TlsServesHttps) {
  TempDir dir("taxii-tls");
  auto cert = (dir.path() / "c.pem").string(), key = (dir.path() / "k.pem").string();
  auto gen = RunCmd(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
          ShellQuote(key) + " -out " + ShellQuote(cert),
      dir.path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ServerProcess s;
  ASSERT_TRUE(s.Start((dir.path() / "d").string(), {"--tls-cert", cert, "--tls-key", key}));
  std::string url = "https://127.0.0.1:" + std::to_string(s.port()) + "/taxii2/";
  auto ok = RunCmd("curl -s -o /dev/null -w '%{http_code}' --cacert " + ShellQuote(cert) +
                       " -u admin:" + s.admin_key() + " " + url,
                   dir.path());
  EXPECT_EQ(ok.out, "200");
  auto noverify =
      RunCmd(Accord() + " taxii discover " + url + " --key " + s.admin_key(), dir.path());
  EXPECT_NE(noverify.exit_code, 0);  // self-signed: verification on by default
  auto pinned = RunCmd(Accord() + " taxii discover " + url + " --cacert " + ShellQuote(cert) +
                           " --key " + s.admin_key(),
                       dir.path());
  EXPECT_EQ(pinned.exit_code, 0) << pinned.err;
}

}  // namespace
}  // namespace accord::testing
