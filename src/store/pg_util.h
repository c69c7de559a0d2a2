// Checked libpq calls for the PostgreSQL backend (pg_store.h): every statement goes through
// PgConn::Run, whose failure is an absl::Status named after what was being done, mapped from
// the server's SQLSTATE: unique_violation -> AlreadyExists, serialization failure, deadlock
// and connection loss -> Unavailable, disk full and too many connections ->
// ResourceExhausted, anything else Internal.
//
// Parameters and results travel in libpq's text format. Statements are prepared once per
// connection (named by a counter) and reused.
//
// Internal to src/store. A PgConn is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accord/common/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace accord::store::detail {

struct PgResultDeleter {
  void operator()(PGresult* r) const;
};

/// A statement's result rows (text format).
class PgRows {
 public:
  explicit PgRows(PGresult* r) : r_(r) {}
  int size() const;
  bool null(int row, int col) const;
  std::string_view text(int row, int col) const;
  int64_t num(int row, int col) const;  // an integer column (0 when NULL)
  bool flag(int row, int col) const;    // a boolean column
  /// Rows changed by an INSERT/UPDATE/DELETE.
  uint64_t changed() const;

 private:
  std::unique_ptr<PGresult, PgResultDeleter> r_;
};

/// An array parameter in PostgreSQL's text form ('{"a","b\\"c",NULL}'), for statements that
/// take many rows at once (unnest($1::text[], ...)).
class PgArray {
 public:
  PgArray& Text(std::string_view v);
  PgArray& Num(int64_t v);
  PgArray& Flag(bool v);
  PgArray& Null();
  template <typename T>
  PgArray& Opt(const std::optional<T>& v) {
    return v ? Num(*v) : Null();
  }
  std::string str() const { return s_ + "}"; }
  bool empty() const { return s_.size() == 1; }

 private:
  void Sep() {
    if (s_.size() > 1) s_ += ',';
  }
  std::string s_ = "{";
};

/// Statement parameters, $1.. in order.
class PgParams {
 public:
  PgParams& Text(std::string_view v);
  PgParams& Num(int64_t v);
  PgParams& Flag(bool v);
  PgParams& Null();
  PgParams& Array(const PgArray& a) { return Text(a.str()); }
  /// Replaces parameter `i` (0-based) with `v`.
  PgParams& SetNum(size_t i, int64_t v) {
    values_[i] = std::to_string(v);
    null_[i] = false;
    return *this;
  }
  template <typename T>
  PgParams& Opt(const std::optional<T>& v) {
    return v ? Num(*v) : Null();
  }
  /// "$N" for the parameter added next (for SQL built alongside its parameters).
  std::string Next() const;
  size_t size() const { return values_.size(); }

 private:
  friend class PgConn;
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

/// `url` (a postgresql:// URL or a libpq keyword string) without its password, to name the
/// store in messages: "postgresql://accord@db.example/accord".
std::string PgLocation(const std::string& url);

class PgConn {
 public:
  /// Connects to `url` (a postgresql:// URL or a libpq keyword string).
  static absl::StatusOr<std::unique_ptr<PgConn>> Connect(const std::string& url);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  /// Runs `sql` with `params` (prepared on first use); `what` names the work in errors.
  absl::StatusOr<PgRows> Run(const std::string& sql, const PgParams& params, std::string_view what);
  absl::StatusOr<PgRows> Run(const std::string& sql, std::string_view what) {
    return Run(sql, PgParams(), what);
  }
  /// Runs one or more statements without parameters (schema, BEGIN/COMMIT).
  absl::Status Exec(const std::string& sql, std::string_view what);
  /// False once the connection is broken (a pool drops it).
  bool healthy() const;

 private:
  explicit PgConn(PGconn* c) : c_(c) {}
  absl::Status Check(PGresult* r, std::string_view what);

  PGconn* c_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

}  // namespace accord::store::detail
