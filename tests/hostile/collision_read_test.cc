// Issue 10, hostile writers: "a write reveals what the writer may not read". Bob may read and
// write `shared` only. He POSTs a stub carrying the id and modified of an object that lives in
// `secret`. Before the fix the stub counted as a duplicate of the stored version, which was
// then linked into `shared`: a GET of that id in `shared` served the secret object. Now the
// stub is refused ("exists with different content"), nothing is linked, the refusal names no
// stored content, and the secret object is unchanged.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "hostile/writer_node.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr const char* kId = "indicator--5a1f3c2e-9b7d-4e61-8c3a-2f4d6b8e0a17";
constexpr const char* kModified = "2025-03-04T05:06:07.000Z";
// Content only the secret collection's readers may see.
constexpr const char* kSecretName = "operation-nightjar-source-7";
constexpr const char* kSecretValue = "203.0.113.77";

json SecretObject() {
  return {{"type", "indicator"},
          {"spec_version", "2.1"},
          {"id", kId},
          {"created", "2025-03-01T00:00:00.000Z"},
          {"modified", kModified},
          {"name", kSecretName},
          {"pattern", std::string("[ipv4-addr:value = '") + kSecretValue + "']"},
          {"pattern_type", "stix"},
          {"valid_from", "2025-03-01T00:00:00Z"}};
}

TEST(CollisionRead, StubWithASecretObjectsIdAndModifiedIsRefusedAndRevealsNothing) {
  WriterNode node("hostile-collision");
  ASSERT_TRUE(node.Start());
  node.AddUser("bob");
  std::string shared = node.AddCollection("shared");
  std::string secret = node.AddCollection("secret");
  node.Grant("shared", "bob", "--read --write");

  // The admin stores the secret object.
  auto f = node.dir() / "secret.json";
  std::ofstream(f) << SecretObject().dump();
  auto imp = node.Cli("import --collection secret " + ShellQuote(f.string()));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  // Bob cannot read it where it is.
  EXPECT_EQ(node.Get(WriterNode::Objects(secret) + kId + "/", "bob").status, 404);

  // Bob's stub: the same (id, modified), content of his own.
  json stub = {{"type", "indicator"},
               {"spec_version", "2.1"},
               {"id", kId},
               {"created", "2025-03-01T00:00:00.000Z"},
               {"modified", kModified},
               {"pattern", "[ipv4-addr:value = '192.0.2.1']"},
               {"pattern_type", "stix"},
               {"valid_from", "2025-03-01T00:00:00Z"}};
  auto post = node.Post(WriterNode::Objects(shared), json::array({stub}).dump(), "bob");
  ASSERT_EQ(post.status, 202) << post.body;
  json status = post.Json();
  EXPECT_EQ(status["total_count"], 1) << post.body;
  EXPECT_EQ(status["success_count"], 0) << post.body;
  EXPECT_EQ(status["failure_count"], 1) << post.body;
  ASSERT_TRUE(status["failures"].is_array()) << post.body;
  ASSERT_EQ(status["failures"].size(), 1u) << post.body;
  EXPECT_EQ(status["failures"][0]["id"], kId);
  EXPECT_NE(
      status["failures"][0]["message"].get<std::string>().find("exists with different content"),
      std::string::npos)
      << post.body;
  // The refusal says only that the version exists: none of the stored content.
  EXPECT_EQ(post.body.find(kSecretName), std::string::npos) << post.body;
  EXPECT_EQ(post.body.find(kSecretValue), std::string::npos) << post.body;

  // Nothing was linked into `shared`: the id is unknown there.
  auto read = node.Get(WriterNode::Objects(shared) + kId + "/", "bob");
  EXPECT_EQ(read.status, 404) << read.body;
  EXPECT_EQ(read.body.find(kSecretName), std::string::npos) << read.body;
  auto listed = node.Get(WriterNode::Objects(shared), "bob");
  EXPECT_EQ(listed.body.find(kId), std::string::npos) << listed.body;

  // The secret object is unchanged, where it was.
  auto real = node.Get(WriterNode::Objects(secret) + kId + "/", "admin");
  ASSERT_EQ(real.status, 200) << real.body;
  json objs = real.Json()["objects"];
  ASSERT_EQ(objs.size(), 1u) << real.body;
  EXPECT_EQ(objs[0], SecretObject());

  // The stub waits in quarantine for the administrator.
  auto q = node.Cli("quarantine list --json");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  json entries = json::parse(q.out, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << q.out;
  ASSERT_EQ(entries.size(), 1u) << q.out;
  EXPECT_EQ(entries[0]["id"], kId);
  EXPECT_EQ(entries[0]["collection_alias"], "shared");
  EXPECT_EQ(entries[0]["writer"], "bob");
}

// The same object with its members reordered and spaced out is the same version (RFC 8785
// canonical JSON): no conflict, and re-sending it is an ordinary duplicate.
TEST(CollisionRead, TheSameContentInAnotherMemberOrderIsNoConflict) {
  WriterNode node("hostile-collision-order");
  ASSERT_TRUE(node.Start());
  node.AddUser("bob");
  std::string shared = node.AddCollection("shared");
  node.Grant("shared", "bob", "--read --write");
  json obj = SecretObject();
  auto f = node.dir() / "obj.json";
  std::ofstream(f) << obj.dump();
  ASSERT_EQ(node.Cli("import --collection shared " + ShellQuote(f.string())).exit_code, 0);
  // Reversed member order, with whitespace.
  std::string reordered = "[{";
  bool first = true;
  std::vector<std::pair<std::string, json>> members;
  for (const auto& m : obj.items()) members.emplace_back(m.key(), m.value());
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    reordered += (first ? "\n  " : ",\n  ") + json(it->first).dump() + " : " + it->second.dump();
    first = false;
  }
  reordered += "\n}]";
  auto post = node.Post(WriterNode::Objects(shared), reordered, "bob");
  ASSERT_EQ(post.status, 202) << post.body;
  EXPECT_EQ(post.Json()["success_count"], 1) << post.body;
  EXPECT_EQ(post.Json()["failure_count"], 0) << post.body;
  auto q = node.Cli("quarantine list --json");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(json::parse(q.out, nullptr, false), json::array()) << q.out;
}

}  // namespace
}  // namespace accord::testing
