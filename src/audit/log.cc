#include "accord/audit/log.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <simdjson.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "accord/common/encoding.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::audit {

namespace {

using common::Cat;

constexpr std::string_view kHashMember = ",\"hash\":\"";
// `,"hash":"` + 64 hex + `"}`
constexpr size_t kHashTail = kHashMember.size() + 64 + 2;

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(Cat(path, ": ", what, ": ", std::strerror(errno)));
}

// PERF: OpenSSL's SHA-256 (SHA-NI where the CPU has it) instead of libsodium's portable one:
// an entry per TAXII page hashes ~9 KB (docs/PERFORMANCE.md, "Audit"). The digest is fetched
// once and each thread keeps a context: EVP_Digest looked the algorithm up and allocated a
// context on every call (~0.4 us of a one-version entry's 1 us).
std::string Sha256Hex(std::string_view bytes) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), h, &n) != 1) {
    EVP_Digest(bytes.data(), bytes.size(), h, &n, EVP_sha256(), nullptr);  // as before
  }
  return common::HexEncode(std::string_view(reinterpret_cast<const char*>(h), n));
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A JSON string member value. Text that is not UTF-8 (a file name, say) has its non-ASCII
// bytes replaced by '?', so that every line stays JSON.
void AppendText(std::string* out, std::string_view v) {
  out->push_back('"');
  if (simdjson::validate_utf8(v.data(), v.size())) {
    common::AppendJsonEscaped(out, v);
  } else {
    std::string ascii(v);
    for (char& c : ascii) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
    common::AppendJsonEscaped(out, ascii);
  }
  out->push_back('"');
}

void AppendMember(std::string* out, std::string_view name, std::string_view v) {
  common::Append(out, ",\"", name, "\":");
  AppendText(out, v);
}

void AppendRefs(std::string* out, std::string_view name, const VersionList& v) {
  common::Append(out, ",\"", name, "\":[", v.json(), "]");
}

bool ParseRefs(const nlohmann::json& j, VersionList* out) {
  if (!j.is_array()) return false;
  for (const auto& p : j) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) return false;
    out->push_back(p[0].get_ref<const std::string&>(), p[1].get_ref<const std::string&>());
  }
  return true;
}

