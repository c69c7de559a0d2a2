// Telemetry readers (docs/MATCH_INPUTS.md has the field -> SCO mappings): the shared parts.
// Format detection and EventReader::Open, the SCO helpers of readers_internal.h and the STIX
// reader. The formats themselves: zeek.cc (Zeek TSV and JSON), suricata_eve.cc (Suricata EVE),
// json_mapped.cc (generic JSON lines with a mapping), stix_input.cc (STIX observed-data).
#include <cstring>

#include "accord/common/strings.h"
#include "accord/match/input.h"
#include "match/input/readers_internal.h"

namespace accord::match {

namespace {

bool IsIpv6(std::string_view a) { return a.find(':') != std::string_view::npos; }

// ---- STIX
// ----------------------------------------------------------------------------------------

constexpr uint64_t kMaxStixInputBytes = 1ull << 30;

class StixReader final : public EventReader {
 public:
  StixReader(std::unique_ptr<common::InputStream> in, std::string source, MalformedSink sink)
      : in_(std::move(in)), source_(std::move(source)), sink_(std::move(sink)) {}
  const ReaderStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(Observation* o) override {
    if (!loaded_) {
      ACCORD_RETURN_IF_ERROR(Load());
      loaded_ = true;
    }
    if (next_ >= obs_.size()) return false;
    *o = std::move(obs_[next_++]);
    ++stats_.events;
    return true;
  }

 private:
  absl::Status Load() {
    std::string data;
    char buf[1 << 16];
    for (;;) {
      ACCORD_ASSIGN_OR_RETURN(size_t n, in_->Read(buf, sizeof buf));
      if (n == 0) break;
      data.append(buf, n);
      // The same bound as a STIX document given to `accord import` (stix::ReaderOptions).
      if (data.size() > kMaxStixInputBytes) {
        return absl::ResourceExhaustedError(
            common::Cat(source_, ": STIX input larger than ", kMaxStixInputBytes,
                        " bytes; split it into JSON lines (one bundle or observed-data per line)"));
      }
    }
    // One document (bundle, object, array), else JSON lines.
    if (ObservationsFromStix(data, &obs_).ok()) {
      stats_.records = 1;
      return absl::OkStatus();
    }
    obs_.clear();
    size_t start = 0;
    uint64_t line_no = 0;
    while (start < data.size()) {
      size_t e = data.find('\n', start);
      if (e == std::string::npos) e = data.size();
      std::string_view line(data.data() + start, e - start);
      ++line_no;
      start = e + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++stats_.records;
      absl::Status st = ObservationsFromStix(line, &obs_);
      if (!st.ok()) {
        ++stats_.malformed;
        if (sink_)
          sink_(source_ + ":" + std::to_string(line_no),
                std::string_view(st.message().data(), st.message().size()));
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<common::InputStream> in_;
  std::string source_;
  MalformedSink sink_;
  ReaderStats stats_;
  bool loaded_ = false;
  std::vector<Observation> obs_;
  size_t next_ = 0;
};

// Peeks at the beginning of a stream without losing it.
class PeekStream final : public common::InputStream {
 public:
  PeekStream(std::unique_ptr<common::InputStream> in, std::string head)
      : in_(std::move(in)), head_(std::move(head)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return in_->Read(buf, n);
  }

 private:
  std::unique_ptr<common::InputStream> in_;
  std::string head_;
  size_t pos_ = 0;
};

}  // namespace

namespace detail {

// An SCO {"type": type, "value": value}, referable as `id`.
void AddValueSco(Observation* o, std::string_view type, std::string_view value,
                 std::string_view id) {
  o->Open();
  o->AddString("type", type);
  o->AddString("value", value);
  o->AddSco(o->Close(Node::Kind::kObject), type, id);
}

void AddIpSco(Observation* o, std::string_view value, std::string_view id) {
  AddValueSco(o, IsIpv6(value) ? "ipv6-addr" : "ipv4-addr", value, id);
}

}  // namespace detail

absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name) {
  if (name == "zeek") return InputFormat::kZeek;
  if (name == "suricata" || name == "eve") return InputFormat::kSuricata;
  if (name == "stix") return InputFormat::kStix;
  if (name == "jsonl" || name == "json") return InputFormat::kJsonl;
  if (name == "auto" || name.empty()) return InputFormat::kAuto;
  return absl::InvalidArgumentError("unknown input format '" + std::string(name) +
                                    "' (zeek, suricata, stix, jsonl, auto)");
}

absl::StatusOr<std::unique_ptr<EventReader>> EventReader::Open(
    // NOLINTNEXTLINE(performance-unnecessary-value-param): the public signature (input.h).
    InputFormat format, std::unique_ptr<common::InputStream> in, std::string source,
    const FieldMapping* mapping, MalformedSink on_malformed) {
  if (format == InputFormat::kAuto) {
    std::string head;
    char buf[4096];
    while (head.size() < 4096) {
      ACCORD_ASSIGN_OR_RETURN(size_t n, in->Read(buf, sizeof buf));
      if (n == 0) break;
      head.append(buf, n);
    }
    in = std::make_unique<PeekStream>(std::move(in), head);
    std::string_view h = head;
    size_t first = h.find_first_not_of(" \t\r\n");
    if (mapping) {
      format = InputFormat::kJsonl;
    } else if (first != std::string_view::npos && h[first] == '#') {
      format = InputFormat::kZeek;
    } else if (h.find("\"event_type\"") != std::string_view::npos) {
      format = InputFormat::kSuricata;
    } else if (h.find("\"observed-data\"") != std::string_view::npos ||
               h.find("\"bundle\"") != std::string_view::npos) {
      format = InputFormat::kStix;
    } else {
      format = InputFormat::kZeek;  // Zeek JSON
    }
  }
  switch (format) {
    case InputFormat::kZeek:
      return detail::NewZeekReader(std::move(in), source, std::move(on_malformed));
    case InputFormat::kSuricata:
      return detail::NewEveReader(std::move(in), source, std::move(on_malformed));
    case InputFormat::kStix:
      return std::unique_ptr<EventReader>(
          std::make_unique<StixReader>(std::move(in), source, std::move(on_malformed)));
    case InputFormat::kJsonl:
      if (!mapping) return absl::InvalidArgumentError("--input-format jsonl needs --mapping FILE");
      return detail::NewMappedJsonReader(std::move(in), source, std::move(on_malformed), *mapping);
    case InputFormat::kAuto: break;
  }
  return absl::InternalError("unreachable");
}

}  // namespace accord::match
