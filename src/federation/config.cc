#include "accord/federation/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>

#include "accord/common/io.h"
#include "accord/common/strings.h"

namespace accord::federation {

namespace {

// The document, or InvalidArgument with path:line:column.
absl::StatusOr<toml::table> ParseToml(std::string_view text, std::string_view path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(path, ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
}

}  // namespace

absl::StatusOr<FederationConfig> LoadFederationConfig(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "accord.toml").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return FederationConfig();
  ACCORD_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
  return ParseFederationConfig(text, path);
}

absl::StatusOr<std::string> ConfiguredStoreUrl(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "accord.toml").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::string();
  ACCORD_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
  ACCORD_ASSIGN_OR_RETURN(toml::table doc, ParseToml(text, path));
  const toml::node* url = doc["store"]["url"].node();
  if (url == nullptr) return std::string();
  const auto* s = url->as_string();
  if (s == nullptr ||
      (s->get().rfind("postgresql://", 0) != 0 && s->get().rfind("postgres://", 0) != 0)) {
    return absl::InvalidArgumentError(
        common::Cat(path, ":", url->source().begin.line, ":", url->source().begin.column,
                    ": [store] url must be a postgresql:// URL (docs/SCALE_OUT.md)"));
  }
  return std::string(s->get());
}

absl::StatusOr<FederationConfig> ParseFederationConfig(std::string_view toml_text,
                                                       std::string_view path) {
  FederationConfig c;
  ACCORD_ASSIGN_OR_RETURN(toml::table doc, ParseToml(toml_text, path));
  const toml::table* t = doc["federation"].as_table();
  if (t == nullptr) return c;
  auto at = [&](const toml::source_region& r, std::string_view why) {
    return absl::InvalidArgumentError(
        common::Cat(path, ":", r.begin.line, ":", r.begin.column, ": [federation] ", why));
  };
  struct Number {
    std::string_view key;
    int64_t* out;
    int64_t min, max;
  };
  const std::array<Number, 7> numbers = {{
      {"page_size", &c.page_size, 1, 100000},
      {"max_page_bytes", &c.max_page_bytes, 1024, 1ll << 32},
      {"max_pages_per_round", &c.max_pages_per_round, 1, 1000000},
      {"request_timeout", &c.request_timeout_s, 1, 3600},
      {"retry_base_ms", &c.retry_base_ms, 1, 600000},
      {"retry_max_s", &c.retry_max_s, 1, 86400},
      {"ping_interval", &c.ping_interval_s, 0, 90 * 86400},
  }};
  for (const auto& [k, v] : *t) {
    const std::string_view key = k.str();
    if (key == "key_trust") {
      const auto* s = v.as_string();
      if (s == nullptr || (s->get() != "auto" && s->get() != "manual")) {
        return at(v.source(), "key_trust must be \"auto\" or \"manual\"");
      }
      c.manual_key_trust = s->get() == "manual";
      continue;
    }
    if (key == "sync_interval" || key == "request_interval") {
      std::optional<double> secs;
      if (const auto* i = v.as_integer()) secs = static_cast<double>(i->get());
      if (const auto* f = v.as_floating_point()) secs = f->get();
      if (!secs || !(*secs == 0 || (*secs >= 0.05 && *secs <= 86400))) {
        return at(v.source(), common::Cat(key, " must be 0 (off) or seconds from 0.05 to 86400"));
      }
      (key == "sync_interval" ? c.sync_interval_ms : c.request_interval_ms) =
          static_cast<int64_t>(*secs * 1000);
      continue;
    }
    if (key == "notify_command") {
      const auto* s = v.as_string();
      if (s == nullptr) return at(v.source(), "notify_command must be a string (a shell command)");
      c.notify_command = s->get();
      continue;
    }
    if (key == "default_tlp") {
      const auto* s = v.as_string();
      bool found = false;
      for (policy::Tlp l : {policy::Tlp::kClear, policy::Tlp::kGreen, policy::Tlp::kAmber,
                            policy::Tlp::kAmberStrict, policy::Tlp::kRed}) {
        if (s != nullptr && s->get() == policy::TlpName(l)) {
          c.default_tlp = l;
          found = true;
        }
      }
      if (!found) {
        return at(
            v.source(),
            "default_tlp must be \"clear\", \"green\", \"amber\", \"amber+strict\" or \"red\"");
      }
      continue;
    }
    auto n =
        std::find_if(numbers.begin(), numbers.end(), [&](const Number& x) { return x.key == key; });
    if (n == numbers.end()) {
      return at(k.source(),
                common::Cat("unknown key '", key,
                            "' (known: key_trust, default_tlp, sync_interval, request_interval, "
                            "ping_interval, notify_command, page_size, "
                            "max_page_bytes, max_pages_per_round, request_timeout, "
                            "retry_base_ms, retry_max_s)"));
    }
    const auto* i = v.as_integer();
    if (i == nullptr || i->get() < n->min || i->get() > n->max) {
      return at(v.source(), common::Cat(key, " must be an integer from ", n->min, " to ", n->max));
    }
    *n->out = i->get();
  }
  return c;
}

}  // namespace accord::federation
