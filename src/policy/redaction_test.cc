// Redaction profiles (issue 13, point 4): what the issue's example profile does to objects,
// written out by hand from the rules in include/accord/policy/redaction.h; SCO ids are
// recomputed here with OpenSSL's SHA-1 (RFC 4122 §4.3), not with the stix layer.
#include "accord/policy/redaction.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/stix/reader.h"
#include "common/test_util.h"

namespace accord::policy {
namespace {

using Json = nlohmann::json;

constexpr const char* kProfile = R"toml(
[redaction.profiles.partners]
drop_types = ["email-addr", "user-account"]
drop_identity_classes = ["individual"]
victim_ranges = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]
generalise_ipv4 = 24
generalise_ipv6 = 48
strip_url_query = true
text_patterns = ['[\w.+-]+@[\w-]+\.[\w.]+']

[redaction.roles]
reader = "partners"
)toml";

// UUIDv5 in the STIX SCO namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 (RFC 4122 §4.3).
std::string ScoId(const std::string& type, const std::string& canonical_name) {
  const unsigned char ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
  std::string data(reinterpret_cast<const char*>(ns), 16);
  data += canonical_name;
  unsigned char h[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), h);
  h[6] = static_cast<unsigned char>((h[6] & 0x0f) | 0x50);
  h[8] = static_cast<unsigned char>((h[8] & 0x3f) | 0x80);
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
                h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
                h[15]);
  return type + "--" + buf;
}

class RedactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseRedactionConfig(kProfile, "test.toml");
    ASSERT_TRUE(c.ok()) << c.status();
    config_ = *c;
    ASSERT_EQ(config_.profiles.count("partners"), 1u);
    auto r = Redactor::Create(config_.profiles.at("partners"));
    ASSERT_TRUE(r.ok()) << r.status();
    redactor_ = *r;
    lookup_ = [this](std::string_view id) -> std::optional<std::string> {
      auto it = objects_.find(std::string(id));
      if (it == objects_.end()) return std::nullopt;
      return it->second;
    };
    objects_[kPerson] =
        R"({"type":"identity","spec_version":"2.1","id":"identity--11111111-1111-4111-8111-111111111111","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Jane Doe","identity_class":"individual"})";
    objects_[kOrg] =
        R"({"type":"identity","spec_version":"2.1","id":"identity--22222222-2222-4222-8222-222222222222","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"CERT-X","identity_class":"organization"})";
    victim_id_ = ScoId("ipv4-addr", R"({"value":"10.9.9.9"})");
    objects_[victim_id_] = R"({"type":"ipv4-addr","spec_version":"2.1","id":")" + victim_id_ +
                           R"(","value":"10.9.9.9"})";
  }

  Redactor::Result Redact(const std::string& json) { return redactor_->Redact(json, lookup_); }

  static constexpr const char* kPerson = "identity--11111111-1111-4111-8111-111111111111";
  static constexpr const char* kOrg = "identity--22222222-2222-4222-8222-222222222222";
  RedactionConfig config_;
  std::shared_ptr<const Redactor> redactor_;
  std::map<std::string, std::string> objects_;
  Redactor::Lookup lookup_;
  std::string victim_id_;
};

TEST_F(RedactionTest, ConfigReadsEveryKey) {
  const RedactionProfile& p = config_.profiles.at("partners");
  EXPECT_EQ(p.drop_types, (std::vector<std::string>{"email-addr", "user-account"}));
  EXPECT_EQ(p.drop_identity_classes, std::vector<std::string>{"individual"});
  ASSERT_EQ(p.victim_ranges.size(), 3u);
  EXPECT_EQ(p.victim_ranges[0].family, 4);
  EXPECT_EQ(p.victim_ranges[0].prefix, 8);
  EXPECT_EQ(p.victim_ranges[2].family, 6);
  EXPECT_EQ(p.generalise_ipv4, 24);
  EXPECT_EQ(p.generalise_ipv6, 48);
  EXPECT_TRUE(p.strip_url_query);
  ASSERT_EQ(p.text_patterns.size(), 1u);
  EXPECT_EQ(config_.roles.at("reader"), "partners");
}

