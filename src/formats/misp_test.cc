// Tests of the MISP reader and writer (issue 15). Expected values are worked out here from the
// raw MISP JSON with nlohmann::json and from the mapping rules in docs/FORMATS.md, never
// pasted from the converter's output. Every emitted STIX object goes through the STIX reader
// (validation, deterministic SCO ids) and every indicator pattern through the pattern checker.
#include "accord/formats/misp.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/pattern/pattern.h"
#include "accord/stix/reader.h"
#include "common/paths.h"
#include "stix/sco_id.h"

namespace accord::formats {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kTlpWhite = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
constexpr std::string_view kTlpAmber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
constexpr std::string_view kTlpAmberStrict =
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";

// The MISP types the mapping turns into indicators (docs/FORMATS.md), written out here.
const std::set<std::string> kIndicatorTypes = {
    "ip-src",          "ip-dst",    "ip-src|port",  "ip-dst|port",   "domain",
    "hostname",        "domain|ip", "url",          "uri",           "email",
    "email-src",       "email-dst", "md5",          "sha1",          "sha256",
    "sha512",          "ssdeep",    "filename|md5", "filename|sha1", "filename|sha256",
    "filename|sha512", "filename",  "mutex",        "regkey",        "regkey|value"};

struct Result {
  absl::Status status;
  MispStats stats;
  std::vector<Unit> units;
  std::vector<stix::Problem> problems;
  std::vector<json> objects() const {
    std::vector<json> out;
    for (const Unit& u : units) {
      for (const std::string& o : u.objects) out.push_back(json::parse(o));
    }
    return out;
  }
};

Result Convert(std::string_view input, ConvertOptions o = {}) {
  Result r;
  if (o.source_name == "<input>") o.source_name = "test.json";
  if (o.now == 0) o.now = 1700000000LL * 1000000;
  auto s = ReadMisp(
      input, o,
      [&](Unit&& u) {
        r.units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) { r.problems.push_back(std::move(p)); });
  r.status = s.status();
  if (s.ok()) r.stats = *s;
  return r;
}

// Runs every object of `units` through the STIX reader, with the pattern checker on indicators;
// returns the problems (warnings included) as text.
std::vector<std::string> Validate(const std::vector<Unit>& units, size_t max_objects = SIZE_MAX) {
  std::string all = "[";
  size_t n = 0;
  for (const Unit& u : units) {
    for (const std::string& o : u.objects) {
      if (n++ >= max_objects) break;
      if (all.size() > 1) all += ',';
      all += o;
    }
  }
  all += ']';
  stix::ReaderOptions ro;
  ro.source_name = "converted";
  ro.check_sco_ids = true;
  ro.object_check = [](const stix::ObjectRecord& rec) -> absl::Status {
    if (rec.type != "indicator") return absl::OkStatus();
    auto p = pattern::ParseAndCheck(rec.pattern);
    return p.ok() ? absl::OkStatus() : p.status();
  };
  std::vector<std::string> problems;
  uint64_t accepted = 0;
  auto st = stix::ReadBuffer(
      all, ro,
      [&](stix::ObjectRecord&&) {
        ++accepted;
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) { problems.push_back(p.ToString()); });
  EXPECT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(accepted, std::min(n, max_objects));
  return problems;
}

std::string ReadFileOrDie(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The members of a .tar.gz, path -> content, extracted once into a temporary folder by tar(1).
std::map<std::string, std::string> Untar(const std::string& archive) {
  std::map<std::string, std::string> out;
  std::string tmpl = (fs::temp_directory_path() / "misp_test.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return out;
  std::string cmd = common::Cat("tar -xzf '", archive, "' -C '", tmpl, "'");
  if (std::system(cmd.c_str()) != 0) return out;
  for (const auto& e : fs::recursive_directory_iterator(tmpl)) {
    if (e.is_regular_file()) {
      out[fs::relative(e.path(), tmpl).string()] = ReadFileOrDie(e.path());
    }
  }
  fs::remove_all(tmpl);
  return out;
}

std::string Shared(std::string_view rel) {
  return common::Cat(accord::testing::SharedDir().string(), "/", rel);
}

bool SharedDataPresent() {
  return fs::exists(Shared("data/misp/eset-malware-ioc-misp-events.tar.gz"));
}

// Independent reading of MISP JSON: the events in any of the shapes.
void CollectEvents(const json& j, std::vector<const json*>* out) {
  if (j.is_array()) {
    for (const json& x : j) CollectEvents(x, out);
  } else if (j.is_object()) {
    if (j.contains("response")) {
      CollectEvents(j["response"], out);
    } else if (j.contains("Event") && j["Event"].is_object()) {
      out->push_back(&j["Event"]);
    } else if (j.contains("Attribute") || j.contains("Object") || j.contains("info")) {
      out->push_back(&j);
    }
  }
}

bool ToIds(const json& a) {
  if (!a.contains("to_ids")) return false;
  const json& t = a["to_ids"];
  if (t.is_boolean()) return t.get<bool>();
  if (t.is_number_integer()) return t.get<int64_t>() != 0;
  if (t.is_string()) return t == "1" || t == "true" || t == "True";
  return false;
}

bool Deleted(const json& a) {
  if (!a.contains("deleted")) return false;
  const json& d = a["deleted"];
  return (d.is_boolean() && d.get<bool>()) || d == "1" || d == 1;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value as the mapping normalises it: hashes and domains lower case (docs/FORMATS.md).
std::string Normalise(const std::string& type, const std::string& v) {
  static const std::set<std::string> kLowerAll = {"md5",    "sha1",   "sha256",
                                                  "sha512", "domain", "hostname"};
  if (kLowerAll.count(type)) return Lower(v);
  if (type.rfind("filename|", 0) == 0) {
    size_t bar = v.rfind('|');
    return v.substr(0, bar + 1) + Lower(v.substr(bar + 1));
  }
  if (type == "domain|ip") {
    size_t bar = v.find('|');
    return Lower(v.substr(0, bar)) + v.substr(bar);
  }
  return v;
}

struct Expected {
  uint64_t events = 0;
  std::map<std::string, uint64_t> per_type;             // to_ids attributes of indicator types
  std::map<std::string, std::string> type_of_uuid;      // attribute uuid -> type
  std::set<std::string> to_ids_uuids;                   // attributes with to_ids
  std::set<std::pair<std::string, std::string>> pairs;  // (type, normalised value), to_ids
  std::map<std::string, std::set<std::pair<std::string, std::string>>> pairs_of_uuid;
};

void Expect(const json& doc, Expected* e) {
  std::vector<const json*> events;
  CollectEvents(doc, &events);
  for (const json* ev : events) {
    ++e->events;
    std::set<std::string> seen;
    auto attr = [&](const json& a) {
      if (!a.is_object() || Deleted(a) || !a.contains("type") || !a["type"].is_string()) return;
      std::string type = a["type"];
      std::string uuid = a.value("uuid", "");
      if (!uuid.empty() && !seen.insert(uuid).second) return;
      e->type_of_uuid[uuid] = type;
      if (!ToIds(a) || !kIndicatorTypes.count(type)) return;
      e->to_ids_uuids.insert(uuid);
      ++e->per_type[type];
      if (a.contains("value") && a["value"].is_string()) {
        auto pair = std::make_pair(type, Normalise(type, a["value"].get<std::string>()));
        e->pairs.insert(pair);
        e->pairs_of_uuid[uuid].insert(pair);
      }
    };
    if (ev->contains("Attribute") && (*ev)["Attribute"].is_array()) {
      for (const json& a : (*ev)["Attribute"]) attr(a);
    }
    if (ev->contains("Object") && (*ev)["Object"].is_array()) {
      for (const json& o : (*ev)["Object"]) {
        if (!o.is_object() || Deleted(o) || !o.contains("Attribute")) continue;
        for (const json& a : o["Attribute"]) attr(a);
      }
    }
  }
}

struct Corpus {
  std::map<std::string, std::string> files;  // member -> JSON text
};

const Corpus& RealCorpus() {
  static const Corpus* c = [] {
    auto* out = new Corpus;
    for (const char* archive :
         {"data/misp/eset-malware-ioc-misp-events.tar.gz", "data/misp/pymisp-test-events.tar.gz",
          "data/indicators/citizenlab-malware-indicators.tar.gz"}) {
      for (auto& [name, text] : Untar(Shared(archive))) {
        if (name.size() < 5 || name.substr(name.size() - 5) != ".json") continue;
        if (std::string_view(archive).find("citizenlab") != std::string_view::npos &&
            name.find("misp.json") == std::string::npos) {
          continue;
        }
        out->files[name] = std::move(text);
      }
    }
    return out;
  }();
  return *c;
}

// ---------------------------------------------------------------------------------------------
// Real data

TEST(MispRealDataTest, IndicatorsPerTypeMatchTheToIdsAttributes) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const Corpus& corpus = RealCorpus();
  ASSERT_GT(corpus.files.size(), 90u);
  Expected expected;
  MispStats total;
  std::map<std::string, uint64_t> malformed_per_type;
  uint64_t reports = 0, units = 0, files_read = 0;
  double seconds = 0;
  std::vector<std::string> invalid;
  for (const auto& [name, text] : corpus.files) {
    json doc = json::parse(text, nullptr, false);
    ConvertOptions o;
    o.source_name = name;
    auto start = std::chrono::steady_clock::now();
    Result r = Convert(text, o);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(r.status.ok()) << name << ": " << r.status;
    total.attributes += r.stats.attributes;
    if (doc.is_discarded()) {
      EXPECT_TRUE(r.units.empty()) << name;
      continue;
    }
    ++files_read;
    Expected mine;
    Expect(doc, &mine);
    expected.events += mine.events;
    for (auto& [t, n] : mine.per_type) expected.per_type[t] += n;
    for (const stix::Problem& p : r.problems) {
      if (p.warning) continue;
      if (p.object_id.empty()) {  // not about an attribute: a document that holds no event
        std::cout << "  not an event: " << p.ToString() << "\n";
        continue;
      }
      auto it = mine.type_of_uuid.find(p.object_id);
      ASSERT_NE(it, mine.type_of_uuid.end()) << name << ": " << p.ToString();
      EXPECT_NE(p.location.find(name), std::string::npos) << p.ToString();
      EXPECT_NE(p.message.find(p.object_id), std::string::npos) << p.ToString();
      std::cout << "  malformed in real data: " << p.ToString() << "\n";
      if (mine.to_ids_uuids.count(p.object_id)) ++malformed_per_type[it->second];
    }
    total.events += r.stats.events;
    total.skipped_events += r.stats.skipped_events;
    total.malformed += r.stats.malformed;
    total.indicators += r.stats.indicators;
    total.observables += r.stats.observables;
    for (auto& [t, n] : r.stats.indicators_per_type) total.indicators_per_type[t] += n;
    units += r.units.size();
    for (const Unit& u : r.units) {
      std::set<std::string> ids;
      for (const std::string& s : u.objects) ids.insert(json::parse(s)["id"].get<std::string>());
      EXPECT_EQ(ids.size(), u.objects.size()) << u.name << ": duplicate ids in one unit";
      for (const std::string& s : u.objects) {
        json obj = json::parse(s);
        if (obj["type"] != "report") continue;
        ++reports;
        ASSERT_FALSE(obj["object_refs"].empty()) << u.name;
        for (const json& ref : obj["object_refs"]) {
          EXPECT_TRUE(ids.count(ref.get<std::string>())) << u.name << ": dangling " << ref;
        }
      }
    }
    for (const std::string& p : Validate(r.units)) invalid.push_back(common::Cat(name, ": ", p));
  }
  EXPECT_TRUE(invalid.empty()) << invalid.size() << " problems, first: " << invalid.front();
  EXPECT_GE(files_read, 90u);
  EXPECT_EQ(reports, total.events);
  EXPECT_EQ(units, total.events);
  EXPECT_EQ(total.events + total.skipped_events, expected.events);
  uint64_t expected_total = 0, malformed_total = 0;
  for (const auto& [type, n] : expected.per_type) {
    expected_total += n;
    malformed_total += malformed_per_type[type];
    EXPECT_EQ(total.indicators_per_type[type] + malformed_per_type[type], n) << type;
  }
  for (const auto& [type, n] : total.indicators_per_type) {
    EXPECT_TRUE(expected.per_type.count(type)) << "unexpected indicator type " << type;
  }
  EXPECT_GT(expected_total, 1500u);
  EXPECT_LT(malformed_total * 100, expected_total) << "more than 1% malformed";
  std::cout << "real data: " << expected.events << " events, " << total.events << " converted, "
            << total.indicators << " indicators from " << expected_total << " to_ids attributes, "
            << total.observables << " observables, " << malformed_total << " malformed; "
            << total.attributes << " attributes in " << seconds << " s, "
            << static_cast<double>(total.attributes) / seconds
            << " attributes/s (this build type)\n";
}

TEST(MispRealDataTest, TrailingCommaFileIsOneProblemNotACrash) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const std::string name = "eset-malware-ioc/pypi_backdoor/malicious_pypi_packages.misp-event.json";
  const auto& files = RealCorpus().files;
  auto it = files.find(name);
  ASSERT_NE(it, files.end());
  ConvertOptions o;
  o.source_name = name;
  Result r = Convert(it->second, o);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.units.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].location.rfind(name + ":37374:", 0), 0u) << r.problems[0].ToString();
  EXPECT_NE(r.problems[0].message.find("byte"), std::string::npos) << r.problems[0].message;
  // Strict: an error instead.
  o.strict = true;
  EXPECT_FALSE(Convert(it->second, o).status.ok());
}

