// A TAXII 2.1 client (libcurl underneath): discovery, collections, paginated pull into the
// local store with a resumable `added_after` cursor, and push in envelopes with retry.
//
// Thread safety: a Client is not thread-safe; use one per thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/policy/gate.h"
#include "accord/stix/reader.h"
#include "accord/store/group_commit.h"
#include "accord/store/store.h"

namespace accord::taxii {

struct ClientOptions {
  std::string user;  // Basic user name; empty with a key: Bearer
  std::string key;   // API key (Basic password or bearer token)
  bool verify_tls = true;
  std::string ca_file;  // extra trust anchor (PEM), e.g. a node's self-signed certificate
  /// Total time of one request, connection to last byte (CURLOPT_TIMEOUT); a request that
  /// takes longer fails with Unavailable naming the URL (and is retried like a network error).
  long timeout_s = 300;
  long connect_timeout_s = 30;
  /// Largest response body accepted; a larger one (declared or streamed) fails the request
  /// with ResourceExhausted naming the URL, and is not retried. Bounds the client's memory
  /// against a hostile or broken server.
  uint64_t max_response_bytes = 256ull << 20;
  int retries = 5;           // pushes and page fetches retried on 5xx/429/network errors
  long retry_base_ms = 500;  // backoff: base * 2^attempt
  std::string user_agent = "accord/0.1";
  /// When set and true, a request in progress stops (within about a second) and fails with
  /// Cancelled, and is not retried: a stopping node does not wait out request timeouts.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string Header(std::string_view lower_name) const;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();

  /// One request (no retry). Network failures are Unavailable.
  absl::StatusOr<HttpResult> Request(const std::string& method, const std::string& url,
                                     const std::string& body = "");
  /// GET with the TAXII Accept header; a non-2xx answer becomes a Status carrying the error
  /// resource's title and description. Retries 5xx/429/network errors.
  absl::StatusOr<HttpResult> Get(const std::string& url);

  struct PullOptions {
    std::string collection;  // remote collection id (or alias)
    std::string into;        // local collection (default: the remote id)
    uint64_t page_size = 1000;
    bool from_start = false;  // ignore the saved cursor
    /// [pattern] of the node's accord.toml: whether `into` may receive backtracking regexes.
    ingest::PatternPolicy pattern_policy;
    std::string cursor_key;  // settings key (default: derived from URL + collection)
    /// Writes go through this committer (e.g. a server's, shared with its POSTs); when null,
    /// Pull makes its own for `store`.
    store::GroupCommitter* committer = nullptr;
    /// The node's audit log: each committed page is a "write" entry (issue 13). Null: none.
    audit::Log* audit = nullptr;
  };
  struct PullResult {
    uint64_t pages = 0;
    uint64_t objects = 0;
    uint64_t added = 0;
    uint64_t rejected = 0;
    std::string cursor;  // X-TAXII-Date-Added-Last of the last page
    /// The refused objects (first ingest::kMaxKeptProblems), each with the ingest path's
    /// message: the same text `accord import` and a TAXII POST report for that object.
    std::vector<stix::Problem> problems;
  };
  /// Pulls every object version added after the saved cursor from `api_root` (URL ending in
  /// '/') into `store`, committing and saving the cursor after each page, so that an
  /// interrupted pull resumes where it stopped. Each page runs the ingest path (src/ingest/):
  /// refused objects are left out and reported in PullResult::problems; a page whose objects
  /// are all refused stores nothing (and creates no collection).
  absl::StatusOr<PullResult> Pull(const std::string& api_root, const PullOptions& options,
                                  store::Store* store);

  struct PushResult {
    uint64_t requests = 0;
    uint64_t objects = 0;
    uint64_t succeeded = 0;
    uint64_t failed = 0;
    std::vector<std::string> failures;  // "id: message"
    uint64_t withheld = 0;              // refused by the egress gate: not sent
    std::string withheld_reason;        // the first refusal's reason
  };
  /// POSTs `objects` (minified STIX JSON in `json`), as the egress gate admits them for
  /// Exit::kTaxiiPush to the peer at `api_root` (replaced copies are sent in their place,
  /// withheld objects are counted and not sent; a closed exit is PermissionDenied before any
  /// request), in envelopes of `batch` objects, retrying each
  /// envelope on 5xx/429/network errors (safe: adding a version twice is a success).
  /// `parallel` envelopes are in flight at once, each on its own connection (the server
  /// parses them concurrently and commits them together); envelopes may then be committed
  /// out of order, which TAXII allows (versions are ordered by `modified`, not arrival).
  /// With `audit`, one "egress" entry by `actor` names what is sent (and what the gate withheld
  /// or redacted) before anything is sent; when it cannot be written nothing is sent.
  absl::StatusOr<PushResult> Push(const std::string& api_root, const std::string& collection,
                                  const std::vector<policy::Object>& objects, size_t batch,
                                  size_t parallel, policy::Gate& gate, audit::Log* audit = nullptr,
                                  const std::string& actor = {});

 private:
  ClientOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Joins a base URL ending in '/' with a relative path ("collections/").
std::string JoinUrl(const std::string& base, std::string_view rel);

}  // namespace accord::taxii