// `[redaction] cache_mib`: the memory each profile may keep for results (default 32 MiB).
TEST_F(RedactionTest, ConfigReadsTheResultCacheSize) {
  EXPECT_EQ(config_.cache_bytes, size_t{32} << 20);
  auto c = ParseRedactionConfig("[redaction]\ncache_mib = 0\n", "accord.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cache_bytes, 0u);
  c = ParseRedactionConfig("[redaction]\ncache_mib = 5\n[redaction.profiles.p]\n", "accord.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cache_bytes, size_t{5} << 20);
  for (const char* bad : {"cache_mib = -1", "cache_mib = \"64\"", "cache_mib = 1048577"}) {
    auto e = ParseRedactionConfig(common::Cat("[redaction]\n", bad, "\n"), "accord.toml");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("accord.toml:2"), std::string::npos) << e.status();
    EXPECT_NE(e.status().message().find("cache_mib"), std::string::npos) << e.status();
  }
}

// Text that makes an object long enough to be remembered (Redactor::kRememberedMinBytes).
const std::string kLongText(Redactor::kRememberedMinBytes, 'z');

// A profile remembers what it did to an object, but a result holds only while every object it
// looked up is as it was: the same note's creator turns from an organisation into a person
// (its reference must go), then back; an address object it refers to goes, then comes back.
// Expected results are those of a profile without memory.
TEST_F(RedactionTest, RememberedResultsFollowWhatTheyLookedUp) {
  auto cached = Redactor::Create(config_.profiles.at("partners"), true, size_t{1} << 20);
  ASSERT_TRUE(cached.ok()) << cached.status();
  const std::string note = common::Cat(
      R"({"type":"note","spec_version":"2.1","id":"note--55555555-5555-4555-8555-555555555555","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","content":")",
      kLongText, R"(","created_by_ref":")", kOrg, R"(","object_refs":[")", victim_id_, R"("]})");
  const std::string org = objects_[kOrg];
  auto person = org;
  person.replace(person.find("organization"), 12, "individual");
  auto expect_same = [&](const char* step) {
    SCOPED_TRACE(step);
    Redactor::Result want = redactor_->Redact(note, lookup_);
    for (int i = 0; i < 3; ++i) {  // the first may compute, the others may remember
      Redactor::Result got = (*cached)->Redact(note, lookup_);
      EXPECT_EQ(got.kind, want.kind);
      EXPECT_EQ(got.json, want.json);
      EXPECT_EQ(got.reason, want.reason);
      EXPECT_EQ(got.actions, want.actions);
    }
    return want;
  };
  Redactor::Result r = expect_same("an organisation");
  ASSERT_EQ(r.kind, Redactor::Result::Kind::kRedacted);  // the address reference is re-pointed
  EXPECT_NE(r.json.find(kOrg), std::string::npos);
  Redactor::CacheStats s = (*cached)->cache_stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 2u);
  objects_[kOrg] = person;
  r = expect_same("a person");
  EXPECT_EQ(r.json.find(kOrg), std::string::npos) << r.json;
  objects_[kOrg] = org;
  r = expect_same("an organisation again");
  EXPECT_NE(r.json.find(kOrg), std::string::npos) << r.json;
  const std::string re_pointed = ScoId("ipv4-addr", R"({"value":"10.9.9.0/24"})");
  EXPECT_NE(r.json.find(re_pointed), std::string::npos) << r.json;
  const std::string address = objects_[victim_id_];
  objects_.erase(victim_id_);
  // A reference to an address nobody can look up is removed, and a note left without objects
  // is dropped.
  r = expect_same("the address gone");
  EXPECT_EQ(r.kind, Redactor::Result::Kind::kDropped);
  objects_[victim_id_] = address;
  r = expect_same("the address back");
  EXPECT_NE(r.json.find(re_pointed), std::string::npos) << r.json;
  s = (*cached)->cache_stats();
  EXPECT_EQ(s.misses, 5u);  // once per state of what the note refers to
  EXPECT_EQ(s.hits, 10u);
}

// A caller's stamp (a gate's batch): while it stays the same, a remembered result is checked
// against the answers already given under it, and nothing is looked up again; a new stamp asks
// again, and sees what changed.
TEST_F(RedactionTest, AStampSparesTheLookUpsOfABatch) {
  auto cached = Redactor::Create(config_.profiles.at("partners"), true, size_t{1} << 20);
  ASSERT_TRUE(cached.ok()) << cached.status();
  int asked = 0;
  const Redactor::Lookup counting = [&](std::string_view id) {
    ++asked;
    return lookup_(id);
  };
  const std::string note = common::Cat(
      R"({"type":"note","spec_version":"2.1","id":"note--55555555-5555-4555-8555-555555555555","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","content":")",
      kLongText, R"(","created_by_ref":")", kOrg, R"(","object_refs":[")", victim_id_, R"("]})");
  const Redactor::Result want = redactor_->Redact(note, lookup_);
  Redactor::Result r = (*cached)->Redact(note, counting, Redactor::Input::kAny, 7);
  EXPECT_EQ(r.json, want.json);
  EXPECT_GT(asked, 0);
  const int first = asked;
  for (int i = 0; i < 3; ++i) {
    r = (*cached)->Redact(note, counting, Redactor::Input::kAny, 7);
    EXPECT_EQ(r.json, want.json);
  }
  EXPECT_EQ(asked, first);  // remembered, checked against the batch's answers
  EXPECT_EQ((*cached)->cache_stats().hits, 3u);
  // Without a stamp, every check asks again.
  r = (*cached)->Redact(note, counting);
  EXPECT_EQ(r.json, want.json);
  EXPECT_GT(asked, first);
  // The next batch: the creator is a person now.
  std::string person = objects_[kOrg];
  person.replace(person.find("organization"), 12, "individual");
  objects_[kOrg] = person;
  r = (*cached)->Redact(note, counting, Redactor::Input::kAny, 8);
  EXPECT_EQ(r.json, redactor_->Redact(note, lookup_).json);
  EXPECT_EQ(r.json.find(kOrg), std::string::npos) << r.json;
}

