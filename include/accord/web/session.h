// Browser sessions for the web UI (issue 16; docs/UI_API.md): sign-in with an API key, a
// session cookie, CSRF protection, and the security headers every UI answer carries.
//
// - A session is created from an API key (AuthDb::Authenticate, with its failed-check budgets)
//   and named by 32 random bytes, sent once as the cookie `accord_session` (HttpOnly,
//   SameSite=Strict, Secure under TLS). Sessions live in the store (store::SessionStore, issue
//   17), so that every frontend of a node knows every session: keyed by a BLAKE2b hash of that
//   name, never by the name itself, with a BLAKE2b hash of the CSRF token, never the token.
// - A session ends when signed out (at once, on the server), after `idle` without a request,
//   after `absolute` whatever the activity, or when its key is revoked, its user removed, or
//   its role changed: the key, role and grants are read again at most every `recheck`. Grants
//   changed since then take effect at the next check.
// - Each process keeps the sessions it serves in a cache, checked against the store at most
//   every `recheck` too: a sign-out, an expiry or an eviction on another frontend takes effect
//   here within `recheck`. A request writes nothing to the store; a session's last use is
//   written at most every `touch`, so that on another frontend (and for the bound below) the
//   idle time is known to within `touch` + `recheck`.
// - CSRF: a request that changes state (anything but GET, HEAD, OPTIONS) and is authenticated
//   by the cookie needs the session's CSRF token in `X-CSRF-Token`, and must not come from
//   another origin (`Origin`, when sent, names this server's host; `Sec-Fetch-Site`, when
//   sent, is not `cross-site`). Requests authenticated by an Authorization header are not
//   cookie-borne and are not checked.
// - The store holds at most `max_sessions`; beyond it the least recently used session ends.
//
// Thread safety: Sessions, the authenticator and the middleware may be used concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/http/auth.h"
#include "accord/http/router.h"

namespace accord::store {
class SessionStore;
}  // namespace accord::store

namespace accord::web {

inline constexpr std::string_view kCookieName = "accord_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

struct SessionOptions {
  std::chrono::seconds idle{30 * 60};
  std::chrono::seconds absolute{12 * 3600};
  size_t max_sessions = 10000;
  std::chrono::milliseconds recheck{1000};
  /// A session's last use is written to the store at most this often (by each process).
  std::chrono::seconds touch{60};
  /// The wall clock, in microseconds since the epoch (tests move it; every frontend's must
  /// agree to within a few seconds); common::NowMicros when empty.
  std::function<common::Micros()> clock;
};

class Sessions {
 public:
  /// `db` and `store` (Store::sessions()) must outlive the table.
  Sessions(http::AuthDb* db, store::SessionStore* store, SessionOptions options);
  ~Sessions();
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  struct SignIn {
    std::string id;    ///< the cookie's value
    std::string csrf;  ///< the token state-changing requests must echo
    http::Principal who;
  };
  /// Signs in with API key `key` (`<key_id>.<secret>`). Unauthenticated for a wrong key,
  /// ResourceExhausted over the AuthDb's failed-check budget (a retry delay inside).
  absl::StatusOr<SignIn> Create(std::string_view key, std::string_view client_address);

  /// The principal of live session `id`, and the hash of its CSRF token into `csrf_hash` when
  /// given (to compare with CsrfHash of what a request sends). Unauthenticated when there is no
  /// such session (unknown, ended, expired, key revoked); another error when the store fails.
  absl::StatusOr<http::Principal> Find(std::string_view id, std::string* csrf_hash = nullptr);

  /// Ends session `id` on every frontend (nothing when there is none).
  absl::Status End(std::string_view id);

  /// The CSRF token of session `id`: derived from the session's name by a keyed BLAKE2b, so that
  /// any frontend can give it back to a reloaded page while the store keeps only its hash.
  static std::string CsrfToken(std::string_view id);
  /// The hash under which a CSRF token is kept and compared (hex of its BLAKE2b-256).
  static std::string CsrfHash(std::string_view token);

  /// The sessions the store holds, expired ones not swept yet included; 0 when it cannot say.
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The value of cookie `kCookieName` in the request's Cookie headers; empty when absent.
std::string_view SessionCookie(const http::Request& request);

/// Authenticates by the Authorization header through `keys` when the request has one, else by
/// the session cookie. A cookie that names no live session is anonymous (the UI's pages load,
/// and its API answers 401). Both must outlive it.
std::unique_ptr<http::Authenticator> NewSessionAuthenticator(http::Authenticator* keys,
                                                             Sessions* sessions);

/// The CSRF rule above; answers 403. Put it after the authentication middleware.
http::Middleware CsrfMiddleware(Sessions* sessions);

/// The headers of every UI answer: a strict Content-Security-Policy (no inline script, nothing
/// from another origin), no framing, no sniffing, no referrer.
std::vector<std::pair<std::string, std::string>> SecurityHeaders();

/// An answer of the UI's API: `status`, the JSON `body`, `Cache-Control: no-store` and
/// SecurityHeaders().
void JsonAnswer(http::Response& res, int status, std::string body);

/// Mounts the session API: POST, GET and DELETE /api/ui/v1/session.
void MountSessionApi(http::Router& router, Sessions* sessions);

}  // namespace accord::web
