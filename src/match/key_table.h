// The engine's equality and CIDR index (engine.cc): an open-addressing hash table of key
// records whose layout does not depend on where it sits in memory, so the program image
// (Program::Image) holds it as it is and a start maps it and probes it in place, with no
// rehash (issue 11, "Fast start").
//
// Records are packed in one blob: [u32 posting][varint key length][key bytes]. A slot is a u64:
// 0 when empty, else the top 16 bits of the key's hash (a tag that spares most probes a look at
// the record) over the record's offset + 1. The hash is XXH3 (libxxhash), the same in every
// run and build, unlike absl's, which is salted per table. Linear probing, at most half full.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "match/bytes.h"

namespace accord::match::detail {

class KeyTable {
 public:
  KeyTable() = default;
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  /// The record of `key` (build only): inserted with `posting` when absent (`*inserted` says
  /// so). The returned offset stays valid; pointers into the blob do not survive an insert.
  uint64_t FindOrInsert(std::string_view key, uint32_t posting, bool* inserted);
  uint32_t Posting(uint64_t rec) const {
    uint32_t v;
    memcpy(&v, blob_ + rec, 4);
    return v;
  }
  void SetPosting(uint64_t rec, uint32_t v) { memcpy(own_blob_.data() + rec, &v, 4); }

  /// The posting of `key`, or false when it is absent.
  bool Find(std::string_view key, uint32_t* posting) const { return Find(key, Hash(key), posting); }
  /// The same, with the key's Hash() already taken.
  bool Find(std::string_view key, uint64_t hash, uint32_t* posting) const;
  /// Asks the CPU for the slot where a probe for a key of this hash starts.
  void Prefetch(uint64_t hash) const {
    if (slots_) __builtin_prefetch(slots_ + (hash & mask_));
  }
  static uint64_t Hash(std::string_view key);

  size_t size() const { return size_; }
  /// Bytes of the records and the slots.
  size_t bytes() const { return blob_size_ + (mask_ + 1) * 8 * (slots_ != nullptr); }
  /// Calls f(key, posting) for every record, in blob order.
  void ForEach(const std::function<void(std::string_view, uint32_t)>& f) const;

  /// Appends the table to an image: u64 blob size, the blob, zero bytes up to a multiple of 8
  /// of `out`'s size, u64 slot count, the slots.
  void AppendTo(std::string* out) const;
  /// Takes the table from an image that AppendTo wrote, as views into `in`'s bytes, which must
  /// outlive the table. Checks every record fits the blob and has a posting `posting_ok`
  /// accepts, every slot points at the start of a record, and a slot is empty (so a probe
  /// ends): false when one does not hold.
  bool ViewFrom(In& in, const std::function<bool(uint32_t)>& posting_ok);

 private:
  void Grow();

  std::string own_blob_;             // build: the records
  std::vector<uint64_t> own_slots_;  // build, or an image whose slots are not 8-byte aligned
  const char* blob_ = nullptr;       // own_blob_ or the image's
  size_t blob_size_ = 0;
  const uint64_t* slots_ = nullptr;  // own_slots_ or the image's; null while empty
  size_t mask_ = 0;                  // slot count - 1
  size_t size_ = 0;
};

// Record helpers, shared with the engine's probes.
size_t PutVarint(char* p, size_t v);  // `p` needs room for 10 bytes; returns the length
/// The key of the record at `rec` (which is known to be whole).
std::string_view RecordKey(const char* rec);
/// The full size of the record at `rec`, or 0 when it does not fit in the `avail` bytes there.
size_t RecordSize(const char* rec, size_t avail);

}  // namespace accord::match::detail
