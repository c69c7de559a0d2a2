// STIX 2.1 object rules, deterministic SCO ids and the 2.0 upgrade.
#include "stix/validate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "stix/sco_id.h"

namespace accord::stix::detail {
namespace {

using nlohmann::ordered_json;

// Parses `json` and validates it. Keeps the parser alive for the call.
absl::Status Validate(const std::string& json, bool check_sco_ids = true) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e)) return absl::InternalError("test JSON does not parse");
  simdjson::dom::object o;
  if (e.get_object().get(o)) return absl::InternalError("test JSON is not an object");
  ValidateOptions opts;
  opts.check_sco_ids = check_sco_ids;
  return ValidateObject(o, opts);
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Validates an object that must be accepted; returns its warnings joined by newlines.
std::string Warnings(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json).get_object().get(o)) return "(test JSON does not parse)";
  std::vector<std::string> w;
  ValidateOptions opts;
  opts.warnings = &w;
  absl::Status st = ValidateObject(o, opts);
  if (!st.ok()) return "(rejected: " + Msg(st) + ")";
  std::string out;
  for (auto& x : w) out += x + "\n";
  return out;
}

#define EXPECT_WARNED(json, text)                                                  \
  do {                                                                             \
    std::string w_ = Warnings(json);                                               \
    EXPECT_NE(w_.find(text), std::string::npos) << (json) << "\nwarnings: " << w_; \
  } while (0)

// A valid indicator (spec digest §18) to derive invalid variants from.
ordered_json Indicator() {
  return ordered_json::parse(R"({
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
    "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
    "indicator_types": ["malicious-activity"], "name": "Bad IP",
    "pattern": "[ipv4-addr:value = '198.51.100.3']",
    "pattern_type": "stix", "pattern_version": "2.1",
    "valid_from": "2016-01-01T00:00:00Z",
    "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
  })");
}

// Expects rejection with a message containing `rule`.
#define EXPECT_REJECTED(json, rule)                                               \
  do {                                                                            \
    absl::Status st_ = Validate(json);                                            \
    EXPECT_TRUE(absl::IsInvalidArgument(st_)) << (json) << "\n" << st_;           \
    EXPECT_NE(Msg(st_).find(rule), std::string::npos) << "message: " << Msg(st_); \
  } while (0)

// --- valid objects from the spec digest ---

TEST(ValidateTest, SpecExampleBundleObjectsAccepted) {
  const char* kObjects[] = {
      R"({"type": "identity", "spec_version": "2.1",
          "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
          "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
          "name": "ACME Widget, Inc.", "identity_class": "organization"})",
      R"({"type": "ipv4-addr", "spec_version": "2.1",
          "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"})",
      R"({"type": "observed-data", "spec_version": "2.1",
          "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
          "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
          "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
          "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z",
          "number_observed": 50,
          "object_refs": ["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]})",
      R"({"type": "sighting", "spec_version": "2.1",
          "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
          "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
          "created": "2016-04-06T20:08:31.000Z", "modified": "2016-04-06T20:08:31.000Z",
          "first_seen": "2015-12-21T19:00:00Z", "last_seen": "2015-12-21T19:00:00Z",
          "count": 1,
          "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
          "observed_data_refs": ["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"],
          "where_sighted_refs": ["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"]})",
      // TLP 1.0 GREEN, exactly as the spec defines it.
      R"({"type": "marking-definition", "spec_version": "2.1",
          "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
          "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
          "name": "TLP:GREEN", "definition": {"tlp": "green"}})",
      // TLP 2.0 CLEAR, the canonical object.
      R"({"type": "marking-definition", "spec_version": "2.1",
          "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
          "created": "2022-10-01T00:00:00.000Z", "name": "TLP:CLEAR",
          "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
              "extension_type": "property-extension", "tlp_2_0": "clear"}}})",
      R"({"type": "extension-definition", "spec_version": "2.1",
          "id": "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d",
          "created_by_ref": "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01",
          "created": "2022-10-01T00:00:00.000Z", "modified": "2022-10-01T00:00:00.000Z",
          "name": "TLP 2.0", "schema": "https://github.com/oasis-open/cti-stix-common-objects",
          "version": "1.0.0", "extension_types": ["property-extension"]})",
      R"({"type": "language-content", "spec_version": "2.1",
          "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",
          "created": "2017-02-08T21:31:22.007Z", "modified": "2017-02-08T21:31:22.007Z",
          "object_ref": "campaign--12a111f0-b824-4baf-a224-83b80237a094",
          "object_modified": "2017-02-08T21:31:22.007Z",
          "contents": {"de": {"name": "Bank Angriff 1"}}})",
      R"({"type": "file", "id": "file--ccb7459a-4c7d-511e-b750-7cd176ab4734",
          "hashes": {"SHA-256": "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db",
                     "MD5": "1717b7fff97d37a1e1a0029d83492de1"},
          "name": "foo.exe", "size": 25536})",
      R"({"type": "x-acme-widget", "id": "x-acme-widget--7b0b3f6e-4e5e-4b44-9c3b-0b5d2c1b6a6e",
          "spec_version": "2.1", "created": "2020-01-01T00:00:00.000Z",
          "modified": "2020-01-01T00:00:00.000Z", "x_acme_size": 3})",
  };
  for (const char* json : kObjects)
    EXPECT_TRUE(Validate(json).ok()) << json << "\n" << Validate(json);
  EXPECT_TRUE(Validate(Indicator().dump()).ok()) << Validate(Indicator().dump());
}