// Splits `e` into entries of at most kMaxVersionsPerEntry versions per list.
std::vector<Entry> Split(Entry e) {
  const size_t n = std::max({e.objects.size(), e.denied.size(), e.redacted.size(), size_t{1}});
  const size_t parts = (n + kMaxVersionsPerEntry - 1) / kMaxVersionsPerEntry;
  if (parts <= 1) return {std::move(e)};
  std::vector<Entry> out;
  auto slice = [](const std::vector<VersionRef>& v, size_t k) {
    const size_t b = std::min(v.size(), k * kMaxVersionsPerEntry);
    const size_t end = std::min(v.size(), b + kMaxVersionsPerEntry);
    return std::vector<VersionRef>(v.begin() + static_cast<long>(b),
                                   v.begin() + static_cast<long>(end));
  };
  const std::vector<VersionRef> objects = e.objects.Refs(), denied = e.denied.Refs(),
                                redacted = e.redacted.Refs();
  for (size_t k = 0; k < parts; ++k) {
    Entry p = e;
    p.objects = slice(objects, k);
    p.denied = slice(denied, k);
    p.redacted = slice(redacted, k);
    p.detail = Cat(e.detail.empty() ? "" : e.detail + "; ", "part ", k + 1, " of ", parts);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

VersionList::VersionList(const std::vector<VersionRef>& refs) {
  reserve(refs.size());
  for (const VersionRef& r : refs) push_back(r);
}

VersionList::VersionList(std::initializer_list<VersionRef> refs) {
  for (const VersionRef& r : refs) push_back(r);
}

namespace {
// Whether `v` has a byte JSON text cannot hold as it is: a control byte, a quote, a backslash,
// or one outside printable ASCII (for the UTF-8 check). PERF: no early exit, so that the
// compiler tests 16 bytes at a time (an id is ~47 bytes).
bool NeedsEscaping(std::string_view v) {
  unsigned bad = 0;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    bad |= static_cast<unsigned>(c < 0x20) | static_cast<unsigned>(c >= 0x7f) |
           static_cast<unsigned>(c == '"') | static_cast<unsigned>(c == '\\');
  }
  return bad != 0;
}

// PERF: ids and timestamps are printable ASCII without quotes or backslashes: appended as they
// are, without the UTF-8 check and the escaper (BM_BuildEntry, bench/audit/append_bench.cc).
void AppendQuoted(std::string* out, std::string_view v) {
  if (NeedsEscaping(v)) {
    AppendText(out, v);
    return;
  }
  out->push_back('"');
  out->append(v);
  out->push_back('"');
}
}  // namespace

void VersionList::push_back(std::string_view id, std::string_view modified) {
  json_.append(n_++ ? ",[" : "[");
  AppendQuoted(&json_, id);
  json_.push_back(',');
  AppendQuoted(&json_, modified);
  json_.push_back(']');
}

void VersionList::push_back(std::string_view id, int64_t modified_us) {
  // PERF: the last timestamp formatted on this thread is kept; a page's objects often share
  // their `modified` (a feed's import, a MISP event).
  thread_local bool memo_set = false;
  thread_local int64_t memo_us = 0;
  thread_local std::string memo;
  if (!memo_set || modified_us != memo_us) {
    memo.clear();
    common::AppendTimestamp(modified_us, &memo);
    memo_us = modified_us;
    memo_set = true;
  }
  if (NeedsEscaping(id)) {
    push_back(id, std::string_view(memo));
    return;
  }
  json_.append(n_++ ? ",[\"" : "[\"");
  json_.append(id);
  json_.append("\",\"");
  json_.append(memo);
  json_.append("\"]");
}

std::vector<VersionRef> VersionList::Refs() const {
  std::vector<VersionRef> out;
  if (n_ == 0) return out;
  out.reserve(n_);
  // Written by push_back above: always a JSON array of string pairs.
  nlohmann::json j = nlohmann::json::parse("[" + json_ + "]", nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& p : j) out.push_back({p[0].get<std::string>(), p[1].get<std::string>()});
  return out;
}

// PERF: built by hand in one string (nlohmann's ordered_json took most of an append).
namespace {
// Appends the line of `e` (without a newline), with `seq`, `time` and `prev` in place of its
// own, to *out, and returns its hash.
std::string AppendLine(const Entry& e, uint64_t seq, std::string_view time, std::string_view prev,
                       std::string* out) {
  const size_t start = out->size();
  out->reserve(start + 256 + e.objects.json().size() + e.denied.json().size() +
               e.redacted.json().size());
  common::Append(out, "{\"seq\":", seq);
  AppendMember(out, "time", time);
  AppendMember(out, "actor", e.actor);
  AppendMember(out, "action", e.action);
  if (!e.exit.empty()) AppendMember(out, "exit", e.exit);
  AppendRefs(out, "objects", e.objects);
  if (!e.denied.empty()) AppendRefs(out, "denied", e.denied);
  if (!e.redacted.empty()) AppendRefs(out, "redacted", e.redacted);
  if (!e.peer.empty()) AppendMember(out, "peer", e.peer);
  if (!e.profile.empty()) AppendMember(out, "profile", e.profile);
  if (!e.collection.empty()) AppendMember(out, "collection", e.collection);
  if (!e.detail.empty()) AppendMember(out, "detail", e.detail);
  AppendMember(out, "prev", prev);
  out->push_back('}');
  std::string hash = Sha256Hex(std::string_view(*out).substr(start));
  out->pop_back();  // the closing brace
  common::Append(out, kHashMember, hash, "\"}");
  return hash;
}
}  // namespace

std::string Serialize(Entry* e) {
  std::string out;
  e->hash = AppendLine(*e, e->seq, e->time, e->prev, &out);
  return out;
}

bool ComputeHash(std::string_view line, std::string* computed, std::string* stated) {
  if (line.size() < kHashTail + 2 || line.substr(line.size() - 2) != "\"}") return false;
  const size_t at = line.size() - kHashTail;
  if (line.substr(at, kHashMember.size()) != kHashMember) return false;
  *stated = std::string(line.substr(at + kHashMember.size(), 64));
  std::string body(line.substr(0, at));
  body.push_back('}');
  *computed = Sha256Hex(body);
  return true;
}

bool Parse(std::string_view line, Entry* e, std::string* why) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "not a JSON object";
    return false;
  }
  auto str = [&](const char* k, std::string* out, bool required) {
    auto it = j.find(k);
    if (it == j.end()) return !required;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_unsigned()) {
    *why = "'seq' is missing or not a positive integer";
    return false;
  }
  *e = {};
  e->seq = seq->get<uint64_t>();
  if (!str("time", &e->time, true) || !str("actor", &e->actor, true) ||
      !str("action", &e->action, true) || !str("exit", &e->exit, false) ||
      !str("peer", &e->peer, false) || !str("profile", &e->profile, false) ||
      !str("collection", &e->collection, false) || !str("detail", &e->detail, false) ||
      !str("prev", &e->prev, true) || !str("hash", &e->hash, true)) {
    *why = "a required member (time, actor, action, prev, hash) is missing or not a string";
    return false;
  }
  auto objects = j.find("objects");
  if (objects == j.end() || !ParseRefs(*objects, &e->objects)) {
    *why = "'objects' must be an array of [id, modified] pairs";
    return false;
  }
  for (auto [k, v] : {std::pair{"denied", &e->denied}, std::pair{"redacted", &e->redacted}}) {
    auto it = j.find(k);
    if (it != j.end() && !ParseRefs(*it, v)) {
      *why = Cat("'", k, "' must be an array of [id, modified] pairs");
      return false;
    }
  }
  if (!IsHex64(e->prev) || !IsHex64(e->hash)) {
    *why = "'prev' and 'hash' must be 64 lower-case hex digits";
    return false;
  }
  return true;
}

