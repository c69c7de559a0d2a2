#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/cli.h"

namespace accord::cli {

int ExitCodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kDataLoss: return 1;
    case absl::StatusCode::kNotFound: return 3;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return 4;
    case absl::StatusCode::kUnavailable: return 5;
    default: return 70;
  }
}

int Fail(const absl::Status& s) {
  std::cerr << "accord: " << s.message() << "\n";
  return ExitCodeFor(s);
}

void AddDataOption(CLI::App* cmd, Globals* g) {
  cmd->add_option("--data", g->data_dir,
                  "Node data directory (default: $ACCORD_DATA, else ./accord-data)");
}

}  // namespace accord::cli

// Weak defaults so the binary links while a command file is absent.
namespace accord::cli {
__attribute__((weak)) void RegisterPatternCommands(CLI::App&, Globals*, int*) {}
__attribute__((weak)) void RegisterMatchCommands(CLI::App&, Globals*, int*) {}
__attribute__((weak)) void RegisterServeCommands(CLI::App&, Globals*, int*) {}
}  // namespace accord::cli

int main(int argc, char** argv) {
  using namespace accord::cli;
  CLI::App app{"accord: federated cyber-threat-intelligence exchange (STIX 2.1 / TAXII 2.1)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "accord 0.1.0");
  Globals g;
  if (const char* env = std::getenv("ACCORD_DATA"); env && *env) g.data_dir = env;
  if (g.data_dir.empty()) g.data_dir = "./accord-data";
  int exit_code = 0;
  RegisterStoreCommands(app, &g, &exit_code);
  RegisterPatternCommands(app, &g, &exit_code);
  RegisterMatchCommands(app, &g, &exit_code);
  RegisterServeCommands(app, &g, &exit_code);
  RegisterPolicyCommands(app, &g, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "accord: internal error: " << e.what() << "\n";
    return 70;
  }
  return exit_code;
}
