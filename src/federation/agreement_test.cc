// Agreement files (issue 12, point 3): the issue's example reads as written, defaults are the
// conservative ones, and every mistake names its line and column (counted by hand below).
#include "accord/federation/agreement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace accord::federation {
namespace {

using V = std::vector<std::string>;

TEST(AgreementTest, TheIssuesExampleReadsAsWritten) {
  const char* text = R"(same_organization = false    # true only between nodes of one organisation
[share]                      # what this node gives the peer
collections = ["outbox"]
types = ["indicator", "malware", "sighting"]
max_tlp = "amber"
forward = true
[accept]
from = ["outbox"]
into = "from-cert-b"
types = ["indicator", "malware", "sighting", "identity"]
)";
  auto a = ParseAgreement(text, "b.toml", "cert-b");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->same_organization);
  EXPECT_EQ(a->share.collections, V{"outbox"});
  EXPECT_EQ(a->share.types, (V{"indicator", "malware", "sighting"}));
  EXPECT_EQ(a->share.max_tlp, Tlp::kAmber);
  EXPECT_TRUE(a->share.forward);
  EXPECT_EQ(a->accept.from, V{"outbox"});
  EXPECT_EQ(a->accept.into, "from-cert-b");
  EXPECT_EQ(a->accept.types, (V{"indicator", "malware", "sighting", "identity"}));
}

TEST(AgreementTest, DefaultsShareAndAcceptNothing) {
  auto a = ParseAgreement("", "empty.toml", "cert-c");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->same_organization);
  EXPECT_TRUE(a->share.collections.empty());
  EXPECT_TRUE(a->share.types.empty());
  EXPECT_EQ(a->share.max_tlp, Tlp::kGreen);
  EXPECT_FALSE(a->share.forward);
  EXPECT_TRUE(a->accept.from.empty());
  EXPECT_EQ(a->accept.into, "from-cert-c");
  auto s = ParseAgreement(
      "same_organization = true\n[share]\nmax_tlp = \"amber+strict\"\n"
      "types = [\"x-acme-thing\", \"ipv4-addr\"]\n",
      "s.toml", "p");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->same_organization);
  EXPECT_EQ(s->share.max_tlp, Tlp::kAmberStrict);
}

// Issue 13: the privacy terms of [share], and their defaults.
TEST(AgreementTest, PrivacyTermsReadAsWritten) {
  auto a = ParseAgreement(
      "[share]\ncollections = [\"out\"]\nredaction = \"partners\"\nshare_observed_data = true\n"
      "sighting_min_count = 5\nsighting_bucket = 3600\n",
      "f.toml", "b");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->share.redaction, "partners");
  EXPECT_TRUE(a->share.share_observed_data);
  EXPECT_EQ(a->share.sighting_min_count, 5);
  EXPECT_EQ(a->share.sighting_bucket_s, 3600);
  auto d = ParseAgreement("[share]\ncollections = [\"out\"]\n", "f.toml", "b");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->share.redaction, "");
  EXPECT_FALSE(d->share.share_observed_data);
  EXPECT_EQ(d->share.sighting_min_count, 1);
  EXPECT_EQ(d->share.sighting_bucket_s, 0);
}

TEST(AgreementTest, MistakesNameTheirLineAndColumn) {
  struct Case {
    const char* text;
    const char* where;  // "file:line:column"
    const char* says;
  };
  const Case cases[] = {
      {"[share]\ncollections = [\"a\"]\nmax_tlp = \"purple\"\n", "f.toml:3:11",
       "unknown TLP 'purple'"},
      {"[share]\nmax_tlp = \"red\"\n", "f.toml:2:11", "TLP:RED never leaves its node"},
      {"[share]\ncolections = [\"a\"]\n", "f.toml:2:1", "unknown key 'colections' in [share]"},
      {"sharing = 1\n", "f.toml:1:1", "unknown key 'sharing'"},
      {"[accept]\nfrom = [\"a\"]\ntypes = [\"indicator\", \"malwares\"]\n", "f.toml:3:23",
       "unknown STIX type 'malwares'"},
      {"[share]\nforward = \"yes\"\n", "f.toml:2:11", "forward must be true or false"},
      {"same_organization = 1\n", "f.toml:1:21", "same_organization must be true or false"},
      {"[share]\ncollections = \"outbox\"\n", "f.toml:2:15", "must be an array of strings"},
      {"[share]\ncollections = [\"a\", 2]\n", "f.toml:2:21", "non-empty strings"},
      {"[accept]\ninto = \"\"\n", "f.toml:2:8", "into must be a collection name"},
      {"[share]\ntypes = []\n", "f.toml:2:9", "types is empty"},
      {"[share\n", "f.toml:1:", ""},  // TOML syntax: toml++'s own words
      {"share = 3\n", "f.toml:1:9", "share must be a table"},
      {"[share]\nredaction = \"\"\n", "f.toml:2:13", "redaction must name a profile"},
      {"[share]\nsighting_min_count = 0\n", "f.toml:2:22", "sighting_min_count must be"},
      {"[share]\nsighting_bucket = -5\n", "f.toml:2:19", "sighting_bucket must be"},
      {"[share]\nshare_observed_data = 1\n", "f.toml:2:23",
       "share_observed_data must be true or false"},
      {"deadlines = 3\n", "f.toml:1:13", "deadlines must be a table"},
  };
  for (const Case& c : cases) {
    auto a = ParseAgreement(c.text, "f.toml", "p");
    ASSERT_FALSE(a.ok()) << c.text;
    const std::string msg(a.status().message());
    EXPECT_EQ(msg.rfind(c.where, 0), 0u) << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
  }
}