Log::Log(std::string path, std::string head_path)
    : path_(std::move(path)), head_path_(std::move(head_path)) {}

Log::~Log() {
  {
    std::lock_guard<std::mutex> k(keeper_mu_);
    stopping_ = true;
  }
  keeper_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    EndLease();
  }
  if (fd_ >= 0) ::close(fd_);
  if (head_fd_ >= 0) ::close(head_fd_);
}

absl::StatusOr<std::unique_ptr<Log>> Log::Open(const std::string& data_dir, store::Store* store) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  if (store != nullptr && store->audit_log() != nullptr) {
    std::unique_ptr<Log> log(new Log("", ""));
    log->db_ = store->audit_log();
    ACCORD_ASSIGN_OR_RETURN(store::SchemaState schema, store->Schema());
    log->where_ = Cat(schema.location, " (audit_log)");
    return log;
  }
  return std::unique_ptr<Log>(new Log(data_dir + "/audit.log", data_dir + "/audit.head"));
}

absl::Status Log::OpenFile() {
  if (fd_ >= 0) return absl::OkStatus();
  fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("open", path_);
  return absl::OkStatus();
}

namespace {}  // namespace

// Holds an exclusive flock on `fd` for its lifetime.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while ((rc_ = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (rc_ == 0) ::flock(fd_, LOCK_UN);
  }
  bool ok() const { return rc_ == 0; }
  // The lock is kept when this goes (a lease: Log::EndLease lets it go).
  void Keep() { rc_ = -1; }

 private:
  int fd_;
  int rc_ = -1;
};

namespace {

// The last complete line of the file open at `fd`, whose size is `size`: read backwards in
// growing chunks (an entry may be megabytes long).
absl::StatusOr<std::string> LastLine(int fd, uint64_t size, const std::string& path) {
  if (size == 0) return std::string();
  uint64_t chunk = 64 << 10;
  while (true) {
    const uint64_t from = size > chunk ? size - chunk : 0;
    std::string buf(static_cast<size_t>(size - from), '\0');
    ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(from));
    if (r < 0) return Errno("read", path);
    buf.resize(static_cast<size_t>(r));
    if (!buf.empty() && buf.back() == '\n') buf.pop_back();
    size_t nl = buf.rfind('\n');
    if (nl != std::string::npos) return buf.substr(nl + 1);
    if (from == 0) return buf;
    if (chunk >= (uint64_t{256} << 20)) {
      return absl::DataLossError(Cat(path, ": the last entry is longer than 256 MiB"));
    }
    chunk *= 4;
  }
}

}  // namespace

absl::StatusOr<Head> Log::HeadLocked() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Errno("stat", path_);
  if (st.st_nlink == 0) {
    // A purge (DropThrough) renamed a shorter log over this one while we waited for the lock.
    return absl::AbortedError(Cat(path_, ": replaced"));
  }
  Head h;
  h.size = static_cast<uint64_t>(st.st_size);
  // PERF: nobody appended since this process did: no file to read (a page's entry, each).
  if (cached_valid_ && cached_.size == h.size) return cached_;
  // The head file is a hint with the size it was written at; the log itself decides.
  bool present = false;
  auto hint = ReadHeadFile(head_path_, &present);
  if (hint.ok() && present) {
    // "SEQ HASH SIZE": ReadHeadFile keeps the size in `source`.
    uint64_t size = 0;
    if (absl::SimpleAtoi(hint->source, &size) && size == h.size) {
      h.seq = hint->seq;
      h.hash = hint->hash;
      return h;
    }
  }
  ACCORD_ASSIGN_OR_RETURN(std::string last, LastLine(fd_, h.size, path_));
  if (last.empty()) return h;
  Entry e;
  std::string why;
  if (!Parse(last, &e, &why)) {
    return absl::DataLossError(
        Cat(path_, ": the last entry does not parse (", why, "); run `accord audit verify`"));
  }
  h.seq = e.seq;
  h.hash = e.hash;
  return h;
}

void Log::CloseFile() {
  EndLease();
  if (fd_ >= 0) ::close(fd_);  // releases this descriptor's flock
  fd_ = -1;
  cached_valid_ = false;
}

// Opens and locks the log, and reads its head; when a purge replaced the file meanwhile, the
// new one is opened and locked instead (the caller's lock is then on it).
absl::StatusOr<Head> Log::LockAndHead(std::optional<FileLock>* lock) {
  for (int attempt = 0;; ++attempt) {
    ACCORD_RETURN_IF_ERROR(OpenFile());
    lock->emplace(fd_);
    if (!(*lock)->ok()) return Errno("lock", path_);
    absl::StatusOr<Head> h = HeadLocked();
    if (h.ok() || h.status().code() != absl::StatusCode::kAborted || attempt > 100) return h;
    lock->reset();
    CloseFile();
  }
}

