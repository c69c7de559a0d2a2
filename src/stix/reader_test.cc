// ReaderOptions::with_dom (reader.h): called once for each accepted object, after its
// object_check, with the parsed object its record's JSON holds, also for an object upgraded
// from STIX 2.0; never for an object refused.
#include "accord/stix/reader.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace accord::stix {
namespace {

std::string Indicator(const std::string& id, const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)" +
         R"("pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)" +
         R"("valid_from":"2024-01-01T00:00:00Z")" + extra + "}";
}

TEST(ReaderWithDom, SeesEachAcceptedObjectAsItsRecordHoldsIt) {
  const std::string ok = "indicator--11111111-1111-4111-8111-111111111111";
  const std::string refused = "indicator--22222222-2222-4222-8222-222222222222";
  const std::string upgraded = "indicator--33333333-3333-4333-8333-333333333333";
  const std::string input =
      Indicator(ok) + "\n" + R"({"type":"indicator","spec_version":"2.1","id":"not-an-id"})" +
      "\n" +  // invalid
      Indicator(refused) + "\n" +
      // STIX 2.0: no spec_version, labels instead of indicator_types; upgraded to 2.1.
      R"({"type":"indicator","id":")" + upgraded +
      R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)" +
      R"("labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.2']",)" +
      R"("valid_from":"2024-01-01T00:00:00Z"})" + "\n";
  ReaderOptions o;
  std::vector<std::string> checked, seen, delivered;
  o.object_check = [&](const ObjectRecord& r) {
    checked.push_back(r.id);
    return r.id == refused ? absl::PermissionDeniedError("refused by the test") : absl::OkStatus();
  };
  o.with_dom = [&](const simdjson::dom::object& obj, ObjectRecord* r) {
    // Called after object_check, before the sink, once per object.
    EXPECT_EQ(checked.empty() ? "" : checked.back(), r->id);
    std::string_view id, spec;
    ASSERT_EQ(obj["id"].get_string().get(id), simdjson::SUCCESS);
    ASSERT_EQ(obj["spec_version"].get_string().get(spec), simdjson::SUCCESS);
    EXPECT_EQ(id, r->id);
    EXPECT_EQ(spec, "2.1");  // the upgraded object, as the record holds it
    // The same object as the record's JSON.
    simdjson::dom::parser p;
    simdjson::dom::element mine;
    ASSERT_EQ(p.parse(r->json).get(mine), simdjson::SUCCESS);
    EXPECT_EQ(simdjson::minify(obj), simdjson::minify(mine));
    seen.push_back(r->id);
  };
  auto st = ReadBuffer(
      input, o,
      [&](ObjectRecord&& r) {
        delivered.push_back(r.id);
        return absl::OkStatus();
      },
      [](Problem&&) {});
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->objects, 2u);
  EXPECT_EQ(st->upgraded, 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{ok, upgraded}));
  EXPECT_EQ(delivered, seen);
}

}  // namespace
}  // namespace accord::stix
