#include "accord/taxii/client.h"

#include "accord/common/encoding.h"

#include <curl/curl.h>

#include <simdjson.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "accord/common/strings.h"
#include "accord/http/message.h"
#include "accord/ingest/ingest.h"
#include "accord/policy/egress_reader.h"
#include "accord/stix/ijson.h"
#include "accord/stix/reader.h"
#include "accord/store/group_commit.h"
#include "http/text.h"
#include "taxii/json_util.h"

namespace accord::taxii {
namespace text = http::text;
namespace {

using detail::TryGet;

// Where the body goes, and its cap (ClientOptions::max_response_bytes).
struct BodySink {
  std::string* body;
  uint64_t max;
  bool over = false;
};

// libcurl write callback: appends the body to a std::string, up to the cap. Returning less than
// size * n aborts the transfer (CURLE_WRITE_ERROR), which Request reports as too large: a
// remote (untrusted) server cannot make us buffer more than the cap.
size_t WriteBody(char* p, size_t size, size_t n, void* ud) {
  auto* sink = static_cast<BodySink*>(ud);
  if (sink->body->size() + size * n > sink->max) {
    sink->over = true;
    return 0;
  }
  // Growth is capped at the limit: doubling past it would hold the old buffer and one twice
  // its size at once (up to 3x the cap) for bytes that can never be accepted.
  std::string& b = *sink->body;
  if (b.size() + size * n > b.capacity()) {
    b.reserve(
        std::min<uint64_t>(std::max<uint64_t>(2 * b.capacity(), b.size() + size * n), sink->max));
  }
  b.append(p, size * n);
  return size * n;
}

// libcurl header callback: collects "name: value" with lower-cased names (HTTP names are
// case-insensitive), so Header() can compare bytes. Values are trimmed; folded lines are not
// joined (obsolete in RFC 7230). The status line of each response clears the list, so only the
// final response's headers remain after a 100 Continue.
size_t WriteHeader(char* p, size_t size, size_t n, void* ud) {
  auto* h = static_cast<std::vector<std::pair<std::string, std::string>>*>(ud);
  std::string_view line(p, size * n);
  size_t colon = line.find(':');
  if (line.substr(0, 5) == "HTTP/") h->clear();  // a new response (after 100 Continue)
  if (colon != std::string_view::npos) {
    h->emplace_back(text::Lower(line.substr(0, colon)),
                    std::string(text::Trim(line.substr(colon + 1))));
  }
  return size * n;
}

// Transient failures, retried with backoff: network errors (Request maps them to Unavailable),
// 5xx and 429 Too Many Requests. Everything else (4xx, TLS verification) is final.
bool Retryable(const absl::StatusOr<HttpResult>& r) {
  if (!r.ok()) return r.status().code() == absl::StatusCode::kUnavailable;
  return r->status >= 500 || r->status == 429;
}

// Maps a non-2xx answer to a Status. TAXII errors carry an error resource (TAXII21.md §9.8,
// TAXII 2.1 §3.6.1) whose title/description are the useful part; a non-JSON body is quoted
// up to 200 bytes so a large HTML error page does not flood logs.
absl::Status StatusFromHttp(const HttpResult& r, const std::string& url) {
  std::string detail;
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (!p.parse(r.body).get(e) && e.is_object()) {
    std::string_view t, d;
    TryGet(e["title"].get_string(), t);
    TryGet(e["description"].get_string(), d);
    detail = common::Cat(t, d.empty() ? "" : ": ", d);
  } else {
    detail = r.body.substr(0, 200);
  }
  std::string msg = common::Cat(url, ": HTTP ", r.status, " ", detail);
  switch (r.status) {
    case 400: return absl::InvalidArgumentError(msg);
    case 401: return absl::UnauthenticatedError(msg);
    case 403: return absl::PermissionDeniedError(msg);
    case 404: return absl::NotFoundError(msg);
    case 413: return absl::ResourceExhaustedError(msg);
    case 422: return absl::FailedPreconditionError(msg);
    default:
      if (r.status >= 500 || r.status == 429) return absl::UnavailableError(msg);
      return absl::InvalidArgumentError(msg);
  }
}

}  // namespace

std::string HttpResult::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

// Joins an API root (which TAXII URLs end with '/', §3) and a relative path.
std::string JoinUrl(const std::string& base, std::string_view rel) {
  std::string s = base;
  if (s.empty() || s.back() != '/') s.push_back('/');
  return common::Cat(s, rel);
}

struct Client::Impl {
  CURL* curl = nullptr;
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

// curl_global_init is not thread-safe and must run once per process before any handle;
// call_once makes constructing Clients on several threads (Push does) safe.
Client::Client(ClientOptions options) : options_(std::move(options)), impl_(new Impl) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
}

Client::~Client() = default;

// One HTTP exchange on this Client's reused easy handle (connection reuse across pages).
// curl_easy_reset clears every option from the previous request, so credentials and POST
// fields never leak into the next call. Every request carries the TAXII Accept header
// (TAXII21.md §4/§5: mandatory). Redirects are not followed (no FOLLOWLOCATION), so
// credentials are never sent to another host. CURLOPT_NOSIGNAL is required for timeouts in a
// multi-threaded process (no SIGALRM). TLS 1.2 or newer (TAXII21.md §11).
namespace {
int CancelCheck(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}
}  // namespace

absl::StatusOr<HttpResult> Client::Request(const std::string& method, const std::string& url,
                                           const std::string& body) {
  CURL* c = impl_->curl;
  if (!c) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(c);
  HttpResult r;
  BodySink sink{&r.body, options_.max_response_bytes};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  // Bounded time and size: a hostile server can neither hold the client nor fill its memory.
  // MAXFILESIZE refuses a declared Content-Length over the cap before any body is read; the
  // write callback catches a body that is longer than declared, chunked, or unending.
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  struct curl_slist* hdrs = nullptr;
  hdrs = curl_slist_append(hdrs, "Accept: application/taxii+json;version=2.1");
  std::string auth;
  // With a user: Basic (RFC 7617) with the key as password; without: Bearer token.
  if (!options_.key.empty()) {
    auth = options_.user.empty()
               ? common::Cat("Authorization: Bearer ", options_.key)
               : common::Cat("Authorization: Basic ",
                             common::Base64Encode(common::Cat(options_.user, ":", options_.key)));
    hdrs = curl_slist_append(hdrs, auth.c_str());
  }
  if (method == "POST") {
    hdrs = curl_slist_append(hdrs, "Content-Type: application/taxii+json;version=2.1");
    // An empty "Expect:" suppresses curl's "Expect: 100-continue" on large POSTs, saving a round
    // trip (and servers that do not answer 100 would otherwise stall for a second).
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  if (options_.cancel != nullptr) {
    // Checked about once a second while a request waits, and on every chunk.
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, CancelCheck);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, options_.cancel);
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(hdrs);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    return absl::CancelledError(common::Cat(url, ": cancelled (the node is stopping)"));
  }
  if (rc != CURLE_OK) {
    if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
      r.body.clear();
      r.body.shrink_to_fit();
      return absl::ResourceExhaustedError(
          common::Cat(url, ": response larger than the limit of ", options_.max_response_bytes,
                      " bytes (--max-response-bytes); transfer stopped"));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return absl::UnavailableError(
          common::Cat(url, ": no complete response within ", options_.timeout_s, " s (--timeout)"));
    }
    std::string m = common::Cat(url, ": ", curl_easy_strerror(rc));
    // Configuration errors (bad certificate, bad URL) are FailedPrecondition so they are not
    // retried: retrying cannot fix them.
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return absl::FailedPreconditionError(m);
    }
    return absl::UnavailableError(m);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

