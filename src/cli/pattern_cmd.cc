// `accord pattern check PATTERN | --file F` and `accord pattern explain PATTERN`.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "accord/pattern/pattern.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

// "column N: ..." -> N, 0 if absent.
uint32_t ErrorColumn(std::string_view msg) {
  if (msg.rfind("column ", 0) != 0) return 0;
  uint32_t col = 0;
  for (size_t i = 7; i < msg.size() && msg[i] >= '0' && msg[i] <= '9'; ++i) {
    col = col * 10 + static_cast<uint32_t>(msg[i] - '0');
  }
  return col;
}

// Prints the pattern and a caret under the error column (short single-line patterns only).
void ShowCaret(std::string_view pattern, uint32_t column) {
  if (column == 0 || pattern.size() > 200 || pattern.find('\n') != std::string_view::npos) return;
  std::cerr << "  " << pattern << "\n  ";
  uint32_t c = 1;
  for (size_t i = 0; i < pattern.size() && c < column; ++i) {
    if ((static_cast<unsigned char>(pattern[i]) & 0xC0) != 0x80) {
      std::cerr << (pattern[i] == '\t' ? '\t' : ' ');
      ++c;
    }
  }
  std::cerr << "^\n";
}

int CheckOne(const std::string& text) {
  std::vector<pattern::Diagnostic> warnings;
  auto p = pattern::ParseAndCheck(text, &warnings);
  if (!p.ok()) {
    int rc = Fail(p.status());
    ShowCaret(text, ErrorColumn(std::string(p.status().message())));
    return rc;
  }
  for (const auto& w : warnings) std::cerr << "warning: " << w.ToString() << "\n";
  std::cout << "valid: " << pattern::Print(*p) << "\n";
  return 0;
}

int CheckFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(absl::NotFoundError("cannot open " + path));
  std::string line;
  size_t lineno = 0, total = 0, bad = 0, warned = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    ++total;
    std::vector<pattern::Diagnostic> warnings;
    auto p = pattern::ParseAndCheck(line, &warnings);
    if (!p.ok()) {
      ++bad;
      std::cerr << path << ":" << lineno << ": error: " << p.status().message() << "\n";
      continue;
    }
    if (!warnings.empty()) ++warned;
    for (const auto& w : warnings) {
      std::cerr << path << ":" << lineno << ": warning: " << w.ToString() << "\n";
    }
  }
  std::cout << total << " patterns: " << (total - bad) << " valid (" << warned
            << " with warnings), " << bad << " invalid\n";
  return bad == 0 ? 0 : 1;
}

}  // namespace

void RegisterPatternCommands(CLI::App& app, Globals* g, int* exit_code) {
  (void)g;
  auto* cmd = app.add_subcommand("pattern", "Check and explain STIX 2.1 patterns");
  cmd->require_subcommand(1);

  auto* check = cmd->add_subcommand(
      "check", "Validate a pattern (exit 0 when valid); --file checks one pattern per line");
  auto text = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto* pos = check->add_option("PATTERN", *text, "The pattern, e.g. \"[file:name = 'x']\"");
  auto* fopt = check->add_option("--file,-f", *file, "File with one pattern per line");
  pos->excludes(fopt);
  check->callback([text, file, exit_code, check] {
    if (!file->empty()) {
      *exit_code = CheckFile(*file);
    } else if (check->count("PATTERN") > 0) {
      *exit_code = CheckOne(*text);
    } else {
      std::cerr << "accord: pattern check needs PATTERN or --file\n";
      *exit_code = 2;
    }
  });

  auto* explain = cmd->add_subcommand("explain", "Print the pattern's syntax tree, indented");
  auto etext = std::make_shared<std::string>();
  explain->add_option("PATTERN", *etext, "The pattern")->required();
  explain->callback([etext, exit_code] {
    std::vector<pattern::Diagnostic> warnings;
    auto p = pattern::ParseAndCheck(*etext, &warnings);
    if (!p.ok()) {
      *exit_code = Fail(p.status());
      ShowCaret(*etext, ErrorColumn(std::string(p.status().message())));
      return;
    }
    std::cout << "canonical: " << pattern::Print(*p) << "\n" << pattern::Explain(*p);
    for (const auto& w : warnings) std::cerr << "warning: " << w.ToString() << "\n";
    *exit_code = 0;
  });
}

}  // namespace accord::cli
