// TLP for peers (issue 12, point 3): each marking id's level, an object's level (most
// restrictive of its object and granular markings), and the sharing rules, each case written
// out by hand from the issue's list rather than derived.
#include "accord/policy/tlp.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace accord::policy
