#include "accord/match/program_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <future>

#include "accord/common/io.h"
#include "match/bytes.h"

namespace accord::match {

namespace {

constexpr char kMagic[8] = {'A', 'C', 'C', 'P', 'R', 'G', '0', '3'};
constexpr size_t kTrailer = 8 + 8 + 8 + sizeof kMagic;

// PERF: XXH3 (libxxhash): the sum covers the whole file, 78 MB at 1M domain indicators, which
// XXH3 reads in 9 ms and zlib's Adler-32 in 27 ms (measured once on the dev machine), of a
// 0.07 s start.
uint64_t Sum(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// A read-only private mapping of a whole file, unmapped with its last owner. The writer
// replaces the file by a rename (WriteFileAtomic), so a mapping keeps the bytes it was made
// with.
struct Mapping {
  void* addr = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
  std::string_view bytes() const { return {static_cast<const char*>(addr), size}; }
};

// PERF: mapped, not read: a read zero-fills a buffer and copies the file into it, which was
// half of a warm start at 1M indicators. Not MAP_POPULATE either: the pages are faulted in by
// the two threads that read them at once (the sum and the program, ReadProgramImage), which
// took a 1M warm start from 0.10-0.13 s to 0.06-0.07 s and 10M from 1.6 s to 0.73 s.
std::shared_ptr<const Mapping> MapWhole(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  auto m = std::make_shared<Mapping>();
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<uint64_t>(st.st_size) <= max_bytes) {
    m->size = static_cast<size_t>(st.st_size);
    m->addr = ::mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  ::close(fd);
  return m->addr == MAP_FAILED ? nullptr : m;
}

}  // namespace

std::optional<ProgramImage> ReadProgramImage(const std::string& path, const IndicatorCacheKey& key,
                                             common::Micros now, const MatchOptions& options,
                                             uint64_t max_bytes) {
  std::shared_ptr<const Mapping> map = MapWhole(path, max_bytes);
  if (!map) return std::nullopt;
  const std::string_view data = map->bytes();
  if (data.size() < kTrailer ||
      memcmp(data.data() + data.size() - sizeof kMagic, kMagic, sizeof kMagic) != 0) {
    return std::nullopt;
  }
  const size_t summed = data.size() - 8 - sizeof kMagic;
  uint64_t header_size, program_size, sum;
  memcpy(&header_size, data.data() + data.size() - kTrailer, 8);
  memcpy(&program_size, data.data() + data.size() - kTrailer + 8, 8);
  memcpy(&sum, data.data() + summed, 8);
  const uint64_t body = data.size() - kTrailer;
  if (header_size > body || program_size != body - header_size) return std::nullopt;
  // The header first: a miss on the key costs no checksum of the program.
  detail::In in(data.substr(program_size, header_size));
  uint64_t generation, rejected;
  int64_t from;
  std::string scope;
  ProgramImage out;
  if (!in.Get(&generation) || !in.GetString(&scope) || !in.Get(&from) ||
      !in.Get(&out.next_change) || !in.Get(&out.inactive) || !in.Get(&out.not_stix) ||
      !in.Get(&out.withheld) || !in.GetCount(&rejected, 8)) {
    return std::nullopt;
  }
  // Valid for [written at, first change): before it (a clock set back) is a miss too.
  if (generation != key.generation || scope != key.scope || now < from || now >= out.next_change) {
    return std::nullopt;
  }
  out.rejected.resize(rejected);
  for (auto& [id, why] : out.rejected) {
    if (!in.GetString(&id) || !in.GetString(&why)) return std::nullopt;
  }
  if (!in.done()) return std::nullopt;
  // PERF: the sum is taken on another thread while the program is taken from the image, which
  // checks every record and slot it uses and refuses or ignores a damaged one by itself
  // (program_image_test flips every byte), so a bad sum only throws a valid-looking program
  // away. At 1M indicators the two were a fifth of a warm start, one after the other.
  auto sum_ok = std::async(std::launch::async, [&] { return Sum(data.substr(0, summed)) == sum; });
  // The program is used where it lies: it keeps the mapping.
  auto program = Program::FromImage(data.substr(0, program_size), map, options);
  if (!sum_ok.get() || !program.ok()) return std::nullopt;
  out.program = std::move(*program);
  return out;
}

absl::Status WriteProgramImage(const std::string& path, const IndicatorCacheKey& key,
                               common::Micros now, const ProgramImage& image) {
  ACCORD_ASSIGN_OR_RETURN(std::string out, image.program->Image());
  const uint64_t program_size = out.size();
  detail::Put<uint64_t>(&out, key.generation);
  detail::PutString(&out, key.scope);
  detail::Put<int64_t>(&out, now);
  detail::Put<int64_t>(&out, image.next_change);
  detail::Put<uint64_t>(&out, image.inactive);
  detail::Put<uint64_t>(&out, image.not_stix);
  detail::Put<uint64_t>(&out, image.withheld);
  detail::Put<uint64_t>(&out, image.rejected.size());
  for (const auto& [id, why] : image.rejected) {
    detail::PutString(&out, id);
    detail::PutString(&out, why);
  }
  detail::Put<uint64_t>(&out, out.size() - program_size);
  detail::Put<uint64_t>(&out, program_size);
  detail::Put<uint64_t>(&out, Sum(out));
  out.append(kMagic, sizeof kMagic);
  return common::WriteFileAtomic(path, out);
}

}  // namespace accord::match