// What a profile remembers stays within its budget, whatever it is given: 2,000 distinct
// objects of ~1 KB through a 64 KiB memory, and one object larger than the whole budget (not
// kept). An object whose text differs in one byte is not taken for another.
TEST_F(RedactionTest, RememberedResultsStayWithinTheirBudget) {
  constexpr size_t kBudget = 64 << 10;
  auto cached = Redactor::Create(config_.profiles.at("partners"), true, kBudget);
  ASSERT_TRUE(cached.ok()) << cached.status();
  for (int i = 0; i < 2000; ++i) {
    const std::string o = common::Cat(
        R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-)",
        std::string(12 - std::to_string(i).size(), '0'), i,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.)",
        i % 250,
        R"(.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","description":")",
        std::string(800, 'x'), R"("})");
    Redactor::Result r = (*cached)->Redact(o, lookup_);
    ASSERT_EQ(r.kind, Redactor::Result::Kind::kRedacted) << i;
    const Redactor::CacheStats st = (*cached)->cache_stats();
    ASSERT_LE(st.bytes, kBudget) << i;
    ASSERT_LE(st.entries * o.size(), kBudget) << i;  // each holds at least its text
  }
  EXPECT_GT((*cached)->cache_stats().entries, 10u);
  const std::string huge = common::Cat(
      R"({"type":"note","spec_version":"2.1","id":"note--66666666-6666-4666-8666-666666666666","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","object_refs":["indicator--00000000-0000-4000-8000-000000000001"],"content":"10.1.1.1 )",
      std::string(kBudget, 'y'), R"("})");
  EXPECT_EQ((*cached)->Redact(huge, lookup_).kind, Redactor::Result::Kind::kRedacted);
  EXPECT_EQ((*cached)->Redact(huge, lookup_).kind, Redactor::Result::Kind::kRedacted);
  EXPECT_LE((*cached)->cache_stats().bytes, kBudget);
  // Two texts one byte apart: each gets its own result.
  const std::string a =
      R"({"type":"note","spec_version":"2.1","id":"note--77777777-7777-4777-8777-777777777777","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","object_refs":["indicator--00000000-0000-4000-8000-000000000001"],"content":"host 10.1.1.1 )" +
      kLongText + R"("})";
  std::string c = a;  // the same but for an address outside every victim range
  c.replace(c.find("10.1.1.1"), 8, "11.1.1.1");
  EXPECT_EQ((*cached)->Redact(a, lookup_).kind, Redactor::Result::Kind::kRedacted);
  EXPECT_EQ((*cached)->Redact(c, lookup_).kind, Redactor::Result::Kind::kUnchanged);
  EXPECT_EQ((*cached)->Redact(a, lookup_).kind, Redactor::Result::Kind::kRedacted);
  EXPECT_EQ((*cached)->Redact(c, lookup_).kind, Redactor::Result::Kind::kUnchanged);
}

TEST_F(RedactionTest, FreeTextPatternsAndCreatorAreRedactedOnACopy) {
  const std::string in =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","created_by_ref":"identity--11111111-1111-4111-8111-111111111111","name":"C2 seen by 192.0.2.77.","description":"Victim 10.1.2.3 fetched http://evil.example/a/b.php?user=bob&id=7#top then mailed alice.smith@example.org; the server 198.51.100.9 is not a victim, and 10.0.0.0/8 is a range.","pattern":"[ipv4-addr:value = '10.200.3.4'] AND [url:value = 'https://x.example/p?q=1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  const std::string copy = in;
  Redactor::Result r = Redact(in);
  ASSERT_EQ(r.kind, Redactor::Result::Kind::kRedacted) << r.reason;
  EXPECT_EQ(in, copy);  // the original is untouched
  Json o = Json::parse(r.json);
  EXPECT_FALSE(o.contains("created_by_ref"));  // a person: removed with the reference
  EXPECT_EQ(o["name"], "C2 seen by 192.0.2.0/24.");
  EXPECT_EQ(o["description"],
            "Victim 10.1.2.0/24 fetched http://evil.example/a/b.php then mailed [redacted]; the "
            "server 198.51.100.9 is not a victim, and 10.0.0.0/8 is a range.");
  EXPECT_EQ(o["pattern"],
            "[ipv4-addr:value = '10.200.3.0/24'] AND [url:value = 'https://x.example/p']");
  EXPECT_EQ(o["id"], "indicator--33333333-3333-4333-8333-333333333333");
  EXPECT_EQ(o["modified"], "2024-01-01T00:00:00.000Z");
  const Json& ext = o["extensions"]["extension-definition--5d0f6c2b-9e3a-4b7d-8c1f-2a6e4b9d7c30"];
  EXPECT_EQ(ext["extension_type"], "property-extension");
  EXPECT_EQ(ext["profile"], "partners");
  std::string actions = ext["actions"].dump();
  EXPECT_NE(actions.find("generalised 3 victim addresses"), std::string::npos) << actions;
  EXPECT_NE(actions.find("stripped 2 URL queries"), std::string::npos) << actions;
  EXPECT_NE(actions.find("replaced 1 text pattern matches"), std::string::npos) << actions;
  EXPECT_NE(actions.find("removed 1 references"), std::string::npos) << actions;
}