// The event's tlp:white tag marks the report and every other object of the event.
TEST(MispRealDataTest, TlpTagBecomesMarkingOnEveryObject) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const std::string& text = RealCorpus().files.at("eset-malware-ioc/telebots/misp-telebots.json");
  json doc = json::parse(text);
  std::vector<const json*> events;
  CollectEvents(doc, &events);
  ASSERT_EQ(events.size(), 1u);
  bool white = false;
  for (const json& t : (*events[0])["Tag"]) white |= t["name"] == "tlp:white";
  ASSERT_TRUE(white);
  Result r = Convert(text);
  ASSERT_EQ(r.units.size(), 1u);
  for (const json& o : r.objects()) {
    ASSERT_TRUE(o.contains("object_marking_refs")) << o.dump();
    EXPECT_EQ(o["object_marking_refs"], json::array({kTlpWhite})) << o["id"];
  }
}

// The event's threat-actor galaxy cluster is a threat-actor with the cluster's name and the
// uuid-based id, listed by the report.
TEST(MispRealDataTest, ThreatActorGalaxyBecomesThreatActor) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const std::string& text =
      RealCorpus().files.at("eset-malware-ioc/turla/misp-mosquito-event.json");
  Result r = Convert(text);
  ASSERT_EQ(r.units.size(), 1u);
  // From the file: Galaxy "threat-actor", cluster 7cdff317-... "Turla Group".
  std::string actor_id =
      DerivedId("threat-actor", "misp-galaxy-cluster:7cdff317-a673-4474-84ec-4f1754947823");
  std::map<std::string, json> by_id;
  for (json& o : r.objects()) by_id[o["id"]] = o;
  ASSERT_TRUE(by_id.count(actor_id));
  EXPECT_EQ(by_id[actor_id]["name"], "Turla Group");
  json report = by_id["report--5a5395d1-40a0-45fc-b692-334a0a016219"];
  ASSERT_TRUE(report.is_object());
  EXPECT_NE(std::find(report["object_refs"].begin(), report["object_refs"].end(), actor_id),
            report["object_refs"].end());
}