// --- one invalid object per rule ---

TEST(ValidateTest, TypeRules) {
  auto j = Indicator();
  j.erase("type");
  EXPECT_REJECTED(j.dump(), "required property 'type' is missing");
  j = Indicator();
  j["type"] = 7;
  EXPECT_REJECTED(j.dump(), "'type' must be a string");
  j = Indicator();
  j["type"] = "Indicator";
  EXPECT_REJECTED(j.dump(), "'type' must be 3-250 characters of a-z, 0-9 and '-'");
  j["type"] = "ab";
  EXPECT_REJECTED(j.dump(), "'type' must be 3-250 characters");
  j["type"] = "x--y";
  EXPECT_REJECTED(j.dump(), "no \"--\"");
}

TEST(ValidateTest, IdRules) {
  auto j = Indicator();
  j["id"] = "indicator-1234";
  EXPECT_REJECTED(j.dump(),
                  R"('id' must be "indicator--" followed by a UUID, found "indicator-1234")");
  j["id"] = "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  EXPECT_REJECTED(j.dump(), R"('id' must be "indicator--" followed by a UUID)");
  j["id"] = "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f";  // version 0
  EXPECT_REJECTED(j.dump(), "followed by a UUID");
  j["id"] = "indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f";  // not the RFC 4122 variant
  EXPECT_REJECTED(j.dump(), "followed by a UUID");
  j.erase("id");
  EXPECT_REJECTED(j.dump(), "indicator: required property 'id' is missing");
}

TEST(ValidateTest, SpecVersionRules) {
  auto j = Indicator();
  j.erase("spec_version");
  EXPECT_REJECTED(j.dump(), "indicator: required property 'spec_version' is missing");
  j["spec_version"] = "2.0";
  EXPECT_REJECTED(j.dump(), "'spec_version' must be \"2.1\"");
  // Optional on SCOs, but must be 2.1 when present.
  EXPECT_TRUE(Validate(R"({"type":"url","id":"url--47c3cf9a-5027-5bf0-997a-017c7edc7c55",
                           "value":"https://example.com/research/index.html"})")
                  .ok());
  EXPECT_REJECTED(R"({"type":"url","id":"url--47c3cf9a-5027-5bf0-997a-017c7edc7c55",
                      "spec_version":"2.2","value":"https://example.com/research/index.html"})",
                  "'spec_version' must be \"2.1\"");
}

TEST(ValidateTest, TimestampRules) {
  auto j = Indicator();
  j["created"] = "2016-01-01T00:00:00.000Z";
  j["modified"] = "2015-01-01T00:00:00.000Z";
  EXPECT_REJECTED(j.dump(),
                  "'modified' (2015-01-01T00:00:00.000Z) is earlier than 'created' "
                  "(2016-01-01T00:00:00.000Z)");
  j = Indicator();
  j.erase("modified");
  EXPECT_REJECTED(j.dump(), "indicator: required property 'modified' is missing");
  j = Indicator();
  j["created"] = "2016-04-06T20:03:48Z";
  EXPECT_REJECTED(j.dump(), "'created' must have at least millisecond precision");
  j = Indicator();
  j["valid_from"] = "2016-01-01 00:00:00Z";
  EXPECT_REJECTED(j.dump(), "'valid_from' is not a STIX timestamp");
  j["valid_from"] = "2016-02-30T00:00:00Z";
  EXPECT_REJECTED(j.dump(), "'valid_from' is not a STIX timestamp");
  j["valid_from"] = "2016-01-01T00:00:00+00:00";
  EXPECT_REJECTED(j.dump(), "'valid_from' is not a STIX timestamp");
  j = Indicator();
  j["valid_until"] = "2016-01-01T00:00:00Z";  // equal to valid_from: must be strictly later
  EXPECT_REJECTED(j.dump(), "'valid_until' (2016-01-01T00:00:00Z) must be later than 'valid_from'");
}

TEST(ValidateTest, SeenAndObservedOrdering) {
  EXPECT_REJECTED(R"({"type":"campaign","spec_version":"2.1",
      "id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"c",
      "first_seen":"2016-01-02T00:00:00Z","last_seen":"2016-01-01T00:00:00Z"})",
                  "'last_seen' (2016-01-01T00:00:00Z) is earlier than 'first_seen'");
  EXPECT_REJECTED(R"({"type":"observed-data","spec_version":"2.1",
      "id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
      "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
      "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-20T19:00:00Z",
      "number_observed":1,"object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]})",
                  "'last_observed' (2015-12-20T19:00:00Z) is earlier than 'first_observed'");
  EXPECT_REJECTED(R"({"type":"relationship","spec_version":"2.1",
      "id":"relationship--b67d30ff-02ac-498a-92f9-32f845f448cf",
      "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
      "relationship_type":"uses",
      "source_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
      "target_ref":"tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
      "start_time":"2016-01-01T00:00:00Z","stop_time":"2016-01-01T00:00:00Z"})",
                  "'stop_time' (2016-01-01T00:00:00Z) must be later than 'start_time'");
}

