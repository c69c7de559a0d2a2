// JsonStreamReader: framing of bundles, arrays and concatenated values, with tiny chunks so that
// every element crosses chunk boundaries. Expected values are written out by hand.
#include "accord/common/json_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace accord::common {
namespace {

struct Got {
  std::vector<std::string> elems;
  std::vector<uint64_t> offsets, lines, index;
  std::vector<std::pair<std::string, std::string>> members;
  absl::Status status;
};

Got Split(const std::string& data, size_t chunk, JsonStreamOptions o = {}) {
  o.chunk_bytes = chunk;
  Got g;
  JsonStreamReader r(InputStream::FromBuffer(data), "t.json", o);
  r.set_member_sink([&](std::string_view n, std::string_view v) {
    g.members.emplace_back(std::string(n), std::string(v));
  });
  JsonElement e;
  while (true) {
    auto more = r.Next(&e);
    if (!more.ok()) {
      g.status = more.status();
      break;
    }
    if (!*more) break;
    g.elems.emplace_back(e.bytes);
    g.offsets.push_back(e.offset);
    g.lines.push_back(e.line);
    g.index.push_back(e.index);
  }
  return g;
}

TEST(JsonStream, BundleElementsAndMembersAtEveryChunkSize) {
  const std::string in =
      "{\"type\": \"bundle\",\n \"id\": \"bundle--1\",\n \"objects\": [\n"
      "  {\"a\": \"}]\\\"[{\"},\n"
      "  {\"b\": [1, {\"c\": \"\\\\\"}]}\n ],\n \"x\": {\"y\": 2}\n}\n";
  for (size_t chunk : {1, 2, 3, 7, 64, 4096}) {
    Got g = Split(in, chunk);
    ASSERT_TRUE(g.status.ok()) << chunk << " " << g.status;
    ASSERT_EQ(g.elems.size(), 2u) << chunk;
    EXPECT_EQ(g.elems[0], "{\"a\": \"}]\\\"[{\"}");
    EXPECT_EQ(g.elems[1], "{\"b\": [1, {\"c\": \"\\\\\"}]}");
    EXPECT_EQ(g.offsets[0], in.find("{\"a\""));
    EXPECT_EQ(g.offsets[1], in.find("{\"b\""));
    EXPECT_EQ(g.lines[0], 4u);
    EXPECT_EQ(g.lines[1], 5u);
    EXPECT_EQ(g.index[1], 2u);
    ASSERT_EQ(g.members.size(), 3u);
    EXPECT_EQ(g.members[0], (std::pair<std::string, std::string>{"type", "\"bundle\""}));
    EXPECT_EQ(g.members[1].second, "\"bundle--1\"");
    EXPECT_EQ(g.members[2], (std::pair<std::string, std::string>{"x", "{\"y\": 2}"}));
  }
}

TEST(JsonStream, ArrayAndConcatenatedValues) {
  Got a = Split("[ {\"a\":1} ,\n{\"b\":[]}, 3 ]", 2);
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.elems, (std::vector<std::string>{"{\"a\":1}", "{\"b\":[]}", "3"}));
  Got c = Split("{\n \"a\": 1\n}\n{\"b\": {\"c\": []}}\n", 3);
  ASSERT_TRUE(c.status.ok()) << c.status;
  EXPECT_EQ(c.elems, (std::vector<std::string>{"{\n \"a\": 1\n}", "{\"b\": {\"c\": []}}"}));
  EXPECT_EQ(c.lines, (std::vector<uint64_t>{1, 4}));
  EXPECT_TRUE(c.members.empty());  // not a bundle: no members reported
  Got e = Split("[]", 1);
  EXPECT_TRUE(e.status.ok());
  EXPECT_TRUE(e.elems.empty());
}