TEST_F(RedactionTest, DroppedTypesAndPeopleGoWithWhatReferToThem) {
  EXPECT_EQ(
      Redact(
          R"({"type":"email-addr","id":"email-addr--44444444-4444-4444-8444-444444444444","value":"a@b.example"})")
          .kind,
      Redactor::Result::Kind::kDropped);
  EXPECT_EQ(
      Redact(
          R"({"type":"user-account","id":"user-account--44444444-4444-4444-8444-444444444444","account_login":"bob"})")
          .kind,
      Redactor::Result::Kind::kDropped);
  EXPECT_EQ(Redact(objects_[kPerson]).kind, Redactor::Result::Kind::kDropped);
  EXPECT_EQ(Redact(objects_[kOrg]).kind, Redactor::Result::Kind::kUnchanged);
  // A relationship to a dropped object is nothing without it.
  Redactor::Result rel = Redact(
      R"({"type":"relationship","id":"relationship--55555555-5555-4555-8555-555555555555","relationship_type":"attributed-to","source_ref":"intrusion-set--66666666-6666-4666-8666-666666666666","target_ref":"identity--11111111-1111-4111-8111-111111111111"})");
  EXPECT_EQ(rel.kind, Redactor::Result::Kind::kDropped);
  // A sighting keeps its indicator, loses the person it was sighted at.
  Redactor::Result s = Redact(
      R"({"type":"sighting","id":"sighting--77777777-7777-4777-8777-777777777777","sighting_of_ref":"indicator--33333333-3333-4333-8333-333333333333","where_sighted_refs":["identity--11111111-1111-4111-8111-111111111111","identity--22222222-2222-4222-8222-222222222222"],"count":3})");
  ASSERT_EQ(s.kind, Redactor::Result::Kind::kRedacted);
  EXPECT_EQ(Json::parse(s.json)["where_sighted_refs"], Json::array({kOrg}));
  // A report whose every object is dropped is dropped.
  EXPECT_EQ(
      Redact(
          R"({"type":"report","id":"report--88888888-8888-4888-8888-888888888888","name":"r","object_refs":["email-addr--44444444-4444-4444-8444-444444444444"]})")
          .kind,
      Redactor::Result::Kind::kDropped);
}

TEST_F(RedactionTest, AddressObjectsAndReferencesToThemTakeTheGeneralisedId) {
  // The address object itself: value and id.
  Redactor::Result a = Redact(objects_[victim_id_]);
  ASSERT_EQ(a.kind, Redactor::Result::Kind::kRedacted) << a.reason;
  Json ao = Json::parse(a.json);
  EXPECT_EQ(ao["value"], "10.9.9.0/24");
  const std::string generalised_id = ScoId("ipv4-addr", R"({"value":"10.9.9.0/24"})");
  EXPECT_EQ(ao["id"], generalised_id);
  // Observed data referring to it, to an e-mail address and to an address nobody can look up.
  const std::string unknown = ScoId("ipv4-addr", R"({"value":"10.7.7.7"})");
  const std::string domain = "domain-name--99999999-9999-4999-8999-999999999999";
  Redactor::Result od = Redact(
      R"({"type":"observed-data","id":"observed-data--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[")" +
      victim_id_ + R"(","email-addr--44444444-4444-4444-8444-444444444444",")" + unknown +
      R"(",")" + domain + R"("]})");
  ASSERT_EQ(od.kind, Redactor::Result::Kind::kRedacted) << od.reason;
  EXPECT_EQ(Json::parse(od.json)["object_refs"], Json::array({generalised_id, domain}));
  // Outside every victim range: unchanged. IPv6 inside one: /48.
  EXPECT_EQ(
      Redact(
          R"({"type":"ipv4-addr","id":"ipv4-addr--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","value":"198.51.100.9"})")
          .kind,
      Redactor::Result::Kind::kUnchanged);
  Redactor::Result v6 = Redact(
      R"({"type":"note","id":"note--cccccccc-cccc-4ccc-8ccc-cccccccccccc","content":"from 2001:db8:1234:5678::1 and 2001:4860::8888","object_refs":["indicator--33333333-3333-4333-8333-333333333333"]})");
  ASSERT_EQ(v6.kind, Redactor::Result::Kind::kRedacted);
  EXPECT_EQ(Json::parse(v6.json)["content"], "from 2001:db8:1234::/48 and 2001:4860::8888");
}