// Every mitre-attack-pattern cluster is an attack-pattern with its ATT&CK id, and the event's
// threat actor "uses" each of them.
TEST(MispRealDataTest, AttackPatternGalaxiesAreUsedByTheEventsActor) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const std::string& text =
      RealCorpus().files.at("eset-malware-ioc/invisimole/misp_invisimole.json");
  Result r = Convert(text);
  ASSERT_EQ(r.units.size(), 1u);
  std::map<std::string, json> by_id;
  for (json& o : r.objects()) by_id[o["id"]] = o;
  json doc = json::parse(text);
  std::vector<const json*> events;
  CollectEvents(doc, &events);
  ASSERT_EQ(events.size(), 1u);
  std::vector<std::string> actors, patterns;
  for (const json& g : (*events[0])["Galaxy"]) {
    for (const json& c : g["GalaxyCluster"]) {
      std::string uuid = c["uuid"];
      if (g["type"] == "threat-actor") {
        std::string id = DerivedId("threat-actor", "misp-galaxy-cluster:" + uuid);
        ASSERT_TRUE(by_id.count(id));
        EXPECT_EQ(by_id[id]["name"], c["value"]);
        actors.push_back(id);
      }
      if (g["type"] != "mitre-attack-pattern") continue;
      std::string id = DerivedId("attack-pattern", "misp-galaxy-cluster:" + uuid);
      ASSERT_TRUE(by_id.count(id)) << c["value"];
      EXPECT_EQ(by_id[id]["name"], c["value"]);
      std::string value = c["value"];
      std::string technique = value.substr(value.rfind(" - ") + 3);
      EXPECT_EQ(by_id[id]["external_references"][0]["external_id"], technique);
      EXPECT_EQ(by_id[id]["external_references"][0]["source_name"], "mitre-attack");
      patterns.push_back(id);
    }
  }
  ASSERT_EQ(actors.size(), 1u);
  EXPECT_GT(patterns.size(), 20u);
  std::set<std::string> used;
  for (auto& [id, o] : by_id) {
    if (o["type"] == "relationship" && o["relationship_type"] == "uses" &&
        o["source_ref"] == actors[0] &&
        o["target_ref"].get<std::string>().rfind("attack-pattern--", 0) == 0) {
      used.insert(o["target_ref"]);
    }
  }
  EXPECT_EQ(used, std::set<std::string>(patterns.begin(), patterns.end()));
}