TEST(ValidateTest, RequiredPropertiesOfEverySdo) {
  const std::string common = R"("spec_version":"2.1","created":"2016-04-06T20:03:00.000Z",
                                 "modified":"2016-04-06T20:03:00.000Z")";
  struct Case {
    const char* type;
    const char* body;  // everything required except `missing`
    const char* missing;
  };
  const Case kCases[] = {
      {"attack-pattern", "", "name"},
      {"campaign", "", "name"},
      {"course-of-action", "", "name"},
      {"grouping", R"("object_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"])",
       "context"},
      {"grouping", R"("context":"unspecified")", "object_refs"},
      {"identity", "", "name"},
      {"incident", "", "name"},
      {"indicator", R"("pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z")", "pattern"},
      {"indicator", R"("pattern":"[x:y = 1]","valid_from":"2016-01-01T00:00:00Z")", "pattern_type"},
      {"indicator", R"("pattern":"[x:y = 1]","pattern_type":"stix")", "valid_from"},
      {"infrastructure", "", "name"},
      {"intrusion-set", "", "name"},
      {"malware", R"("name":"x")", "is_family"},
      {"malware-analysis", R"("result":"malicious")", "product"},
      {"note", R"("object_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"])", "content"},
      {"note", R"("content":"c")", "object_refs"},
      {"observed-data", R"("last_observed":"2016-01-01T00:00:00Z","number_observed":1,
        "object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"])",
       "first_observed"},
      {"observed-data",
       R"("first_observed":"2016-01-01T00:00:00Z","last_observed":"2016-01-01T00:00:00Z",
        "object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"])",
       "number_observed"},
      {"opinion", R"("object_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"])", "opinion"},
      {"report", R"("name":"r","object_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"])",
       "published"},
      {"report", R"("name":"r","published":"2016-01-01T00:00:00Z")", "object_refs"},
      {"threat-actor", "", "name"},
      {"tool", "", "name"},
      {"vulnerability", "", "name"},
      {"relationship", R"("source_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        "target_ref":"tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b")",
       "relationship_type"},
      {"relationship", R"("relationship_type":"uses",
        "target_ref":"tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b")",
       "source_ref"},
      {"sighting", "", "sighting_of_ref"},
  };
  for (const auto& c : kCases) {
    std::string json = std::string("{\"type\":\"") + c.type + "\",\"id\":\"" + c.type +
                       "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"," + common +
                       (c.body[0] ? std::string(",") + c.body : "") + "}";
    EXPECT_REJECTED(json,
                    std::string(c.type) + ": required property '" + c.missing + "' is missing");
  }
}

TEST(ValidateTest, RequiredPropertiesOfScos) {
  struct Case {
    const char* json;
    const char* rule;
  };
  const Case kCases[] = {
      {R"({"type":"ipv4-addr","id":"ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67"})",
       "ipv4-addr: required property 'value' is missing"},
      {R"({"type":"domain-name","id":"domain-name--b4e29b62-2053-47c4-bab4-bbce39e5ed67"})",
       "domain-name: required property 'value' is missing"},
      {R"({"type":"autonomous-system","id":"autonomous-system--b4e29b62-2053-47c4-bab4-bbce39e5ed67"})",
       "autonomous-system: required property 'number' is missing"},
      {R"({"type":"software","id":"software--b4e29b62-2053-47c4-bab4-bbce39e5ed67","vendor":"v"})",
       "software: required property 'name' is missing"},
      {R"({"type":"email-message","id":"email-message--b4e29b62-2053-47c4-bab4-bbce39e5ed67","subject":"s"})",
       "email-message: required property 'is_multipart' is missing"},
      {R"({"type":"network-traffic","id":"network-traffic--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
           "src_ref":"ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67"})",
       "network-traffic: required property 'protocols' is missing"},
      {R"({"type":"network-traffic","id":"network-traffic--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
           "protocols":["tcp"]})",
       "network-traffic needs at least one of 'src_ref' or 'dst_ref'"},
      {R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","size":1})",
       "file needs at least one of 'hashes' or 'name'"},
      {R"({"type":"artifact","id":"artifact--b4e29b62-2053-47c4-bab4-bbce39e5ed67","mime_type":"text/plain"})",
       "artifact needs exactly one of 'payload_bin' or 'url'"},
      {R"({"type":"artifact","id":"artifact--b4e29b62-2053-47c4-bab4-bbce39e5ed67","url":"https://x.example/a"})",
       "artifact: 'hashes' is required when 'url' is present"},
      {R"({"type":"process","id":"process--b4e29b62-2053-47c4-bab4-bbce39e5ed67"})",
       "process needs at least one property besides the common ones"},
      {R"({"type":"email-message","id":"email-message--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
           "is_multipart":true,"body":"hi"})",
       "'body' must not be used when 'is_multipart' is true"},
      {R"({"type":"network-traffic","id":"network-traffic--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
           "protocols":["tcp"],"src_ref":"ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
           "is_active":true,"end":"2016-01-01T00:00:00Z"})",
       "'end' must not be present when 'is_active' is true"},
  };
  for (const auto& c : kCases) EXPECT_REJECTED(c.json, c.rule);
}

