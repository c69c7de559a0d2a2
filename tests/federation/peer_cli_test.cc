// `accord peer add|list|remove` and `accord agreement set|show` (issue 12, points 2 and 3): a
// peer's API key is kept owner-only and never printed; a bad agreement names its line and
// changes nothing; every version is kept with who set it.
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_util.h"

namespace accord::testing {
namespace {

// A 32-byte key, base64 (any 32 bytes do for adding a peer): 32 'A' bytes = "QUFB..." by hand.
const std::string kPeerKey = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const std::string kIdentity = "identity--5e0d6a3b-8c1f-4d2e-9a7b-3c4d5e6f7a8b";
const std::string kApiKey = "acc_secret_api_key_9f8e7d";

class PeerCliTest : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + data(), tmp_.path());
  }
  std::string data() const { return ShellQuote((tmp_.path() / "store").string()); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(tmp_.path() / name) << text;
    return ShellQuote((tmp_.path() / name).string());
  }
  std::string AddArgs(const std::string& name) {
    return "peer add " + name + " --url https://cert-b.example:8443/api/ --identity " + kIdentity +
           " --public-key " + kPeerKey + " --key " + kApiKey;
  }
  TempDir tmp_{"peer-cli"};
};

TEST_F(PeerCliTest, PeersAreAddedListedAndRemovedWithoutShowingTheirKey) {
  RunResult add = Run(AddArgs("cert-b"));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.out.find(kApiKey), std::string::npos);
  struct stat st;
  ASSERT_EQ(stat((tmp_.path() / "store" / "peer-keys" / "cert-b.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Slurp(tmp_.path() / "store" / "peer-keys" / "cert-b.key"), kApiKey);
  RunResult list = Run("peer list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.find(kApiKey), std::string::npos);
  nlohmann::json peers = nlohmann::json::parse(list.out);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0]["name"], "cert-b");
  EXPECT_EQ(peers[0]["url"], "https://cert-b.example:8443/api/");
  EXPECT_EQ(peers[0]["identity"], kIdentity);
  EXPECT_EQ(peers[0]["public_key"], kPeerKey);
  EXPECT_EQ(peers[0]["agreement_version"], 0);
  // A taken name, and each bad field, is refused naming it; nothing is added.
  EXPECT_EQ(Run(AddArgs("cert-b")).exit_code, 1);
  struct Bad {
    std::string args, says;
  };
  const Bad bad[] = {
      {"peer add 'Bad Name' --url https://x/ --identity " + kIdentity + " --public-key " +
           kPeerKey + " --key k",
       "peer name"},
      {"peer add c --url ftp://x/ --identity " + kIdentity + " --public-key " + kPeerKey +
           " --key k",
       "--url"},
      {"peer add c --url https://x/ --identity indicator--1 --public-key " + kPeerKey + " --key k",
       "--identity"},
      {"peer add c --url https://x/ --identity " + kIdentity + " --public-key QUFB --key k",
       "--public-key"},
  };
  for (const Bad& b : bad) {
    RunResult r = Run(b.args);
    EXPECT_EQ(r.exit_code, 1) << b.args;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << r.err;
  }
  EXPECT_EQ(nlohmann::json::parse(Run("peer list --json").out).size(), 1u);
  ASSERT_EQ(Run("peer remove cert-b").exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(Run("peer list --json").out).size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "store" / "peer-keys" / "cert-b.key"));
  EXPECT_EQ(Run("peer remove cert-b").exit_code, 3);
}

TEST_F(PeerCliTest, AgreementsAreValidatedAndEveryVersionIsKept) {
  ASSERT_EQ(Run(AddArgs("cert-b")).exit_code, 0);
  const std::string v1 = "[share]\ncollections = [\"outbox\"]\nmax_tlp = \"green\"\n";
  const std::string v2 =
      "same_organization = false\n[share]\ncollections = [\"outbox\"]\nmax_tlp = \"amber\"\n"
      "forward = true\n[accept]\nfrom = [\"outbox\"]\n";
  RunResult s1 = Run("agreement set cert-b " + Write("v1.toml", v1));
  ASSERT_EQ(s1.exit_code, 0) << s1.err;
  EXPECT_NE(s1.out.find("version 1"), std::string::npos);
  // A mistake on line 3 (by hand: "max_tlp" is line 3 of the file, its value at column 11).
  const std::string path = (tmp_.path() / "bad.toml").string();
  RunResult bad =
      Run("agreement set cert-b " +
          Write("bad.toml", "[share]\ncollections = [\"outbox\"]\nmax_tlp = \"purple\"\n"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(path + ":3:11:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("purple"), std::string::npos) << bad.err;
  ASSERT_EQ(Run("agreement set cert-b " + Write("v2.toml", v2)).exit_code, 0);
  // show: the latest; --version 1: the first; --history: both, with who set them.
  EXPECT_EQ(Run("agreement show cert-b").out, v2);
  EXPECT_EQ(Run("agreement show cert-b --version 1").out, v1);
  RunResult h = Run("agreement show cert-b --history --json");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  nlohmann::json hist = nlohmann::json::parse(h.out);
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(hist[0]["version"], 1);
  EXPECT_EQ(hist[0]["toml"], v1);
  EXPECT_EQ(hist[1]["toml"], v2);
  EXPECT_FALSE(hist[1]["set_by"].get<std::string>().empty());
  EXPECT_EQ(nlohmann::json::parse(Run("peer list --json").out)[0]["agreement_version"], 2);
  // No such peer.
  EXPECT_EQ(Run("agreement set cert-z " + Write("v3.toml", v1)).exit_code, 3);
  EXPECT_EQ(Run("agreement show cert-b --version 9").exit_code, 3);
}

}  // namespace
}  // namespace accord::testing
