// `accord serve` configuration: a TOML file (tomlplusplus), then command-line flags on top.
//
//   [server]                       [tls]                 [taxii]
//   listen = "127.0.0.1:9443"      cert = "node.pem"     title = "..."
//   threads = 0                    key  = "node.key"     description = "..."
//   allow_plain_http = false                             contact = "..."
//   max_body_bytes = 104857600                           api_root = "api"
//   max_header_bytes = 16384                             default_page_size = 100
//   header_timeout_ms = 10000                            max_page_size = 1000
//   body_timeout_ms = 60000
//   idle_timeout_ms = 60000
//   idle_timeout_unauthenticated_ms = 5000
//   max_connections = 1024
//   max_connections_per_address = 64
//   max_bytes_in_flight = 536870912
//   drain_timeout_ms = 30000
//   access_log = "-"   # "-" standard error, "" off, else a file
//
//   [auth]                                  [limits]
//   failed_per_key_burst = 10               max_page_bytes = 8388608
//   failed_per_key_per_second = 1.0         max_status_failures = 1000
//   failed_per_address_burst = 30
//   failed_per_address_per_second = 2.0
//   limiter_entries = 10000
//   negative_cache_entries = 10000
//   cache_entries = 10000
#pragma once

#include <string>

#include "accord/common/status.h"
#include "accord/http/auth.h"
#include "accord/http/server.h"
#include "accord/taxii/service.h"

namespace accord::taxii {

struct ServeConfig {
  http::ServerOptions server;
  ServiceOptions service;
  http::AuthDb::Options auth;
  std::string access_log = "-";
};

/// Reads `path` over the defaults in `*config`. InvalidArgument names the file, line and key.
absl::Status LoadServeConfig(const std::string& path, ServeConfig* config);

/// Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (host 127.0.0.1).
absl::Status ParseListen(std::string_view listen, std::string* host, uint16_t* port);

}  // namespace accord::taxii
