#include "accord/common/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "accord/common/strings.h"

namespace accord::common {
namespace {

// Maps errno to a Status: ENOENT becomes kNotFound so callers can tell "missing" from "broken".
// REQUIRES: called right after the failing syscall, before anything else can change errno.
absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::Status(errno == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal,
                      Cat(path, ": ", what, ": ", std::strerror(errno)));
}

// Raw bytes from a file descriptor or a memory buffer.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// A file descriptor; owned descriptors are closed on destruction (stdin is not owned).
// Read retries EINTR so a signal during a long import does not surface as an I/O error.
class FdSource : public RawSource {
 public:
  FdSource(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  ~FdSource() override {
    if (owned_) close(fd_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return Errno("read", name_);
    }
  }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

// Reads from caller-owned memory. REQUIRES: the buffer outlives the source.
class MemSource : public RawSource {
 public:
  explicit MemSource(std::string_view d) : d_(d) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, d_.size() - pos_);
    std::memcpy(buf, d_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

// Sniffs the first bytes; passes them through, or inflates gzip (multi-member aware).
// Gzip is detected by its magic bytes 1f 8b (RFC 1952), not by file name, so a feed saved as
// ".json" that is really gzip, or stdin, is handled the same way. inflateInit2 with 15 + 32
// lets zlib auto-detect the gzip/zlib header. Concatenated members ("cat a.gz b.gz") are
// decoded back to back, as gunzip does. Not thread-safe: one reader per stream.
//
// Decompression is bounded (InputLimits): the output in all, and the output per input byte
// once kRatioFloorBytes came out. Either bound ends the stream with ResourceExhausted naming
// the input, so a bomb costs at most the consumer's own buffer, never GBs.
class SniffingStream : public InputStream {
 public:
  SniffingStream(std::unique_ptr<RawSource> src, std::string name, const InputLimits& limits)
      : src_(std::move(src)), name_(std::move(name)), limits_(limits) {}
  ~SniffingStream() override {
    if (gz_init_) inflateEnd(&zs_);
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!sniffed_) {
      ACCORD_RETURN_IF_ERROR(Sniff());
    }
    if (!gzip_) {
      if (pend_pos_ < pend_.size()) {
        size_t k = std::min(n, pend_.size() - pend_pos_);
        std::memcpy(buf, pend_.data() + pend_pos_, k);
        pend_pos_ += k;
        return k;
      }
      return src_->Read(buf, n);
    }
    return Inflate(buf, n);
  }

 private:
  // Reads up to 2 bytes into pend_. Non-gzip input replays them from pend_ before reading the
  // source; gzip input hands them to zlib as the first input. Inputs shorter than 2 bytes are
  // passed through as plain data.
  absl::Status Sniff() {
    sniffed_ = true;
    pend_.resize(2);
    size_t got = 0;
    while (got < 2) {
      ACCORD_ASSIGN_OR_RETURN(size_t r, src_->Read(pend_.data() + got, 2 - got));
      if (r == 0) break;
      got += r;
    }
    pend_.resize(got);
    gzip_ = got == 2 && static_cast<unsigned char>(pend_[0]) == 0x1f &&
            static_cast<unsigned char>(pend_[1]) == 0x8b;
    if (gzip_) {
      std::memset(&zs_, 0, sizeof(zs_));
      if (inflateInit2(&zs_, 15 + 32) != Z_OK) return absl::InternalError("zlib init failed");
      gz_init_ = true;
      in_.assign(pend_);
      compressed_in_ = in_.size();
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
      zs_.avail_in = static_cast<uInt>(in_.size());
    }
    return absl::OkStatus();
  }

  // Fills buf with up to n decompressed bytes; returns 0 only at the end of the last member.
  // A stream that ends inside a member is DataLoss, so a truncated download is never mistaken
  // for a short, complete file.
  absl::StatusOr<size_t> Inflate(char* buf, size_t n) {
    if (done_) return size_t{0};
    // At most 1 MiB per call (a short read, which callers loop over): the limits are checked
    // before a caller's large buffer is filled, so a bomb never touches more than 1 MiB of it
    // past the bound.
    n = std::min<size_t>(n, 1u << 20);
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out > 0) {
      // Input is refilled in 64 KiB reads.
      if (zs_.avail_in == 0) {
        in_.resize(1 << 16);
        ACCORD_ASSIGN_OR_RETURN(size_t r, src_->Read(in_.data(), in_.size()));
        if (r == 0) {
          if (!member_done_) {
            return absl::DataLossError(Cat(name_, ": truncated gzip stream"));
          }
          done_ = true;
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(r);
        compressed_in_ += r;
      }
      if (member_done_) {  // another gzip member follows
        inflateReset(&zs_);
        member_done_ = false;
      }
      uInt before = zs_.avail_out;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      inflated_ += before - zs_.avail_out;
      ACCORD_RETURN_IF_ERROR(CheckLimits());
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        continue;
      }
      // Z_BUF_ERROR means "no progress possible now"; the loop refills input and retries.
      if (rc == Z_BUF_ERROR) continue;
      if (rc != Z_OK) {
        return absl::DataLossError(
            Cat(name_, ": corrupt gzip data: ", zs_.msg ? zs_.msg : "inflate failed"));
      }
    }
    return n - zs_.avail_out;
  }

  // The bomb check, after every inflate call (so at most 1 MiB past the bound).
  absl::Status CheckLimits() const {
    if (inflated_ > limits_.max_decompressed_bytes) {
      return absl::ResourceExhaustedError(
          Cat(name_, ": gzip data inflate to more than ", limits_.max_decompressed_bytes,
              " bytes; refused as a decompression bomb (limit: --max-gzip-bytes)"));
    }
    // Input counts what zlib consumed, not what was read: a 64 KiB read of a bomb would
    // otherwise excuse 64 MiB of output.
    uint64_t consumed = compressed_in_ - zs_.avail_in;
    if (limits_.max_ratio > 0 && inflated_ > kRatioFloorBytes &&
        inflated_ / limits_.max_ratio > consumed) {
      return absl::ResourceExhaustedError(
          Cat(name_, ": gzip data inflate more than ", limits_.max_ratio, ":1 (", inflated_,
              " bytes from ", consumed,
              "); refused as a decompression bomb (limit: --max-gzip-ratio)"));
    }
    return absl::OkStatus();
  }

  std::unique_ptr<RawSource> src_;
  std::string name_;
  InputLimits limits_;
  uint64_t compressed_in_ = 0;  // gzip bytes handed to zlib
  uint64_t inflated_ = 0;       // bytes zlib produced
  bool sniffed_ = false, gzip_ = false, gz_init_ = false, done_ = false, member_done_ = false;
  std::string pend_;
  size_t pend_pos_ = 0;
  std::string in_;
  z_stream zs_{};
};

InputLimits& DefaultLimitsStorage() {
  static InputLimits limits;
  return limits;
}

}  // namespace

const InputLimits& DefaultInputLimits() { return DefaultLimitsStorage(); }
void SetDefaultInputLimits(const InputLimits& limits) { DefaultLimitsStorage() = limits; }

absl::StatusOr<std::unique_ptr<InputStream>> InputStream::Open(const std::string& path) {
  return Open(path, DefaultInputLimits());
}

// "-" means stdin. The descriptor is opened O_CLOEXEC so child processes do not inherit it.
absl::StatusOr<std::unique_ptr<InputStream>> InputStream::Open(const std::string& path,
                                                               const InputLimits& limits) {
  if (path == "-") {
    return std::unique_ptr<InputStream>(
        new SniffingStream(std::make_unique<FdSource>(0, "<stdin>", false), "<stdin>", limits));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  return std::unique_ptr<InputStream>(
      new SniffingStream(std::make_unique<FdSource>(fd, path, true), path, limits));
}

std::unique_ptr<InputStream> InputStream::FromBuffer(std::string_view data) {
  return FromBuffer(data, DefaultInputLimits());
}

std::unique_ptr<InputStream> InputStream::FromBuffer(std::string_view data,
                                                     const InputLimits& limits, std::string name) {
  return std::make_unique<SniffingStream>(std::make_unique<MemSource>(data), std::move(name),
                                          limits);
}

namespace {
class PrefixedStream final : public InputStream {
 public:
  PrefixedStream(std::string head, std::unique_ptr<InputStream> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return rest_->Read(buf, n);
  }

 private:
  std::string head_;
  size_t pos_ = 0;
  std::unique_ptr<InputStream> rest_;
};
}  // namespace

std::unique_ptr<InputStream> InputStream::Prefixed(std::string head,
                                                   std::unique_ptr<InputStream> rest) {
  return std::make_unique<PrefixedStream>(std::move(head), std::move(rest));
}

void AdviseHugePages(void* p, size_t n) {
  constexpr size_t kHuge = size_t{2} << 20;
  char* c = static_cast<char*>(p);
  const size_t head = (kHuge - reinterpret_cast<uintptr_t>(c) % kHuge) % kHuge;  // to a boundary
  if (n <= head) return;
  const size_t len = (n - head) / kHuge * kHuge;
  if (len == 0) return;
  // Advice only: a kernel without THP (EINVAL) reads the range as before.
  (void)::madvise(c + head, len, MADV_HUGEPAGE);
}

void ReserveHuge(std::string* s, size_t n) {
  s->reserve(n);
  AdviseHugePages(s->data(), s->capacity());
}

// Reads a whole file (gunzipped if it is gzip). max_bytes bounds the decompressed size, which is
// what protects memory from a small gzip bomb; the check runs after each 1 MiB chunk, so the
// peak buffer is at most max_bytes + 1 MiB before ResourceExhausted is returned.
absl::StatusOr<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  ACCORD_ASSIGN_OR_RETURN(auto in, InputStream::Open(path));
  std::string out;
  // PERF: a regular file's size is the string's capacity (plus kReadFileSlack), so that it is
  // never reallocated and copied as it grows (a 25 MB MISP event: two reallocations and their
  // page faults), and MISP's parser can read it in place. A gzipped file outgrows it as before.
  size_t reserved = 0;  // bytes read into the reserved capacity before the string may grow
  struct stat st {};
  if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<uint64_t>(st.st_size) <= max_bytes) {
    reserved = static_cast<size_t>(st.st_size);
    ReserveHuge(&out, reserved + kReadFileSlack);
  }
  // PERF: past the reserved size the chunk grows from 16 KiB to 1 MiB: most files read whole
  // are small (keys, configuration), and each resize zero-fills the chunk.
  size_t chunk = 16 << 10;
  while (true) {
    const size_t old = out.size();
    size_t r = 0;
    if (old < reserved) {  // into the reserved capacity
      out.resize(reserved);
      ACCORD_ASSIGN_OR_RETURN(r, in->Read(out.data() + old, reserved - old));
      out.resize(old + r);
    } else if (reserved > 0) {  // at its end: is there more (a gzipped file, a file that grew)?
      char probe[4096];
      ACCORD_ASSIGN_OR_RETURN(r, in->Read(probe, sizeof probe));
      out.append(probe, r);
      reserved = 0;
    } else {
      out.resize(old + chunk);
      ACCORD_ASSIGN_OR_RETURN(r, in->Read(out.data() + old, chunk));
      out.resize(old + r);
      chunk = std::min<size_t>(chunk * 2, 1 << 20);
    }
    if (r == 0) break;
    if (out.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          Cat(path, ": larger than the limit of ", max_bytes, " bytes"));
    }
  }
  return out;
}