TEST(ValidateTest, CoOccurrenceRules) {
  const std::string head = R"({"spec_version":"2.1","created":"2016-04-06T20:03:00.000Z",
                               "modified":"2016-04-06T20:03:00.000Z",)";
  EXPECT_REJECTED(head + R"("type":"location","id":"location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "latitude":48.8566})",
                  "'latitude' and 'longitude' must be given together");
  EXPECT_REJECTED(head + R"("type":"location","id":"location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "name":"somewhere"})",
                  "location needs at least one of 'region', 'country'");
  EXPECT_REJECTED(head + R"("type":"location","id":"location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "latitude":91.0,"longitude":2.35})",
                  "'latitude' must be between -90 and 90");
  EXPECT_REJECTED(head + R"("type":"malware","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "is_family":true})",
                  "'name' is required when 'is_family' is true");
  EXPECT_REJECTED(head + R"("type":"malware-analysis",
                           "id":"malware-analysis--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","product":"p"})",
                  "needs at least one of 'result' or 'analysis_sco_refs'");
  EXPECT_REJECTED(
      head + R"("type":"observed-data","id":"observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
                           "number_observed":1})",
      "observed-data needs exactly one of 'objects' or 'object_refs'");
  EXPECT_REJECTED(
      head + R"("type":"relationship","id":"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "relationship_type":"Uses",
                           "source_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
                           "target_ref":"tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b"})",
      "'relationship_type' must use only a-z, 0-9 and '-'");
  EXPECT_REJECTED(
      head + R"("type":"relationship","id":"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "relationship_type":"uses",
                           "source_ref":"relationship--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
                           "target_ref":"tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b"})",
      "relationship 'source_ref' must reference an SDO or SCO");
  EXPECT_REJECTED(head + R"("type":"sighting","id":"sighting--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "sighting_of_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"})",
                  "'sighting_of_ref' must reference an SDO");
  EXPECT_REJECTED(head + R"("type":"extension-definition",
                           "id":"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
                           "name":"n","schema":"s","version":"1","extension_types":["new-sdo"],
                           "extension_properties":["x_a"]})",
                  "'extension_properties' may be used only with");
  EXPECT_REJECTED(head + R"("type":"extension-definition",
                           "id":"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "name":"n","schema":"s","version":"1","extension_types":["new-sdo"]})",
                  "extension-definition: required property 'created_by_ref' is missing");
  EXPECT_REJECTED(head + R"("type":"opinion","id":"opinion--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                           "opinion":"maybe",
                           "object_refs":["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"]})",
                  "'opinion' must be one of strongly-disagree");
}

TEST(ValidateTest, PropertyTypes) {
  auto j = Indicator();
  j["indicator_types"] = "malicious-activity";
  EXPECT_REJECTED(j.dump(), "'indicator_types' must be a list of strings, found a string");
  j = Indicator();
  j["labels"] = {"a", 1};
  EXPECT_REJECTED(j.dump(), "'labels' must be a list of strings; item 1 is a number");
  j = Indicator();
  j["revoked"] = "false";
  EXPECT_REJECTED(j.dump(), "'revoked' must be a boolean");
  j = Indicator();
  j["confidence"] = 101;
  EXPECT_REJECTED(j.dump(), "'confidence' must be an integer in 0..100, found 101");
  j["confidence"] = 50.5;
  EXPECT_REJECTED(j.dump(), "'confidence' must be an integer");
  j = Indicator();
  j["labels"] = ordered_json::array();
  EXPECT_REJECTED(j.dump(), "'labels' is an empty list; STIX forbids empty lists");
  j = Indicator();
  j["name"] = nullptr;
  EXPECT_REJECTED(j.dump(), "'name' is null; null is not a valid STIX value");
  j = Indicator();
  j["description"] = 3;
  EXPECT_REJECTED(j.dump(), "'description' must be a string, found a number");
  const std::string od = R"({"type":"observed-data","spec_version":"2.1",
      "id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
      "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
      "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
      "object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"],"number_observed":)";
  EXPECT_REJECTED(od + "0}", "'number_observed' must be an integer in 1..999999999, found 0");
  EXPECT_REJECTED(od + "1000000000}", "'number_observed' must be an integer in 1..999999999");
  EXPECT_TRUE(Validate(od + "999999999}").ok());
  const std::string si = R"({"type":"sighting","spec_version":"2.1",
      "id":"sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
      "created":"2016-04-06T20:08:31.000Z","modified":"2016-04-06T20:08:31.000Z",
      "sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","count":)";
  EXPECT_TRUE(Validate(si + "0}").ok());
  EXPECT_REJECTED(si + "-1}", "'count' must be an integer in 0..999999999");
  EXPECT_REJECTED(
      R"({"type":"network-traffic","id":"network-traffic--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
      "protocols":["tcp"],"src_ref":"ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67","dst_port":65536})",
      "'dst_port' must be an integer in 0..65535");
  EXPECT_REJECTED(R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","name":"a",
      "magic_number_hex":"abc"})",
                  "'magic_number_hex' must be an even number of hex digits");
  EXPECT_REJECTED(R"({"type":"artifact","id":"artifact--b4e29b62-2053-47c4-bab4-bbce39e5ed67",
      "payload_bin":"not base64!"})",
                  "'payload_bin' must be padded base64");
  EXPECT_REJECTED(R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","name":"a",
      "defanged":"yes"})",
                  "'defanged' must be a boolean");
  auto d = Indicator();
  d["defanged"] = true;
  EXPECT_REJECTED(d.dump(), "'defanged' is allowed only on SCOs");
}

