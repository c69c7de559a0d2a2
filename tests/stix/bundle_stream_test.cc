// Streaming bundle import (issue 11): a bundle, a pretty-printed bundle and a bare array give the
// same objects as the same content as JSON lines; a truncated bundle keeps the objects before the
// break and names the byte offset and object index. Expected objects are computed here from the
// generated input with nlohmann::ordered_json, independently of the reader.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accord/stix/reader.h"

namespace accord::stix {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<ojson> Indicators(int n) {
  std::vector<ojson> out;
  for (int i = 0; i < n; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-000000000001", i);
    ojson o;
    o["type"] = "indicator";
    o["spec_version"] = "2.1";
    o["id"] = id;
    o["created"] = "2024-01-01T00:00:00.000Z";
    o["modified"] = "2024-01-01T00:00:00.000Z";
    // Braces, brackets and escaped quotes inside strings must not confuse the framing.
    o["name"] = "x\"}]{[\\ " + std::to_string(i);
    o["pattern"] = "[domain-name:value = 'd" + std::to_string(i) + ".example']";
    o["pattern_type"] = "stix";
    o["valid_from"] = "2024-01-01T00:00:00Z";
    out.push_back(o);
  }
  return out;
}

struct Result {
  std::vector<std::string> json;
  std::vector<Problem> problems;
  ReadStats stats;
};

Result Read(const std::string& path) {
  Result r;
  ReaderOptions opts;
  auto st = ReadFile(
      path, opts,
      [&](ObjectRecord&& rec) {
        r.json.push_back(rec.json);
        return absl::OkStatus();
      },
      [&](Problem&& p) { r.problems.push_back(std::move(p)); });
  EXPECT_TRUE(st.ok()) << st.status();
  if (st.ok()) r.stats = *st;
  return r;
}

class BundleStream : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord_bundle_stream_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& data) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(BundleStream, BundleArrayAndPrettyGiveTheSameObjectsAsLines) {
  // 3000 objects: the minified bundle is over 1 MiB, larger than the reader's sniffed head.
  auto objs = Indicators(3000);
  std::vector<std::string> expected;
  std::string lines;
  ojson arr = ojson::array();
  for (auto& o : objs) {
    expected.push_back(o.dump());
    lines += o.dump() + "\n";
    arr.push_back(o);
  }
  ojson bundle;
  bundle["type"] = "bundle";
  bundle["id"] = "bundle--00000000-0000-4000-8000-000000000000";
  bundle["objects"] = arr;
  Result l = Read(Write("l.jsonl", lines));
  Result b = Read(Write("b.json", bundle.dump()));
  Result p = Read(Write("p.json", bundle.dump(2)));
  Result a = Read(Write("a.json", arr.dump(1)));
  EXPECT_EQ(l.json, expected);
  EXPECT_EQ(b.json, expected);
  EXPECT_EQ(p.json, expected);
  EXPECT_EQ(a.json, expected);
  for (auto* r : {&l, &b, &p, &a}) {
    EXPECT_TRUE(r->problems.empty()) << r->problems.front().ToString();
  }
}

TEST_F(BundleStream, TruncatedBundleKeepsObjectsBeforeAndNamesOffsetAndIndex) {
  auto objs = Indicators(3);
  std::string text =
      "{\"type\": \"bundle\", \"id\": \"bundle--00000000-0000-4000-8000-000000000000\",\n"
      "\"objects\": [\n" +
      objs[0].dump() + ",\n" + objs[1].dump() + ",\n";
  std::string third = objs[2].dump();
  size_t cut = text.size() + third.size() / 2;
  text += third.substr(0, third.size() / 2);
  Result r = Read(Write("t.json", text));
  ASSERT_EQ(r.json.size(), 2u);
  EXPECT_EQ(r.json[0], objs[0].dump());
  EXPECT_EQ(r.json[1], objs[1].dump());
  ASSERT_EQ(r.problems.size(), 1u);
  std::string msg = r.problems[0].ToString();
  EXPECT_NE(msg.find("byte offset " + std::to_string(cut)), std::string::npos) << msg;
  EXPECT_NE(msg.find("object #3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("t.json"), std::string::npos) << msg;
  EXPECT_EQ(r.stats.rejected, 1u);
}

TEST_F(BundleStream, BadObjectInABundleIsNamedByOffsetAndIndex) {
  auto objs = Indicators(2);
  std::string first =
      "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
      "\"objects\":[" +
      objs[0].dump() + ",";
  std::string bad = "{\"type\": \"indicator\", \"id\": 5}";
  std::string text = first + bad + "," + objs[1].dump() + "]}";
  Result r = Read(Write("bad.json", text));
  EXPECT_EQ(r.json.size(), 2u);
  ASSERT_EQ(r.problems.size(), 1u);
  std::string msg = r.problems[0].location;
  EXPECT_NE(msg.find("byte offset " + std::to_string(first.size())), std::string::npos) << msg;
  EXPECT_NE(msg.find("object #2"), std::string::npos) << msg;
}

// A hostile bundle of scalars: every element is refused and counted, but only the first
// max_listed_problems are reported, then one problem saying the rest are only counted; the
// objects among them are still read.
TEST_F(BundleStream, ProblemsPastTheListingCapAreCountedNotListed) {
  auto objs = Indicators(1);
  std::string text =
      "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
      "\"objects\":[";
  constexpr int kScalars = 5000;
  for (int i = 0; i < kScalars; ++i) text += i % 2 ? "\"s\"," : "7,";
  text += objs[0].dump() + "]}";
  ReaderOptions opts;
  opts.max_listed_problems = 100;
  std::vector<Problem> problems;
  uint64_t accepted = 0;
  auto st = ReadFile(
      Write("scalars.json", text), opts,
      [&](ObjectRecord&&) {
        ++accepted;
        return absl::OkStatus();
      },
      [&](Problem&& p) { problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(accepted, 1u);
  EXPECT_EQ(st->rejected, static_cast<uint64_t>(kScalars));
  ASSERT_EQ(problems.size(), 101u);
  EXPECT_EQ(problems[0].message, "expected a STIX object, found a number");
  EXPECT_EQ(problems[1].message, "expected a STIX object, found a string");
  EXPECT_NE(problems[100].message.find("more than 100 problems"), std::string::npos)
      << problems[100].message;
}

// A gzip bundle that inflates past the bomb ratio fails the read with the stream's error (as
// an unreadable file of JSON lines does), instead of becoming one more problem after the
// elements read before it.
TEST_F(BundleStream, AGzipBombInsideABundleFailsTheRead) {
  std::string path = (dir_ / "bomb.json.gz").string();
  std::string body =
      "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
      "\"objects\":[";
  for (int i = 0; i < (8 << 20); ++i) body += "0,";
  body += "0]}";
  gzFile f = gzopen(path.c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, body.data(), static_cast<unsigned>(body.size())),
            static_cast<int>(body.size()));
  gzclose(f);
  ReaderOptions opts;
  auto st = ReadFile(
      path, opts, [](ObjectRecord&&) { return absl::OkStatus(); }, [](Problem&&) {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("decompression bomb"), std::string::npos) << st.status();
  EXPECT_NE(st.status().message().find("bomb.json.gz"), std::string::npos) << st.status();
}

}  // namespace
}  // namespace accord::stix
