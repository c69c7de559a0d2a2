#include "accord/match/program_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <cstring>

#include "accord/common/io.h"
#include "match/bytes.h"

namespace accord::match {

namespace {

constexpr char kMagic[8] = {'A', 'C', 'C', 'P', 'R', 'G', '0', '1'};
constexpr size_t kTrailer = 8 + 8 + 4 + sizeof kMagic;

uint32_t Adler32(std::string_view s) {
  uLong a = adler32(0L, Z_NULL, 0);
  // (zlib takes uInt lengths: feed it in pieces of at most 1 GiB.)
  for (size_t off = 0; off < s.size(); off += 1u << 30) {
    size_t n = std::min<size_t>(s.size() - off, 1u << 30);
    a = adler32(a, reinterpret_cast<const Bytef*>(s.data() + off), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(a);
}

// The whole file in one read of its size (not ReadFile's chunks, which grow the buffer and
// look for gzip): this is most of a warm start.
std::optional<std::string> ReadWhole(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) <= max_bytes) {
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
      ssize_t r = ::read(fd, data.data() + got, data.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    if (got == data.size()) out = std::move(data);
  }
  ::close(fd);
  return out;
}

}  // namespace

std::optional<ProgramImage> ReadProgramImage(const std::string& path, const IndicatorCacheKey& key,
                                             common::Micros now, const MatchOptions& options,
                                             uint64_t max_bytes) {
  std::optional<std::string> data = ReadWhole(path, max_bytes);
  if (!data || data->size() < kTrailer ||
      memcmp(data->data() + data->size() - sizeof kMagic, kMagic, sizeof kMagic) != 0) {
    return std::nullopt;
  }
  const size_t summed = data->size() - 4 - sizeof kMagic;
  uint64_t header_size, program_size;
  uint32_t sum;
  memcpy(&header_size, data->data() + data->size() - kTrailer, 8);
  memcpy(&program_size, data->data() + data->size() - kTrailer + 8, 8);
  memcpy(&sum, data->data() + summed, 4);
  const uint64_t body = data->size() - kTrailer;
  if (header_size > body || program_size != body - header_size) return std::nullopt;
  // The header first: a miss on the key costs no checksum of the program.
  detail::In in(std::string_view(*data).substr(program_size, header_size));
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
  if (!in.done() || Adler32(std::string_view(*data).substr(0, summed)) != sum) {
    return std::nullopt;
  }
  data->resize(program_size);  // keeps the buffer: no copy of the program
  auto program = Program::FromImage(std::move(*data), options);
  if (!program.ok()) return std::nullopt;
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
  detail::Put<uint32_t>(&out, Adler32(out));
  out.append(kMagic, sizeof kMagic);
  return common::WriteFileAtomic(path, out);
}

}  // namespace accord::match
