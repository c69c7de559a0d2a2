#include "match/key_table.h"

#include <xxhash.h>

#include <bit>

namespace accord::match::detail {

namespace {

constexpr uint64_t kOffsetMask = (uint64_t{1} << 48) - 1;

uint64_t Slot(uint64_t hash, uint64_t rec) { return (hash & ~kOffsetMask) | (rec + 1); }

}  // namespace

size_t PutVarint(char* p, size_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<char>(v);
  return n;
}

std::string_view RecordKey(const char* rec) {
  const auto* p = reinterpret_cast<const unsigned char*>(rec + 4);
  size_t len = 0;
  int shift = 0;
  while (*p & 0x80) {
    len |= static_cast<size_t>(*p++ & 0x7f) << shift;
    shift += 7;
  }
  len |= static_cast<size_t>(*p++) << shift;
  return {reinterpret_cast<const char*>(p), len};
}

size_t RecordSize(const char* rec, size_t avail) {
  if (avail < 5) return 0;
  size_t len = 0, i = 4;
  for (int shift = 0; shift < 35; shift += 7, ++i) {
    if (i >= avail) return 0;
    auto b = static_cast<unsigned char>(rec[i]);
    len |= static_cast<size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      ++i;
      return len <= avail - i ? i + len : 0;
    }
  }
  return 0;
}

uint64_t KeyTable::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

bool KeyTable::Find(std::string_view key, uint64_t h, uint32_t* posting) const {
  if (!slots_) return false;
  const uint64_t tag = h & ~kOffsetMask;
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const uint64_t s = slots_[i];
    if (s == 0) return false;
    if ((s & ~kOffsetMask) == tag) {
      const char* rec = blob_ + ((s & kOffsetMask) - 1);
      if (RecordKey(rec) == key) {
        *posting = Posting(static_cast<uint64_t>(rec - blob_));
        return true;
      }
    }
  }
}

uint64_t KeyTable::FindOrInsert(std::string_view key, uint32_t posting, bool* inserted) {
  if ((size_ + 1) * 2 > (slots_ ? mask_ + 1 : 0)) Grow();
  const uint64_t h = Hash(key);
  const uint64_t tag = h & ~kOffsetMask;
  size_t i = h & mask_;
  for (;; i = (i + 1) & mask_) {
    const uint64_t s = own_slots_[i];
    if (s == 0) break;
    if ((s & ~kOffsetMask) == tag && RecordKey(blob_ + ((s & kOffsetMask) - 1)) == key) {
      *inserted = false;
      return (s & kOffsetMask) - 1;
    }
  }
  const uint64_t rec = own_blob_.size();
  char hdr[4 + 10];
  memcpy(hdr, &posting, 4);
  size_t hn = 4 + PutVarint(hdr + 4, key.size());
  own_blob_.append(hdr, hn);
  own_blob_.append(key);
  blob_ = own_blob_.data();
  blob_size_ = own_blob_.size();
  own_slots_[i] = Slot(h, rec);
  ++size_;
  *inserted = true;
  return rec;
}

void KeyTable::Grow() {
  const size_t cap = slots_ ? (mask_ + 1) * 2 : 16;
  std::vector<uint64_t> slots(cap, 0);
  const size_t mask = cap - 1;
  for (uint64_t s : own_slots_) {
    if (s == 0) continue;
    const uint64_t h = Hash(RecordKey(blob_ + ((s & kOffsetMask) - 1)));
    size_t i = h & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = s;
  }
  own_slots_ = std::move(slots);
  slots_ = own_slots_.data();
  mask_ = mask;
}

void KeyTable::ForEach(const std::function<void(std::string_view, uint32_t)>& f) const {
  for (size_t pos = 0; pos < blob_size_;) {
    std::string_view key = RecordKey(blob_ + pos);
    f(key, Posting(pos));
    pos = static_cast<size_t>(key.data() + key.size() - blob_);
  }
}

void KeyTable::AppendTo(std::string* out) const {
  Put<uint64_t>(out, blob_size_);
  out->append(blob_, blob_size_);
  out->append((8 - out->size() % 8) % 8, '\0');
  const size_t n = slots_ ? mask_ + 1 : 0;
  Put<uint64_t>(out, n);
  if (n) out->append(reinterpret_cast<const char*>(slots_), n * 8);
}

bool KeyTable::ViewFrom(In& in, const std::function<bool(uint32_t)>& posting_ok) {
  uint64_t blob_size, n;
  const char* blob;
  const char* pad;
  if (!in.Get(&blob_size) || !in.Skip(blob_size, &blob) || !in.Skip((8 - in.pos() % 8) % 8, &pad)) {
    return false;
  }
  // The records, in order: each whole, with a valid posting; their starts marked.
  std::vector<uint64_t> starts((blob_size + 63) / 64, 0);
  size_t records = 0;
  for (size_t pos = 0; pos < blob_size; ++records) {
    const size_t size = RecordSize(blob + pos, blob_size - pos);
    uint32_t posting;
    memcpy(&posting, blob + pos, 4);
    if (size == 0 || !posting_ok(posting)) return false;
    starts[pos / 64] |= uint64_t{1} << (pos % 64);
    pos += size;
  }
  const char* at;
  if (!in.Get(&n) || (n != 0 && !std::has_single_bit(n)) || n > (uint64_t{1} << 47) ||
      !in.Skip(n * 8, &at)) {
    return false;
  }
  const uint64_t* slots = reinterpret_cast<const uint64_t*>(at);
  if (reinterpret_cast<uintptr_t>(at) % alignof(uint64_t) != 0) {
    own_slots_.resize(n);
    if (n) memcpy(own_slots_.data(), at, n * 8);
    slots = own_slots_.data();
  }
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t s = slots[i];
    if (s == 0) continue;
    const uint64_t off = (s & kOffsetMask) - 1;
    if (off >= blob_size || !(starts[off / 64] >> (off % 64) & 1)) return false;
    ++used;
  }
  if (used != records || (n != 0 && used >= n) || (n == 0 && records != 0)) return false;
  blob_ = blob;
  blob_size_ = blob_size;
  slots_ = n ? slots : nullptr;
  mask_ = n ? n - 1 : 0;
  size_ = records;
  return true;
}

}  // namespace accord::match::detail