namespace {
// Lease. A busy server appends an entry per TAXII page, thousands a second, and each batch
// took the lock and read the file's size: three system calls (flock twice, fstat), about a
// third of what a batch costs on a VM where a system call takes ~1 us (docs/PERFORMANCE.md).
// So the lock is kept after a batch, for kLeaseUs: batches within the lease take no lock and
// read no size, since no other process can have appended while this one held the lock, and
// this process's appends go through mu_ and cached_. When the lease is over the lock goes:
// the first batch after its end lets it go, and keeper_ does when no batch came (it never
// waits for mu_: a batch being written ends the lease itself). No lease starts for
// kLeaseGapUs after one, while batches lock one at a time as before: another process waiting
// for the lock gets it between two of them, after about kLeaseUs. A process that dies holding
// a lease loses the lock with its descriptor.
constexpr int64_t kLeaseUs = 5000;
constexpr int64_t kLeaseGapUs = 1000;
}  // namespace

absl::StatusOr<Head> Log::LockedHead(std::optional<FileLock>* lock) {
  const int64_t lease_end = lease_end_us_.load(std::memory_order_relaxed);
  if (lease_end != 0 && cached_valid_ && common::SteadyMicros() < lease_end) {
    return cached_;
  }
  EndLease();
  return LockAndHead(lock);
}

void Log::MaybeLease(std::optional<FileLock>* lock) {
  if (leased() || !*lock || !(*lock)->ok()) return;
  const int64_t now = common::SteadyMicros();
  if (now < next_lease_us_) return;
  std::lock_guard<std::mutex> k(keeper_mu_);  // once a lease: the keeper must not miss it
  if (stopping_) return;
  if (!keeper_.joinable()) {
    try {
      keeper_ = std::thread([this] { KeepLeases(); });
    } catch (const std::system_error&) {
      return;  // no thread to end it: no lease
    }
  }
  (*lock)->Keep();
  lock->reset();
  lease_end_us_.store(now + kLeaseUs, std::memory_order_relaxed);
  keeper_cv_.notify_one();
}

void Log::EndLease() {
  if (!leased()) return;
  ::flock(fd_, LOCK_UN);
  lease_end_us_.store(0, std::memory_order_relaxed);
  next_lease_us_ = common::SteadyMicros() + kLeaseGapUs;
}

void Log::KeepLeases() {
  std::unique_lock<std::mutex> k(keeper_mu_);
  while (!stopping_) {
    const int64_t end = lease_end_us_.load(std::memory_order_relaxed);
    if (end == 0) {
      keeper_cv_.wait(k);
      continue;
    }
    const int64_t left = end - common::SteadyMicros();
    if (left > 0) {
      keeper_cv_.wait_for(k, std::chrono::microseconds(left));
      continue;
    }
    // Over: end it, unless a batch is being written (the next one ends it); then look again
    // a little later, in case that batch was the last.
    std::unique_lock<std::mutex> l(mu_, std::try_to_lock);
    if (l.owns_lock() && leased() &&
        common::SteadyMicros() >= lease_end_us_.load(std::memory_order_relaxed)) {
      EndLease();
    } else if (!l.owns_lock()) {
      keeper_cv_.wait_for(k, std::chrono::microseconds(kLeaseGapUs));
    }
  }
}

absl::StatusOr<Head> Log::ReadHead() {
  if (in_store()) {
    ACCORD_ASSIGN_OR_RETURN(auto last, db_->Last());
    Head h;
    h.seq = last.first;
    if (!last.second.empty()) h.hash = last.second;
    return h;
  }
  std::lock_guard<std::mutex> l(mu_);
  std::optional<FileLock> lock;
  return LockedHead(&lock);
}

absl::StatusOr<uint64_t> Log::DropThrough(uint64_t seq, const std::string& hash) {
  if (in_store()) return db_->DropThrough(seq, hash);
  std::lock_guard<std::mutex> l(mu_);
  std::optional<FileLock> lock;
  ACCORD_ASSIGN_OR_RETURN(Head head, LockedHead(&lock));
  if (seq >= head.seq) {
    return absl::FailedPreconditionError(
        Cat(path_, ": entry ", seq, " is not before the last (", head.seq, "): nothing after it"));
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Errno("open", path_);
  const std::string tmp = path_ + ".purge";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) return Errno("create", tmp);
  ::fchmod(::fileno(out), 0600);
  uint64_t dropped = 0;
  bool found = false;
  absl::Status st;
  for (std::string line; std::getline(in, line);) {
    uint64_t n = 0;
    constexpr std::string_view kSeq = "{\"seq\":";
    const size_t comma = line.find(',');
    if (line.compare(0, kSeq.size(), kSeq) != 0 || comma == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(line).substr(kSeq.size(), comma - kSeq.size()), &n)) {
      st = absl::DataLossError(Cat(path_, ": a line without its seq; run `accord audit verify`"));
      break;
    }
    if (n < seq) {
      ++dropped;
      continue;
    }
    if (n == seq) {
      std::string computed, stated;
      if (!ComputeHash(line, &computed, &stated) || computed != hash || stated != hash) {
        st = absl::FailedPreconditionError(Cat(path_, ": entry ", seq,
                                               " does not have the checkpoint's hash; nothing "
                                               "was purged (run `accord audit verify`)"));
        break;
      }
      found = true;
      ++dropped;
      continue;
    }
    if (!found) {
      st = absl::FailedPreconditionError(
          Cat(path_, ": entry ", seq, " is not in the log (purged already?)"));
      break;
    }
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      st = Errno("write", tmp);
      break;
    }
  }
  if (st.ok() && !found)
    st = absl::FailedPreconditionError(Cat(path_, ": entry ", seq, " is not in the log"));
  if (st.ok() && (std::fflush(out) != 0 || ::fsync(::fileno(out)) != 0)) st = Errno("sync", tmp);
  std::fclose(out);
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return st;
  }
  // The rename is the purge: before it the old log is whole, after it the new one is. Other
  // appenders wait on the old file's lock, then find it unlinked and move to the new one.
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Errno("rename", tmp);
  }
  const std::string dir = std::filesystem::path(path_).parent_path().string();
  if (int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  lock.reset();
  CloseFile();
  return dropped;
}