// A MISP file object with several to_ids hashes is one indicator (id of the object) that ORs
// them; its object references become relationships.
TEST(MispRealDataTest, FileObjectIsOneIndicatorOfItsHashes) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  const std::string& text = RealCorpus().files.at("eset-malware-ioc/mozi/mozi.misp-event.json");
  json doc = json::parse(text);
  std::vector<const json*> events;
  CollectEvents(doc, &events);
  ASSERT_EQ(events.size(), 1u);
  Result r = Convert(text);
  ASSERT_EQ(r.units.size(), 1u);
  std::map<std::string, json> by_id;
  for (json& o : r.objects()) by_id[o["id"]] = o;
  size_t checked = 0, references = 0;
  for (const json& obj : (*events[0])["Object"]) {
    if (obj["name"] != "file") continue;
    std::vector<std::string> hashes;
    for (const json& a : obj["Attribute"]) {
      std::string t = a["type"];
      if (ToIds(a) && (t == "md5" || t == "sha1" || t == "sha256" || t == "sha512")) {
        hashes.push_back(Lower(a["value"]));
      }
    }
    if (hashes.size() < 2) continue;
    std::string id = "indicator--" + obj["uuid"].get<std::string>();
    ASSERT_TRUE(by_id.count(id)) << id;
    std::string pattern = by_id[id]["pattern"];
    for (const std::string& h : hashes) EXPECT_NE(pattern.find("'" + h + "'"), std::string::npos);
    EXPECT_EQ(std::count(pattern.begin(), pattern.end(), '='), static_cast<long>(hashes.size()));
    EXPECT_NE(pattern.find(" OR "), std::string::npos);
    ++checked;
    for (const json& ref : obj.value("ObjectReference", json::array())) {
      std::string rid = "relationship--" + ref["uuid"].get<std::string>();
      if (!by_id.count(rid)) continue;
      EXPECT_EQ(by_id[rid]["source_ref"], id);
      EXPECT_EQ(by_id[rid]["relationship_type"], ref["relationship_type"]);
      ++references;
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_GT(references, 0u);
}

// MISP -> STIX -> MISP keeps the set of (type, value) of the to_ids attributes.
TEST(MispRealDataTest, RoundTripKeepsToIdsAttributes) {
  if (!SharedDataPresent()) GTEST_SKIP() << "no ../shared data";
  std::set<std::pair<std::string, std::string>> expected, got;
  MispWriter w;
  for (const auto& [name, text] : RealCorpus().files) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) continue;
    Expected mine;
    Expect(doc, &mine);
    Result r = Convert(text);
    std::set<std::string> malformed;
    for (const stix::Problem& p : r.problems) {
      if (!p.warning && !p.object_id.empty()) malformed.insert(p.object_id);
    }
    for (const auto& [uuid, pairs] : mine.pairs_of_uuid) {
      if (!malformed.count(uuid)) expected.insert(pairs.begin(), pairs.end());
    }
    for (const Unit& u : r.units) {
      for (const std::string& o : u.objects) ASSERT_TRUE(w.Add(o).ok());
    }
  }
  json out = json::parse(w.Finish());
  EXPECT_EQ(w.skipped(), 0u);
  for (const json& e : out["response"]) {
    for (const json& a : e["Event"]["Attribute"]) {
      EXPECT_EQ(a["to_ids"], true);
      got.insert({a["type"].get<std::string>(), a["value"].get<std::string>()});
    }
  }
  EXPECT_GT(expected.size(), 1000u);
  std::vector<std::pair<std::string, std::string>> missing, extra;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  EXPECT_TRUE(missing.empty()) << missing.size() << " missing, first " << missing[0].first << " "
                               << missing[0].second;
  EXPECT_TRUE(extra.empty()) << extra.size() << " extra, first " << extra[0].first << " "
                             << extra[0].second;
}

// ---------------------------------------------------------------------------------------------
// Hand-written events, one rule each

constexpr std::string_view kEventUuid = "5a5395d1-40a0-45fc-b692-334a0a016219";
constexpr std::string_view kOrgUuid = "55f6ea5e-51ac-4344-bc8c-4170950d210f";

// An event with the given attributes (JSON array text) and extra members.
std::string Event(std::string_view attributes, std::string_view extra = {}) {
  return common::Cat(R"({"Event":{"uuid":")", kEventUuid,
                     R"(","info":"hand-written","date":"2018-01-08","timestamp":"1515429134",)",
                     R"("Orgc":{"uuid":")", kOrgUuid, R"(","name":"Example Org"},)",
                     R"("Attribute":)", attributes, extra, "}}");
}

std::string Attr(std::string_view uuid, std::string_view type, std::string_view value, bool to_ids,
                 std::string_view extra = {}) {
  return common::Cat(R"({"uuid":")", uuid, R"(","type":")", type,
                     R"(","category":"Network activity","to_ids":)", to_ids ? "true" : "false",
                     R"(,"timestamp":"1515427424","value":)", json(std::string(value)).dump(),
                     extra, "}");
}

json ById(const Result& r, const std::string& id) {
  for (json& o : r.objects()) {
    if (o["id"] == id) return o;
  }
  return json();
}

std::vector<json> OfType(const Result& r, std::string_view type) {
  std::vector<json> out;
  for (json& o : r.objects()) {
    if (o["type"] == type) out.push_back(o);
  }
  return out;
}

TEST(MispReadTest, ToIdsAttributeIsIndicatorWithTheAttributeUuid) {
  Result r = Convert(Event(common::Cat(
      "[", Attr("5a539660-c628-4a9c-9535-2fc50a016219", "ip-dst", "198.51.100.7", true), "]")));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_TRUE(Validate(r.units).empty());
  json ind = ById(r, "indicator--5a539660-c628-4a9c-9535-2fc50a016219");
  ASSERT_TRUE(ind.is_object());
  EXPECT_EQ(ind["pattern"], "[ipv4-addr:value = '198.51.100.7']");
  EXPECT_EQ(ind["pattern_type"], "stix");
  // 1515427424 = 2018-01-08T16:03:44Z; the event date 2018-01-08 is earlier: created.
  EXPECT_EQ(ind["created"], "2018-01-08T00:00:00.000Z");
  EXPECT_EQ(ind["modified"], "2018-01-08T16:03:44.000Z");
  EXPECT_EQ(ind["valid_from"], "2018-01-08T00:00:00.000Z");
  std::string org = DerivedId("identity", common::Cat("misp-org:", kOrgUuid));
  EXPECT_EQ(ind["created_by_ref"], org);
  json identity = ById(r, org);
  EXPECT_EQ(identity["name"], "Example Org");
  EXPECT_EQ(identity["identity_class"], "organization");
  json report = ById(r, common::Cat("report--", kEventUuid));
  EXPECT_EQ(report["name"], "hand-written");
  EXPECT_EQ(report["published"], "2018-01-08T00:00:00.000Z");
  EXPECT_EQ(report["modified"], "2018-01-08T16:32:14.000Z");  // 1515429134
  EXPECT_EQ(report["object_refs"],
            json::array({org, "indicator--5a539660-c628-4a9c-9535-2fc50a016219"}));
  EXPECT_EQ(r.units[0].state_key, common::Cat("misp.event.", kEventUuid));
  EXPECT_EQ(r.units[0].state_value, "1515429134");
  EXPECT_EQ(r.stats.indicators_per_type.at("ip-dst"), 1u);
}

