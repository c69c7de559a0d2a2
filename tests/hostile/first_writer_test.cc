// Issue 10, hostile writers: "first writer wins". Bob, who may write `shared`, POSTs an ATT&CK
// object's id and modified with altered content before the administrator imports ATT&CK.
// Before the fix the admin's import printed one warning, exited 0, and the node served Bob's
// version. Now the import exits non-zero naming the object, both copies are in quarantine,
// and once the administrator releases the real copy the node serves it (and Bob's copy
// leaves every collection).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "hostile/writer_node.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr const char* kAttack = "data/stix/attack-stix-data/ics-attack-17.1.json.gz";

TEST(FirstWriter, AlteredAttackObjectPostedFirstDoesNotWin) {
  ACCORD_REQUIRE_SHARED(SharedDir() / kAttack);
  WriterNode node("hostile-first-writer");
  ASSERT_TRUE(node.Start());
  node.AddUser("bob");
  std::string shared = node.AddCollection("shared");
  std::string attack = node.AddCollection("attack");
  node.Grant("shared", "bob", "--read --write");

  // The real bundle, and its first attack-pattern that is not revoked.
  auto bundle_path = node.dir() / "attack.json";
  // (A subshell: RunCmd redirects the command's own standard output.)
  ASSERT_EQ(RunCmd("(zcat " + ShellQuote((SharedDir() / kAttack).string()) + " > " +
                       ShellQuote(bundle_path.string()) + ")",
                   node.dir())
                .exit_code,
            0);
  json bundle = json::parse(Slurp(bundle_path));
  json real;
  for (const auto& o : bundle["objects"]) {
    if (o["type"] == "attack-pattern" && !o.value("revoked", false)) {
      real = o;
      break;
    }
  }
  ASSERT_TRUE(real.is_object());
  const std::string id = real["id"];
  const std::string real_name = real["name"];

  // Bob's altered copy, same id and modified, posted first: accepted (nothing is stored yet).
  json fake = real;
  fake["name"] = "Harmless Administrative Task";
  fake["description"] = "Nothing to see here.";
  auto post = node.Post(WriterNode::Objects(shared), json::array({fake}).dump(), "bob");
  ASSERT_EQ(post.status, 202) << post.body;
  ASSERT_EQ(post.Json()["success_count"], 1) << post.body;

  // The admin's import of the real bundle refuses that object and says so.
  auto imp = node.Cli("import --collection attack " + ShellQuote(bundle_path.string()));
  EXPECT_NE(imp.exit_code, 0) << imp.out << imp.err;
  EXPECT_NE(imp.err.find(id), std::string::npos) << imp.err;
  size_t line = imp.err.find(id);
  ASSERT_NE(line, std::string::npos);
  std::string named = imp.err.substr(line, imp.err.find('\n', line) - line);
  EXPECT_NE(named.find("exists with different content"), std::string::npos) << named;
  // Every other object of the bundle was imported.
  EXPECT_NE(imp.out.find("imported " + std::to_string(bundle["objects"].size() - 1) +
                         " object(s) into 'attack'"),
            std::string::npos)
      << imp.out;

  // The quarantine holds the real copy, aimed at `attack`; `show` gives both copies.
  auto list = node.Cli("quarantine list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json entries = json::parse(list.out, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << list.out;
  ASSERT_EQ(entries.size(), 1u) << list.out;
  EXPECT_EQ(entries[0]["id"], id);
  EXPECT_EQ(entries[0]["collection_alias"], "attack");
  EXPECT_EQ(entries[0]["writer"], "import");
  std::string qid = std::to_string(entries[0]["qid"].get<int64_t>());
  auto show = node.Cli("quarantine show " + qid);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  json both = json::parse(show.out, nullptr, false);
  ASSERT_TRUE(both.is_object()) << show.out;
  EXPECT_EQ(both["stored"], fake);
  EXPECT_EQ(both["quarantined"], real);

  // Meanwhile `attack` does not serve Bob's copy (nothing was linked there).
  EXPECT_EQ(node.Get(WriterNode::Objects(attack) + id + "/", "admin").status, 404);

  // The administrator decides: the real copy wins.
  auto rel = node.Cli("quarantine release " + qid + " --keep quarantined");
  ASSERT_EQ(rel.exit_code, 0) << rel.err;

  auto served = node.Get(WriterNode::Objects(attack) + id + "/", "admin");
  ASSERT_EQ(served.status, 200) << served.body;
  ASSERT_EQ(served.Json()["objects"].size(), 1u) << served.body;
  EXPECT_EQ(served.Json()["objects"][0], real);
  EXPECT_EQ(served.Json()["objects"][0]["name"], real_name);
  // Bob's copy left the store and his collection; it is kept in quarantine in its place.
  EXPECT_EQ(node.Get(WriterNode::Objects(shared) + id + "/", "bob").status, 404);
  auto get = node.Cli("get " + id);
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find(real_name), std::string::npos) << get.out;
  EXPECT_EQ(get.out.find("Harmless Administrative Task"), std::string::npos) << get.out;
  auto after = node.Cli("quarantine list --json");
  json left = json::parse(after.out, nullptr, false);
  ASSERT_TRUE(left.is_array()) << after.out;
  ASSERT_EQ(left.size(), 1u) << after.out;
  EXPECT_EQ(left[0]["id"], id);
  EXPECT_EQ(left[0]["collection_alias"], "shared");

  // Re-importing the bundle is now clean.
  auto again = node.Cli("import --collection attack " + ShellQuote(bundle_path.string()));
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace
}  // namespace accord::testing
