// `accord node init|show` and `accord verify` (issue 12, points 1 and 5), checked from outside:
// the identity object's signature is verified by OpenSSL (`openssl pkeyutl -verify -rawin`)
// over a canonical form this test builds itself (members sorted, no whitespace: the identity
// object has only ASCII strings and no numbers, where RFC 8785 is exactly that), not by
// Accord's code.
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/test_util.h"
#include "federation/oracle.h"

namespace accord::testing {
namespace {

class NodeCliTest : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + data(), tmp_.path());
  }
  std::string data() const { return ShellQuote((tmp_.path() / "store").string()); }
  std::filesystem::path Path(const std::string& name) const { return tmp_.path() / name; }
  TempDir tmp_{"node-cli"};
};

TEST_F(NodeCliTest, InitShowAndAnIndependentSignatureCheck) {
  RunResult init = Run("node init --name 'CERT Example' --json");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  nlohmann::json node = nlohmann::json::parse(init.out);
  RunResult show = Run("node show --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out), node);
  const std::string identity = node["identity"], key_b64 = node["public_key"];
  EXPECT_EQ(node["name"], "CERT Example");
  EXPECT_EQ(identity.rfind("identity--", 0), 0u);
  // The secret key: owner only, and not in anything printed.
  struct stat st;
  ASSERT_EQ(stat((tmp_.path() / "store" / "node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string secret = Slurp(tmp_.path() / "store" / "node.key");
  const std::string secret_b64 = secret.substr(0, secret.find('\n'));
  EXPECT_EQ(init.out.find(secret_b64), std::string::npos);
  EXPECT_EQ(show.out.find(secret_b64), std::string::npos);

  // A second init is an error that changes nothing.
  RunResult again = Run("node init --name Other");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already initialised"), std::string::npos) << again.err;
  EXPECT_EQ(nlohmann::json::parse(Run("node show --json").out), node);
  EXPECT_EQ(Slurp(tmp_.path() / "store" / "node.key"), secret);

  // The identity object: an organisation, TLP:CLEAR, carrying the public key, signed.
  RunResult got = Run("get " + identity);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  nlohmann::json obj = nlohmann::json::parse(got.out);
  EXPECT_EQ(obj["type"], "identity");
  EXPECT_EQ(obj["identity_class"], "organization");
  EXPECT_EQ(obj["name"], "CERT Example");
  EXPECT_EQ(obj["object_marking_refs"],
            nlohmann::json::array({"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"}));
  const std::string sig_ext = "extension-definition--2f1d7e0a-5c9b-4c53-9f7e-6a3d1b8c4e21";
  const std::string key_ext = "extension-definition--8b6e4d2c-1a7f-4e95-b0c3-5d9a2f6e7b14";
  EXPECT_EQ(obj["extensions"][key_ext]["public_key"], key_b64);
  const nlohmann::json sig = obj["extensions"][sig_ext];
  EXPECT_EQ(sig["signer"], identity);
  EXPECT_EQ(sig["alg"], "Ed25519");

  // OpenSSL: the signed bytes are the object without the signature entry, canonical.
  nlohmann::json unsigned_obj = obj;
  unsigned_obj["extensions"].erase(sig_ext);
  EXPECT_TRUE(OpensslVerifies(tmp_.path(), Canonical(unsigned_obj), sig["signature"], key_b64));
  // And a changed byte fails OpenSSL's check: the oracle can fail.
  unsigned_obj["name"] = "CERT Exampl3";
  EXPECT_FALSE(OpensslVerifies(tmp_.path(), Canonical(unsigned_obj), sig["signature"], key_b64));
  EXPECT_TRUE(SignedBy(tmp_.path(), obj, identity, key_b64));

  // accord verify agrees.
  RunResult v = Run("verify --json " + identity);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  nlohmann::json vj = nlohmann::json::parse(v.out);
  ASSERT_EQ(vj.size(), 1u);
  EXPECT_EQ(vj[0]["signer"], identity);
  EXPECT_EQ(vj[0]["result"], "valid");
}

TEST_F(NodeCliTest, VerifyReportsUnsignedAndTamperedVersions) {
  ASSERT_EQ(Run("node init --name A").exit_code, 0);
  const std::string identity = nlohmann::json::parse(Run("node show --json").out)["identity"];
  nlohmann::json obj = nlohmann::json::parse(Run("get " + identity).out);
  // A tampered copy of a signed object, as a later version in another collection, and an
  // unsigned indicator.
  obj["modified"] = "2099-01-01T00:00:00.000Z";
  obj["name"] = "Mallory";
  const std::string indicator =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000009",)"
      R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
      R"("pattern":"[domain-name:value = 'x.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  std::ofstream(Path("in.jsonl")) << obj.dump() << "\n" << indicator << "\n";
  RunResult imp = RunCmd(Accord() + " import --data " + data() + " --collection other " +
                             ShellQuote(Path("in.jsonl").string()),
                         tmp_.path());
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  RunResult v = Run("verify --json " + identity);
  EXPECT_EQ(v.exit_code, 1) << v.err;
  nlohmann::json vj = nlohmann::json::parse(v.out);
  ASSERT_EQ(vj.size(), 2u) << v.out;
  EXPECT_EQ(vj[0]["result"], "valid");
  EXPECT_EQ(vj[1]["modified"], "2099-01-01T00:00:00.000Z");
  EXPECT_EQ(vj[1]["result"].get<std::string>().rfind("invalid", 0), 0u) << vj[1];
  RunResult u = Run("verify --json indicator--00000000-0000-4000-8000-000000000009");
  EXPECT_EQ(u.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(u.out)[0]["result"], "unsigned");
  EXPECT_EQ(Run("verify indicator--00000000-0000-4000-8000-00000000000a").exit_code, 3);
  // Without a node: show says how to make one.
  TempDir other{"node-cli-none"};
  RunResult none =
      RunCmd(Accord() + " node show --data " + ShellQuote((other.path() / "store").string()),
             other.path());
  EXPECT_NE(none.exit_code, 0);
}

// Point 5: a key that another node's identity object introduces is believed automatically by
// default; with [federation] key_trust = "manual" only after `accord node trust`.
TEST_F(NodeCliTest, IntroducedKeysAreTrustedAutomaticallyOrByHand) {
  TempDir b_dir{"node-cli-b"};
  const std::string b_data = ShellQuote((b_dir.path() / "store").string());
  ASSERT_EQ(RunCmd(Accord() + " node init --name B --data " + b_data, b_dir.path()).exit_code, 0);
  const std::string b_id = nlohmann::json::parse(
      RunCmd(Accord() + " node show --json --data " + b_data, b_dir.path()).out)["identity"];
  const std::string b_obj =
      RunCmd(Accord() + " get " + b_id + " --data " + b_data, b_dir.path()).out;
  ASSERT_EQ(Run("node init --name A").exit_code, 0);
  std::ofstream(Path("b.json")) << b_obj;
  ASSERT_EQ(RunCmd(Accord() + " import --data " + data() + " --collection from-b " +
                       ShellQuote(Path("b.json").string()),
                   tmp_.path())
                .exit_code,
            0);
  // auto (the default): B's self-signed identity object introduces its key.
  RunResult v = Run("verify --json " + b_id);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out)[0]["result"], "valid");
  // manual: not until `node trust`.
  std::ofstream(tmp_.path() / "store" / "accord.toml") << "[federation]\nkey_trust = \"manual\"\n";
  RunResult m = Run("verify --json " + b_id);
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_EQ(
      nlohmann::json::parse(m.out)[0]["result"].get<std::string>().rfind("untrusted signer", 0), 0u)
      << m.out;
  ASSERT_EQ(Run("node trust " + b_id).exit_code, 0);
  EXPECT_EQ(Run("verify " + b_id).exit_code, 0);
  EXPECT_EQ(Run("node trust indicator--x").exit_code, 1);
  // A bad setting names its line.
  std::ofstream(tmp_.path() / "store" / "accord.toml") << "[federation]\nkey_trust = \"maybe\"\n";
  RunResult bad = Run("verify " + b_id);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("accord.toml:2:"), std::string::npos) << bad.err;
}

// `accord contact add|list` (issue 14, point 1): contacts are this node's identity objects in
// the `contacts` collection; the list gives them in escalation order, those on duty first.
TEST_F(NodeCliTest, ContactsAreAddedCheckedAndListedInEscalationOrder) {
  // Before the node has an identity, a contact has no node to belong to.
  ASSERT_EQ(Run("init").exit_code, 0);
  RunResult early = Run("contact add 'Duty desk' --role technical --email duty@a.example");
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("node init"), std::string::npos) << early.err;
  RunResult init = Run("node init --name 'CERT A' --json");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string node = nlohmann::json::parse(init.out)["identity"];
  // Bad details are refused with the field named, and nothing is stored.
  RunResult bad = Run("contact add 'Duty desk' --role technical --email duty-at-a.example");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("email"), std::string::npos) << bad.err;
  bad = Run("contact add 'Duty desk' --role duty --email duty@a.example");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("policy, technical"), std::string::npos) << bad.err;
  bad = Run("contact add 'Duty desk' --role technical --email duty@a.example --hours nights");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("Mon-Fri 08-18 UTC"), std::string::npos) << bad.err;
  // Off duty now: an hour three days from today (UTC weekday worked out here); 24/7 always on.
  const char* days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const int64_t today = static_cast<int64_t>(std::time(nullptr)) / 86400;  // 1970-01-01: Thu
  const std::string away = days[((today + 3) % 7 + 3) % 7];
  RunResult a =
      Run("contact add 'Ambassador Z' --role policy --email z@mfa.a.example --order 0 "
          "--hours '" +
          away + " 00-01 UTC'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult b =
      Run("contact add 'Duty desk' --role technical --email duty@a.example --phone '+1 555 0100' "
          "--order 5");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string desk_id = b.out.substr(0, b.out.find('\n'));
  EXPECT_EQ(desk_id.rfind("identity--", 0), 0u) << b.out;
  // The stored object: an identity made by this node, in the contacts collection.
  RunResult got = Run("list --json --collection contacts");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  size_t n = 0;
  std::istringstream lines(got.out);
  for (std::string l; std::getline(lines, l);) {
    nlohmann::json o = nlohmann::json::parse(l);
    EXPECT_EQ(o["type"], "identity");
    EXPECT_EQ(o["created_by_ref"], node);
    ++n;
  }
  EXPECT_EQ(n, 2u);
  RunResult list = Run("contact list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json dir = nlohmann::json::parse(list.out);
  ASSERT_EQ(dir.size(), 2u) << list.out;
  // The desk (24/7) is on duty, so it comes first although its order is higher.
  EXPECT_EQ(dir[0]["name"], "Duty desk");
  EXPECT_EQ(dir[0]["id"], desk_id);
  EXPECT_EQ(dir[0]["on_duty"], true);
  EXPECT_EQ(dir[0]["phone"], "+1 555 0100");
  EXPECT_EQ(dir[0]["hours"], "24/7");
  EXPECT_EQ(dir[0]["own"], true);
  EXPECT_EQ(dir[0]["node_name"], "CERT A");
  EXPECT_EQ(dir[1]["name"], "Ambassador Z");
  EXPECT_EQ(dir[1]["role"], "policy");
  EXPECT_EQ(dir[1]["on_duty"], false);
  RunResult table = Run("contact list");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("own  CERT A  technical  5  Duty desk"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace accord::testing