absl::StatusOr<uint64_t> Log::Append(Entry e) {
  absl::StatusOr<uint64_t> result = absl::UnknownError("not written");
  bool written = false;
  AppendAsync(std::move(e), [&](absl::StatusOr<uint64_t> r) {
    std::lock_guard<std::mutex> l(batch_mu_);
    result = std::move(r);
    written = true;
    batch_cv_.notify_all();
  });
  std::unique_lock<std::mutex> l(batch_mu_);
  batch_cv_.wait(l, [&] { return written; });
  return result;
}

void Log::AppendAsync(Entry e, Done done) {
  std::unique_lock<std::mutex> l(batch_mu_);
  queue_.push_back(Pending{std::move(e), std::move(done)});
  if (flushing_) return;  // the appender writing now writes this one next
  // No batch in flight: this appender writes every entry waiting, its own first, and then
  // those that arrived meanwhile, until none is left.
  flushing_ = true;
  while (!queue_.empty()) {
    std::vector<Pending> batch;
    batch.swap(queue_);
    l.unlock();
    std::vector<absl::StatusOr<uint64_t>> results;
    // A batch that cannot be built fails, and the loop goes on: flushing_ must be reset.
    try {
      results = in_store() ? FlushToStore(batch) : WriteBatch(batch);
    } catch (const std::bad_alloc&) {
      results.assign(batch.size(),
                     absl::ResourceExhaustedError(Cat(where(), ": out of memory for an entry")));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      // Another appender's continuation: whatever it throws stays there.
      try {
        batch[i].done(std::move(results[i]));
      } catch (...) {  // NOLINT(bugprone-empty-catch)
      }
    }
    batch.clear();
    l.lock();
  }
  flushing_ = false;
}

std::vector<absl::StatusOr<uint64_t>> Log::FlushToStore(std::vector<Pending>& batch) {
  std::vector<uint64_t> last(batch.size());
  absl::StatusOr<uint64_t> st = db_->Append([&](uint64_t seq, const std::string& hash) {
    std::vector<store::AuditRow> rows;
    std::string prev = hash.empty() ? kGenesis : hash;
    const std::string now = common::FormatTimestamp(common::NowMicros());
    for (size_t i = 0; i < batch.size(); ++i) {
      // Copied: `make` runs again when another process appended first.
      for (Entry& part : Split(batch[i].entry)) {
        part.seq = ++seq;
        part.time = now;
        part.prev = prev;
        std::string line = Serialize(&part);
        prev = part.hash;
        rows.push_back({part.seq, part.hash, std::move(line)});
      }
      last[i] = seq;
    }
    return absl::StatusOr<std::vector<store::AuditRow>>(std::move(rows));
  });
  std::vector<absl::StatusOr<uint64_t>> results;
  results.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    results.push_back(st.ok() ? absl::StatusOr<uint64_t>(last[i]) : st.status());
  }
  return results;
}

