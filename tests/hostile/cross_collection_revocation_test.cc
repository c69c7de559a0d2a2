// Issue 10, hostile writers: "anyone can switch off a trusted detection". An indicator is
// active in `trusted`. Bob, who may write only `bobonly`, POSTs a newer version of it with
// `revoked: true` there. Before the fix `accord match` took the latest version across the
// whole store and stopped matching, while `trusted` still served the indicator unrevoked.
// Now matching takes the latest version per collection and an indicator active in any
// collection read is matched; `[match] collections` in <data>/accord.toml chooses which.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "hostile/writer_node.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr const char* kId = "indicator--7c0e2b4a-3f1d-4a8e-9b6c-5d2e1f0a9b83";
constexpr const char* kDomain = "c2.badcorp.example";

json Indicator(const std::string& modified, bool revoked) {
  json o = {{"type", "indicator"},
            {"spec_version", "2.1"},
            {"id", kId},
            {"created", "2025-01-01T00:00:00.000Z"},
            {"modified", modified},
            {"pattern", std::string("[domain-name:value = '") + kDomain + "']"},
            {"pattern_type", "stix"},
            {"valid_from", "2025-01-01T00:00:00Z"}};
  if (revoked) o["revoked"] = true;
  return o;
}

class CrossCollectionRevocation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(node_.Start());
    node_.AddUser("bob");
    trusted_ = node_.AddCollection("trusted");
    bobonly_ = node_.AddCollection("bobonly");
    node_.Grant("bobonly", "bob", "--read --write");
    auto f = node_.dir() / "trusted.json";
    std::ofstream(f) << Indicator("2025-01-01T00:00:00.000Z", false).dump();
    auto imp = node_.Cli("import --collection trusted " + ShellQuote(f.string()));
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    // One DNS event asking for the domain (Suricata EVE).
    log_ = (node_.dir() / "eve.json").string();
    std::ofstream(log_) << R"({"timestamp":"2025-06-01T10:00:00+0000","event_type":"dns",)"
                        << R"("src_ip":"10.0.0.5","dest_ip":"10.0.0.53","dns":{"rrname":")"
                        << kDomain << "\"}}\n";
  }

  // Bob's newer, revoked version, written where he may write.
  void BobRevokes() {
    auto post =
        node_.Post(WriterNode::Objects(bobonly_),
                   json::array({Indicator("2025-06-01T00:00:00.000Z", true)}).dump(), "bob");
    ASSERT_EQ(post.status, 202) << post.body;
    ASSERT_EQ(post.Json()["success_count"], 1) << post.body;
  }

  // The match lines for the log, one per line of `accord match` output.
  RunResult Match() { return node_.Cli("match --input-format suricata " + ShellQuote(log_)); }

  void Configure(const std::string& toml) {
    std::ofstream(std::filesystem::path(node_.data()) / "accord.toml") << toml;
  }

  WriterNode node_{"hostile-revocation"};
  std::string trusted_, bobonly_, log_;
};

TEST_F(CrossCollectionRevocation, RevocationInAnotherCollectionDoesNotSwitchOffTheIndicator) {
  auto before = Match();
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_NE(before.out.find(kId), std::string::npos) << before.out << before.err;

  BobRevokes();

  // `trusted` still serves the unrevoked version, and only it.
  auto served = node_.Get(WriterNode::Objects(trusted_) + kId + "/", "admin");
  ASSERT_EQ(served.status, 200) << served.body;
  ASSERT_EQ(served.Json()["objects"].size(), 1u) << served.body;
  EXPECT_EQ(served.Json()["objects"][0], Indicator("2025-01-01T00:00:00.000Z", false));
  auto versions = node_.Get(WriterNode::Objects(trusted_) + kId + "/versions/", "admin");
  ASSERT_EQ(versions.status, 200) << versions.body;
  EXPECT_EQ(versions.Json()["versions"], json::array({"2025-01-01T00:00:00.000Z"}))
      << versions.body;
  // `accord list` of trusted (revoked objects left out) still lists it.
  auto listed = node_.Cli("list --collection trusted");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(kId), std::string::npos) << listed.out;

  // Matching (default: every collection) still reports it: it is active in `trusted`.
  auto after = Match();
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find(kId), std::string::npos) << after.out << after.err;
  EXPECT_NE(after.out.find(kDomain), std::string::npos) << after.out;
}

TEST_F(CrossCollectionRevocation, MatchCollectionsChoosesWhereIndicatorsComeFrom) {
  BobRevokes();
  // Only Bob's collection: there the latest version is revoked, so nothing matches.
  Configure("[match]\ncollections = [\"bobonly\"]\n");
  auto bob_only = Match();
  ASSERT_EQ(bob_only.exit_code, 0) << bob_only.err;
  EXPECT_EQ(bob_only.out.find(kId), std::string::npos) << bob_only.out;
  // Only `trusted`: it matches.
  Configure("[match]\ncollections = [\"trusted\"]\n");
  auto trusted_only = Match();
  ASSERT_EQ(trusted_only.exit_code, 0) << trusted_only.err;
  EXPECT_NE(trusted_only.out.find(kId), std::string::npos) << trusted_only.out;
  // A collection that does not exist is an error that names it.
  Configure("[match]\ncollections = [\"nosuch\"]\n");
  auto missing = Match();
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nosuch"), std::string::npos) << missing.err;
}

// The same version in two collections is compiled once: one match line, not two.
TEST_F(CrossCollectionRevocation, TheSameVersionInTwoCollectionsMatchesOnce) {
  auto f = node_.dir() / "again.json";
  std::ofstream(f) << Indicator("2025-01-01T00:00:00.000Z", false).dump();
  ASSERT_EQ(node_.Cli("import --collection bobonly " + ShellQuote(f.string())).exit_code, 0);
  auto r = Match();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t first = r.out.find(kId);
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kId, first + 1), std::string::npos) << r.out;
}

}  // namespace
}  // namespace accord::testing
