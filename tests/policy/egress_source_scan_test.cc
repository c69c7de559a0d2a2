// Keeps the egress seam the only way out: no file under src/ may read objects out of the
// Store (Store::List, Store::Get) except those allowed below, each for a stated reason.
// Exits read through policy::EgressReader, which asks the gate (docs/EGRESS.md). A new exit
// that calls the store directly fails this test and is pointed at the reader.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
#include "common/paths.h"

namespace {

namespace fs = std::filesystem;

// Paths relative to src/; a trailing '/' allows a whole folder.
const std::map<std::string, std::string>& AllowList() {
  static const std::map<std::string, std::string> allow = {
      {"store/",
       "the store itself: it implements List and Get, and its import checks stored "
       "versions"},
      {"ingest/",
       "the ingest pipeline looks up stored versions to detect conflicts; nothing "
       "it reads leaves the node"},
      {"policy/egress_reader.cc",
       "the gated reader: the one place exits read objects, each "
       "one admitted by the gate"},
      {"federation/node.cc",
       "SignerKey reads a signer's identity object for the public key it carries, to check "
       "signatures; nothing it reads is printed or sent"},
      {"federation/sync.cc",
       "version ownership reads the first stored version of a received object for its "
       "signer; nothing it reads is printed or sent"},
      {"policy/gate.cc",
       "the gate's own rule that a peer never gets back a version it gave: it looks the "
       "version up in that peer's landing collection; the decision, not the read, leaves"},
      {"requests/channel.cc",
       "the request channel replays the requests and steps it holds to check a step, deliver "
       "what is pending and flag deadlines, and reads contacts to name who is responsible; "
       "every object it sends passes Gate::Admit at Exit::kRequestChannel, and the CLI's "
       "listings read through EgressReader"},
      {"ingest/units.cc",
       "accord import and the web UI's import look up which ids of a converted list or text the "
       "target collection "
       "already holds, to leave those values as they are; only the ids are compared, nothing "
       "it reads is printed or sent"},
      {"match/sightings.cc",
       "LoadActiveIndicators reads indicators to compile the matcher; "
       "internal, not an exit (what leaves, match lines and sightings, "
       "is gated by the caller through IndicatorFilter and "
       "SightingEgress); NewestModified reads only the modified of versions the match output "
       "named, for the node's own audit log"},
  };
  return allow;
}

// A line that reads objects from a store: `x->List(`, `x->Get(`, or `.List(`/`.Get(` on
// something named like a store (`store.List(q)`, `(*store).Get(...)`).
bool ReadsStore(const std::string& code_line) {
  static const std::regex arrow(R"(->\s*(List|Get)\s*\()");
  static const std::regex dot(R"(([Ss]tore\w*|\(\s*\*\s*\w+\s*\))\s*\.\s*(List|Get)\s*\()");
  return std::regex_search(code_line, arrow) || std::regex_search(code_line, dot);
}

// The line without its // comment (a comment may name Store::List without calling it).
std::string Code(const std::string& line) {
  size_t c = line.find("//");
  return c == std::string::npos ? line : line.substr(0, c);
}

bool Allowed(const std::string& rel) {
  for (const auto& [path, why] : AllowList()) {
    if (path.back() == '/' ? rel.rfind(path, 0) == 0 : rel == path) return true;
  }
  return false;
}

TEST(EgressSourceScanTest, TheDetectorSeesStoreReads) {
  EXPECT_TRUE(ReadsStore("  auto page = (*s)->List(q);"));
  EXPECT_TRUE(ReadsStore("auto objs = store_->Get(id, vs);"));
  EXPECT_TRUE(ReadsStore("ACCORD_ASSIGN_OR_RETURN(store::Page p, store.List(q));"));
  EXPECT_TRUE(ReadsStore("auto v = (*st).Get(id, store::VersionSelect::kAll);"));
  EXPECT_FALSE(ReadsStore("if (f.Get(\"uri\", &v)) return kHttp;"));
  EXPECT_FALSE(ReadsStore("auto r = c.Get(url);"));
  EXPECT_FALSE(ReadsStore("auto cols = store->ListCollections();"));
  EXPECT_FALSE(ReadsStore("auto s = store->GetSetting(\"x\");"));
  EXPECT_EQ(Code("x(); // store->List(q)"), "x(); ");
}

TEST(EgressSourceScanTest, OnlyTheAllowListReadsObjectsFromTheStore) {
  fs::path src = accord::testing::SourceDir() / "src";
  ASSERT_TRUE(fs::is_directory(src)) << src;
  std::vector<std::string> offenders;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    bool source = name.ends_with(".cc") || name.ends_with(".h");
    if (!source || name.ends_with("_test.cc")) continue;  // tests may read the store directly
    ++files;
    std::string rel = fs::relative(entry.path(), src).generic_string();
    if (Allowed(rel)) continue;
    std::ifstream in(entry.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (ReadsStore(Code(line)))
        offenders.push_back("src/" + rel + ":" + std::to_string(n) + ": " + line);
    }
  }
  EXPECT_GT(files, 50u) << "the scan found too few sources under " << src;
  std::ostringstream msg;
  for (const auto& o : offenders) msg << "  " << o << "\n";
  EXPECT_TRUE(offenders.empty())
      << "these lines read objects from the store outside the egress seam; read through "
         "policy::EgressReader (include/accord/policy/egress_reader.h) with the exit's "
         "policy::Exit, or, if the read is internal and nothing it reads leaves the node, add "
         "the file to the allow-list in this test with the reason:\n"
      << msg.str();
}

TEST(EgressSourceScanTest, AllowedFilesExist) {
  // A stale entry would silently allow a future file of that name.
  fs::path src = accord::testing::SourceDir() / "src";
  for (const auto& [path, why] : AllowList()) {
    if (path.back() == '/') continue;  // folders may come and go with their layer
    EXPECT_TRUE(fs::exists(src / path)) << path << " is allowed (" << why << ") but is gone";
  }
}

}  // namespace