absl::StatusOr<HttpResult> Client::Get(const std::string& url) {
  absl::StatusOr<HttpResult> r;
  // Exponential backoff: retry_base_ms * 2^attempt, up to `retries` retries.
  for (int attempt = 0;; ++attempt) {
    r = Request("GET", url);
    if (!Retryable(r) || attempt >= options_.retries) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_base_ms << attempt));
  }
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return StatusFromHttp(*r, url);
  return r;
}

// Pulls every version (match[version]=all) of a remote collection into a local one, page by
// page (TAXII21.md §8, TAXII 2.1 §3.5). Resumable: after each committed page the page's
// X-TAXII-Date-Added-Last is saved under `key` in the store settings, and the next run starts
// with added_after=<saved>. The cursor is saved only after the commit, so a crash re-fetches at
// most one page (re-adding the same versions is harmless) and never skips one.
// Caveat (§8): added_after is strictly-after, so entries sharing the last date_added across a
// page boundary can be missed when continuing by added_after; `next` tokens, followed below
// whenever the server gives them, do not have that problem.
absl::StatusOr<Client::PullResult> Client::Pull(const std::string& api_root, const PullOptions& po,
                                                store::Store* store) {
  PullResult out;
  std::string key = po.cursor_key.empty() ? common::Cat("taxii.pull.cursor:", api_root,
                                                        "collections/", po.collection, "/")
                                          : po.cursor_key;
  std::string into = po.into.empty() ? po.collection : po.into;
  if (!po.from_start) {
    ACCORD_ASSIGN_OR_RETURN(auto saved, store->GetSetting(key));
    if (saved) out.cursor = *saved;
  }
  std::string base =
      JoinUrl(api_root, common::Cat("collections/", http::PercentEncode(po.collection),
                                    "/objects/?match[version]=all&limit=", po.page_size));
  if (!out.cursor.empty()) common::Append(&base, "&added_after=", http::PercentEncode(out.cursor));
  std::string next;
  simdjson::dom::parser parser;
  std::unique_ptr<store::GroupCommitter> own_committer;
  store::GroupCommitter* committer = po.committer;
  if (!committer) {
    own_committer = std::make_unique<store::GroupCommitter>(store);
    committer = own_committer.get();
  }
  // Invariant: `base` always holds the original filters; `next`, when set, is appended to them,
  // as §8 requires (the token goes with the same original request).
  for (;;) {
    std::string url = next.empty() ? base : common::Cat(base, "&next=", http::PercentEncode(next));
    ACCORD_ASSIGN_OR_RETURN(HttpResult r, Get(url));
    ++out.pages;
    // The page is streamed (issue 11): its objects are read one at a time (no DOM of the
    // page, no copy of its objects array), and its other members come to on_member. The page
    // is still all or nothing: the records are committed once it has been read whole, so a
    // page cut short or with a duplicate member moves nothing and stores nothing.
    bool more = false;
    std::string next_token;
    std::string duplicate;
    std::vector<std::string> members;
    auto on_member = [&](std::string_view name, std::string_view raw) {
      if (std::find(members.begin(), members.end(), name) != members.end()) {
        if (duplicate.empty()) duplicate = name;
        return;
      }
      if (members.size() < 64) members.emplace_back(name);
      if (name == "more") more = raw == "true";
      std::string_view nx;
      if (name == "next" && !parser.parse(raw.data(), raw.size()).get_string().get(nx)) {
        next_token = nx;
      }
    };
    // The one ingest path (src/ingest/), as for `accord import` and a TAXII POST: a page's
    // refused objects are reported with the same messages, the rest is committed.
    ingest::Options io;
    io.collection = into;
    io.origin = {"taxii-pull", api_root};
    ingest::ApplyPatternPolicy(po.pattern_policy, &io, into);
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::DataLossError(common::Cat(url, ": empty response: not a TAXII envelope"));
    }
    auto src = ingest::EnvelopeSource(url, r.body, on_member);
    auto checked_or = ingest::CheckSource(*src, io);
    if (!checked_or.ok()) {
      if (checked_or.status().code() != absl::StatusCode::kInvalidArgument &&
          checked_or.status().code() != absl::StatusCode::kResourceExhausted) {
        return checked_or.status();
      }
      return absl::DataLossError(
          common::Cat(url, ": response is not a TAXII envelope: ", checked_or.status().message()));
    }
    // I-JSON (RFC 7493): the envelope's own members; each object is checked by the reader.
    if (!duplicate.empty()) {
      return absl::DataLossError(common::Cat(url, ": ", stix::DuplicateKeyMessage(duplicate)));
    }
    ingest::Checked& checked = *checked_or;
    // An empty or missing "objects" means an empty page (§8: `more` may be true and yet nothing
    // returns); the `more`/`next` handling below still runs.
    if (checked.accepted + checked.rejected > 0) {
      out.objects += checked.accepted + checked.rejected;
      out.rejected += checked.rejected;
      for (auto& p : checked.problems) {
        if (out.problems.size() < ingest::kMaxKeptProblems) out.problems.push_back(std::move(p));
      }
      if (!checked.records.empty()) {
        // Through the group committer, as every network writer (pages commit one by one).
        ACCORD_ASSIGN_OR_RETURN(auto done, committer->Commit(into, std::move(checked.records),
                                                             common::Cat("taxii-pull ", api_root)));
        out.added += done.added;
        if (po.audit != nullptr && done.memberships > 0) {
          ACCORD_RETURN_IF_ERROR(
              po.audit->Append(ingest::WriteEntry(io.origin, into, done)).status());
        }
        // Versions refused as content conflicts (issue 10) are refusals of this pull.
        out.rejected += done.conflicts;
        for (const store::ContentConflict& c : done.conflicting) {
          if (out.problems.size() < ingest::kMaxKeptProblems) {
            out.problems.push_back({url, c.id, ingest::ConflictMessage(c.modified)});
          }
        }
      }
      std::string last = r.Header("x-taxii-date-added-last");
      if (!last.empty()) {
        out.cursor = last;
        ACCORD_RETURN_IF_ERROR(store->PutSetting(key, last));
      }
    }
    if (!more) break;
    // §8: more=true with a non-empty next => repeat the request with next=<token>.
    if (!next_token.empty()) {
      next = next_token;
    } else {
      // TAXII §3.5: without `next`, continue from the last date_added.
      if (out.cursor.empty()) break;
      next.clear();
      base = JoinUrl(api_root, common::Cat("collections/", http::PercentEncode(po.collection),
                                           "/objects/?match[version]=all&limit=", po.page_size,
                                           "&added_after=", http::PercentEncode(out.cursor)));
    }
  }
  return out;
}