TEST(ValidateTest, ReferenceRules) {
  auto j = Indicator();
  j["created_by_ref"] = "organization--f431f809-377b-45e0-aa1c-6a4751cae5ff";
  EXPECT_REJECTED(j.dump(), "'created_by_ref' must reference identity");
  j["created_by_ref"] = "identity";
  EXPECT_REJECTED(j.dump(),
                  "'created_by_ref' must be an identifier (<type>--<UUID>), found \"identity\"");
  j = Indicator();
  j["object_marking_refs"] = {"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"};
  EXPECT_REJECTED(j.dump(), "'object_marking_refs' must reference marking-definition");
  j = Indicator();
  // A custom *_ref that is not an identifier is the producer's own business: flagged, kept
  // (ATT&CK ICS 18.1 ships "x_mitre_data_source_ref": "").
  j["x_acme_source_ref"] = "not-an-id";
  EXPECT_WARNED(j.dump(), "'x_acme_source_ref' must be an identifier");
  j = Indicator();
  j["x_acme_related_refs"] = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff";
  EXPECT_WARNED(j.dump(), "'x_acme_related_refs' must be a list of identifiers");
  EXPECT_REJECTED(R"({"type":"domain-name","id":"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
      "value":"example.com","resolves_to_refs":["url--47c3cf9a-5027-5bf0-997a-017c7edc7c55"]})",
                  "'resolves_to_refs' must reference ipv4-addr or ipv6-addr or domain-name");
}

TEST(ValidateTest, ExternalReferencesKillChainsGranularMarkings) {
  auto j = Indicator();
  j["external_references"] = ordered_json::parse(R"([{"url":"https://example.com"}])");
  EXPECT_REJECTED(j.dump(), "external reference (item 0) requires string 'source_name'");
  j["external_references"] = ordered_json::parse(R"([{"source_name":"acme"}])");
  EXPECT_REJECTED(j.dump(), "needs at least one of 'description', 'url', 'external_id'");
  j["external_references"] =
      ordered_json::parse(R"([{"source_name":"capec","external_id":"CAPEX-1"}])");
  EXPECT_REJECTED(j.dump(), "needs external_id CAPEC-<number>");
  j["external_references"] =
      ordered_json::parse(R"([{"source_name":"x","url":"u","hashes":{"SHA-256":"abc"}}])");
  EXPECT_REJECTED(j.dump(), "SHA-256 must be 64 hex digits");
  j = Indicator();
  j["kill_chain_phases"] = ordered_json::parse(R"([{"kill_chain_name":"lockheed"}])");
  EXPECT_REJECTED(j.dump(),
                  "kill chain phase ('kill_chain_phases' item 0) requires string 'phase_name'");
  j = Indicator();
  j["granular_markings"] = ordered_json::parse(
      R"([{"marking_ref":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}])");
  EXPECT_REJECTED(j.dump(), "requires a non-empty 'selectors' list");
  j["granular_markings"] = ordered_json::parse(R"([{"selectors":["name"]}])");
  EXPECT_REJECTED(j.dump(), "needs exactly one of 'marking_ref' or 'lang'");
  j["granular_markings"] = ordered_json::parse(R"([{"selectors":["name"],"lang":"de",
      "marking_ref":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}])");
  EXPECT_REJECTED(j.dump(), "needs exactly one of 'marking_ref' or 'lang'");
  j["granular_markings"] = ordered_json::parse(R"([{"selectors":["labels.[0]"],"lang":"de"}])");
  EXPECT_REJECTED(j.dump(), "selector \"labels.[0]\" does not point at content present");
  j["granular_markings"] =
      ordered_json::parse(R"([{"selectors":["indicator_types.[0]", "name"],"lang":"de"}])");
  EXPECT_TRUE(Validate(j.dump()).ok()) << Validate(j.dump());
}

TEST(ValidateTest, HashesRules) {
  auto file = [](const std::string& hashes) {
    return R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","hashes":)" +
           hashes + "}";
  };
  EXPECT_REJECTED(file(R"({"MD5":"1717b7fff97d37a1e1a0029d83492de"})"),
                  "MD5 must be 32 hex digits");
  EXPECT_REJECTED(file(R"({"SHA-1":"zz"})"), "SHA-1 must be 40 hex digits");
  EXPECT_REJECTED(file(R"({"SHA-512":"00"})"), "SHA-512 must be 128 hex digits");
  EXPECT_REJECTED(file(R"({"sh":"00"})"), "hash name \"sh\" must be 3-250 characters");
  EXPECT_REJECTED(file(R"({"SSDEEP":3})"), "value for \"SSDEEP\" must be a string");
  EXPECT_REJECTED(file("{}"), "'hashes' is an empty dictionary");
  EXPECT_TRUE(Validate(file(R"({"SSDEEP":"3:abc:def","x-custom":"anything"})")).ok());
}

TEST(ValidateTest, CustomPropertiesAndReservedNames) {
  auto j = Indicator();
  j["x_acme_Score"] = 1;
  EXPECT_REJECTED(
      j.dump(),
      "custom property name \"x_acme_Score\" must be 3-250 characters of a-z, 0-9 and '_'");
  j = Indicator();
  j["ab"] = 1;
  EXPECT_REJECTED(j.dump(), "custom property name \"ab\"");
  j = Indicator();
  j["severity"] = "high";
  EXPECT_REJECTED(j.dump(), "property name 'severity' is reserved");
  j = Indicator();
  j["acme_score"] = 1;                        // no x_ prefix: allowed
  j["x_acme_meta"] = {{"country", nullptr}};  // nested custom content is preserved as is
  EXPECT_TRUE(Validate(j.dump()).ok()) << Validate(j.dump());
}

