// The dependency rule (../shared/STYLE.md §1, src/README.md): a layer includes only layers
// below it. This test reads every #include in src/ and include/accord/ and fails on one that
// points upwards or sideways, so the rule holds without relying on link order.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/paths.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

// Rank of each layer; a file may include its own layer and layers of a strictly lower rank.
// Layers of equal rank (store and pattern; audit and formats; ingest, match and policy) are
// independent of one another. A new layer must be added here, which is the point: its place is
// then decided.
const std::map<std::string, int>& Ranks() {
  static const std::map<std::string, int> ranks = {
      {"common", 0},  {"stix", 1},   {"store", 2},      {"pattern", 2},   {"audit", 3},
      {"formats", 3}, {"ingest", 4}, {"match", 4},      {"correlate", 4}, {"policy", 4},
      {"stream", 1},  {"http", 5},   {"federation", 7}, {"taxii", 6},     {"requests", 8},
      {"web", 9},     {"cli", 10},
  };
  return ranks;
}

struct Violation {
  std::string file;
  int line;
  std::string text;
};

// The layer a file belongs to: src/<layer>/... or include/accord/<layer>/....
std::string LayerOf(const fs::path& root, const fs::path& file) {
  fs::path rel = fs::relative(file, root);
  auto it = rel.begin();
  if (it == rel.end()) return "";
  std::string top = (it++)->string();
  if (top == "include" && it != rel.end() && (it++)->string() == "accord" && it != rel.end()) {
    return it->string();
  }
  if (top == "src" && it != rel.end()) return it->string();
  return "";
}

TEST(LayeringTest, NoLayerIncludesAHigherOne) {
  const fs::path root = accord::testing::SourceDir();
  // "accord/<layer>/x.h" (public) or "<layer>/x.h" (a private header under src/).
  const std::regex include_re(R"re(^\s*#\s*include\s*"(?:accord/)?([a-z_]+)/)re");
  std::vector<Violation> bad;
  std::set<std::string> unknown;
  size_t files = 0;
  for (const char* top : {"src", "include/accord"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file()) continue;
      const std::string ext = entry.path().extension().string();
      if (ext != ".cc" && ext != ".h") continue;
      const std::string layer = LayerOf(root, entry.path());
      auto own = Ranks().find(layer);
      if (own == Ranks().end()) {
        unknown.insert(layer);
        continue;
      }
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const std::string target = m[1].str();
        auto dep = Ranks().find(target);
        if (dep == Ranks().end()) continue;  // a third-party folder (absl/, boost/, ...)
        if (target != layer && dep->second >= own->second) {
          bad.push_back({fs::relative(entry.path(), root).string(), n, line});
        }
      }
    }
  }
  EXPECT_TRUE(unknown.empty()) << "layers missing from Ranks(): " << *unknown.begin();
  EXPECT_GT(files, 50u);  // the walk found the tree
  for (const Violation& v : bad) {
    ADD_FAILURE() << v.file << ":" << v.line
                  << ": includes a layer that is not below it: " << v.text;
  }
}

}  // namespace
