// The one ingest path (src/ingest/, docs/INGEST.md) seen from every entry point, against real
// processes: `accord import`, a TAXII POST to `accord serve`, and `accord taxii pull` from a
// server that holds a bad object.
//
// - An indicator whose STIX pattern does not parse is refused by each entry point, with the
//   same message (issue 9 §1).
// - A bundle of ten objects with one bad one stores nine, over import, POST and pull.
// - A directory with no file Accord can read fails and names each skipped file with the
//   reason; a failed import creates no collection (issue 9 §8).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "common/gen_indicators.h"
#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr const char* kAccept = "Accept: application/taxii+json;version=2.1";
constexpr const char* kType = "Content-Type: application/taxii+json;version=2.1";

// An indicator whose pattern is not STIX Patterning ("[broken" has no ':' and no ']'), and
// whose own `modified` the failure entry must echo as its version.
constexpr const char* kBadId = "indicator--6b5e7a3c-0000-4000-8000-000000000bad";
const std::string kBadIndicator =
    std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + kBadId +
    R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z",)"
    R"("pattern":"[broken","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
constexpr const char* kPatternRule = "invalid STIX pattern: ";

// Nine valid generated indicators and the bad one in sixth place, with the good ids.
struct Ten {
  std::vector<std::string> objects;
  std::set<std::string> good_ids;
};

Ten TenWithOneBad(uint64_t seed) {
  Ten t;
  IndicatorGenerator gen(seed);
  for (uint64_t i = 0; i < 9; ++i) {
    std::string o = gen.Next(i);
    t.good_ids.insert(json::parse(o)["id"].get<std::string>());
    t.objects.push_back(o);
  }
  t.objects.insert(t.objects.begin() + 5, kBadIndicator);
  return t;
}

std::string Join(const std::vector<std::string>& objects) {
  std::string s;
  for (size_t i = 0; i < objects.size(); ++i) s += (i ? "," : "") + objects[i];
  return s;
}

std::string Bundle(const std::vector<std::string>& objects) {
  return R"({"type":"bundle","id":"bundle--6b5e7a3c-0000-4000-8000-00000000b0b0","objects":[)" +
         Join(objects) + "]}";
}

std::string Envelope(const std::vector<std::string>& objects) {
  return "{\"objects\":[" + Join(objects) + "]}";
}

void Write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// The ids of the objects `accord list --json -c COLLECTION` prints (one JSON object a line).
std::vector<std::string> ListedIds(const std::string& data, const std::string& collection,
                                   const TempDir& tmp) {
  auto r =
      RunCmd(Accord() + " list --json --data " + ShellQuote(data) + " -c " + ShellQuote(collection),
             tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> ids;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) ids.push_back(json::parse(line)["id"].get<std::string>());
  }
  return ids;
}

// Collection aliases and ids, read from the store itself (not through the CLI).
std::set<std::string> StoredCollections(const std::string& data) {
  store::Options o;
  o.dir = data;
  o.create = false;
  auto s = store::Store::Open(o);
  EXPECT_TRUE(s.ok()) << s.status();
  std::set<std::string> names;
  if (!s.ok()) return names;
  auto cs = (*s)->ListCollections();
  EXPECT_TRUE(cs.ok()) << cs.status();
  if (!cs.ok()) return names;
  for (const auto& c : *cs) {
    names.insert(c.alias);
    names.insert(c.id);
  }
  return names;
}