std::vector<absl::StatusOr<uint64_t>> Log::WriteBatch(std::vector<Pending>& batch) {
  std::lock_guard<std::mutex> l(mu_);
  std::optional<FileLock> lock;
  absl::StatusOr<Head> head = LockedHead(&lock);
  if (!head.ok()) return std::vector<absl::StatusOr<uint64_t>>(batch.size(), head.status());
  Head h = *std::move(head);
  // PERF: the lines are built in a buffer kept from append to append, from the entries as
  // they are (a TAXII page's entry is ~9 KB, and was copied twice on its way to write(2)),
  // and the batch goes out in one write, with one lock and one head record for all of it.
  lines_.clear();
  const std::string now = common::FormatTimestamp(common::NowMicros());
  const uint64_t size = h.size;
  auto add = [&](const Entry& part) {
    h.hash = AppendLine(part, ++h.seq, now, h.hash, &lines_);
    lines_.push_back('\n');
  };
  std::vector<uint64_t> last(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Entry& e = batch[i].entry;
    if (std::max({e.objects.size(), e.denied.size(), e.redacted.size()}) <= kMaxVersionsPerEntry) {
      add(e);
    } else {
      for (const Entry& part : Split(std::move(e))) add(part);
    }
    last[i] = h.seq;
  }
  const absl::Status written = WriteLocked(lines_, size, &h);
  if (written.ok()) MaybeLease(&lock);
  if (lines_.capacity() > (1u << 20)) std::string().swap(lines_);  // after a huge one
  std::vector<absl::StatusOr<uint64_t>> results;
  results.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    results.push_back(written.ok() ? absl::StatusOr<uint64_t>(last[i]) : written);
  }
  return results;
}

absl::Status Log::AppendCopied(const std::vector<store::AuditRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  auto follows = [&](uint64_t seq, bool empty) -> absl::Status {
    for (size_t i = 0; i < rows.size(); ++i) {
      if ((i > 0 || !empty) && rows[i].seq != seq + 1) {
        return absl::FailedPreconditionError(
            Cat(where(), ": copied entry ", rows[i].seq, " does not follow entry ", seq));
      }
      seq = rows[i].seq;
    }
    return absl::OkStatus();
  };
  if (in_store()) {
    return db_
        ->Append(
            [&](uint64_t seq, const std::string&) -> absl::StatusOr<std::vector<store::AuditRow>> {
              ACCORD_RETURN_IF_ERROR(follows(seq, seq == 0));
              return rows;
            })
        .status();
  }
  std::lock_guard<std::mutex> l(mu_);
  std::optional<FileLock> lock;
  ACCORD_ASSIGN_OR_RETURN(Head h, LockedHead(&lock));
  ACCORD_RETURN_IF_ERROR(follows(h.seq, h.size == 0));
  std::string lines;
  for (const store::AuditRow& r : rows) {
    lines += r.line;
    lines.push_back('\n');
  }
  const uint64_t size = h.size;
  h.seq = rows.back().seq;
  h.hash = rows.back().hash;
  return WriteLocked(lines, size, &h);
}

absl::Status Log::WriteLocked(const std::string& lines, uint64_t size, Head* h) {
  // One write: with O_APPEND, under the lock, the entries land whole and in order. A write
  // that fails part way (a full disk) is cut back off, so the log never ends in a torn line.
  size_t done = 0;
  while (done < lines.size()) {
    ssize_t w = ::write(fd_, lines.data() + done, lines.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int err = errno;
      // Cut back to where this batch began: the end less what landed (the lock is held; under
      // a lease `size` is this process's own record of the end, the file's is the truth).
      struct stat st {};
      const bool cut =
          done == 0 || (::fstat(fd_, &st) == 0 && st.st_size >= static_cast<off_t>(done) &&
                        ::ftruncate(fd_, st.st_size - static_cast<off_t>(done)) == 0);
      const int cut_err = errno;
      // The next batch reads the head again, under a lock of its own.
      cached_valid_ = false;
      EndLease();
      if (!cut) {
        errno = cut_err;
        return Errno("cut back a partial entry", path_);
      }
      errno = err;
      if (err == ENOSPC || err == EDQUOT) {
        // "disk full" first: the servers answer 507 with Retry-After (taxii/service.cc).
        return absl::ResourceExhaustedError(
            Cat("disk full: ", path_, ": the audit entry could not be written"));
      }
      return Errno("write", path_);
    }
    done += static_cast<size_t>(w);
  }
  h->size = size + lines.size();
  cached_ = *h;
  cached_valid_ = true;
  // The head: one fixed-length record rewritten in place (not fsynced; a stale head is re-read
  // from the log). When it cannot be written it is removed: a missing head is valid, a torn
  // one is not.
  char head[128];
  const int n = std::snprintf(head, sizeof head, "%020llu %s %020llu\n",
                              static_cast<unsigned long long>(h->seq), h->hash.c_str(),
                              static_cast<unsigned long long>(h->size));
  if (head_fd_ < 0) head_fd_ = ::open(head_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  bool written = head_fd_ >= 0 && ::pwrite(head_fd_, head, static_cast<size_t>(n), 0) == n;
  if (written && !head_sized_) written = head_sized_ = ::ftruncate(head_fd_, n) == 0;
  if (!written) {
    ::unlink(head_path_.c_str());
    if (head_fd_ >= 0) ::close(head_fd_);
    head_fd_ = -1;
    head_sized_ = false;
  }
  return absl::OkStatus();
}

absl::Status Log::Sync() {
  // In the store each append is committed (without waiting for the WAL, pg_audit.cc); the
  // checkpoint that follows is stored by a synchronous commit, which flushes the WAL up to it.
  if (in_store()) return absl::OkStatus();
  std::lock_guard<std::mutex> l(mu_);
  ACCORD_RETURN_IF_ERROR(OpenFile());
  if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
  return absl::OkStatus();
}

absl::StatusOr<Anchor> ReadHeadFile(const std::string& head_path, bool* present) {
  *present = false;
  struct stat st {};
  if (::stat(head_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Anchor{0, kGenesis, "0"};
    return Errno("stat", head_path);
  }
  ACCORD_ASSIGN_OR_RETURN(std::string text, common::ReadFile(head_path, 4096));
  std::vector<std::string> parts = absl::StrSplit(text, ' ', absl::SkipWhitespace());
  Anchor a;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &a.seq) || !IsHex64(parts[1])) {
    return absl::DataLossError(Cat(head_path, ": not \"SEQ HASH SIZE\""));
  }
  a.hash = parts[1];
  a.source = std::string(absl::StripAsciiWhitespace(parts[2]));
  *present = true;
  return a;
}

