// AsJsonLines: JSON lines, a JSON array, or pretty-printed JSON, as JSON lines.
#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "accord/common/json_stream.h"
#include "match/input/readers_internal.h"

namespace accord::match::detail {
namespace {

// Each element of an array (or each top-level value) minified, one per line. A framing error
// ends the stream with that error (it names the source, byte offset and element index).
class ElementLines final : public common::InputStream {
 public:
  ElementLines(std::unique_ptr<common::InputStream> in, const std::string& source)
      : reader_(std::move(in), source) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (pos_ >= out_.size()) {
      common::JsonElement el;
      ACCORD_ASSIGN_OR_RETURN(bool more, reader_.Next(&el));
      if (!more) return 0;
      out_.resize(el.bytes.size() + 1);
      size_t len = 0;
      if (simdjson::minify(el.bytes.data(), el.bytes.size(), out_.data(), len) !=
          simdjson::SUCCESS) {
        // Kept as it is, its newlines blanked, so that the line reader reports it malformed.
        out_.assign(el.bytes);
        std::replace(out_.begin(), out_.end(), '\n', ' ');
        len = out_.size();
      }
      out_.resize(len);
      out_.push_back('\n');
      pos_ = 0;
    }
    size_t k = std::min(n, out_.size() - pos_);
    std::memcpy(buf, out_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  common::JsonStreamReader reader_;
  std::string out_;
  size_t pos_ = 0;
};

// Decides on the first Read (so that opening never fails) and then reads through.
class Detecting final : public common::InputStream {
 public:
  Detecting(std::unique_ptr<common::InputStream> in, std::string source)
      : in_(std::move(in)), source_(std::move(source)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!out_) ACCORD_RETURN_IF_ERROR(Detect());
    return out_->Read(buf, n);
  }

 private:
  absl::Status Detect() {
    // Up to the first newline after the first non-blank byte (at most 64 KiB).
    std::string head;
    char buf[4096];
    size_t first = std::string::npos;
    while (head.size() < (64u << 10)) {
      ACCORD_ASSIGN_OR_RETURN(size_t r, in_->Read(buf, sizeof buf));
      if (r == 0) break;
      head.append(buf, r);
      if (first == std::string::npos) first = head.find_first_not_of(" \t\r\n");
      if (first != std::string::npos && head.find('\n', first) != std::string::npos) break;
    }
    bool reframe = false;
    if (first != std::string::npos) {
      if (head[first] == '[') {
        reframe = true;
      } else if (head[first] == '{') {
        // Pretty-printed when the first line is not a complete JSON value by itself.
        size_t nl = head.find('\n', first);
        if (nl != std::string::npos) {
          simdjson::dom::parser p;
          simdjson::dom::element e;
          reframe = p.parse(head.data() + first, nl - first, true).get(e) != simdjson::SUCCESS;
        }
      }
    }
    out_ = common::InputStream::Prefixed(std::move(head), std::move(in_));
    if (reframe) out_ = std::make_unique<ElementLines>(std::move(out_), source_);
    return absl::OkStatus();
  }

  std::unique_ptr<common::InputStream> in_;
  std::string source_;
  std::unique_ptr<common::InputStream> out_;
};

}  // namespace

std::unique_ptr<common::InputStream> AsJsonLines(std::unique_ptr<common::InputStream> in,
                                                 const std::string& source) {
  return std::make_unique<Detecting>(std::move(in), source);
}

}  // namespace accord::match::detail