// Issue 14: [deadlines] overrides the request deadlines per kind and urgency. Seconds worked
// out by hand: 30m = 1800, 12h = 43200, 2d = 172800, 14d = 1209600, 90m = 5400, 90s = 90,
// 365d = 365 * 86400 = 31536000, 1h = 3600; an integer is seconds as written.
TEST(AgreementTest, DeadlinesReadAsWritten) {
  auto a = ParseAgreement(
      "[deadlines]\n"
      "\"notification.critical\" = { ack = \"30m\", respond = \"12h\" }\n"
      "\"request-for-information.routine\" = { ack = \"2d\", respond = \"14d\" }\n"
      "\"ping.high\" = { ack = 600, respond = \"90m\" }\n"
      "\"consultation.routine\" = { ack = \"90s\", respond = \"365d\" }\n"
      "[deadlines.\"request-for-assistance.high\"]\n"  // the same table, not inline
      "ack = \"1h\"\n"
      "respond = 3600\n",
      "d.toml", "p");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->deadlines.size(), 5u);
  EXPECT_EQ(a->deadlines.at("notification.critical").ack_s, 1800);
  EXPECT_EQ(a->deadlines.at("notification.critical").respond_s, 43200);
  EXPECT_EQ(a->deadlines.at("request-for-information.routine").ack_s, 172800);
  EXPECT_EQ(a->deadlines.at("request-for-information.routine").respond_s, 1209600);
  EXPECT_EQ(a->deadlines.at("ping.high").ack_s, 600);
  EXPECT_EQ(a->deadlines.at("ping.high").respond_s, 5400);
  EXPECT_EQ(a->deadlines.at("consultation.routine").ack_s, 90);
  EXPECT_EQ(a->deadlines.at("consultation.routine").respond_s, 31536000);
  EXPECT_EQ(a->deadlines.at("request-for-assistance.high").ack_s, 3600);
  EXPECT_EQ(a->deadlines.at("request-for-assistance.high").respond_s, 3600);
}

TEST(AgreementTest, NoDeadlinesTableOverridesNothing) {
  auto a = ParseAgreement("[share]\ncollections = [\"out\"]\n", "e.toml", "p");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->deadlines.empty());
}

// Each file is "[deadlines]\n" plus one line; columns counted by hand on that line:
// "notification.high" is 19 characters, so its '{' is column 23, the ack value 31, the respond
// value (after ack = "1h",) 47.
TEST(AgreementTest, DeadlineMistakesNameTheKeyAndPlace) {
  struct Case {
    const char* line;   // line 2 of the file
    const char* where;  // "file:line:column"
    const char* key;    // as the message quotes it
    const char* says;
  };
  const Case cases[] = {
      {"\"alert.critical\" = { ack = \"1h\", respond = \"2h\" }", "d.toml:2:1", "'alert.critical'",
       "unknown kind 'alert'"},
      {"\"notification.urgent\" = { ack = \"1h\", respond = \"2h\" }", "d.toml:2:1",
       "'notification.urgent'", "unknown urgency 'urgent'"},
      {"notification.high = { ack = \"1h\", respond = \"2h\" }", "d.toml:2:1", "'notification'",
       "expected a quoted key"},
      {"\"notification.high\" = { ack = \"1h\" }", "d.toml:2:23", "'notification.high'",
       "needs respond"},
      {"\"notification.high\" = { ack = \"1h\", respond = \"2h\", x = 1 }", "d.toml:2:53",
       "'notification.high'", "unknown key 'x'"},
      {"\"notification.high\" = { ack = \"5w\", respond = \"6w\" }", "d.toml:2:31",
       "'notification.high'", "ack: \"5w\" is not a duration"},
      {"\"notification.high\" = { ack = 1.5, respond = \"2h\" }", "d.toml:2:31",
       "'notification.high'", "ack must be a duration"},
      {"\"notification.high\" = { ack = 0, respond = \"2h\" }", "d.toml:2:31",
       "'notification.high'", "ack must be above 0, found 0"},
      {"\"notification.high\" = { ack = \"1h\", respond = \"0m\" }", "d.toml:2:47",
       "'notification.high'", "respond must be above 0, found \"0m\""},
      {"\"notification.high\" = { ack = \"3h\", respond = \"2h\" }", "d.toml:2:23",
       "'notification.high'", "ack (10800 s) must not be longer than respond (7200 s)"},
      {"\"notification.high\" = { ack = \"1h\", respond = \"366d\" }", "d.toml:2:47",
       "'notification.high'", "respond must be at most 365 days"},
      {"\"notification.high\" = { ack = \"1h\", respond = 31536001 }", "d.toml:2:47",
       "'notification.high'", "respond must be at most 365 days"},
      {"\"notification.high\" = { ack = \"1h\", respond = \"99999999999999999999d\" }",
       "d.toml:2:47", "'notification.high'", "respond must be at most 365 days"},
      {"\"notification.high\" = \"1h\"", "d.toml:2:23", "'notification.high'", "must be a table"},
  };
  for (const Case& c : cases) {
    auto a = ParseAgreement(std::string("[deadlines]\n") + c.line + "\n", "d.toml", "p");
    ASSERT_FALSE(a.ok()) << c.line;
    const std::string m(a.status().message());
    EXPECT_EQ(m.rfind(std::string(c.where) + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(c.key), std::string::npos) << m;
    EXPECT_NE(m.find(c.says), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace accord::federation
