// Object signatures (issue 12, point 5): what is signed (the RFC 8785 form without the
// signature entry, checked against the conformance vectors and a canonical form written by
// hand), that a signature verifies, and that any change, another key or a malformed entry is
// refused with its reason. tests/federation/node_cli_test.cc verifies with OpenSSL instead.
#include "accord/federation/signature.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "accord/common/encoding.h"
#include "common/test_util.h"

namespace accord::federation {
namespace {

namespace fs = std::filesystem;

const std::string kSigner = "identity--6b1e5a0c-2d4f-4a8b-9c3e-7f0d1b2a3c4d";
const std::string kSigKey(kSignatureExtension);

// An indicator with members out of order, whitespace, another extension and a unicode name.
const char* kObject = R"({
  "type": "indicator", "spec_version": "2.1",
  "id": "indicator--00000000-0000-4000-8000-000000000001",
  "name": "caf\u00e9 \"x\"", "created": "2024-01-01T00:00:00.000Z",
  "modified": "2024-01-01T00:00:00.000Z", "pattern": "[domain-name:value = 'evil.example']",
  "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", "confidence": 80,
  "extensions": {"x-other-ext": {"b": 2, "a": 1.50}}
})";
// By hand, RFC 8785: members sorted, no whitespace, é as UTF-8, 1.50 as 1.5.
const char* kCanonical =
    "{\"confidence\":80,\"created\":\"2024-01-01T00:00:00.000Z\",\"extensions\":{\"x-other-ext\":"
    "{\"a\":1.5,\"b\":2}},\"id\":\"indicator--00000000-0000-4000-8000-000000000001\",\"modified\":"
    "\"2024-01-01T00:00:00.000Z\",\"name\":\"caf\xc3\xa9 \\\"x\\\"\",\"pattern\":\"[domain-name:"
    "value = 'evil.example']\",\"pattern_type\":\"stix\",\"spec_version\":\"2.1\",\"type\":"
    "\"indicator\",\"valid_from\":\"2024-01-01T00:00:00Z\"}";

TEST(SignatureTest, SigningBytesAreTheCanonicalFormWithoutTheEntry) {
  auto bytes = SigningBytes(kObject);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, kCanonical);
  KeyPair k = NewKeyPair();
  auto signed_json = Sign(kObject, kSigner, k.secret_key);
  ASSERT_TRUE(signed_json.ok()) << signed_json.status();
  // Signing adds the entry and nothing else; its bytes are what was signed.
  EXPECT_EQ(*SigningBytes(*signed_json), kCanonical);
  nlohmann::json j = nlohmann::json::parse(*signed_json);
  const nlohmann::json& e = j["extensions"][kSigKey];
  EXPECT_EQ(e["extension_type"], "property-extension");
  EXPECT_EQ(e["signer"], kSigner);
  EXPECT_EQ(e["alg"], "Ed25519");
  EXPECT_EQ(common::Base64Decode(e["signature"].get<std::string>())->size(), 64u);
  EXPECT_EQ(j["extensions"]["x-other-ext"]["b"], 2);
  // With no other extension, `extensions` itself is left out of what is signed.
  nlohmann::json plain = nlohmann::json::parse(kObject);
  plain.erase("extensions");
  auto s2 = Sign(plain.dump(), kSigner, k.secret_key);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(SigningBytes(*s2)->find("extensions"), std::string::npos);
  EXPECT_NE(s2->find("extensions"), std::string::npos);
}

TEST(SignatureTest, SigningBytesOfTheConformanceVectors) {
  // Objects with no signature entry sign their plain canonical form, with one, the same: the
  // vectors' numbers, escapes and member order survive the entry's removal.
  const fs::path dir = accord::testing::SharedDir() / "conformance" / "jcs";
  ACCORD_REQUIRE_SHARED(dir);
  size_t objects = 0;
  for (const auto& entry : fs::directory_iterator(dir / "input")) {
    std::string input = accord::testing::Slurp(entry.path());
    std::string want = accord::testing::Slurp(dir / "output" / entry.path().filename());
    if (nlohmann::json::parse(input).is_object()) {
      auto got = SigningBytes(input);
      ASSERT_TRUE(got.ok()) << entry.path() << ": " << got.status();
      EXPECT_EQ(*got, want) << entry.path().filename();
      // The same with a signature entry spliced in by hand after the opening brace.
      std::string with_sig = "{\"extensions\":{\"" + kSigKey +
                             "\":{\"extension_type\":\"property-extension\"}}," +
                             input.substr(input.find('{') + 1);
      auto got2 = SigningBytes(with_sig);
      ASSERT_TRUE(got2.ok()) << got2.status();
      EXPECT_EQ(*got2, want) << entry.path().filename();
      // Signed, the object reads back and verifies (values.json's 1E20 is canonically an
      // integer past 2^64, which a canonical copy could not be parsed with).
      KeyPair k = NewKeyPair();
      auto s = Sign(input, "identity--00000000-0000-4000-8000-000000000001", k.secret_key);
      ASSERT_TRUE(s.ok()) << s.status();
      EXPECT_TRUE(Verify(*s, k.public_key).ok()) << entry.path().filename() << ": " << *s;
      ++objects;
    } else {
      EXPECT_FALSE(SigningBytes(input).ok()) << "not an object: " << entry.path();
    }
  }
  EXPECT_GE(objects, 4u);
}