// Write to "<path>.tmp", fsync, then rename over path: readers see the old or the new file,
// never a partial one (rename is atomic within a filesystem). The directory is not fsynced, so
// after a crash the rename itself may be lost, leaving the old content. The fixed ".tmp" name
// means two concurrent writers to the same path must be serialised by the caller. On a write
// error the .tmp file is left behind; the next successful call overwrites it (O_TRUNC).
absl::Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return Errno("write", tmp);
    }
    off += static_cast<size_t>(w);
  }
  if (fsync(fd) != 0 || close(fd) != 0) return Errno("sync", tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", path);
  return absl::OkStatus();
}

// Splits a stream into lines ("\n" or "\r\n"). Memory is bounded by max_line plus one 1 MiB
// read: a line longer than max_line is dropped and reported once as too_long (with its line
// number and byte offset), so one giant line in an untrusted feed cannot exhaust memory or stop
// the import.
LineReader::LineReader(std::unique_ptr<InputStream> in, size_t max_line)
    : in_(std::move(in)), max_line_(max_line) {}

// The returned view points into buf_ and is valid only until the next call to Next.
// A final line without a trailing newline is still returned.
//
// PERF: linear in the input. scan_ remembers how far the current line is known to hold no
// newline, so each byte is searched once (the former reader searched the whole partial line
// again after every 1 MiB read: a 300 MB line cost 35 s). A line being skipped is never kept:
// each read replaces the buffer, which is only searched for the newline that ends it.
absl::StatusOr<bool> LineReader::Next(std::string_view* line, uint64_t* line_no, bool* too_long) {
  *too_long = false;
  constexpr size_t kChunk = 1 << 20;
  while (true) {
    if (scan_ < end_) {
      size_t nl = std::string_view(buf_.data(), end_).find('\n', scan_);  // memchr underneath
      bool hit = nl != std::string_view::npos;
      size_t end = hit ? nl : end_;
      scanned_ += (hit ? end + 1 : end) - scan_;
      if (hit) {
        size_t s = start_;
        start_ = scan_ = end + 1;
        ++line_no_;
        *line_no = line_no_;
        if (skipping_) {
          skipping_ = false;
          *too_long = true;
          *line = {};
          line_offset_ = skip_start_;
          line_bytes_ = buf_offset_ + end - skip_start_;
          return true;
        }
        line_offset_ = buf_offset_ + s;
        line_bytes_ = end - s;
        size_t e = end;
        if (e > s && buf_[e - 1] == '\r') --e;
        *line = std::string_view(buf_.data(), end_).substr(s, e - s);
        return true;
      }
      scan_ = end_;
    }
    if (eof_) {
      if (start_ < end_ || skipping_) {
        ++line_no_;
        *line_no = line_no_;
        *too_long = skipping_;
        line_offset_ = skipping_ ? skip_start_ : buf_offset_ + start_;
        line_bytes_ = buf_offset_ + end_ - line_offset_;
        *line = skipping_ ? std::string_view{} : std::string_view(buf_.data(), end_).substr(start_);
        if (!skipping_ && !line->empty() && line->back() == '\r') line->remove_suffix(1);
        skipping_ = false;
        start_ = scan_ = end_;
        return true;
      }
      return false;
    }
    if (skipping_) {
      // Nothing of an over-long line is kept: the buffer restarts at the next read.
      buf_offset_ += end_;
      end_ = 0;
      start_ = scan_ = 0;
    } else {
      // Compact: the partial line moves to the front once; later reads only append to it.
      if (start_ > 0) {
        memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        buf_offset_ += start_;
        scan_ -= start_;
        start_ = 0;
      }
      if (end_ > max_line_) {  // drop the over-long line, remember to skip its rest
        skipping_ = true;
        skip_start_ = buf_offset_;
        buf_offset_ += end_;
        end_ = 0;
        buf_.clear();
        buf_.shrink_to_fit();  // the line's memory goes back now, not at the next long line
        scan_ = 0;
      }
    }
    // PERF: buf_ only grows; bytes past end_ are spare room, not zero-filled again for every
    // read (a 1 MiB memset per read was 63% of a stream worker's time: one message a read).
    size_t old = end_;
    if (buf_.size() < old + kChunk) buf_.resize(old + kChunk);
    ACCORD_ASSIGN_OR_RETURN(size_t r, in_->Read(buf_.data() + old, kChunk));
    end_ = old + r;
    if (r == 0) eof_ = true;
  }
}

// 1-based line and column of a byte offset, for error messages; columns count bytes, not
// UTF-8 code points. O(offset): only for the error path, never per token.
TextPosition PositionOf(std::string_view text, size_t offset) {
  TextPosition p;
  if (offset > text.size()) offset = text.size();
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

}  // namespace accord::common