TEST(JsonStream, TruncatedBundleKeepsElementsBeforeAndNamesOffsetAndIndex) {
  const std::string in = "{\"objects\": [{\"a\": 1}, {\"b\": 2}, {\"c\": ";
  Got g = Split(in, 5);
  EXPECT_EQ(g.elems.size(), 2u);
  EXPECT_EQ(g.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(g.status.message().find("object #3"), std::string::npos) << g.status;
  EXPECT_NE(g.status.message().find("byte offset " + std::to_string(in.size())), std::string::npos)
      << g.status;
  EXPECT_NE(g.status.message().find("t.json"), std::string::npos);
}

TEST(JsonStream, BadBracketsAndSeparators) {
  Got g = Split("[{\"a\": [1}]", 4);
  EXPECT_EQ(g.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(g.status.message().find("byte offset 9"), std::string::npos) << g.status;
  Got h = Split("[{\"a\":1} {\"b\":2}]", 4);
  EXPECT_EQ(h.elems.size(), 1u);
  EXPECT_NE(h.status.message().find("expected ',' or ']'"), std::string::npos) << h.status;
  Got k = Split("]", 4);
  EXPECT_FALSE(k.status.ok());
}

TEST(JsonStream, LimitsOnDepthElementSizeAndMembers) {
  JsonStreamOptions o;
  o.max_depth = 8;
  Got d = Split("[" + std::string(100000, '['), 64, o);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(d.status.message().find("nesting"), std::string::npos);
  o = {};
  o.max_element_bytes = 1000;
  Got s = Split("[{\"a\": \"" + std::string(5000, 'x') + "\"}]", 64, o);
  EXPECT_EQ(s.status.code(), absl::StatusCode::kResourceExhausted) << s.status;
  o = {};
  o.max_members = 3;
  Got m = Split("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"objects\":[]}", 4, o);
  EXPECT_EQ(m.status.code(), absl::StatusCode::kResourceExhausted) << m.status;
  // An unclosed string never buffers past the element limit.
  o = {};
  o.max_element_bytes = 1000;
  Got u = Split("[\"" + std::string(100000, 'y'), 64, o);
  EXPECT_EQ(u.status.code(), absl::StatusCode::kResourceExhausted) << u.status;
}

// Random elements, long enough that most of their bytes go through the 64-byte block scan, with
// strings full of brackets, escaped quotes, runs of backslashes and newlines. The expected
// elements, offsets and lines come from how the input was put together, not from the reader.
std::string RandomString(std::mt19937& rng) {
  static const std::string kChars = "ab {}[],:\"\\\nxyz0";
  std::string s = "\"";
  const size_t n = rng() % 90;
  for (size_t i = 0; i < n; ++i) {
    char c = kChars[rng() % kChars.size()];
    if (c == '"' || c == '\\') s += '\\';  // escaped; a run of `\\` pairs too
    s += c;
  }
  return s + "\"";
}

std::string RandomValue(std::mt19937& rng, int depth) {
  const unsigned pick = depth > 4 ? rng() % 2 : rng() % 4;
  if (pick == 0) return RandomString(rng);
  if (pick == 1) return std::to_string(rng() % 1000);
  const bool obj = pick == 2;
  std::string s = obj ? "{" : "[";
  const size_t n = rng() % 6;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += rng() % 3 == 0 ? ",\n " : ",";
    if (obj) s += RandomString(rng) + ":";
    s += RandomValue(rng, depth + 1);
  }
  return s + (obj ? "}" : "]");
}

TEST(JsonStream, RandomElementsFramedExactlyAtEveryChunkSize) {
  std::mt19937 rng(20261204);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> elems;
    std::string in = "{\"type\": \"bundle\", \"objects\": [\n";
    std::vector<uint64_t> offsets, lines;
    for (int i = 0; i < 30; ++i) {
      std::string e = "{\"id\":" + RandomString(rng) + ",\"v\":" + RandomValue(rng, 0) + "}";
      if (i) in += rng() % 2 ? ",\n" : " , ";
      offsets.push_back(in.size());
      lines.push_back(1 + static_cast<uint64_t>(std::count(in.begin(), in.end(), '\n')));
      in += e;
      elems.push_back(e);
    }
    in += "\n]}\n";
    for (size_t chunk : {1, 63, 64, 65, 1000, 1 << 16}) {
      Got g = Split(in, chunk);
      ASSERT_TRUE(g.status.ok()) << round << " " << chunk << " " << g.status;
      ASSERT_EQ(g.elems, elems) << round << " " << chunk;
      EXPECT_EQ(g.offsets, offsets) << round << " " << chunk;
      EXPECT_EQ(g.lines, lines) << round << " " << chunk;
    }
    // The last element's closing brace swapped for ']': the error names that byte.
    std::string bad = in;
    const size_t close = offsets.back() + elems.back().size() - 1;
    ASSERT_EQ(bad[close], '}');
    bad[close] = ']';
    for (size_t chunk : {64, 1 << 16}) {
      Got g = Split(bad, chunk);
      EXPECT_EQ(g.elems.size(), elems.size() - 1);
      EXPECT_NE(g.status.message().find("byte offset " + std::to_string(close) + ","),
                std::string::npos)
          << g.status;
      EXPECT_NE(g.status.message().find("does not close an open object"), std::string::npos)
          << g.status;
      const auto line = 1 + std::count(bad.begin(), bad.begin() + static_cast<long>(close), '\n');
      EXPECT_NE(g.status.message().find("t.json:" + std::to_string(line) + ":"), std::string::npos)
          << g.status;
    }
  }
}

}  // namespace
}  // namespace accord::common