TEST(ValidateTest, ExtensionsRules) {
  auto j = Indicator();
  j["extensions"] = {{"extension-definition--d83fce45-93ec-4ea6-9c7a-d2e9b4b7b8c5", {{"rank", 5}}}};
  EXPECT_REJECTED(j.dump(), "requires 'extension_type'");
  j["extensions"] = {{"acme-stuff", {{"rank", 5}}}};
  EXPECT_REJECTED(j.dump(), "must be an extension-definition id or a name ending in \"-ext\"");
  j["extensions"] = {{"extension-definition--d83fce45-93ec-4ea6-9c7a-d2e9b4b7b8c5",
                      {{"extension_type", "property-extension"}, {"rank", 5}}}};
  EXPECT_TRUE(Validate(j.dump()).ok()) << Validate(j.dump());
  EXPECT_REJECTED(R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","name":"a",
      "extensions":{"windows-pebinary-ext":{"machine_hex":"014c"}}})",
                  "extension \"windows-pebinary-ext\": required property 'pe_type' is missing");
  EXPECT_REJECTED(R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","name":"a",
      "extensions":{"tcp-ext":{"src_flags_hex":"02"}}})",
                  "predefined extension \"tcp-ext\" applies only to network-traffic objects");
  EXPECT_TRUE(
      Validate(R"({"type":"file","id":"file--b4e29b62-2053-47c4-bab4-bbce39e5ed67","name":"a",
      "extensions":{"x-acme-ext":{"foo":"bar"}}})")
          .ok());
}

TEST(ValidateTest, MarkingDefinitionRules) {
  // A forged TLP 1.0 id: GREEN's id with a RED definition.
  EXPECT_REJECTED(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
      "created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN",
      "definition":{"tlp":"red"}})",
                  "forged TLP marking: marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da is "
                  "the predefined TLP 1.0 TLP:GREEN marking");
  // A forged TLP 2.0 id.
  EXPECT_REJECTED(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
      "created":"2022-10-01T00:00:00.000Z","name":"TLP:RED",
      "extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{
          "extension_type":"property-extension","tlp_2_0":"clear"}}})",
                  "forged TLP marking: marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1 is "
                  "the TLP 2.0 TLP:RED marking");
  // definition_type tlp on another id.
  EXPECT_REJECTED(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"white"}})",
                  "definition_type \"tlp\" is allowed only on the four predefined");
  EXPECT_REJECTED(
      R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2017-01-20T00:00:00.000Z"})",
      "marking-definition without 'extensions' requires 'definition_type' and 'definition'");
  EXPECT_REJECTED(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"text":"x"}})",
                  "statement marking requires 'definition.statement'");
  EXPECT_REJECTED(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2017-01-20T00:00:00.000Z","definition_type":"statement",
      "definition":{"statement":"Copyright"},
      "object_marking_refs":["marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]})",
                  "must not list itself");
  EXPECT_TRUE(Validate(R"({"type":"marking-definition","spec_version":"2.1",
      "id":"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2017-01-20T00:00:00.000Z","definition_type":"statement",
      "definition":{"statement":"Copyright 2017"}})")
                  .ok());
}

// --- deterministic SCO ids ---
// Expected ids are the spec digest's vectors (§3.2), each recomputed by hand with
//   python3 -c 'import uuid,json; print(uuid.uuid5(uuid.UUID(
//     "00abedb4-aa42-466c-9c01-fed23315a9b7"), <canonical name>))'
// (e.g. ipv4-addr 198.51.100.3 -> 28bb3599-77cd-5a82-a950-b5bc3caf07c4).

struct Vector {
  const char* object;     // the SCO without its id
  const char* canonical;  // the JCS name
  const char* id;
};

