#include "match/key_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace accord::match::detail {
namespace {

std::string RandomKey(std::mt19937_64& rng) {
  std::string k(1 + rng() % 40, '\0');
  for (char& c : k) c = static_cast<char>(rng() % 7 == 0 ? rng() % 256 : 'a' + rng() % 26);
  return k;
}

// A table of `n` random keys and the std::map it must agree with (key -> first posting).
void Fill(size_t n, uint64_t seed, KeyTable* t, std::map<std::string, uint32_t>* ref) {
  std::mt19937_64 rng(seed);
  for (uint32_t i = 0; i < n; ++i) {
    std::string k = RandomKey(rng);
    bool inserted;
    t->FindOrInsert(k, i, &inserted);
    EXPECT_EQ(inserted, ref->emplace(k, i).second) << k;
  }
}

void ExpectAgrees(const KeyTable& t, const std::map<std::string, uint32_t>& ref, uint64_t seed) {
  ASSERT_EQ(t.size(), ref.size());
  for (const auto& [k, p] : ref) {
    uint32_t got = 0;
    ASSERT_TRUE(t.Find(k, &got)) << k;
    EXPECT_EQ(got, p) << k;
  }
  std::mt19937_64 rng(seed ^ 0x5eed);
  for (int i = 0; i < 2000; ++i) {
    std::string k = RandomKey(rng) + "#absent";
    uint32_t got;
    EXPECT_FALSE(t.Find(k, &got)) << k;
  }
}

TEST(KeyTable, AgreesWithAMapThroughGrowthAndDuplicates) {
  KeyTable t;
  std::map<std::string, uint32_t> ref;
  uint32_t got;
  EXPECT_FALSE(t.Find("x", &got));  // an empty table has no slots
  Fill(20000, 1, &t, &ref);
  ASSERT_LT(ref.size(), 20000u);  // the short keys repeat: duplicates were exercised
  ExpectAgrees(t, ref, 1);
  // ForEach visits each record once, with its posting.
  std::map<std::string, uint32_t> seen;
  t.ForEach([&](std::string_view k, uint32_t p) { EXPECT_TRUE(seen.emplace(k, p).second); });
  EXPECT_EQ(seen, ref);
}

TEST(KeyTable, SetPostingIsWhatFindReturns) {
  KeyTable t;
  bool inserted;
  uint64_t a = t.FindOrInsert("alpha", 7, &inserted);
  t.FindOrInsert("beta", 8, &inserted);
  EXPECT_EQ(t.FindOrInsert("alpha", 99, &inserted), a);
  EXPECT_FALSE(inserted);
  t.SetPosting(a, 0x80000003u);
  uint32_t got;
  ASSERT_TRUE(t.Find("alpha", &got));
  EXPECT_EQ(got, 0x80000003u);
  ASSERT_TRUE(t.Find("beta", &got));
  EXPECT_EQ(got, 8u);
}

// The image is used where it lies: at an 8-byte-aligned offset the slots are viewed, at any
// other they are copied; both answer like the built table.
TEST(KeyTable, ImageRoundTripsAlignedOrNot) {
  KeyTable t;
  std::map<std::string, uint32_t> ref;
  Fill(5000, 2, &t, &ref);
  for (size_t lead : {0, 3}) {
    std::string image(lead, 'z');
    t.AppendTo(&image);
    // A buffer whose start is 8-byte aligned, so `lead` decides the slots' alignment.
    std::vector<uint64_t> buf(image.size() / 8 + 1);
    memcpy(buf.data(), image.data(), image.size());
    In in(std::string_view(reinterpret_cast<const char*>(buf.data()), image.size()));
    const char* skipped;
    ASSERT_TRUE(in.Skip(lead, &skipped));
    KeyTable v;
    ASSERT_TRUE(v.ViewFrom(in, [](uint32_t p) { return p < 5000; })) << lead;
    EXPECT_TRUE(in.done());
    ExpectAgrees(v, ref, 2);
  }
  // An empty table round-trips too.
  KeyTable empty, back;
  std::string image;
  empty.AppendTo(&image);
  In in(image);
  ASSERT_TRUE(back.ViewFrom(in, [](uint32_t) { return true; }));
  uint32_t got;
  EXPECT_FALSE(back.Find("", &got));
}

// Every byte of an image flipped: refused, or a table whose probes end and whose postings pass
// the check (ASan catches any read out of bounds).
TEST(KeyTable, CorruptImagesAreRefusedOrHarmless) {
  KeyTable t;
  std::map<std::string, uint32_t> ref;
  Fill(40, 3, &t, &ref);
  std::string image;
  t.AppendTo(&image);
  size_t refused = 0;
  for (size_t i = 0; i < image.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string bad = image;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      std::vector<uint64_t> buf(bad.size() / 8 + 1);
      memcpy(buf.data(), bad.data(), bad.size());
      In in(std::string_view(reinterpret_cast<const char*>(buf.data()), bad.size()));
      KeyTable v;
      if (!v.ViewFrom(in, [](uint32_t p) { return p < 40; })) {
        ++refused;
        continue;
      }
      for (const auto& [k, p] : ref) {
        uint32_t got = 0;
        if (v.Find(k, &got)) {
          EXPECT_LT(got, 40u);
        }
      }
      v.ForEach([](std::string_view, uint32_t p) { EXPECT_LT(p, 40u); });
    }
  }
  EXPECT_GT(refused, 0u);
}

TEST(KeyTable, AFullSlotArrayIsRefused) {
  // Two records in two slots: no empty slot, so a probe for an absent key would never end.
  KeyTable t;
  bool inserted;
  t.FindOrInsert("a", 0, &inserted);
  t.FindOrInsert("b", 1, &inserted);
  std::string blob;
  t.ForEach([&](std::string_view k, uint32_t p) {
    char hdr[14];
    memcpy(hdr, &p, 4);
    blob.append(hdr, 4 + PutVarint(hdr + 4, k.size()));
    blob.append(k);
  });
  std::string image;
  Put<uint64_t>(&image, blob.size());
  image += blob;
  image.append((8 - image.size() % 8) % 8, '\0');
  Put<uint64_t>(&image, 2);
  Put<uint64_t>(&image, 1);              // record 0 (offset 0, tag 0)
  Put<uint64_t>(&image, 1 + 4 + 1 + 1);  // record 1, after "a"'s 6 bytes
  std::vector<uint64_t> buf(image.size() / 8 + 1);
  memcpy(buf.data(), image.data(), image.size());
  In in(std::string_view(reinterpret_cast<const char*>(buf.data()), image.size()));
  KeyTable v;
  EXPECT_FALSE(v.ViewFrom(in, [](uint32_t) { return true; }));
}

}  // namespace
}  // namespace accord::match::detail