TEST(SignatureTest, VerifiesAndRefusesEveryChange) {
  KeyPair k = NewKeyPair(), other = NewKeyPair();
  auto s = Sign(kObject, kSigner, k.secret_key);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(Verify(*s, k.public_key).ok());
  EXPECT_EQ(Verify(*s, other.public_key).code(), absl::StatusCode::kUnauthenticated);
  // Any change to what is signed: a property, a nested extension, the signer's name.
  nlohmann::json j = nlohmann::json::parse(*s);
  for (int change = 0; change < 4; ++change) {
    nlohmann::json t = j;
    if (change == 0) t["confidence"] = 81;
    if (change == 1) t["extensions"]["x-other-ext"]["a"] = 1.25;
    if (change == 2) t["extensions"][kSigKey]["signer"] = "identity--" + std::string(36, '0');
    if (change == 3) t["revoked"] = true;
    absl::Status st = Verify(t.dump(), k.public_key);
    EXPECT_EQ(st.code(),
              change == 2 ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kUnauthenticated)
        << change << ": " << st;
  }
  // The same content in another spelling (order, whitespace) still verifies.
  nlohmann::json reordered = nlohmann::json::parse(*s);
  EXPECT_TRUE(Verify(reordered.dump(2), k.public_key).ok());
  // Re-signing replaces the entry: one signature, by the new key.
  auto again = Sign(*s, kSigner, other.secret_key);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Verify(*again, other.public_key).ok());
  EXPECT_FALSE(Verify(*again, k.public_key).ok());
  // No signature.
  EXPECT_EQ(Verify(kObject, k.public_key).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(FindSignature(kObject)->has_value());
}

// Found by the fuzz target: an object whose `extensions` is not an object cannot carry a
// signature; Sign says so instead of throwing.
TEST(SignatureTest, ExtensionsThatAreNotAnObjectAreRefusedBySign) {
  KeyPair k = NewKeyPair();
  for (const char* json :
       {R"({"extensions":"A"})", R"({"type":"x","extensions":[1]})", R"({"extensions":7})"}) {
    auto s = Sign(json, kSigner, k.secret_key);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << json;
  }
}

TEST(SignatureTest, MalformedEntriesNameTheRule) {
  KeyPair k = NewKeyPair();
  nlohmann::json j = nlohmann::json::parse(*Sign(kObject, kSigner, k.secret_key));
  struct Case {
    const char* member;
    nlohmann::json value;
    const char* says;
  };
  const Case cases[] = {
      {"alg", "RS256", "is not Ed25519"},
      {"alg", nullptr, "no alg"},
      {"signer", "indicator--00000000-0000-4000-8000-000000000001", "identity id"},
      {"signature", "not base64!", "64 bytes"},
      {"signature", common::Base64Encode(std::string(63, 'x')), "64 bytes"},
      {"extension_type", "toplevel-property-extension", "extension_type"},
  };
  for (const Case& c : cases) {
    nlohmann::json t = j;
    if (c.value.is_null()) {
      t["extensions"][kSigKey].erase(c.member);
    } else {
      t["extensions"][kSigKey][c.member] = c.value;
    }
    auto f = FindSignature(t.dump());
    ASSERT_FALSE(f.ok()) << c.member;
    EXPECT_NE(f.status().message().find(c.says), std::string_view::npos) << f.status();
    EXPECT_EQ(Verify(t.dump(), k.public_key).code(), absl::StatusCode::kInvalidArgument);
  }
  nlohmann::json t = j;
  t["extensions"][kSigKey] = "x";
  EXPECT_FALSE(FindSignature(t.dump()).ok());
  // Two members of one name (I-JSON): refused, never signed or verified.
  EXPECT_FALSE(SigningBytes(R"({"a":1,"a":2})").ok());
  EXPECT_FALSE(Sign(R"({"a":1,"a":2})", kSigner, k.secret_key).ok());
  EXPECT_FALSE(Sign(kObject, kSigner, "short").ok());
  EXPECT_FALSE(Verify(*Sign(kObject, kSigner, k.secret_key), "short").ok());
}

}  // namespace
}  // namespace accord::federation