const Vector kVectors[] = {
    {R"({"type":"ipv4-addr","value":"198.51.100.3"})", R"({"value":"198.51.100.3"})",
     "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
    {R"({"type":"ipv6-addr","value":"2001:0db8:85a3:0000:0000:8a2e:0370:7334"})",
     R"({"value":"2001:0db8:85a3:0000:0000:8a2e:0370:7334"})",
     "ipv6-addr--85a85a8c-ee99-5722-946d-3c3a3270fc6f"},
    {R"({"type":"domain-name","value":"example.com"})", R"({"value":"example.com"})",
     "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"},
    {R"({"type":"email-addr","value":"john@example.com","display_name":"John Doe"})",
     R"({"value":"john@example.com"})", "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934"},
    {R"({"type":"url","value":"https://example.com/research/index.html"})",
     R"({"value":"https://example.com/research/index.html"})",
     "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55"},
    {R"({"type":"mac-addr","value":"d2:fb:49:24:37:18"})", R"({"value":"d2:fb:49:24:37:18"})",
     "mac-addr--757b1725-9903-54f5-a855-1240691d7659"},
    {R"({"type":"mutex","name":"__CLEANSWEEP__"})", R"({"name":"__CLEANSWEEP__"})",
     "mutex--f93fe911-e545-5239-b9b0-597840d0c871"},
    {R"({"type":"autonomous-system","number":15139,"name":"Slime Industries","rir":"ARIN"})",
     R"({"number":15139})", "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff"},
    {R"({"type":"file","hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db",
        "MD5":"1717b7fff97d37a1e1a0029d83492de1"},"name":"foo.exe","size":25536})",
     R"({"hashes":{"MD5":"1717b7fff97d37a1e1a0029d83492de1"},"name":"foo.exe"})",
     "file--ccb7459a-4c7d-511e-b750-7cd176ab4734"},
    {R"({"type":"file","name":"qu\u00eary.dll"})", "{\"name\":\"qu\xC3\xAAry.dll\"}",
     "file--0bd3b719-7faf-5d3c-ad6b-1bbde246b0f8"},
    {R"({"type":"directory","path":"C:\\Windows\\System32"})",
     R"({"path":"C:\\Windows\\System32"})", "directory--0a58d0c1-59e6-5afd-8252-dcd3f13e5622"},
    {R"({"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
        "dst_port":443,"protocols":["ipv4","tcp"]})",
     R"({"dst_port":443,"protocols":["ipv4","tcp"],"src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"})",
     "network-traffic--21fb682d-8acd-5691-b4d4-101141ec8c81"},
    {R"({"type":"software","name":"Word","cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*",
        "vendor":"Microsoft","version":"2002","languages":["en"]})",
     R"({"cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*","name":"Word","vendor":"Microsoft","version":"2002"})",
     "software--710b0b41-d4d0-5d6c-a400-fc9254554ffc"},
    {R"({"type":"user-account","account_type":"unix","user_id":"1001","account_login":"jdoe",
        "display_name":"John Doe"})",
     R"({"account_login":"jdoe","account_type":"unix","user_id":"1001"})",
     "user-account--f94d689e-707d-58c3-b803-c720bb6ed096"},
    {R"({"type":"windows-registry-key","key":"hkey_local_machine\\system\\bar\\foo",
        "values":[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}]})",
     R"({"key":"hkey_local_machine\\system\\bar\\foo","values":[{"data":"qwerty","data_type":"REG_SZ","name":"Foo"}]})",
     "windows-registry-key--5f15b061-9c3d-5ea8-93b8-72468f206c1a"},
    {R"({"type":"x509-certificate","serial_number":"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06"})",
     R"({"serial_number":"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06"})",
     "x509-certificate--bf86f034-2390-54d7-8426-d08433db3fbe"},
    {R"({"type":"email-message","is_multipart":false,"from_ref":"email-addr--9b7e29b3-fd8d-562e-b3f0-8fc8134f5dda",
        "subject":"Saying Hello","body":"Hi"})",
     R"({"body":"Hi","from_ref":"email-addr--9b7e29b3-fd8d-562e-b3f0-8fc8134f5dda","subject":"Saying Hello"})",
     "email-message--25f7f6e9-a12b-50c6-8d66-e88bfb3af54b"},
    {R"({"type":"artifact","mime_type":"image/png","payload_bin":"iVBORw0KGgoAAAANSUhEUgAAADI="})",
     R"({"payload_bin":"iVBORw0KGgoAAAANSUhEUgAAADI="})",
     "artifact--5c643199-5692-5679-a012-53d84f5e7034"},
};

TEST(ScoIdTest, SpecVectors) {
  for (const auto& v : kVectors) {
    simdjson::dom::parser parser;
    simdjson::dom::object o;
    ASSERT_FALSE(parser.parse(std::string(v.object)).get_object().get(o)) << v.object;
    std::string_view type = o["type"].get_string().value();
    EXPECT_EQ(ScoIdName(type, o).value_or("(none)"), v.canonical) << v.object;
    EXPECT_EQ(ComputeScoId(type, o).value_or("(none)"), v.id) << v.object;
    // The whole object with its id validates; a wrong v5 id is flagged, a v4 id accepted.
    auto j = ordered_json::parse(v.object);
    j["id"] = v.id;
    EXPECT_TRUE(Validate(j.dump()).ok()) << j.dump() << "\n" << Validate(j.dump());
    std::string wrong = std::string(type) + "--4aec4dbc-b382-5872-9b8d-ab83653d0970";
    j["id"] = wrong;
    // STIX 2.1 §2.9: consumers must not reject on a non-reproducing id; it is flagged.
    EXPECT_WARNED(j.dump(),
                  std::string("deterministic id mismatch: expected ") + v.id + ", found " + wrong);
    EXPECT_TRUE(Validate(j.dump(), /*check_sco_ids=*/false).ok());
    j["id"] = std::string(type) + "--b4e29b62-2053-47c4-bab4-bbce39e5ed67";  // UUIDv4
    EXPECT_TRUE(Validate(j.dump()).ok()) << j.dump();
  }
}