TEST_F(RedactionTest, EmbeddedObjectsOfDroppedTypesAreRemoved) {
  // STIX 2.0-style observed data embeds its objects.
  Redactor::Result r = Redact(
      R"({"type":"observed-data","id":"observed-data--dddddddd-dddd-4ddd-8ddd-dddddddddddd","objects":{"0":{"type":"email-addr","value":"x@y.example"},"1":{"type":"domain-name","value":"y.example"}}})");
  ASSERT_EQ(r.kind, Redactor::Result::Kind::kRedacted) << r.reason;
  Json o = Json::parse(r.json);
  EXPECT_FALSE(o["objects"].contains("0"));
  EXPECT_EQ(o["objects"]["1"]["value"], "y.example");
}

TEST_F(RedactionTest, HostileInputFailsClosedAndNeverHangs) {
  EXPECT_EQ(Redact("not json").kind, Redactor::Result::Kind::kDropped);
  EXPECT_EQ(Redact("[1,2]").kind, Redactor::Result::Kind::kDropped);
  RedactionProfile p;
  p.name = "slow";
  p.text_patterns = {"(a+)+$"};
  auto slow = Redactor::Create(p);
  ASSERT_TRUE(slow.ok());
  std::string text(5000, 'a');
  text += "!";
  Redactor::Result r = (*slow)->Redact(
      R"({"type":"note","id":"note--eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee","content":")" + text +
          R"("})",
      nullptr);
  EXPECT_EQ(r.kind, Redactor::Result::Kind::kDropped);
  EXPECT_NE(r.reason.find("(a+)+$"), std::string::npos) << r.reason;
}

