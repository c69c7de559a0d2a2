// `accord related` end to end (issue 15): a hand-made bundle whose links are known by hand
// (indicators sharing a domain, an observable of it, a report that names it in its text, a
// sighting of one indicator, a CIDR indicator), and what the value index answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/test_util.h"

namespace accord::testing {
namespace {

using json = nlohmann::json;

const std::string kInd1 = "indicator--a1111111-1111-4111-8111-111111111111";
const std::string kInd2 = "indicator--a2222222-2222-4222-8222-222222222222";
const std::string kInd3 = "indicator--a3333333-3333-4333-8333-333333333333";
const std::string kCidr = "indicator--a4444444-4444-4444-8444-444444444444";
const std::string kOther = "indicator--a5555555-5555-4555-8555-555555555555";
const std::string kReport = "report--b1111111-1111-4111-8111-111111111111";
const std::string kSighting = "sighting--c1111111-1111-4111-8111-111111111111";

std::string Ind(const std::string& id, const std::string& pattern) {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":")" +
         pattern + R"(","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
}

class Related : public ::testing::Test {
 protected:
  Related() : tmp_("related"), data_((tmp_.path() / "data").string()) {}
  void SetUp() override {
    auto in = tmp_.path() / "in.jsonl";
    std::ofstream f(in);
    f << Ind(kInd1, "[domain-name:value = 'c2.shared-evil.com']") << "\n"
      << Ind(kInd2,
             "[domain-name:value = 'c2.shared-evil.com'] OR [ipv4-addr:value = '203.0.113.7']")
      << "\n"
      << Ind(kInd3, "[url:value = 'http://c2.shared-evil.com/gate.php']") << "\n"
      << Ind(kCidr, "[ipv4-addr:value = '203.0.113.0/24']") << "\n"
      << Ind(kOther, "[domain-name:value = 'unrelated.example.org']") << "\n"
      << R"({"type":"report","spec_version":"2.1","id":")" << kReport
      << R"(","created":"2024-01-02T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","name":"Campaign X","published":"2024-01-02T00:00:00Z","description":"The actor used c2[.]shared-evil[.]com for command and control.","object_refs":[")"
      << kInd1 << R"("]})"
      << "\n"
      << R"({"type":"sighting","spec_version":"2.1","id":")" << kSighting
      << R"(","created":"2024-01-03T00:00:00.000Z","modified":"2024-01-03T00:00:00.000Z","sighting_of_ref":")"
      << kInd2 << R"(","count":4})"
      << "\n";
    f.close();
    auto r = Run("import --format stix " + ShellQuote(in.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The observable: its id is whatever the reader computes for {"value": ...}; take it from
    // a bundle the reader accepts (the test only needs an SCO holding the domain).
    auto sco = tmp_.path() / "sco.json";
    std::ofstream(sco)
        << R"({"type":"domain-name","spec_version":"2.1","value":"c2.shared-evil.com","id":")"
        << DomainScoId() << R"("})";
    r = Run("import --format stix " + ShellQuote(sco.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // UUIDv5 of {"value":"c2.shared-evil.com"} in the STIX namespace, computed by python3's uuid
  // module (independent of Accord's code).
  static std::string DomainScoId() {
    FILE* p = popen(
        "python3 -c \"import uuid;print(uuid.uuid5(uuid.UUID('00abedb4-aa42-466c-9c01-"
        "fed23315a9b7'),'{\\\"value\\\":\\\"c2.shared-evil.com\\\"}'))\"",
        "r");
    char buf[64] = {};
    if (p == nullptr || fgets(buf, sizeof buf, p) == nullptr) return "";
    pclose(p);
    std::string s(buf);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return "domain-name--" + s;
  }
  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), tmp_.path());
  }
  // value -> (counts, ids) from `related --json`.
  std::map<std::string, std::pair<json, std::set<std::string>>> Ask(const std::string& args) {
    auto r = Run("related --json " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::pair<json, std::set<std::string>>> out;
    json j = json::parse(r.out);
    for (const auto& v : j["values"]) {
      std::set<std::string> ids;
      for (const auto& o : v["objects"]) ids.insert(o["id"].get<std::string>());
      out[v["kind"].get<std::string>() + " " + v["value"].get<std::string>()] = {v["counts"], ids};
    }
    return out;
  }
  TempDir tmp_;
  std::string data_;
};

TEST_F(Related, ByValue) {
  auto got = Ask("--value c2.shared-evil.com");
  // By hand: the domain is in ind1, ind2, ind3 (its URL's host), the report's text and the SCO.
  ASSERT_EQ(got.count("domain c2.shared-evil.com"), 1u) << got.size();
  auto& [counts, ids] = got["domain c2.shared-evil.com"];
  EXPECT_EQ(counts, json({{"indicators", 3}, {"observables", 1}, {"reports", 1}}));
  EXPECT_EQ(ids, (std::set<std::string>{kInd1, kInd2, kInd3, kReport, DomainScoId()}));

  // An address: its own indicator, and the CIDR indicator that holds it (found at query time).
  got = Ask("--value 203.0.113.7");
  EXPECT_EQ(got["ipv4 203.0.113.7"].second, (std::set<std::string>{kInd2}));
  EXPECT_EQ(got["ipv4-cidr 203.0.113.0/24"].second, (std::set<std::string>{kCidr}));
  // A CIDR: the addresses inside it.
  got = Ask("--value 203.0.113.0/24");
  EXPECT_EQ(got["ipv4 203.0.113.7"].second, (std::set<std::string>{kInd2}));
  EXPECT_EQ(got["ipv4-cidr 203.0.113.0/24"].second, (std::set<std::string>{kCidr}));
  // Nothing shares an unknown value.
  EXPECT_TRUE(Ask("--value nothing-here.example.net").empty());
}

TEST_F(Related, ByObject) {
  auto got = Ask(kInd2);
  // ind2 holds the domain (shared with ind1, ind3, the report, the SCO) and the address (held
  // by the CIDR indicator); the sighting refers to it.
  EXPECT_EQ(got["domain c2.shared-evil.com"].second,
            (std::set<std::string>{kInd1, kInd3, kReport, DomainScoId()}));
  EXPECT_EQ(got["ipv4-cidr 203.0.113.0/24"].second, (std::set<std::string>{kCidr}));
  EXPECT_EQ(got["refers-to " + kInd2].second, (std::set<std::string>{kSighting}));
  EXPECT_EQ(got["refers-to " + kInd2].first, json({{"sightings", 1}}));
  // ind1 is referred to by the report.
  got = Ask(kInd1);
  EXPECT_EQ(got["refers-to " + kInd1].second, (std::set<std::string>{kReport}));
  // An unrelated indicator shares nothing.
  EXPECT_TRUE(Ask(kOther).empty());
  // Text output names the value and the counts.
  auto r = Run("related --value c2.shared-evil.com");
  EXPECT_NE(r.out.find("domain c2.shared-evil.com: 3 indicators 1 observables 1 reports"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace accord::testing
