#include "accord/taxii/config.h"

#include <toml++/toml.h>

#include <optional>
#include <type_traits>

#include "accord/common/strings.h"
#include "http/text.h"

namespace accord::taxii {
namespace text = http::text;

absl::Status ParseListen(std::string_view listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(common::Cat("listen: '", listen, "' is not HOST:PORT"));
  }
  std::string_view h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  uint32_t p = 0;
  if (!text::ParseInt(listen.substr(colon + 1), &p) || p > 65535) {
    return absl::InvalidArgumentError(common::Cat("listen: bad port in '", listen, "'"));
  }
  *host = h.empty() ? "127.0.0.1" : std::string(h);
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

namespace {

// [auth] (failed-authentication budgets and caches) and [limits] (page and status bounds):
// issue 10, items 6 and 7. Every value must be >= 0 (a burst of 0 turns that budget off).
absl::Status LoadAuthAndLimits(const std::string& path, const toml::table& t, ServeConfig* c) {
  auto non_negative = [&](std::string_view section, std::string_view key,
                          auto* out) -> absl::Status {
    using T = std::remove_pointer_t<decltype(out)>;
    const toml::node* n = t[section][key].node();
    if (n == nullptr) return absl::OkStatus();
    std::optional<double> v = n->value<double>();
    if (!v || *v < 0) {
      return absl::InvalidArgumentError(common::Cat(path, ":", n->source().begin.line, ": [",
                                                    section, "] ", key, " must be a number >= 0"));
    }
    *out = static_cast<T>(*v);
    return absl::OkStatus();
  };
  auto& a = c->auth;
  ACCORD_RETURN_IF_ERROR(non_negative("auth", "failed_per_key_burst", &a.failed_per_key_burst));
  ACCORD_RETURN_IF_ERROR(
      non_negative("auth", "failed_per_key_per_second", &a.failed_per_key_per_second));
  ACCORD_RETURN_IF_ERROR(
      non_negative("auth", "failed_per_address_burst", &a.failed_per_address_burst));
  ACCORD_RETURN_IF_ERROR(
      non_negative("auth", "failed_per_address_per_second", &a.failed_per_address_per_second));
  ACCORD_RETURN_IF_ERROR(non_negative("auth", "limiter_entries", &a.limiter_entries));
  ACCORD_RETURN_IF_ERROR(non_negative("auth", "negative_cache_entries", &a.negative_cache_entries));
  ACCORD_RETURN_IF_ERROR(non_negative("auth", "cache_entries", &a.cache_entries));
  auto& x = c->service;
  ACCORD_RETURN_IF_ERROR(non_negative("limits", "max_page_bytes", &x.max_page_bytes));
  ACCORD_RETURN_IF_ERROR(non_negative("limits", "max_status_failures", &x.max_status_failures));
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadServeConfig(const std::string& path, ServeConfig* c) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(path, ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
  auto& s = c->server;
  if (auto v = t["server"]["listen"].value<std::string>()) {
    ACCORD_RETURN_IF_ERROR(ParseListen(*v, &s.host, &s.port));
  }
  if (auto v = t["server"]["threads"].value<int64_t>()) s.threads = static_cast<int>(*v);
  if (auto v = t["server"]["handler_threads"].value<int64_t>()) {
    s.handler_threads = static_cast<int>(*v);
  }
  if (auto v = t["server"]["handler_queue"].value<int64_t>(); v && *v >= 0) {
    s.handler_queue = static_cast<size_t>(*v);
  }
  if (auto v = t["server"]["allow_plain_http"].value<bool>()) s.allow_plain_http = *v;
  if (auto v = t["server"]["max_body_bytes"].value<int64_t>()) {
    if (*v <= 0) return absl::InvalidArgumentError(common::Cat(path, ": max_body_bytes <= 0"));
    s.max_body_bytes = static_cast<uint64_t>(*v);
    c->service.max_content_length = s.max_body_bytes;
  }
  if (auto v = t["server"]["max_header_bytes"].value<int64_t>()) {
    s.max_header_bytes = static_cast<uint32_t>(*v);
  }
  if (auto v = t["server"]["header_timeout_ms"].value<int64_t>()) {
    s.header_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = t["server"]["body_timeout_ms"].value<int64_t>()) {
    s.body_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = t["server"]["idle_timeout_ms"].value<int64_t>()) {
    s.idle_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = t["server"]["drain_timeout_ms"].value<int64_t>()) {
    s.drain_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = t["server"]["access_log"].value<std::string>()) c->access_log = *v;
  // Connection-level limits (issue 10; docs/TAXII.md "Limits"). 0 switches one off.
  {
    auto non_negative = [&](std::string_view key) -> absl::StatusOr<std::optional<int64_t>> {
      auto node = t["server"][key];
      if (!node) return std::optional<int64_t>();
      auto v = node.value<int64_t>();
      if (!v || *v < 0) {
        return absl::InvalidArgumentError(
            common::Cat(path, ": [server] ", key, " must be a non-negative integer"));
      }
      return std::optional<int64_t>(*v);
    };
    ACCORD_ASSIGN_OR_RETURN(auto conns, non_negative("max_connections"));
    if (conns) s.max_connections = static_cast<size_t>(*conns);
    ACCORD_ASSIGN_OR_RETURN(auto per_address, non_negative("max_connections_per_address"));
    if (per_address) s.max_connections_per_address = static_cast<size_t>(*per_address);
    ACCORD_ASSIGN_OR_RETURN(auto in_flight, non_negative("max_bytes_in_flight"));
    if (in_flight) s.max_bytes_in_flight = static_cast<uint64_t>(*in_flight);
    ACCORD_ASSIGN_OR_RETURN(auto idle_anon, non_negative("idle_timeout_unauthenticated_ms"));
    if (idle_anon) s.idle_timeout_unauthenticated = std::chrono::milliseconds(*idle_anon);
  }
  if (auto v = t["tls"]["cert"].value<std::string>()) s.tls_cert_file = *v;
  if (auto v = t["tls"]["key"].value<std::string>()) s.tls_key_file = *v;
  auto& x = c->service;
  if (auto v = t["taxii"]["title"].value<std::string>()) x.title = *v;
  if (auto v = t["taxii"]["description"].value<std::string>()) x.description = *v;
  if (auto v = t["taxii"]["contact"].value<std::string>()) x.contact = *v;
  if (auto v = t["taxii"]["api_root"].value<std::string>()) x.api_root = *v;
  if (auto v = t["taxii"]["default_page_size"].value<int64_t>(); v && *v > 0) {
    x.default_page_size = static_cast<uint64_t>(*v);
  }
  if (auto v = t["taxii"]["max_page_size"].value<int64_t>(); v && *v > 0) {
    x.max_page_size = static_cast<uint64_t>(*v);
  }
  // Seconds a status resource is kept (in the store); TAXII §4.3 asks for at least a day.
  if (auto v = t["taxii"]["status_retention_s"].value<int64_t>(); v && *v > 0) {
    x.status_retention_us = *v * 1000000;
  }
  ACCORD_RETURN_IF_ERROR(LoadAuthAndLimits(path, t, c));
  return absl::OkStatus();
}

}  // namespace accord::taxii
