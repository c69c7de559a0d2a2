#include "store/pg_util.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "accord/common/strings.h"

namespace accord::store::detail {

void PgResultDeleter::operator()(PGresult* r) const { PQclear(r); }

int PgRows::size() const { return PQntuples(r_.get()); }
bool PgRows::null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
std::string_view PgRows::text(int row, int col) const {
  return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
}
int64_t PgRows::num(int row, int col) const {
  std::string_view t = text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}
bool PgRows::flag(int row, int col) const { return text(row, col) == "t"; }
uint64_t PgRows::changed() const {
  const char* n = PQcmdTuples(r_.get());
  uint64_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

PgArray& PgArray::Text(std::string_view v) {
  Sep();
  s_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') s_ += '\\';
    s_ += c;
  }
  s_ += '"';
  return *this;
}
PgArray& PgArray::Num(int64_t v) {
  Sep();
  s_ += std::to_string(v);
  return *this;
}
PgArray& PgArray::Flag(bool v) {
  Sep();
  s_ += v ? "t" : "f";
  return *this;
}
PgArray& PgArray::Null() {
  Sep();
  s_ += "NULL";
  return *this;
}

PgParams& PgParams::Text(std::string_view v) {
  values_.emplace_back(v);
  null_.push_back(false);
  return *this;
}
PgParams& PgParams::Num(int64_t v) { return Text(std::to_string(v)); }
PgParams& PgParams::Flag(bool v) { return Text(v ? "t" : "f"); }
PgParams& PgParams::Null() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}
std::string PgParams::Next() const { return common::Cat("$", values_.size() + 1); }

std::string PgLocation(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A keyword string: every setting but the password, as libpq parsed it.
    PQconninfoOption* opts = PQconninfoParse(url.c_str(), nullptr);
    if (opts == nullptr) return "(an unreadable PostgreSQL connection string)";
    std::string out;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || std::strcmp(o->keyword, "password") == 0) continue;
      std::string v;
      for (const char* c = o->val; *c != '\0'; ++c) {
        if (*c == '\'' || *c == '\\') v += '\\';
        v += *c;
      }
      const bool quote = v.empty() || v.find_first_of(" \t'\\") != std::string::npos;
      common::Append(&out, out.empty() ? "" : " ", o->keyword, "=", quote ? "'" : "", v,
                     quote ? "'" : "");
    }
    PQconninfoFree(opts);
    return out;
  }
  // A URL: scheme://[user[:password]@]host.../db?params, without ":password" and any
  // "password=" parameter.
  std::string out = url;
  const size_t auth = scheme + 3;
  const size_t auth_end = std::min(out.find_first_of("/?", auth), out.size());
  const size_t at = out.rfind('@', auth_end);
  if (at != std::string::npos && at >= auth) {
    const size_t colon = out.find(':', auth);
    if (colon < at) out.erase(colon, at - colon);
  }
  const size_t q = out.find('?');
  if (q != std::string::npos) {
    std::string params;
    size_t i = q + 1;
    while (i <= out.size()) {
      size_t amp = std::min(out.find('&', i), out.size());
      std::string_view p(out.data() + i, amp - i);
      if (!p.empty() && p.rfind("password=", 0) != 0) {
        common::Append(&params, params.empty() ? "" : "&", p);
      }
      i = amp + 1;
    }
    out.resize(q);
    if (!params.empty()) common::Append(&out, "?", params);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (c == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // The URL may hold a password: it is not repeated.
    return absl::UnavailableError(common::Cat("cannot connect to the PostgreSQL store: ", msg));
  }
  // Quiet notices ("relation already exists, skipping") instead of libpq's stderr default.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConn>(new PgConn(c));
}

PgConn::~PgConn() { PQfinish(c_); }

bool PgConn::healthy() const { return PQstatus(c_) == CONNECTION_OK; }

absl::Status PgConn::Check(PGresult* r, std::string_view what) {
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string text = common::Cat(what, ": ", msg, code.empty() ? "" : " (SQLSTATE ", code,
                                 code.empty() ? "" : ")");
  if (code == "23505") return absl::AlreadyExistsError(text);
  if (code == "40001" || code == "40P01" || code.rfind("08", 0) == 0 || !healthy()) {
    return absl::UnavailableError(text);
  }
  if (code == "53100" || code == "53300" || code == "53200") {
    return absl::ResourceExhaustedError(text);
  }
  if (code.rfind("22", 0) == 0) return absl::InvalidArgumentError(text);
  return absl::InternalError(text);
}

absl::StatusOr<PgRows> PgConn::Run(const std::string& sql, const PgParams& params,
                                   std::string_view what) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = common::Cat("s", prepared_.size());
    PGresult* made = PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr);
    absl::Status st = Check(made, what);
    PQclear(made);
    if (!st.ok()) return st;
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values(params.values_.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].c_str();
  }
  PGresult* r = PQexecPrepared(c_, it->second.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0);
  absl::Status st = Check(r, what);
  PgRows rows(r);
  if (!st.ok()) return st;
  return rows;
}

absl::Status PgConn::Exec(const std::string& sql, std::string_view what) {
  PGresult* r = PQexec(c_, sql.c_str());
  absl::Status st = Check(r, what);
  PQclear(r);
  return st;
}

}  // namespace accord::store::detail
