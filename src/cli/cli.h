// The `accord` command line: main.cc builds the CLI11 app and each command file adds its
// subcommands. Commands stay thin: they parse flags, call the layers, print, and map Status
// to an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>
#include <string>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::audit {
class Log;
}
namespace accord::requests {
class Channel;
}
namespace accord::http {
class Router;
}

namespace accord::cli {

/// Flags shared by every command.
struct Globals {
  std::string data_dir;  // --data, default $ACCORD_DATA or ./accord-data
  // --store, default $ACCORD_STORE: a PostgreSQL store (issue 17); empty: SQLite in data_dir.
  std::string store_url;
};

/// The options that open the node's store: PostgreSQL at --store ($ACCORD_STORE), else at
/// `[store] url` in <data>/accord.toml, else SQLite in --data. An unreadable accord.toml or a
/// bad `[store]` is an error naming the file, line and column.
absl::StatusOr<store::Options> StoreOptions(const Globals& g);

/// Exit codes: 0 all done; 1 done with rejected input; 2 usage; 3 not found;
/// 4 permission; 5 unavailable; 70 internal.
int ExitCodeFor(const absl::Status& status);

/// Prints "accord: <message>" to standard error and returns the exit code for it.
int Fail(const absl::Status& status);

/// Adds --data to a subcommand.
void AddDataOption(CLI::App* cmd, Globals* g);

/// Who runs the command, for records (agreements, the audit log): the user sudo ran it for,
/// else the process's user.
std::string OperatorName();

/// Appends a change of the node's configuration (agreements, users, roles, keys, grants,
/// peers, trust, lockdown) to its audit log, by OperatorName() (issue 13). Called after the
/// change succeeded; an error means it is not recorded, which the command then reports.
absl::Status AuditChange(const Globals& g, std::string action, std::string detail,
                         std::string peer = {});

/// Applies `[retention]` of <data>/accord.toml once (issue 13, point 6): `accord purge`, and
/// `accord serve` every --purge-interval. Lists each item removed (or, `dry_run`, that would
/// be) on `out` when given.
struct RetentionResult {
  std::string summary;   ///< one line, for people
  bool removed = false;  ///< something went (or, dry_run, would go)
};
absl::StatusOr<RetentionResult> ApplyRetention(const Globals& g, bool dry_run, bool json,
                                               std::ostream* out);

/// Opens the store in --data (`create`: make it when absent).
absl::StatusOr<std::unique_ptr<store::Store>> OpenDataStore(const Globals& g, bool create);

/// The node's audit log for a command that has no store open: in the store when the store
/// keeps it (a PostgreSQL store, opened here and held beside it), else the data directory's
/// file.
struct NodeAuditLog {
  std::unique_ptr<store::Store> store;  // declared first: destroyed after the log
  std::unique_ptr<audit::Log> log;
};
absl::StatusOr<NodeAuditLog> OpenNodeAuditLog(const Globals& g);

// One registration function per command file. Each sets a callback that stores its exit code
// in *exit_code.
void RegisterStoreCommands(
    CLI::App& app, Globals* g,
    int* exit_code);  // init import get list export stats migrate, store copy
void RegisterPatternCommands(CLI::App& app, Globals* g, int* exit_code);  // pattern check|explain
void RegisterMatchCommands(CLI::App& app, Globals* g, int* exit_code);    // match
void RegisterStreamCommands(CLI::App& app, Globals* g, int* exit_code);   // ingest --to nats://
void RegisterServeCommands(CLI::App& app, Globals* g,
                           int* exit_code);  // serve user key collection taxii
void RegisterPolicyCommands(CLI::App& app, Globals* g, int* exit_code);  // policy lockdown
// quarantine list|show|drop|release
void RegisterQuarantineCommands(CLI::App& app, Globals* g, int* exit_code);
// node init|show, verify
void RegisterNodeCommands(CLI::App& app, Globals* g, int* exit_code);
// peer add|list|remove, agreement set|show
void RegisterPeerCommands(CLI::App& app, Globals* g, int* exit_code);
// audit verify|query|checkpoint|checkpoints
void RegisterAuditCommands(CLI::App& app, Globals* g, int* exit_code);
// contact add|list (points of contact, issue 14)
void RegisterContactCommands(CLI::App& app, Globals* g, int* exit_code);
void RegisterRequestCommands(CLI::App& app, Globals* g, int* exit_code);  // request, peer resp.
void RegisterFormatsCommands(CLI::App& app, Globals* g, int* exit_code);  // warninglist
void RegisterRelatedCommands(CLI::App& app, Globals* g, int* exit_code);  // related

/// `accord serve`'s request inbox: POST /<api_root>/x-accord/requests/, for peers only.
void MountRequestChannel(http::Router& router, const std::string& api_root,
                         requests::Channel* channel);
/// The auditor's HTTP API, for `accord serve` (docs/PRIVACY.md): GET /accord/audit/ (the
/// audit log, filtered as `accord audit query`) and GET /accord/agreements/ (every peer's
/// agreement history), to the admin and auditor roles only; each read is itself audited.
void MountAuditApi(http::Router& router, store::Store* store, audit::Log* log);

}  // namespace accord::cli
