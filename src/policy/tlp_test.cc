// TLP for peers (issue 12, point 3): each marking id's level, an object's level (most
// restrictive of its object and granular markings), and the sharing rules, each case written
// out by hand from the issue's list rather than derived. Then granular markings (issue 13,
// point 2): the parts they select, withheld from a copy (STIX21-objects.md §7.4).
#include "accord/policy/tlp.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "accord/policy/granular.h"
#include "accord/policy/redaction.h"

namespace accord::policy {
namespace {

const std::string kClear2 = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const std::string kGreen2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const std::string kAmber2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const std::string kStrict2 = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const std::string kRed2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const std::string kWhite1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const std::string kGreen1 = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const std::string kAmber1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const std::string kRed1 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

TEST(TlpTest, BothVersionsOfTheMarkingsAreKnown) {
  EXPECT_EQ(TlpOfMarking(kClear2), Tlp::kClear);
  EXPECT_EQ(TlpOfMarking(kGreen2), Tlp::kGreen);
  EXPECT_EQ(TlpOfMarking(kAmber2), Tlp::kAmber);
  EXPECT_EQ(TlpOfMarking(kStrict2), Tlp::kAmberStrict);
  EXPECT_EQ(TlpOfMarking(kRed2), Tlp::kRed);
  EXPECT_EQ(TlpOfMarking(kWhite1), Tlp::kClear);
  EXPECT_EQ(TlpOfMarking(kGreen1), Tlp::kGreen);
  EXPECT_EQ(TlpOfMarking(kAmber1), Tlp::kAmber);
  EXPECT_EQ(TlpOfMarking(kRed1), Tlp::kRed);
  EXPECT_EQ(TlpOfMarking("marking-definition--00000000-0000-4000-8000-000000000000"), std::nullopt);
  using Ids = std::vector<std::string_view>;
  EXPECT_EQ(TlpMarkingIds(Tlp::kClear), (Ids{kClear2, kWhite1}));
  EXPECT_EQ(TlpMarkingIds(Tlp::kGreen), (Ids{kGreen2, kGreen1}));
  EXPECT_EQ(TlpMarkingIds(Tlp::kAmber), (Ids{kAmber2, kAmber1}));
  EXPECT_EQ(TlpMarkingIds(Tlp::kAmberStrict), (Ids{kStrict2}));
  EXPECT_EQ(TlpMarkingIds(Tlp::kRed), (Ids{kRed2, kRed1}));
  // What a person types in a search's marking filter.
  using Strings = std::vector<std::string>;
  EXPECT_EQ(*MarkingIdsNamed("TLP:RED"), (Strings{kRed2, kRed1}));
  EXPECT_EQ(*MarkingIdsNamed("amber+strict"), (Strings{kStrict2}));
  EXPECT_EQ(*MarkingIdsNamed(kGreen1), (Strings{kGreen1}));
  EXPECT_EQ(MarkingIdsNamed("purple").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(MarkingIdsNamed("purple").status().message().find("purple"), std::string::npos);
}

std::string Obj(const std::string& refs, const std::string& granular = "") {
  std::string j = R"({"type":"indicator","id":"indicator--1")";
  if (!refs.empty()) j += R"(,"object_marking_refs":[)" + refs + "]";
  if (!granular.empty()) j += R"(,"granular_markings":[)" + granular + "]";
  return j + "}";
}
std::string Q(const std::string& s) { return "\"" + s + "\""; }

TEST(TlpTest, AnObjectTakesItsMostRestrictiveMarking) {
  EXPECT_EQ(TlpOfObject(Obj(""), Tlp::kAmber), Tlp::kAmber);  // none: the node's default
  EXPECT_EQ(TlpOfObject(Obj(""), Tlp::kGreen), Tlp::kGreen);
  EXPECT_EQ(TlpOfObject(Obj(Q(kGreen2)), Tlp::kAmber), Tlp::kGreen);  // a marking beats it
  EXPECT_EQ(TlpOfObject(Obj(Q(kGreen1) + "," + Q(kAmber2)), Tlp::kClear), Tlp::kAmber);
  // A statement marking is no TLP: the default applies.
  EXPECT_EQ(
      TlpOfObject(Obj(Q("marking-definition--00000000-0000-4000-8000-000000000000")), Tlp::kAmber),
      Tlp::kAmber);
  // A part marked RED makes the object RED (objects are shared whole).
  EXPECT_EQ(TlpOfObject(Obj(Q(kClear2), R"({"selectors":["name"],"marking_ref":)" + Q(kRed1) + "}"),
                        Tlp::kAmber),
            Tlp::kRed);
  EXPECT_EQ(TlpOfObject("not json", Tlp::kClear), Tlp::kRed);
}

TEST(TlpTest, TheSharingRules) {
  ShareTerms amber_direct{false, Tlp::kAmber, false};
  ShareTerms amber_fwd{false, Tlp::kAmber, true};
  ShareTerms green_fwd{false, Tlp::kGreen, true};
  ShareTerms same_org{true, Tlp::kAmberStrict, true};
  ShareTerms clear_only{false, Tlp::kClear, true};
  // RED never leaves, whatever the terms.
  for (const ShareTerms& t : {amber_direct, amber_fwd, green_fwd, same_org, clear_only}) {
    EXPECT_FALSE(TlpAllows(Tlp::kRed, t, false));
    EXPECT_FALSE(TlpAllows(Tlp::kRed, t, true));
  }
  // AMBER+STRICT: same organisation only, directly.
  EXPECT_TRUE(TlpAllows(Tlp::kAmberStrict, same_org, false));
  EXPECT_FALSE(TlpAllows(Tlp::kAmberStrict, same_org, true));
  EXPECT_FALSE(TlpAllows(Tlp::kAmberStrict, amber_fwd, false));
  // AMBER: directly, to peers whose max_tlp allows it; never forwarded.
  EXPECT_TRUE(TlpAllows(Tlp::kAmber, amber_direct, false));
  EXPECT_TRUE(TlpAllows(Tlp::kAmber, same_org, false));
  EXPECT_FALSE(TlpAllows(Tlp::kAmber, amber_fwd, true));
  EXPECT_FALSE(TlpAllows(Tlp::kAmber, green_fwd, false));  // above max_tlp
  // GREEN and CLEAR: forwarded where forward = true.
  EXPECT_TRUE(TlpAllows(Tlp::kGreen, amber_direct, false));
  EXPECT_FALSE(TlpAllows(Tlp::kGreen, amber_direct, true));
  EXPECT_TRUE(TlpAllows(Tlp::kGreen, green_fwd, true));
  EXPECT_TRUE(TlpAllows(Tlp::kClear, amber_fwd, true));
  EXPECT_FALSE(TlpAllows(Tlp::kClear, amber_direct, true));
  EXPECT_FALSE(TlpAllows(Tlp::kGreen, clear_only, false));  // above max_tlp
  EXPECT_TRUE(TlpAllows(Tlp::kClear, clear_only, true));
}

// --- granular markings: WithholdMarkedParts ---------------------------------------------------

// A valid indicator (STIX21-objects.md §4) with `extra` members and granular markings.
std::string Indicator(const std::string& extra, const std::string& granular) {
  return R"({"type":"indicator","spec_version":"2.1",)"
         R"("id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
         R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
         R"("pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)"
         R"("valid_from":"2024-01-01T00:00:00Z")" +
         extra + R"(,"granular_markings":[)" + granular + "]}";
}

std::string Mark(const std::string& marking, const std::string& selectors) {
  return R"({"marking_ref":")" + marking + R"(","selectors":[)" + selectors + "]}";
}

const auto kUpToGreen = [](Tlp t) { return t <= Tlp::kGreen; };
const auto kNotRed = [](Tlp t) { return t != Tlp::kRed; };

// The issue's rule: a granular marking on a property applies to that property. For a peer
// that may have GREEN, the RED description and the AMBER first label go; the GREEN second
// label stays, and its marking now selects it at its new index (0). Expected by hand.
TEST(GranularTest, WithheldPartsLeaveTheCopyAndTheMarkingsFollow) {
  const std::string in = Indicator(
      R"(,"name":"c2","description":"victim: ACME Ltd, 10.1.2.3","labels":["amber-label","green-label"])",
      Mark(kRed2, R"("description")") + "," + Mark(kAmber2, R"("labels.[0]")") + "," +
          Mark(kGreen2, R"("labels.[1]","name")"));
  PartsResult r = WithholdMarkedParts(in, kUpToGreen);
  ASSERT_EQ(r.kind, PartsResult::Kind::kRedacted) << r.reason;
  auto o = nlohmann::json::parse(r.json);
  EXPECT_FALSE(o.contains("description"));
  EXPECT_EQ(o["labels"], nlohmann::json::array({"green-label"}));
  EXPECT_EQ(o["name"], "c2");
  EXPECT_EQ(o["pattern"], "[ipv4-addr:value = '198.51.100.1']");
  ASSERT_EQ(o["granular_markings"].size(), 1u);
  EXPECT_EQ(o["granular_markings"][0]["marking_ref"], kGreen2);
  EXPECT_EQ(o["granular_markings"][0]["selectors"], nlohmann::json::array({"labels.[0]", "name"}));
  const auto& ext = o["extensions"][std::string(kRedactionExtension)];
  EXPECT_EQ(ext["extension_type"], "property-extension");
  EXPECT_EQ(ext["markings"].size(), 2u);
  EXPECT_EQ(r.json.find("ACME"), std::string::npos);
  EXPECT_EQ(r.json.find("amber-label"), std::string::npos);
  // A reader (everything but RED): only the description goes.
  PartsResult reader = WithholdMarkedParts(in, kNotRed);
  ASSERT_EQ(reader.kind, PartsResult::Kind::kRedacted);
  auto ro = nlohmann::json::parse(reader.json);
  EXPECT_FALSE(ro.contains("description"));
  EXPECT_EQ(ro["labels"], nlohmann::json::array({"amber-label", "green-label"}));
  EXPECT_EQ(ro["granular_markings"].size(), 2u);
  // An audience that may see every level gets the object unchanged.
  EXPECT_EQ(WithholdMarkedParts(in, [](Tlp) { return true; }).kind, PartsResult::Kind::kUnchanged);
}

TEST(GranularTest, AnObjectThatCannotLoseThePartIsDropped) {
  // `pattern` is required of an indicator: without it there is no valid object to send.
  PartsResult pattern = WithholdMarkedParts(Indicator("", Mark(kRed1, R"("pattern")")), kNotRed);
  EXPECT_EQ(pattern.kind, PartsResult::Kind::kDropped);
  EXPECT_NE(pattern.reason.find("pattern"), std::string::npos) << pattern.reason;
  // `id` selects the object itself.
  EXPECT_EQ(WithholdMarkedParts(Indicator("", Mark(kRed2, R"("id")")), kNotRed).kind,
            PartsResult::Kind::kDropped);
  // A selector that selects nothing present: what it covers cannot be told.
  PartsResult dangling =
      WithholdMarkedParts(Indicator("", Mark(kRed2, R"("description")")), kNotRed);
  EXPECT_EQ(dangling.kind, PartsResult::Kind::kDropped);
  EXPECT_NE(dangling.reason.find("description"), std::string::npos) << dangling.reason;
  // Not JSON: fail closed.
  EXPECT_EQ(WithholdMarkedParts(R"({"granular_markings":[)", kNotRed).kind,
            PartsResult::Kind::kDropped);
}

TEST(GranularTest, ListsObjectsAndOtherMarkings) {
  // Every label withheld one by one: the list goes (STIX lists are never empty).
  PartsResult all = WithholdMarkedParts(
      Indicator(R"(,"labels":["a","b"])", Mark(kRed2, R"("labels.[0]","labels.[1]")")), kNotRed);
  ASSERT_EQ(all.kind, PartsResult::Kind::kRedacted) << all.reason;
  auto a = nlohmann::json::parse(all.json);
  EXPECT_FALSE(a.contains("labels"));
  EXPECT_FALSE(a.contains("granular_markings"));
  // A list of objects, and a part inside a part already withheld.
  PartsResult refs = WithholdMarkedParts(
      Indicator(
          R"(,"external_references":[{"source_name":"x","url":"https://example.org/?victim=1"}])",
          Mark(kAmber2, R"("external_references")") + "," +
              Mark(kRed2, R"("external_references.[0].url")")),
      kUpToGreen);
  ASSERT_EQ(refs.kind, PartsResult::Kind::kRedacted) << refs.reason;
  EXPECT_FALSE(nlohmann::json::parse(refs.json).contains("external_references"));
  // A marking that is not TLP (a statement) and a `lang` marking withhold nothing.
  const std::string statement = "marking-definition--34c9b8ad-7b2f-4a9f-9e9a-1c1f2a3b4c5d";
  EXPECT_EQ(WithholdMarkedParts(Indicator(R"(,"description":"d")",
                                          Mark(statement, R"("description")") +
                                              R"(,{"lang":"de","selectors":["description"]})"),
                                kNotRed)
                .kind,
            PartsResult::Kind::kUnchanged);
}

}  // namespace
}  // namespace accord::policy