// Pushes objects to a remote collection (TAXII21.md §10.8, POST .../objects/) in envelopes of
// `batch` objects on up to `parallel` connections. Each answer is a status resource (§9.3);
// its success/failure counts and per-object failures are summed into the result.
// Retrying a POST after a 5xx can re-send objects the server already added; that is harmless
// because posting an exact duplicate version MUST be reported as success (TAXII21.md §10.8).
// A `pending` status is not polled (§10.8 SHOULD): its counts are taken as they are.
// Thread-safety: worker threads share only `next` and `failed` (atomics) and `out`/
// `first_error` (under `mu`); each worker has its own Client because a Client is not
// thread-safe (client.h).
absl::StatusOr<Client::PushResult> Client::Push(const std::string& api_root,
                                                const std::string& collection,
                                                const std::vector<policy::Object>& offered,
                                                size_t batch, size_t parallel, policy::Gate& gate,
                                                audit::Log* audit, const std::string& actor) {
  // The egress gate first (docs/EGRESS.md): nothing is sent through a closed exit, and only
  // what the gate admits (or its replacement) goes into the envelopes.
  const policy::Audience peer = policy::Audience::Peer(api_root);
  ACCORD_RETURN_IF_ERROR(gate.CheckExit(peer, policy::Exit::kTaxiiPush));
  PushResult out;
  std::vector<std::string> objects;
  objects.reserve(offered.size());
  audit::Entry entry;
  entry.actor = actor.empty() ? std::string("operator") : actor;
  entry.action = "egress";
  entry.exit = std::string(policy::ExitName(policy::Exit::kTaxiiPush));
  entry.peer = api_root;
  entry.collection = collection;
  for (const policy::Object& o : offered) {
    policy::Decision d = gate.Admit(o, peer, policy::Exit::kTaxiiPush);
    if (!d.profile.empty() && entry.profile.empty()) entry.profile = d.profile;
    if (d.verdict == policy::Decision::Verdict::kDeny) {
      if (out.withheld++ == 0) out.withheld_reason = std::move(d.reason);
      entry.denied.push_back(policy::RefOf(o));
      continue;
    }
    entry.objects.push_back(policy::RefOf(o));
    if (d.verdict == policy::Decision::Verdict::kReplace) {
      entry.redacted.push_back(policy::RefOf(o));
      objects.push_back(std::move(d.json));
    } else {
      objects.push_back(o.json);
    }
  }
  if (audit != nullptr) {
    entry.detail = common::Cat(entry.objects.size(), " to send, ", out.withheld, " withheld, ",
                               entry.redacted.size(), " replaced");
    ACCORD_RETURN_IF_ERROR(audit->Append(std::move(entry)).status());
  }
  // batch 0 means the default of 100 objects per envelope.
  if (batch == 0) batch = 100;
  const size_t envelopes = (objects.size() + batch - 1) / batch;
  parallel = std::max<size_t>(1, std::min(parallel, envelopes));
  std::string url =
      JoinUrl(api_root, common::Cat("collections/", http::PercentEncode(collection), "/objects/"));
  // Envelopes are handed out in order to `parallel` workers, each with its own connection.
  // The first error stops every worker; results are merged under `mu`.
  std::mutex mu;
  absl::Status first_error;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&](Client* client) {
    simdjson::dom::parser parser;
    for (;;) {
      size_t e = next.fetch_add(1);
      if (e >= envelopes || failed.load()) return;
      size_t i = e * batch, end = std::min(objects.size(), i + batch);
      // The objects are already serialised JSON, so the envelope is built by concatenation instead
      // of a DOM: no re-parse and no re-serialisation of each object.
      std::string body = "{\"objects\":[";
      for (size_t j = i; j < end; ++j) {
        if (j > i) body += ',';
        body += objects[j];
      }
      body += "]}";
      absl::StatusOr<HttpResult> r;
      for (int attempt = 0;; ++attempt) {
        r = client->Request("POST", url, body);
        if (!Retryable(r) || attempt >= options_.retries) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_base_ms << attempt));
      }
      absl::Status err;
      if (!r.ok()) {
        err = r.status();
      } else if (r->status != 202 && r->status != 200) {
        err = StatusFromHttp(*r, url);
      }
      simdjson::dom::element st;
      // 202 Accepted with a status resource (§10.8); 200 is tolerated for servers that answer
      // synchronously.
      if (err.ok() && (parser.parse(r->body).get(st) || !st.is_object())) {
        err = absl::DataLossError(common::Cat(url, ": the status resource is not JSON"));
      }
      std::lock_guard<std::mutex> l(mu);
      ++out.requests;
      if (!err.ok()) {
        if (first_error.ok()) first_error = err;
        failed = true;
        return;
      }
      out.objects += end - i;
      uint64_t ok = 0, nfailed = 0;
      TryGet(st["success_count"].get_uint64(), ok);
      TryGet(st["failure_count"].get_uint64(), nfailed);
      out.succeeded += ok;
      out.failed += nfailed;
      simdjson::dom::array fails;
      if (!st["failures"].get_array().get(fails)) {
        for (auto f : fails) {
          std::string_view id, msg;
          TryGet(f["id"].get_string(), id);
          TryGet(f["message"].get_string(), msg);
          out.failures.push_back(common::Cat(id.empty() ? "(no id)" : id, ": ", msg));
        }
      }
    }
  };
  if (parallel == 1) {
    work(this);
  } else {
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::thread> threads;
    for (size_t k = 0; k < parallel; ++k) clients.push_back(std::make_unique<Client>(options_));
    for (size_t k = 0; k < parallel; ++k) {
      // The thread's top: an exception fails the push with its message instead of ending the
      // process; the other threads finish their batches.
      threads.emplace_back([&, client = clients[k].get()] {
        try {
          work(client);
        } catch (const std::exception& e) {
          failed = true;
          std::lock_guard<std::mutex> l(mu);
          if (first_error.ok()) first_error = absl::InternalError(common::Cat("push: ", e.what()));
        } catch (...) {
          failed = true;
          std::lock_guard<std::mutex> l(mu);
          if (first_error.ok()) first_error = absl::InternalError("push: unknown exception");
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  if (!first_error.ok()) return first_error;
  return out;
}

}  // namespace accord::taxii