TEST(MispReadTest, NonToIdsAttributeIsScoWithDeterministicId) {
  Result r = Convert(Event(common::Cat(
      "[", Attr("5a539660-c628-4a9c-9535-2fc50a01621a", "domain", "Example.COM", false), ",",
      Attr("5a539660-c628-4a9c-9535-2fc50a01621b", "md5", "D41D8CD98F00B204E9800998ECF8427E",
           false),
      "]")));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  EXPECT_EQ(r.stats.indicators, 0u);
  EXPECT_EQ(r.stats.observables, 2u);
  // STIX 2.1 §2.9: UUIDv5 in the SCO namespace over the canonical ID-contributing properties.
  std::string domain_id =
      common::Cat("domain-name--",
                  stix::detail::UuidV5(stix::detail::kScoNamespace, R"({"value":"example.com"})"));
  std::string file_id = common::Cat(
      "file--", stix::detail::UuidV5(stix::detail::kScoNamespace,
                                     R"({"hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}})"));
  EXPECT_EQ(ById(r, domain_id)["value"], "example.com");
  EXPECT_EQ(ById(r, file_id)["hashes"]["MD5"], "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(MispReadTest, CompositeTypesBecomeAndedComparisons) {
  struct Case {
    std::string type, value, pattern;
  };
  std::vector<Case> cases = {
      {"ip-dst|port", "192.0.2.1|8080",
       "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
       "'192.0.2.1' AND network-traffic:dst_port = 8080]"},
      {"ip-src|port", "2001:db8::2|53",
       "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = "
       "'2001:db8::2' AND network-traffic:src_port = 53]"},
      {"domain|ip", "A.Example|192.0.2.2",
       "[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = "
       "'192.0.2.2']"},
      {"filename|sha1", "x y.exe|DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
       "[file:name = 'x y.exe' AND file:hashes.'SHA-1' = "
       "'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
      {"regkey|value", "HKLM\\Software\\Run|evil.exe",
       "[windows-registry-key:key = 'HKLM\\\\Software\\\\Run' AND "
       "windows-registry-key:values[*].data = 'evil.exe']"},
      {"url", "http://example.org/x?a='b'", "[url:value = 'http://example.org/x?a=\\'b\\'']"},
      {"email-src", "a@example.org", "[email-addr:value = 'a@example.org']"},
      {"hostname", "Mail.Example.org", "[domain-name:value = 'mail.example.org']"},
      {"ip-src", "10.0.0.0/8", "[ipv4-addr:value = '10.0.0.0/8']"},
      {"sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
       "[file:hashes.'SHA-256' = "
       "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
      {"filename", "invoice.pdf.exe", "[file:name = 'invoice.pdf.exe']"},
      {"mutex", "Global\\xyz", "[mutex:name = 'Global\\\\xyz']"},
      {"ssdeep", "96:abcDEF+/:xyz", "[file:hashes.SSDEEP = '96:abcDEF+/:xyz']"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string uuid = common::Cat("0a1b2c3d-0000-4000-8000-0000000000", i < 10 ? "0" : "", i);
    for (bool to_ids : {true, false}) {
      Result r =
          Convert(Event(common::Cat("[", Attr(uuid, cases[i].type, cases[i].value, to_ids), "]")));
      ASSERT_EQ(r.units.size(), 1u) << cases[i].type;
      EXPECT_TRUE(r.problems.empty()) << cases[i].type << ": " << r.problems[0].ToString();
      auto problems = Validate(r.units);
      EXPECT_TRUE(problems.empty()) << cases[i].type << " " << to_ids << ": " << problems[0];
      if (to_ids) {
        EXPECT_EQ(ById(r, "indicator--" + uuid)["pattern"], cases[i].pattern) << cases[i].type;
      } else {
        EXPECT_EQ(r.stats.observables, 1u) << cases[i].type;
      }
    }
  }
}

TEST(MispReadTest, PortAndDomainIpObservablesReferenceTheirAddress) {
  Result r = Convert(Event(common::Cat(
      "[", Attr("0a1b2c3d-0000-4000-8000-000000000101", "ip-dst|port", "192.0.2.1|443", false), ",",
      Attr("0a1b2c3d-0000-4000-8000-000000000102", "domain|ip", "c2.example|192.0.2.1", false),
      "]")));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  std::string ip_id = common::Cat(
      "ipv4-addr--", stix::detail::UuidV5(stix::detail::kScoNamespace, R"({"value":"192.0.2.1"})"));
  ASSERT_EQ(OfType(r, "network-traffic").size(), 1u);
  EXPECT_EQ(OfType(r, "network-traffic")[0]["dst_ref"], ip_id);
  EXPECT_EQ(OfType(r, "network-traffic")[0]["dst_port"], 443);
  ASSERT_EQ(OfType(r, "domain-name").size(), 1u);
  EXPECT_EQ(OfType(r, "domain-name")[0]["resolves_to_refs"], json::array({ip_id}));
  EXPECT_EQ(OfType(r, "ipv4-addr").size(), 1u);  // one SCO for the shared address
}

TEST(MispReadTest, VulnerabilityAndLinkAttributes) {
  Result r = Convert(Event(common::Cat(
      "[", Attr("0a1b2c3d-0000-4000-8000-000000000201", "vulnerability", "cve-2017-11882", false),
      ",",
      Attr("0a1b2c3d-0000-4000-8000-000000000202", "link", "https://example.org/report", false),
      ",", Attr("0a1b2c3d-0000-4000-8000-000000000203", "text", "free text", false), "]")));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  auto vulns = OfType(r, "vulnerability");
  ASSERT_EQ(vulns.size(), 1u);
  EXPECT_EQ(vulns[0]["name"], "CVE-2017-11882");
  json report = OfType(r, "report")[0];
  bool cited = false;
  for (const json& e : report["external_references"])
    cited |= e.value("url", "") == "https://example.org/report";
  EXPECT_TRUE(cited);
  EXPECT_EQ(r.stats.skipped, 1u);  // the text attribute
}

TEST(MispReadTest, TlpTagsOnEventAndAttributeAreUnited) {
  std::string tags = R"(,"Tag":[{"name":"tlp:amber+strict"}])";
  Result r = Convert(Event(
      common::Cat(
          "[", Attr("0a1b2c3d-0000-4000-8000-000000000301", "domain", "a.example", true, tags), ",",
          Attr("0a1b2c3d-0000-4000-8000-000000000302", "domain", "b.example", true), "]"),
      R"(,"Tag":[{"name":"TLP:AMBER"},{"name":"ESET"}])"));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  EXPECT_EQ(ById(r, "indicator--0a1b2c3d-0000-4000-8000-000000000301")["object_marking_refs"],
            json::array({kTlpAmber, kTlpAmberStrict}));
  EXPECT_EQ(ById(r, "indicator--0a1b2c3d-0000-4000-8000-000000000302")["object_marking_refs"],
            json::array({kTlpAmber}));
  json report = OfType(r, "report")[0];
  EXPECT_EQ(report["object_marking_refs"], json::array({kTlpAmber}));
  EXPECT_EQ(report["labels"], json::array({"ESET"}));
}

TEST(MispReadTest, AttributeGalaxyGetsIndicatesAndActorUsesMalware) {
  std::string attr_galaxy = R"(,"Tag":[{"name":"misp-galaxy:mitre-malware=\"XAgent\""}])";
  Result r = Convert(Event(
      common::Cat(
          "[",
          Attr("0a1b2c3d-0000-4000-8000-000000000401", "domain", "a.example", true, attr_galaxy),
          "]"),
      R"(,"Tag":[{"name":"misp-galaxy:threat-actor=\"Sofacy\""},{"name":"misp-galaxy:mitre-tool=\"Mimikatz\""},{"name":"misp-galaxy:unknown-galaxy=\"X\""}])"));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  std::string malware = DerivedId("malware", "misp-galaxy:mitre-malware=XAgent");
  std::string actor = DerivedId("threat-actor", "misp-galaxy:threat-actor=Sofacy");
  std::string tool = DerivedId("tool", "misp-galaxy:mitre-tool=Mimikatz");
  EXPECT_EQ(ById(r, malware)["is_family"], true);
  EXPECT_EQ(ById(r, actor)["name"], "Sofacy");
  std::set<std::tuple<std::string, std::string, std::string>> rels;
  for (const json& rel : OfType(r, "relationship")) {
    rels.insert({rel["source_ref"].get<std::string>(), rel["relationship_type"].get<std::string>(),
                 rel["target_ref"].get<std::string>()});
  }
  std::set<std::tuple<std::string, std::string, std::string>> want = {
      {"indicator--0a1b2c3d-0000-4000-8000-000000000401", "indicates", malware},
      {actor, "uses", tool}};
  EXPECT_EQ(rels, want);
}