// The message after "<location>: <id>: " on the stderr line that names `id`, or "".
std::string MessageFor(const std::string& err, const std::string& id) {
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    size_t p = line.find(id + ": ");
    if (p != std::string::npos) return line.substr(p + id.size() + 2);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// A running node, its admin key, and curl against it.

struct HttpReply {
  int status = 0;
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
};

class Node {
 public:
  explicit Node(const TempDir& tmp, const std::string& name)
      : tmp_(tmp), data_((tmp.path() / name).string()) {}

  void Start() {
    ASSERT_TRUE(server_.Start(data_));
    ASSERT_FALSE(server_.admin_key().empty());
  }

  // `accord ARGS --data DIR`; returns the first line of standard output.
  std::string Cli(const std::string& args) {
    auto r = RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), tmp_.path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  HttpReply Curl(const std::string& args) {
    auto body = tmp_.path() / "reply.txt";
    auto r = RunCmd("curl -s -g -o " + ShellQuote(body.string()) + " -w '%{http_code}' -u admin:" +
                        server_.admin_key() + " -H " + ShellQuote(kAccept) + " " + args,
                    tmp_.path());
    HttpReply out;
    out.status = std::atoi(r.out.c_str());
    out.body = Slurp(body);
    return out;
  }

  HttpReply Get(const std::string& path) { return Curl(ShellQuote(Url(path))); }

  HttpReply Post(const std::string& path, const std::string& body) {
    auto f = tmp_.path() / "post.json";
    Write(f, body);
    return Curl("-X POST -H " + ShellQuote(kType) + " --data-binary @" + ShellQuote(f.string()) +
                " " + ShellQuote(Url(path)));
  }

  const std::string& data() const { return data_; }
  const std::string& admin_key() const { return server_.admin_key(); }

 private:
  const TempDir& tmp_;
  std::string data_;
  ServerProcess server_;
};

// ---------------------------------------------------------------------------------------------

// The same bad indicator, through the three doors: each refuses it with one message.
TEST(IngestE2E, UnparsablePatternIsRefusedWithTheSameMessageByEveryEntryPoint) {
  TempDir tmp("ingest-same-msg");

  // 1. TAXII POST: the status resource counts one failure and carries the message.
  Node node(tmp, "node");
  node.Start();
  std::string col = node.Cli("collection create inbox");
  auto post = node.Post("/api/collections/" + col + "/objects/", Envelope({kBadIndicator}));
  ASSERT_EQ(post.status, 202) << post.body;
  json st = post.Json();
  EXPECT_EQ(st["total_count"], 1);
  EXPECT_EQ(st["success_count"], 0);
  EXPECT_EQ(st["failure_count"], 1);
  ASSERT_TRUE(st["failures"].is_array() && st["failures"].size() == 1) << post.body;
  EXPECT_EQ(st["failures"][0]["id"], kBadId);
  EXPECT_EQ(st["failures"][0]["version"], "2024-01-02T00:00:00.000Z");
  std::string post_msg = st["failures"][0]["message"].get<std::string>();
  EXPECT_EQ(post_msg.rfind(kPatternRule, 0), 0u) << post_msg;
  // The status resource, fetched again, says the same.
  auto again = node.Get("/api/status/" + st["id"].get<std::string>() + "/");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["failure_count"], 1);
  EXPECT_EQ(again.Json()["failures"][0]["message"], post_msg);
  // Nothing of it was stored.
  EXPECT_EQ(node.Get("/api/collections/" + col + "/objects/" + kBadId + "/").status, 404);

  // 2. accord import: refused, named on standard error with the same message.
  std::string cli_data = (tmp.path() / "cli").string();
  Write(tmp.path() / "bad.json", Bundle({kBadIndicator}));
  auto imp = RunCmd(Accord() + " import " + ShellQuote((tmp.path() / "bad.json").string()) +
                        " --data " + ShellQuote(cli_data),
                    tmp.path());
  EXPECT_NE(imp.exit_code, 0);
  EXPECT_EQ(MessageFor(imp.err, kBadId), post_msg) << imp.err;

  // 3. accord taxii pull from a server that holds the bad indicator. A correct node cannot be
  // made to hold one through its own doors any more, so it is written into the source node's
  // store with the store library directly (stix::ReadBuffer without the pattern check),
  // as an older Accord or another implementation would have served it.
  Node source(tmp, "source");
  std::string src_col = source.Cli("collection create feed");
  {
    store::Options o;
    o.dir = source.data();
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    auto txn = (*s)->BeginImport(src_col);
    ASSERT_TRUE(txn.ok()) << txn.status();
    Ten ten = TenWithOneBad(11);
    std::string arr = "[" + Join(ten.objects) + "]";
    uint64_t problems = 0;
    auto rs = stix::ReadBuffer(
        arr, {}, [&](stix::ObjectRecord&& r) { return (*txn)->Add(r); },
        [&](stix::Problem&& p) { problems += p.warning ? 0 : 1; });
    ASSERT_TRUE(rs.ok()) << rs.status();
    ASSERT_EQ(rs->objects, 10u);  // the store layer alone takes all ten
    ASSERT_EQ(problems, 0u);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  source.Start();
  auto served = source.Get("/api/collections/" + src_col + "/objects/" + kBadId + "/");
  ASSERT_EQ(served.status, 200) << "the source node must serve the bad indicator: " << served.body;

  std::string pull_data = (tmp.path() / "puller").string();
  auto pull = RunCmd(Accord() + " taxii pull " + ShellQuote(source.Url("/api/")) + " " + src_col +
                         " --into pulled --user admin --key " + source.admin_key() + " --data " +
                         ShellQuote(pull_data),
                     tmp.path());
  EXPECT_EQ(pull.exit_code, 1) << pull.err;
  EXPECT_EQ(MessageFor(pull.err, kBadId), post_msg) << pull.err;
  // Nine of the ten came over; the bad one did not.
  std::vector<std::string> ids = ListedIds(pull_data, "pulled", tmp);
  Ten expected = TenWithOneBad(11);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected.good_ids);
  EXPECT_EQ(ids.size(), 9u);
}