// The raw-text precheck (Redactor::SurelyUnchanged) may only say "unchanged" where the full
// walk says so, and Redact must give exactly what the full walk gives. Which objects the
// precheck takes is decided by hand from its rules (redaction.cc).
TEST_F(RedactionTest, PrecheckTakesOnlyWhatTheWalkLeavesUnchanged) {
  auto full = Redactor::Create(config_.profiles.at("partners"), /*precheck=*/false);
  ASSERT_TRUE(full.ok());
  const std::string head =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)";
  const std::string tail =
      R"("pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  struct Case {
    std::string body;  // members between head and tail
    bool surely;       // what the precheck must say
  };
  const std::vector<Case> cases = {
      {"", true},
      {R"("created_by_ref":"identity--22222222-2222-4222-8222-222222222222",)", true},   // org
      {R"("created_by_ref":"identity--11111111-1111-4111-8111-111111111111",)", false},  // person
      {R"("created_by_ref":"identity--99999999-9999-4999-8999-999999999999",)", true},   // unknown
      {R"("description":"mail alice@example.org",)", false},
      {R"("description":"mail alice\u0040example.org",)", false},  // \u: never prechecked
      {R"("description":"two\nlines, \"quoted\", a\\b and a\/b",)", true},
      {R"("description":"line\n10.1.2.3 starts it",)", false},  // decoded, the run stands alone
      {R"("description":"tab\t10.1.2.3",)", false},
      {R"("description":"not a victim: 198.51.100.9",)", true},
      {R"("description":"the range 10.0.0.0/8 itself",)", true},  // no finer than the range
      {R"("description":"see https://x.example/a/b",)", true},
      {R"("description":"see https://x.example/a?b=1",)", false},
      {R"("description":"see https:\/\/x.example\/a?b=1",)", false},
      {R"("external_references":[{"source_name":"s","url":"https://x.example/r"}],)", true},
      {R"("x_kind":"email-addr",)", false},     // a false alarm: the walk leaves it
      {R"("x_refs":{"email-addr":1},)", true},  // a member name is no type
      {R"("object_refs":["domain-name--99999999-9999-4999-8999-999999999999"],)", false},
      {R"("x_nested":{"type":"email-addr","value":"a@b.example"},)", false},
      {R"("x_nested":[{"type":"identity","identity_class":"individual"}],)", false},
  };
  for (const Case& c : cases) {
    const std::string json = head + c.body + tail;
    EXPECT_EQ(redactor_->SurelyUnchanged(json, lookup_), c.surely) << json;
    // Every case is a JSON object: a caller who says so gets the same answer.
    EXPECT_EQ(redactor_->SurelyUnchanged(json, lookup_, Redactor::Input::kObject), c.surely)
        << json;
    Redactor::Result want = (*full)->Redact(json, lookup_);
    if (c.surely) {
      EXPECT_EQ(want.kind, Redactor::Result::Kind::kUnchanged) << json;
    }
    Redactor::Result got = Redact(json);
    EXPECT_EQ(got.kind, want.kind) << json;
    EXPECT_EQ(got.json, want.json) << json;
    EXPECT_EQ(got.reason, want.reason) << json;
  }
  for (const std::string& bad : {std::string("{broken"), std::string("[1,2]"), head}) {
    EXPECT_FALSE(redactor_->SurelyUnchanged(bad, lookup_)) << bad;
    EXPECT_EQ(Redact(bad).kind, Redactor::Result::Kind::kDropped) << bad;
  }
  // Patterns that could match a string but not the raw text around it (or the reverse) turn
  // the precheck off for the profile.
  for (const char* re : {"^secret", "secret$", "\\Asecret", "\\Gsecret", "(?<!\")secret"}) {
    RedactionProfile p;
    p.name = "anchored";
    p.text_patterns = {re};
    auto r = Redactor::Create(p);
    ASSERT_TRUE(r.ok()) << re;
    EXPECT_EQ((*r)->Redact(head + R"("name":"secret",)" + tail, nullptr).kind,
              Redactor::Result::Kind::kRedacted)
        << re;
  }
}

// The precheck finds what it looks for (quotes, "--", "://", the dots before an address, a
// backslash) wherever it falls in the text: each case below is shifted by 0 to 70 bytes, so
// that every one of them crosses every boundary of the blocks the text is scanned in. What the
// precheck must say is decided from the profile by hand, as above.
TEST_F(RedactionTest, PrecheckFindsWhatItLooksForAtEveryOffset) {
  auto full = Redactor::Create(config_.profiles.at("partners"), /*precheck=*/false);
  ASSERT_TRUE(full.ok());
  const std::string tail =
      R"("pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  struct Case {
    std::string body;
    bool surely;
  };
  const std::vector<Case> cases = {
      {R"("x_note":"nothing here",)", true},
      {R"("object_refs":["email-addr--99999999-9999-4999-8999-999999999999"],)", false},
      {R"("created_by_ref":"identity--11111111-1111-4111-8111-111111111111",)", false},
      {R"("x_url":"https://x.example/a?b=1",)", false},
      {R"("x_url":"https://x.example/a/b",)", true},
      {R"("x_url":"https:\/\/x.example\/a?b=1",)", false},  // escaped: looked at decoded
      {R"("x_url":"https:\/\/x.example\/a\/b",)", true},
      {R"("x_urls":"a://b c://d/e#f",)", false},  // the second URL has the fragment
      {R"("x_seen":"from 10.1.2.3",)", false},
      {R"("x_seen":"from 11.1.2.3",)", true},
      {R"("x_kind":"individual",)", false},
      {R"("x_quote":"a \"b\" c",)", true},
      {R"("x_mail":"a\u0040b.example",)", false},
  };
  for (size_t pad = 0; pad <= 70; ++pad) {  // every offset in a 64-byte block of the scan
    const std::string head =
        R"({"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333",)"
        R"("x_pad":")" +
        std::string(pad, 'p') + R"(",)";
    for (const Case& c : cases) {
      const std::string json = head + c.body + tail;
      EXPECT_EQ(redactor_->SurelyUnchanged(json, lookup_, Redactor::Input::kObject), c.surely)
          << json;
      EXPECT_EQ(redactor_->SurelyUnchanged(json, lookup_), c.surely) << json;
      if (c.surely) {
        EXPECT_EQ((*full)->Redact(json, lookup_).kind, Redactor::Result::Kind::kUnchanged) << json;
      }
    }
  }
}

// The precheck's shortcuts against the full walk: a text pattern is not run over a text that
// lacks a byte every match of it holds (worked out from the pattern, so patterns where a byte
// only looks required are here: alternation, optional items, {0}, groups, quoting, POSIX
// classes), and the address scan is skipped when no IPv4 victim range's first octet is in the
// text (profiles where that cannot decide are here too: a /4, an IPv6 range). Texts in and out
// of ASCII. What each must give is written from the profile's rules by hand: `changed` when
// the walk generalises an address or redacts a pattern match in it.
TEST(RedactionPrecheckTest, ShortcutsTakeOnlyWhatTheWalkLeavesUnchanged) {
  auto range = [](const char* text) {
    common::IpPrefix p;
    EXPECT_TRUE(common::ParseIpPrefix(text, &p)) << text;
    return p;
  };
  RedactionProfile v4;
  v4.name = "v4";
  v4.victim_ranges = {range("10.0.0.0/8"), range("192.0.2.0/24")};
  v4.text_patterns = {R"([\w.+-]+@[\w-]+\.[\w.]+)", R"(\bCASE-\d{4}\b)"};
  RedactionProfile wide = v4;  // a /4: the first octet does not decide
  wide.name = "wide";
  wide.victim_ranges = {range("0.0.0.0/4")};
  RedactionProfile v6 = v4;  // an IPv6 range beside: the octets do not decide
  v6.name = "v6";
  v6.victim_ranges.push_back(range("2001:db8::/32"));
  RedactionProfile bare;  // ranges only, no text pattern
  bare.name = "bare";
  bare.victim_ranges = {range("198.51.100.0/24")};
  auto patterns = [](const char* name, std::vector<std::string> res) {
    RedactionProfile p;
    p.name = name;
    p.text_patterns = std::move(res);
    return p;
  };
  const RedactionProfile alt = patterns("alt", {"zz|@q"});
  const RedactionProfile opt = patterns("opt", {"x@?y", "(@)?w8", "k+?m"});
  const RedactionProfile none = patterns("none", {"ab{0}c", "n@{0,2}o"});
  const RedactionProfile posix = patterns("posix", {"[[:digit:]@]x"});
  const RedactionProfile quoted = patterns("quoted", {R"(\Q@\E?z9)"});
  struct Case {
    const RedactionProfile* profile;
    std::string description;  // JSON string content
    bool changed;
  };
  const std::vector<Case> cases = {
      {&v4, "contact bob@example.org", true},
      {&v4, "contact j\u00fcrgen@ex\u00e4mple.org", true},  // \w under UCP: letters beyond ASCII
      {&v4, "contact \u00fc@ex", false},                    // no dot after the domain
      {&v4, "ref CASE-1234 opened", true},
      {&v4, "ref CASE-\uff11\uff12\uff13\uff14 opened", true},  // fullwidth digits are \d
      {&v4, "ref CASE-12345 opened", false},
      {&v4, "host 10.20.30.40 seen", true},
      {&v4, "host 192.0.2.77 seen", true},
      {&v4, "host 192.0.3.77 seen", false},  // the lead is there, the range is not
      {&v4, "host 11.20.30.40 seen", false},
      {&v4, "host 010.20.30.40 seen", false},  // no address: inet_pton takes no leading zero
      {&v4, "caf\u00e9 at 10.1.2.3", true},    // not ASCII: scanned the long way
      {&v4, "version 1.10.2", false},
      {&wide, "peer 3.4.5.6", true},
      {&wide, "peer 16.4.5.6", false},
      {&v6, "peer 2001:db8::1", true},
      {&v6, "peer 10.9.8.7", true},
      {&v6, "peer 2001:db9::1", false},
      {&bare, "peer 198.51.100.9", true},
      {&bare, "peer 198.51.101.9 and 8.8.8.8", false},
      {&alt, "say zz now", true},
      {&alt, "say z now", false},
      {&opt, "say xy now", true},
      {&opt, "say w8 now", true},
      {&opt, "say kkm now", true},
      {&opt, "say mm now", false},
      {&none, "say ac now", true},
      {&none, "say no now", true},
      {&posix, "say 5x now", true},
      {&quoted, "say z9 now", true},
  };
  const std::string head =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","description":")";
  const std::string tail =
      R"(","pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  for (const Case& c : cases) {
    auto quick = Redactor::Create(*c.profile, /*precheck=*/true);
    auto full = Redactor::Create(*c.profile, /*precheck=*/false);
    ASSERT_TRUE(quick.ok() && full.ok()) << c.profile->name;
    const std::string json = head + c.description + tail;
    const Redactor::Result want = (*full)->Redact(json, nullptr);
    EXPECT_EQ(want.kind,
              c.changed ? Redactor::Result::Kind::kRedacted : Redactor::Result::Kind::kUnchanged)
        << c.profile->name << ": " << json;
    if (c.changed) {
      EXPECT_FALSE((*quick)->SurelyUnchanged(json, nullptr)) << c.profile->name << ": " << json;
    }
    const Redactor::Result got = (*quick)->Redact(json, nullptr);
    EXPECT_EQ(got.kind, want.kind) << c.profile->name << ": " << json;
    EXPECT_EQ(got.json, want.json) << c.profile->name << ": " << json;
  }
}

// The same agreement over real content: every object of ATT&CK for ICS and of the OASIS
// documentation examples (escapes, references, URLs, addresses), under the issue's profile
// with victim ranges that their addresses fall in.
TEST(RedactionPrecheckTest, AgreesWithTheFullWalkOnRealContent) {
  ACCORD_REQUIRE_SHARED(accord::testing::SharedDir() / "data");
  accord::testing::TempDir tmp("precheck");
  ASSERT_TRUE(accord::testing::ExtractShared("data/stix/oasis-cti-documentation-examples.tar.gz",
                                             tmp.path()));
  std::vector<std::string> files = {
      (accord::testing::SharedDir() / "data/stix/attack-stix-data/ics-attack-18.1.json.gz")
          .string()};
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path())) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::map<std::string, std::string> objects;
  for (const std::string& f : files) {
    auto st = stix::ReadFile(
        f, stix::ReaderOptions(),
        [&](stix::ObjectRecord&& r) {
          objects[r.id] = std::move(r.json);
          return absl::OkStatus();
        },
        [](stix::Problem&&) {});
    ASSERT_TRUE(st.ok()) << f << ": " << st.status();
  }
  ASSERT_GT(objects.size(), 1000u);
  RedactionProfile p;
  p.name = "partners";
  p.drop_types = {"email-addr", "user-account"};
  p.drop_identity_classes = {"individual"};
  for (const char* r : {"10.0.0.0/8", "192.168.0.0/16", "198.51.100.0/24", "203.0.113.0/24"}) {
    common::IpPrefix ip;
    ASSERT_TRUE(common::ParseIpPrefix(r, &ip));
    p.victim_ranges.push_back(ip);
  }
  p.strip_url_query = true;
  p.text_patterns = {R"([\w.+-]+@[\w-]+\.[\w.]+)"};
  auto fast = Redactor::Create(p);
  auto full = Redactor::Create(p, false);
  auto cached = Redactor::Create(p, true, size_t{64} << 20);  // remembers every result
  ASSERT_TRUE(fast.ok() && full.ok() && cached.ok());
  Redactor::Lookup lookup = [&](std::string_view id) -> std::optional<std::string> {
    auto it = objects.find(std::string(id));
    return it == objects.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  size_t taken = 0, unchanged = 0, mismatches = 0;
  for (const auto& [id, json] : objects) {
    Redactor::Result want = (*full)->Redact(json, lookup);
    const bool surely = (*fast)->SurelyUnchanged(json, lookup);
    unchanged += want.kind == Redactor::Result::Kind::kUnchanged;
    taken += surely;
    // The reader's records are JSON objects: the gate's way of asking answers the same.
    EXPECT_EQ((*fast)->SurelyUnchanged(json, lookup, Redactor::Input::kObject), surely) << id;
    if (surely && want.kind != Redactor::Result::Kind::kUnchanged) {
      ADD_FAILURE() << id << " taken by the precheck, but the walk: " << want.reason;
    }
    Redactor::Result got = (*fast)->Redact(json, lookup);
    Redactor::Result as_object = (*fast)->Redact(json, lookup, Redactor::Input::kObject);
    // Computed, then remembered: the same both times, under each way of asking.
    Redactor::Result first = (*cached)->Redact(json, lookup, Redactor::Input::kObject);
    Redactor::Result again = (*cached)->Redact(json, lookup, Redactor::Input::kObject);
    Redactor::Result any = (*cached)->Redact(json, lookup);
    if (got.kind != want.kind || got.json != want.json || got.reason != want.reason ||
        as_object.kind != want.kind || as_object.json != want.json || first.kind != want.kind ||
        first.json != want.json || again.kind != want.kind || again.json != want.json ||
        again.reason != want.reason || again.actions != want.actions || any.kind != want.kind ||
        any.json != want.json) {
      ADD_FAILURE() << id << ": Redact differs from the full walk";
      if (++mismatches > 5) break;
    }
  }
  // Not a test that cannot fail: the walk changes some objects, and the precheck takes most of
  // the rest (at least half; a precheck that gave up on everything would pass the checks above).
  EXPECT_LT(unchanged, objects.size());
  EXPECT_GT(taken * 2, unchanged) << taken << " of " << unchanged << " unchanged objects";
  // Each object long enough was computed once per way of asking and remembered once.
  size_t long_enough = 0;
  for (const auto& [id, json] : objects)
    long_enough += json.size() >= Redactor::kRememberedMinBytes;
  const Redactor::CacheStats s = (*cached)->cache_stats();
  EXPECT_GT(long_enough, objects.size() / 4);
  EXPECT_EQ(s.hits, long_enough) << s.misses;
  EXPECT_EQ(s.misses, 2 * long_enough);
}