// An attribute tagged with a cluster of the event's Galaxy block points at that cluster's
// uuid-based object, not at a second object derived from the tag.
TEST(MispReadTest, AttributeTagOfAnEventGalaxyClusterUsesItsUuidId) {
  std::string tag = R"(misp-galaxy:mitre-malware=\"XAgent\")";
  std::string galaxy = common::Cat(
      R"(,"Galaxy":[{"type":"mitre-malware","GalaxyCluster":[{"uuid":"5930f6cb-6ec4-4a83-9bd1-1a6e2a2a2a2a","type":"mitre-malware","value":"XAgent","tag_name":")",
      tag, R"("}]}],"Tag":[{"name":")", tag, R"("}])");
  Result r =
      Convert(Event(common::Cat("[",
                                Attr("0a1b2c3d-0000-4000-8000-000000000451", "domain", "a.example",
                                     true, common::Cat(R"(,"Tag":[{"name":")", tag, R"("}])")),
                                "]"),
                    galaxy));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(Validate(r.units).empty());
  std::string malware =
      DerivedId("malware", "misp-galaxy-cluster:5930f6cb-6ec4-4a83-9bd1-1a6e2a2a2a2a");
  EXPECT_EQ(OfType(r, "malware").size(), 1u);
  ASSERT_EQ(OfType(r, "relationship").size(), 1u);
  EXPECT_EQ(OfType(r, "relationship")[0]["target_ref"], malware);
  EXPECT_EQ(OfType(r, "relationship")[0]["relationship_type"], "indicates");
}

TEST(MispReadTest, ObjectReferenceBecomesRelationship) {
  std::string objects = R"(,"Object":[
    {"name":"file","uuid":"c1a3c2d4-1111-4222-8333-944455556666","Attribute":[
      {"uuid":"d1a3c2d4-1111-4222-8333-944455556661","type":"md5","to_ids":true,"value":"d41d8cd98f00b204e9800998ecf8427e"},
      {"uuid":"d1a3c2d4-1111-4222-8333-944455556662","type":"sha1","to_ids":true,"value":"da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"uuid":"d1a3c2d4-1111-4222-8333-944455556663","type":"filename","to_ids":false,"value":"empty.bin"}],
     "ObjectReference":[{"uuid":"e1a3c2d4-1111-4222-8333-944455556666","referenced_uuid":"f1a3c2d4-1111-4222-8333-944455556666","relationship_type":"communicates-with"},
                        {"uuid":"e2a3c2d4-1111-4222-8333-944455556666","referenced_uuid":"99999999-1111-4222-8333-944455556666","relationship_type":"drops"}]},
    {"name":"domain-ip","uuid":"f1a3c2d4-1111-4222-8333-944455556666","Attribute":[
      {"uuid":"a2a3c2d4-1111-4222-8333-944455556666","type":"domain","to_ids":true,"value":"c2.example.net"}]}])";
  Result r = Convert(Event("[]", objects));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_TRUE(Validate(r.units).empty());
  json file = ById(r, "indicator--c1a3c2d4-1111-4222-8333-944455556666");
  EXPECT_EQ(file["pattern"],
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.'SHA-1' = "
            "'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
  json rel = ById(r, "relationship--e1a3c2d4-1111-4222-8333-944455556666");
  EXPECT_EQ(rel["source_ref"], "indicator--c1a3c2d4-1111-4222-8333-944455556666");
  EXPECT_EQ(rel["target_ref"], "indicator--a2a3c2d4-1111-4222-8333-944455556666");
  EXPECT_EQ(rel["relationship_type"], "communicates-with");
  EXPECT_EQ(OfType(r, "relationship").size(), 1u);  // the dangling reference is dropped
  EXPECT_EQ(r.stats.indicators, 2u);
  EXPECT_EQ(r.stats.indicators_per_type.at("md5"), 1u);
  EXPECT_EQ(r.stats.indicators_per_type.at("sha1"), 1u);
  EXPECT_EQ(r.stats.objects, 2u);
}

// Without an Orgc the node's identity is the creator; ConvertOptions.labels go on indicators
// and the report.
TEST(MispReadTest, OptionsGiveCreatorAndLabels) {
  ConvertOptions o;
  o.created_by_ref = "identity--11111111-2222-4333-8444-555555555555";
  o.labels = {"imported"};
  Result r = Convert(
      common::Cat(R"({"uuid":")", kEventUuid,
                  R"(","info":"x","date":"2018-01-08","timestamp":"1515429134","Attribute":[)",
                  Attr("0a1b2c3d-0000-4000-8000-000000000551", "domain", "a.example", true), "]}"),
      o);
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(OfType(r, "identity").empty());
  json ind = ById(r, "indicator--0a1b2c3d-0000-4000-8000-000000000551");
  EXPECT_EQ(ind["created_by_ref"], o.created_by_ref);
  EXPECT_EQ(ind["labels"], json::array({"misp:type=\"domain\"",
                                        "misp:category=\"Network activity\"", "imported"}));
  EXPECT_EQ(OfType(r, "report")[0]["labels"], json::array({"imported"}));
}