TEST(IngestE2E, TenObjectsWithOneBadStoreNineOverImport) {
  TempDir tmp("ingest-ten-cli");
  std::string data = (tmp.path() / "data").string();
  Ten ten = TenWithOneBad(3);
  Write(tmp.path() / "ten.json", Bundle(ten.objects));
  auto r = RunCmd(Accord() + " import " + ShellQuote((tmp.path() / "ten.json").string()) +
                      " -c ten --data " + ShellQuote(data),
                  tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;  // done, with rejected input
  EXPECT_NE(MessageFor(r.err, kBadId).rfind(kPatternRule, 0), std::string::npos) << r.err;
  std::vector<std::string> ids = ListedIds(data, "ten", tmp);
  EXPECT_EQ(ids.size(), 9u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ten.good_ids);
}

TEST(IngestE2E, TenObjectsWithOneBadStoreNineOverTaxiiPost) {
  TempDir tmp("ingest-ten-post");
  Node node(tmp, "node");
  node.Start();
  std::string col = node.Cli("collection create ten");
  Ten ten = TenWithOneBad(5);
  auto post = node.Post("/api/collections/" + col + "/objects/", Envelope(ten.objects));
  ASSERT_EQ(post.status, 202) << post.body;
  json st = post.Json();
  EXPECT_EQ(st["total_count"], 10);
  EXPECT_EQ(st["success_count"], 9);
  EXPECT_EQ(st["failure_count"], 1);
  ASSERT_EQ(st["failures"].size(), 1u);
  EXPECT_EQ(st["failures"][0]["id"], kBadId);
  EXPECT_EQ(st["failures"][0]["message"].get<std::string>().rfind(kPatternRule, 0), 0u);
  auto page = node.Get("/api/collections/" + col + "/objects/?match[version]=all");
  ASSERT_EQ(page.status, 200) << page.body;
  std::set<std::string> ids;
  size_t n = 0;
  json objects = page.Json()["objects"];
  for (const auto& o : objects) {
    ids.insert(o["id"].get<std::string>());
    ++n;
  }
  EXPECT_EQ(n, 9u);
  EXPECT_EQ(ids, ten.good_ids);
}

// A directory with no STIX file, imported as STIX (--format stix): non-zero exit, each file
// named with its reason, nothing stored and no collection created. (Without --format, the
// default `auto` reads such files as lists, CSV or text: tests/formats/.)
TEST(IngestE2E, DirectoryWithNoReadableFileFailsAndNamesEachSkippedFile) {
  TempDir tmp("ingest-dir");
  std::string data = (tmp.path() / "data").string();
  auto dir = tmp.path() / "feeds";
  std::filesystem::create_directories(dir / "sub");
  Write(dir / "README.txt", "not STIX\n");
  Write(dir / "sub" / "notes.md", "# notes\n");
  Write(dir / "list.csv", "1.2.3.4\n");
  auto r = RunCmd(Accord() + " import --format stix " + ShellQuote(dir.string()) +
                      " -c feeds --data " + ShellQuote(data),
                  tmp.path());
  EXPECT_NE(r.exit_code, 0) << r.out;
  for (const char* f : {"README.txt", "sub/notes.md", "list.csv"}) {
    std::string path = (dir / f).string();
    size_t at = r.err.find("skipped: " + path + ": ");
    ASSERT_NE(at, std::string::npos) << f << " not named in:\n" << r.err;
    // The reason names what Accord reads.
    std::string line = r.err.substr(at, r.err.find('\n', at) - at);
    EXPECT_NE(line.find(".json"), std::string::npos) << line;
  }
  if (std::filesystem::exists(data)) {
    EXPECT_EQ(StoredCollections(data).count("feeds"), 0u);
  }
}

// A .json file that is not JSON: the import fails, names the file, and creates no collection.
TEST(IngestE2E, UnreadableFileFailsAndCreatesNoCollection) {
  TempDir tmp("ingest-unreadable");
  std::string data = (tmp.path() / "data").string();
  auto dir = tmp.path() / "feeds";
  std::filesystem::create_directories(dir);
  Write(dir / "broken.json", "this is not json\n");
  auto r = RunCmd(
      Accord() + " import " + ShellQuote(dir.string()) + " -c broken --data " + ShellQuote(data),
      tmp.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find((dir / "broken.json").string()), std::string::npos) << r.err;
  ASSERT_TRUE(std::filesystem::exists(data)) << r.err;  // the store was opened
  EXPECT_EQ(StoredCollections(data).count("broken"), 0u);
}

// Every object refused: exit non-zero, and the collection it named does not appear.
TEST(IngestE2E, ImportWithEveryObjectRejectedCreatesNoCollection) {
  TempDir tmp("ingest-all-bad");
  std::string data = (tmp.path() / "data").string();
  Write(tmp.path() / "bad.json", Bundle({kBadIndicator}));
  auto r = RunCmd(Accord() + " import " + ShellQuote((tmp.path() / "bad.json").string()) +
                      " -c nothing --data " + ShellQuote(data),
                  tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(StoredCollections(data).count("nothing"), 0u);
  // Nor does `accord collection list` show it.
  auto l = RunCmd(Accord() + " collection list --data " + ShellQuote(data), tmp.path());
  EXPECT_EQ(l.out.find("nothing"), std::string::npos) << l.out;
}

}  // namespace
}  // namespace accord::testing