TEST(RedactionConfigTest, ErrorsNameTheProfileTheKeyAndTheLine) {
  auto err = [](const std::string& toml) {
    auto c = ParseRedactionConfig(toml, "accord.toml");
    EXPECT_FALSE(c.ok()) << toml;
    return c.ok() ? std::string() : std::string(c.status().message());
  };
  std::string e = err("[redaction.profiles.p]\ndrop_type = [\"x\"]\n");
  EXPECT_NE(e.find("accord.toml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("'p'"), std::string::npos) << e;
  EXPECT_NE(e.find("drop_type"), std::string::npos) << e;
  e = err("[redaction.profiles.p]\nvictim_ranges = [\"10.0.0.0/33\"]\n");
  EXPECT_NE(e.find("10.0.0.0/33"), std::string::npos) << e;
  e = err("[redaction.profiles.p]\ngeneralise_ipv4 = 40\n");
  EXPECT_NE(e.find("generalise_ipv4"), std::string::npos) << e;
  e = err("[redaction.profiles.p]\ntext_patterns = ['(unclosed']\n");
  EXPECT_NE(e.find("(unclosed"), std::string::npos) << e;
  e = err("[redaction.roles]\nreader = \"nope\"\n");
  EXPECT_NE(e.find("redaction.roles.reader"), std::string::npos) << e;
  e = err("[redaction.profiles.p]\nstrip_url_query = \"yes\"\n");
  EXPECT_NE(e.find("strip_url_query"), std::string::npos) << e;
  // No [redaction] at all: no profiles, no error.
  auto none = ParseRedactionConfig("[match]\nthreads = 2\n", "accord.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->profiles.empty());
}

}  // namespace
}  // namespace accord::policy