TEST(MispReadTest, AllShapesGiveTheSameObjects) {
  std::string inner =
      common::Cat(R"({"uuid":")", kEventUuid,
                  R"(","info":"x","date":"2018-01-08","timestamp":"1515429134","Attribute":[)",
                  Attr("0a1b2c3d-0000-4000-8000-000000000501", "domain", "a.example", true), "]}");
  std::vector<std::string> shapes = {inner, common::Cat(R"({"Event":)", inner, "}"),
                                     common::Cat(R"({"response":[{"Event":)", inner, "}]}"),
                                     common::Cat("[", inner, ",", R"({"Event":)", inner, "}]")};
  std::vector<std::string> first;
  for (const std::string& s : shapes) {
    Result r = Convert(s);
    ASSERT_TRUE(r.status.ok());
    ASSERT_FALSE(r.units.empty()) << s;
    EXPECT_TRUE(r.problems.empty());
    if (first.empty()) first = r.units[0].objects;
    for (const Unit& u : r.units) EXPECT_EQ(u.objects, first);
  }
}

TEST(MispReadTest, SameEventTwiceGivesSameObjects) {
  std::string ev = Event(common::Cat("[",
                                     Attr("0a1b2c3d-0000-4000-8000-000000000601", "md5",
                                          "d41d8cd98f00b204e9800998ecf8427e", false),
                                     "]"));
  ConvertOptions a, b;
  b.now = 1800000000LL * 1000000;  // a different clock: the input has times, so no change
  EXPECT_EQ(Convert(ev, a).units[0].objects, Convert(ev, b).units[0].objects);
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST(MispErrorTest, MalformedJsonIsOneProblemWithLocation) {
  Result r = Convert("{\"Event\":{\"uuid\":\"x\",\n  \"Attribute\":[1,]}}");
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.units.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].location, "test.json:2:18");
  EXPECT_NE(r.problems[0].message.find("byte 39"), std::string::npos) << r.problems[0].message;
}

TEST(MispErrorTest, MalformedAttributeIsReportedAndConversionGoesOn) {
  struct Case {
    std::string type, value, rule;
  };
  std::vector<Case> cases = {{"ip-dst", "not an ip", "not an IP address"},
                             {"md5", "abc", "not 32 hex digits"},
                             {"sha256", "zz", "not 64 hex digits"},
                             {"ip-dst|port", "192.0.2.1|70000", "not a port"},
                             {"domain", "bad domain", "not a domain name"},
                             {"email-dst", "nobody", "not an e-mail address"},
                             {"url", "http://a\nb", "control characters"},
                             {"domain|ip", "a.example", "two parts"},
                             {"vulnerability", "CVE-17", "not a CVE id"}};
  for (const Case& c : cases) {
    Result r = Convert(Event(common::Cat(
        "[", Attr("0a1b2c3d-0000-4000-8000-000000000701", c.type, c.value, true), ",",
        Attr("0a1b2c3d-0000-4000-8000-000000000702", "domain", "ok.example", true), "]")));
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.problems.size(), 1u) << c.type;
    const stix::Problem& p = r.problems[0];
    EXPECT_NE(p.location.find(kEventUuid), std::string::npos) << p.ToString();
    EXPECT_EQ(p.object_id, "0a1b2c3d-0000-4000-8000-000000000701");
    EXPECT_NE(p.message.find("0a1b2c3d-0000-4000-8000-000000000701"), std::string::npos);
    EXPECT_NE(p.message.find(c.rule), std::string::npos) << p.message;
    ASSERT_EQ(r.units.size(), 1u);  // the good attribute is still converted
    EXPECT_EQ(r.stats.indicators, 1u);
    EXPECT_EQ(r.stats.malformed, 1u);
    EXPECT_TRUE(Validate(r.units).empty());
    ConvertOptions strict;
    strict.strict = true;
    Result s =
        Convert(Event(common::Cat(
                    "[", Attr("0a1b2c3d-0000-4000-8000-000000000701", c.type, c.value, true), "]")),
                strict);
    EXPECT_FALSE(s.status.ok()) << c.type;
    EXPECT_TRUE(s.units.empty());
  }
}

TEST(MispErrorTest, BrokenEventIsSkippedWholeAndTheNextConverted) {
  std::string good = Event(common::Cat(
      "[", Attr("0a1b2c3d-0000-4000-8000-000000000801", "domain", "ok.example", true), "]"));
  std::string input = common::Cat(
      R"([{"Event":{"uuid":"0a1b2c3d-0000-4000-8000-000000000800","info":"bad","Attribute":{"not":"an array"}}},)",
      R"({"Event":{"uuid":"0a1b2c3d-0000-4000-8000-000000000802","info":"nothing to map","Attribute":[{"type":"text","value":"x"}]}},)",
      R"(42,)", good, "]");
  Result r = Convert(input);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_EQ(r.units[0].state_key, common::Cat("misp.event.", kEventUuid));
  EXPECT_EQ(r.stats.skipped_events, 2u);
  ASSERT_EQ(r.problems.size(), 3u);
  EXPECT_NE(r.problems[0].message.find("'Attribute' is not an array"), std::string::npos);
  EXPECT_FALSE(r.problems[0].warning);
  EXPECT_TRUE(r.problems[1].warning);  // nothing to map is a finding, not an error
  EXPECT_NE(r.problems[2].message.find("scalar"), std::string::npos);
}

TEST(MispErrorTest, DeepNestingAndOddValuesDoNotCrash) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  for (const std::string& s :
       {deep, std::string("[[[[[[{\"Event\":{}}]]]]]]"), std::string(""), std::string("null"),
        std::string("{\"Event\":{\"Attribute\":[{\"type\":\"ip-dst\",\"value\":7,\"to_ids\":true}],"
                    "\"timestamp\":\"99999999999999999999\"}}"),
        std::string("{\"response\":{\"Event\":{\"Object\":[{\"Attribute\":null}]}}}")}) {
    Result r = Convert(s);
    EXPECT_TRUE(r.status.ok()) << s.substr(0, 40);
    EXPECT_FALSE(r.problems.empty()) << s.substr(0, 40);
    for (const auto& p : r.problems) EXPECT_FALSE(p.location.empty());
    EXPECT_TRUE(Validate(r.units).empty());
  }
}

TEST(MispErrorTest, EventWithoutUuidGetsDerivedIdsAndNoState) {
  Result r = Convert(
      R"({"info":"no uuid","date":"2019-02-03","Attribute":[{"type":"domain","to_ids":true,"value":"a.example"}]})");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(r.units[0].state_key.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.problems[0].warning);
  EXPECT_TRUE(Validate(r.units).empty());
  EXPECT_EQ(OfType(r, "report")[0]["published"], "2019-02-03T00:00:00.000Z");
}