namespace {

// Calls f(line, line number, too long) for each line of the file at `path` (none when it does
// not exist) until f returns false. Lines are bounded at 256 MiB, never buffered past that.
absl::Status ForEachLine(const std::string& path,
                         const std::function<bool(std::string_view, uint64_t, bool)>& f) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("stat", path);
  }
  ACCORD_ASSIGN_OR_RETURN(auto in, common::InputStream::Open(path));
  common::LineReader lines(std::move(in), 256u << 20);
  std::string_view line;
  uint64_t no = 0;
  bool too_long = false;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool more, lines.Next(&line, &no, &too_long));
    if (!more || !f(line, no, too_long)) return absl::OkStatus();
  }
}

// Calls f(line, row number, false) for each row of the log in `db`, in order, until f returns
// false: the store's counterpart of ForEachLine.
absl::Status ForEachRow(store::AuditStore* db,
                        const std::function<bool(std::string_view, uint64_t, bool)>& f) {
  constexpr uint64_t kPage = 1000;
  uint64_t after = 0, no = 0;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, db->Read(after, kPage));
    for (const store::AuditRow& r : rows) {
      if (!f(r.line, ++no, false)) return absl::OkStatus();
      after = r.seq;
    }
    if (rows.size() < kPage) return absl::OkStatus();
  }
}

using LineSource =
    std::function<absl::Status(const std::function<bool(std::string_view, uint64_t, bool)>&)>;

absl::Status ForEachEntry(const LineSource& lines, const std::function<bool(const Entry&)>& f) {
  Entry e;
  std::string why;
  return lines([&](std::string_view line, uint64_t, bool too_long) {
    if (too_long || !Parse(line, &e, &why)) return true;
    return f(e);
  });
}

absl::StatusOr<VerifyReport> VerifyLines(const LineSource& lines, std::vector<Anchor> anchors);

}  // namespace

absl::Status ForEach(const std::string& path, const std::function<bool(const Entry&)>& f) {
  return ForEachEntry([&](const auto& g) { return ForEachLine(path, g); }, f);
}

absl::StatusOr<VerifyReport> Verify(const std::string& path, std::vector<Anchor> anchors) {
  return VerifyLines([&](const auto& g) { return ForEachLine(path, g); }, std::move(anchors));
}

absl::Status Log::Lines(const std::function<bool(std::string_view, uint64_t, bool)>& f) {
  return in_store() ? ForEachRow(db_, f) : ForEachLine(path_, f);
}

absl::Status Log::ForEach(const std::function<bool(const Entry&)>& f) {
  return ForEachEntry([&](const auto& g) { return Lines(g); }, f);
}

absl::StatusOr<VerifyReport> Log::Verify(std::vector<Anchor> anchors) {
  return VerifyLines([&](const auto& g) { return Lines(g); }, std::move(anchors));
}

absl::StatusOr<uint64_t> CopyLog(Log& from, Log& to) {
  constexpr size_t kBatch = 1000;
  std::vector<store::AuditRow> batch;
  uint64_t copied = 0;
  absl::Status st;
  Entry e;
  std::string why;
  auto flush = [&] {
    st = to.AppendCopied(batch);
    copied += st.ok() ? batch.size() : 0;
    batch.clear();
    return st.ok();
  };
  ACCORD_RETURN_IF_ERROR(from.Lines([&](std::string_view line, uint64_t no, bool too_long) {
    if (too_long || !Parse(line, &e, &why)) {
      st = absl::DataLossError(Cat(from.where(), ":", no, ": not an audit entry (",
                                   too_long ? "too long" : why,
                                   "); nothing after it was copied (run `accord audit verify`)"));
      return false;
    }
    batch.push_back({e.seq, e.hash, std::string(line)});
    return batch.size() < kBatch || flush();
  }));
  if (st.ok() && !batch.empty()) flush();
  ACCORD_RETURN_IF_ERROR(st);
  return copied;
}