TEST(ScoIdTest, UuidV5) {
  // RFC 4122 Appendix B style check with the DNS namespace: python3
  // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") == 886313e1-3b8a-5372-9b90-0c9aee199e5d.
  EXPECT_EQ(UuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(UuidV5("not-a-uuid", "x"), "");
  // (Canonical JSON, which the id is computed over, is tested in jcs_test.cc.)
}

TEST(ScoIdTest, HashPreferenceAndNoContributingProperties) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  ASSERT_FALSE(parser
                   .parse(std::string(
                       R"({"type":"file","hashes":{"SHA-512":"00","SHA-1":"11","SHA-256":"22"}})"))
                   .get_object()
                   .get(o));
  EXPECT_EQ(ScoIdName("file", o).value(), R"({"hashes":{"SHA-1":"11"}})");
  simdjson::dom::parser p2;
  ASSERT_FALSE(p2.parse(std::string(R"({"type":"file","hashes":{"TLSH":"aa","SSDEEP":"bb"}})"))
                   .get_object()
                   .get(o));
  EXPECT_EQ(ScoIdName("file", o).value(), R"({"hashes":{"TLSH":"aa"}})");  // first in document
  // process has no contributing properties: a v5 id is flagged, v4 accepted.
  EXPECT_WARNED(
      R"({"type":"process","id":"process--4aec4dbc-b382-5872-9b8d-ab83653d0970","pid":1})",
      "should be a UUIDv4");
  EXPECT_TRUE(
      Validate(R"({"type":"process","id":"process--b4e29b62-2053-47c4-bab4-bbce39e5ed67","pid":1})")
          .ok());
  EXPECT_WARNED(R"({"type":"user-account","id":"user-account--4aec4dbc-b382-5872-9b8d-ab83653d0970",
                    "is_disabled":true})",
                "has none of its ID contributing properties, so its id should be a UUIDv4");
}

// --- STIX 2.0 detection and upgrade ---

absl::StatusOr<ordered_json> Upgrade(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json).get_object().get(o)) return absl::InternalError("bad test JSON");
  auto up = UpgradeFrom20(o);
  if (!up.ok()) return up.status();
  return ordered_json::parse(*up);
}

bool Is20(const std::string& json, std::string_view bundle_sv = "") {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json).get_object().get(o)) return false;
  return IsStix20(o, bundle_sv);
}

TEST(UpgradeTest, IsStix20) {
  EXPECT_TRUE(
      Is20(R"({"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})"));
  EXPECT_TRUE(Is20(R"({"type":"indicator","spec_version":"2.0"})"));
  EXPECT_FALSE(Is20(R"({"type":"indicator","spec_version":"2.1"})", "2.0"));
  EXPECT_FALSE(Is20(R"({"type":"ipv4-addr","value":"1.2.3.4"})"));
  EXPECT_TRUE(Is20(R"({"type":"ipv4-addr","value":"1.2.3.4"})", "2.0"));
  EXPECT_TRUE(Is20(R"({"type":"marking-definition","created":"2017-01-20T00:00:00.000Z"})"));
  EXPECT_TRUE(Is20(R"({"type":"x-mitre-tactic","created":"2017-01-20T00:00:00.000Z"})"));
  EXPECT_FALSE(Is20(R"({"type":"x-acme-sco","value":"v"})"));
}

TEST(UpgradeTest, IndicatorAndMalware) {
  // From ATT&CK-style 2.0 content: member order and custom properties are kept.
  auto up = Upgrade(R"({"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
      "labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.3']",
      "valid_from":"2016-01-01T00:00:00Z","x_acme_big":12345678901234567,"x_acme_f":1.5})");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(
      up->dump(),
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
      R"("created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",)"
      R"("labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.3']",)"
      R"("valid_from":"2016-01-01T00:00:00Z","x_acme_big":12345678901234567,"x_acme_f":1.5,)"
      R"("pattern_type":"stix","x_accord_upgraded_from":"2.0"})");
  auto mal = Upgrade(R"({"type":"malware","spec_version":"2.0",
      "id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2017-05-31T21:32:58.226Z",
      "modified":"2017-05-31T21:32:58.226Z","name":"Emissary","labels":["malware"]})");
  ASSERT_TRUE(mal.ok()) << mal.status();
  EXPECT_EQ((*mal)["spec_version"], "2.1");
  EXPECT_EQ((*mal)["is_family"], true);
  EXPECT_TRUE(Validate(mal->dump()).ok()) << Validate(mal->dump());
  EXPECT_TRUE(Validate(up->dump()).ok()) << Validate(up->dump());
  // observed-data with the 2.0 objects container stays valid.
  auto od =
      Upgrade(R"({"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
      "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
      "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
      "number_observed":50,"objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"}}})");
  ASSERT_TRUE(od.ok()) << od.status();
  EXPECT_TRUE(Validate(od->dump()).ok()) << Validate(od->dump());
}

TEST(UpgradeTest, RefusesWhatWouldNeedInventedFacts) {
  auto r = Upgrade(R"({"type":"campaign","id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                       "name":"c","created":"2016-04-06T20:03:48.000Z"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      std::string(r.status().message()).find("has no 'modified'; a timestamp cannot be invented"),
      std::string::npos)
      << r.status();
  r = Upgrade(R"({"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
                  "created":"2017-05-31T21:32:58.226Z","modified":"2017-05-31T21:32:58.226Z",
                  "labels":["trojan"]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("neither 'name' nor 'is_family'"),
            std::string::npos);
  r = Upgrade(R"({"type":"indicator","spec_version":"2.1",
                  "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("not \"2.0\""), std::string::npos);
  r = Upgrade(R"({"type":"indicator"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("'id' is missing"), std::string::npos);
}

}  // namespace
}  // namespace accord::stix::detail