// ---------------------------------------------------------------------------------------------
// Feed manifest

TEST(MispManifestTest, ReadsEntries) {
  auto m = ReadMispManifest(
      R"({"5A5395D1-40a0-45fc-b692-334a0a016219":{"timestamp":"1515429134","info":"x"},"b1a3c2d4-1111-4222-8333-944455556666":{"timestamp":1588291200}})");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].uuid, "5a5395d1-40a0-45fc-b692-334a0a016219");
  EXPECT_EQ((*m)[0].timestamp, 1515429134);
  EXPECT_EQ((*m)[1].timestamp, 1588291200);
  EXPECT_FALSE(ReadMispManifest(R"({"not-a-uuid":{"timestamp":"1"}})").ok());
  EXPECT_FALSE(ReadMispManifest(R"({"5a5395d1-40a0-45fc-b692-334a0a016219":{}})").ok());
  EXPECT_FALSE(ReadMispManifest("[1,2]").ok());
}

// ---------------------------------------------------------------------------------------------
// STIX -> MISP

TEST(MispWriterTest, ReportsBecomeEventsAndOrphansGoToAccordExport) {
  MispWriter w;
  auto ind = [](std::string_view id, std::string_view pattern, std::string_view labels = "") {
    return common::Cat(
        R"({"type":"indicator","spec_version":"2.1","id":")", id,
        R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-02T00:00:00.000Z","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z","pattern":)",
        json(std::string(pattern)).dump(), labels, "}");
  };
  ASSERT_TRUE(w.Add(ind("indicator--00000000-0000-4000-8000-000000000001",
                        "[ipv4-addr:value = '192.0.2.1'] OR [domain-name:value = 'a.example']"))
                  .ok());
  ASSERT_TRUE(w.Add(ind("indicator--00000000-0000-4000-8000-000000000002",
                        "[ipv4-addr:value = '192.0.2.9']", R"(,"labels":["misp:type=\"ip-src\""])"))
                  .ok());
  ASSERT_TRUE(
      w.Add(ind("indicator--00000000-0000-4000-8000-000000000003", "[file:size > 10]")).ok());
  ASSERT_TRUE(w.Add(ind("indicator--00000000-0000-4000-8000-000000000004",
                        "[file:hashes.'SHA-256' = 'aa'] WITHIN 5 SECONDS"))
                  .ok());
  ASSERT_TRUE(
      w.Add(
           R"({"type":"report","spec_version":"2.1","id":"report--00000000-0000-4000-8000-0000000000aa","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-03T00:00:00.000Z","name":"R","published":"2020-01-03T00:00:00Z","object_refs":["indicator--00000000-0000-4000-8000-000000000001","indicator--00000000-0000-4000-8000-000000000003"],"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]})")
          .ok());
  EXPECT_FALSE(w.Add("not json").ok());
  EXPECT_FALSE(w.Add(R"({"no":"type"})").ok());
  json out = json::parse(w.Finish());
  EXPECT_EQ(w.skipped(), 2u);  // file:size > 10 and the WITHIN qualifier
  ASSERT_EQ(out["response"].size(), 2u);
  json r = out["response"][0]["Event"];
  EXPECT_EQ(r["uuid"], "00000000-0000-4000-8000-0000000000aa");
  EXPECT_EQ(r["info"], "R");
  EXPECT_EQ(r["date"], "2020-01-03");
  EXPECT_EQ(r["Tag"], json::parse(R"([{"name":"tlp:amber"}])"));
  std::set<std::pair<std::string, std::string>> got;
  for (const json& a : r["Attribute"])
    got.insert({a["type"].get<std::string>(), a["value"].get<std::string>()});
  std::set<std::pair<std::string, std::string>> want = {{"ip-dst", "192.0.2.1"},
                                                        {"domain", "a.example"}};
  EXPECT_EQ(got, want);
  json e = out["response"][1]["Event"];
  EXPECT_EQ(e["info"], "Accord export");
  ASSERT_EQ(e["Attribute"].size(), 1u);  // the orphan with a MISP form
  EXPECT_EQ(e["Attribute"][0]["type"], "ip-src");
  EXPECT_EQ(e["Attribute"][0]["uuid"], "00000000-0000-4000-8000-000000000002");
  // The writer's output reads back as MISP.
  Result back = Convert(out.dump());
  EXPECT_EQ(back.units.size(), 2u);
  EXPECT_EQ(back.stats.indicators, 3u);
}

// ---------------------------------------------------------------------------------------------
// Size

TEST(MispScaleTest, EventWith150000AttributesConverts) {
  constexpr int kN = 150000;
  std::string s = common::Cat(
      R"({"Event":{"uuid":")", kEventUuid,
      R"(","info":"big","date":"2020-01-01","timestamp":"1577836800","Tag":[{"name":"tlp:green"}],"Attribute":[)");
  std::map<std::string, uint64_t> want;
  for (int i = 0; i < kN; ++i) {
    if (i) s += ',';
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "0a1b2c3d-0000-4000-8000-%012d", i);
    char value[80];
    std::string type;
    switch (i % 4) {
      case 0:
        type = "ip-dst";
        std::snprintf(value, sizeof value, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        break;
      case 1:
        type = "domain";
        std::snprintf(value, sizeof value, "host%d.example.com", i);
        break;
      case 2:
        type = "sha256";
        std::snprintf(value, sizeof value, "%064x", i);
        break;
      default:
        type = "url";
        std::snprintf(value, sizeof value, "http://example.net/p/%d", i);
        break;
    }
    bool to_ids = i % 10 != 0;
    if (to_ids) ++want[type];
    s += Attr(uuid, type, value, to_ids);
  }
  s += "]}}";
  auto start = std::chrono::steady_clock::now();
  Result r = Convert(s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.stats.attributes, static_cast<uint64_t>(kN));
  EXPECT_EQ(r.stats.indicators_per_type, want);
  EXPECT_EQ(r.stats.observables, static_cast<uint64_t>(kN / 10));
  EXPECT_EQ(r.units[0].objects.size(), static_cast<size_t>(kN + 1));  // + the report
  EXPECT_TRUE(Validate(r.units, 2000).empty());
  std::cout << "150000-attribute event (" << s.size() / 1000000.0 << " MB): " << secs << " s, "
            << kN / secs << " attributes/s (this build type)\n";
}

}  // namespace
}  // namespace accord::formats