absl::Status VerifyLogCopy(Log& from, Log& to) {
  // Each log is read once, as a stream: the SHA-256 of `from`'s lines against that of as many
  // of `to`'s first lines (a copy that has gone on appending still begins with its source).
  struct Digest {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
    uint64_t lines = 0;
    Digest() { EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr); }
    void Add(std::string_view line) {
      EVP_DigestUpdate(ctx.get(), line.data(), line.size());
      EVP_DigestUpdate(ctx.get(), "\n", 1);
      ++lines;
    }
    std::string Final() {
      unsigned char h[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      EVP_DigestFinal_ex(ctx.get(), h, &n);
      return std::string(reinterpret_cast<const char*>(h), n);
    }
  };
  Digest a, b;
  ACCORD_RETURN_IF_ERROR(from.Lines([&](std::string_view line, uint64_t, bool) {
    a.Add(line);
    return true;
  }));
  ACCORD_RETURN_IF_ERROR(to.Lines([&](std::string_view line, uint64_t, bool) {
    if (b.lines == a.lines) return false;
    b.Add(line);
    return true;
  }));
  if (b.lines < a.lines) {
    return absl::DataLossError(
        Cat(to.where(), " holds ", b.lines, " audit entries, ", from.where(), " ", a.lines));
  }
  if (a.Final() != b.Final()) {
    return absl::DataLossError(Cat("the first ", a.lines, " audit entries of ", to.where(),
                                   " differ from those of ", from.where()));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<VerifyReport> VerifyLines(const LineSource& lines, std::vector<Anchor> anchors) {
  std::sort(anchors.begin(), anchors.end(),
            [](const Anchor& a, const Anchor& b) { return a.seq < b.seq; });
  VerifyReport r;
  auto fail = [&](uint64_t seq, uint64_t line, std::string problem) {
    r.ok = false;
    r.first_bad = seq;
    r.line = line;
    r.problem = std::move(problem);
    return false;
  };
  size_t next_anchor = 0;
  uint64_t expect = 0;  // the seq the next entry must have; 0 until the first entry
  std::string prev;
  Entry e;
  std::string why, computed, stated;
  // One entry: false (with `r` failed) at the first that does not verify.
  auto check = [&](std::string_view line, uint64_t no, bool too_long) -> bool {
    const uint64_t here = expect == 0 ? 1 : expect;
    if (too_long) return fail(here, no, "the entry is longer than 256 MiB");
    if (!Parse(line, &e, &why)) return fail(here, no, Cat("not an audit entry: ", why));
    if (!ComputeHash(line, &computed, &stated) || computed != e.hash) {
      return fail(here, no, Cat("seq ", here, ": its hash does not match its content (edited)"));
    }
    if (expect == 0) {
      // The first entry: seq 1 after the genesis, or right after an anchor (purged prefix).
      if (e.seq == 1) {
        if (e.prev != kGenesis) return fail(1, no, "seq 1 does not start from the genesis");
      } else {
        bool anchored = false;
        for (const Anchor& a : anchors) {
          if (a.seq + 1 == e.seq && a.hash == e.prev) anchored = true;
        }
        if (!anchored) {
          return fail(1, no,
                      Cat("the log starts at seq ", e.seq,
                          ", and no checkpoint vouches for what came before (deleted at the "
                          "head)"));
        }
      }
      r.first_seq = e.seq;
    } else if (e.seq != expect) {
      return fail(expect, no,
                  e.seq > expect ? Cat("seq ", expect, " is missing: seq ", e.seq, " follows seq ",
                                       expect - 1, " (deleted)")
                                 : Cat("seq ", e.seq, " comes after seq ", expect - 1,
                                       " (reordered or repeated)"));
    } else if (e.prev != prev) {
      return fail(expect, no, Cat("seq ", e.seq, " does not chain to seq ", expect - 1));
    }
    while (next_anchor < anchors.size() && anchors[next_anchor].seq <= e.seq) {
      const Anchor& a = anchors[next_anchor++];
      if (a.seq < r.first_seq) continue;  // before a purged prefix
      if (a.seq < e.seq) {
        return fail(a.seq, no, Cat(a.source, " names seq ", a.seq, ", which is not in the log"));
      }
      if (a.hash != e.hash) {
        return fail(e.seq, no,
                    Cat("seq ", e.seq, " is not the entry ", a.source, " vouches for (rewritten)"));
      }
      ++r.checkpoints;
    }
    prev = e.hash;
    expect = e.seq + 1;
    ++r.entries;
    r.last_seq = e.seq;
    r.last_hash = e.hash;
    return true;
  };
  ACCORD_RETURN_IF_ERROR(lines(check));
  if (!r.ok) return r;
  for (; next_anchor < anchors.size(); ++next_anchor) {
    const Anchor& a = anchors[next_anchor];
    if (a.seq == 0) continue;
    fail(r.last_seq + 1, 0,
         Cat("the log ends at seq ", r.last_seq, " but ", a.source, " names seq ", a.seq,
             " (entries deleted at the tail)"));
    return r;
  }
  return r;
}

}  // namespace

}  // namespace accord::audit
