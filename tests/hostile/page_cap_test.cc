// Issue 10, item 6 (bytes per response page): a public collection of large notes, read
// anonymously with limit=1000, on a real `accord serve`. Before: the whole collection came in
// one page (six such GETs on 10 MB notes took the server to 1.7 GB). Now a page ends once its
// objects pass [limits] max_page_bytes, with more:true and a `next` that continues exactly
// after its last object; following `next` yields every object exactly once, and a single
// object larger than the cap still gets through.
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "hostile/authcost_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

using nlohmann::json;

constexpr size_t kCap = 2u << 20;      // max_page_bytes in this test's accord.toml
constexpr size_t kNoteBytes = 700000;  // each note's content: about a third of the cap
constexpr int kNotes = 12;

std::string NoteId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "note--00000000-0000-4000-8000-%012d", i);
  return buf;
}

json Note(int i, size_t content_bytes) {
  return json{{"type", "note"},
              {"spec_version", "2.1"},
              {"id", NoteId(i)},
              {"created", "2024-01-01T00:00:00.000Z"},
              {"modified", "2024-01-01T00:00:00.000Z"},
              {"content", std::string(content_bytes, static_cast<char>('a' + i % 26))},
              {"object_refs", {"indicator--00000000-0000-4000-8000-000000000001"}}};
}

std::string Objects(const std::string& cid, const std::string& next) {
  std::string path = "/api/collections/" + cid + "/objects/?limit=1000";
  if (!next.empty()) path += "&next=" + next;
  return path;
}

struct PublicNotes {
  TempDir dir{"pagecap"};
  std::filesystem::path data = dir.path() / "data";
  ServerProcess server;
  std::string cid;

  // Imports `notes` into a public collection and starts the node with the test's cap.
  void Start(const std::vector<json>& notes) {
    std::filesystem::create_directories(data);
    std::ofstream(data / "accord.toml") << "[limits]\nmax_page_bytes = " << kCap << "\n";
    RunResult c =
        RunCmd(Accord() + " collection create pub --public --data " + ShellQuote(data.string()),
               dir.path());
    ASSERT_EQ(c.exit_code, 0) << c.err;
    cid = c.out.substr(0, c.out.find('\n'));
    json bundle = {{"type", "bundle"},
                   {"id", "bundle--00000000-0000-4000-8000-000000000000"},
                   {"objects", notes}};
    std::ofstream(dir.path() / "notes.json") << bundle.dump();
    RunResult imp = RunCmd(Accord() + " import --quiet -c pub --data " + ShellQuote(data.string()) +
                               " " + ShellQuote((dir.path() / "notes.json").string()),
                           dir.path());
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    ASSERT_TRUE(server.Start(data.string()));
  }
};

TEST(PageCap, LargeNotesArePagedUnderTheCapAndEveryObjectComesOnce) {
  std::vector<json> notes;
  for (int i = 0; i < kNotes; ++i) notes.push_back(Note(i, kNoteBytes));
  PublicNotes node;
  node.Start(notes);
  const size_t one_object = notes[0].dump().size();

  std::map<std::string, int> seen;
  std::string next;
  int pages = 0;
  while (true) {
    HttpReply r = HttpRequest(node.server.port(), "GET", Objects(node.cid, next), "");
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    ++pages;
    // The cap, plus the one object that may take a page over it, plus the envelope.
    EXPECT_LE(r.body.size(), kCap + one_object + 1024) << "page " << pages;
    json page = json::parse(r.body);
    ASSERT_TRUE(page.contains("objects")) << "page " << pages << " is empty";
    for (const auto& o : page["objects"]) ++seen[o["id"].get<std::string>()];
    if (!page.value("more", false)) break;
    ASSERT_TRUE(page.contains("next")) << "more:true without next";
    next = page["next"].get<std::string>();
    ASSERT_LT(pages, 2 * kNotes) << "paging does not end";
  }
  // 12 notes of ~0.7 MB under a 2 MiB cap: at least 4 pages (3 notes each at the most, and a
  // fourth would pass 2 MiB only with the one-object allowance).
  EXPECT_GE(pages, kNotes / 3);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kNotes));
  for (int i = 0; i < kNotes; ++i) EXPECT_EQ(seen[NoteId(i)], 1) << NoteId(i);
}

TEST(PageCap, ObjectLargerThanTheCapStillGetsThrough) {
  // Notes of 0.5, 3 (over the 2 MiB cap) and 0.5 MB.
  std::vector<json> notes = {Note(0, 500000), Note(1, 3u << 20), Note(2, 500000)};
  PublicNotes node;
  node.Start(notes);
  std::vector<std::vector<std::string>> pages;
  std::string next;
  while (true) {
    HttpReply r = HttpRequest(node.server.port(), "GET", Objects(node.cid, next), "");
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    json page = json::parse(r.body);
    pages.emplace_back();
    for (const auto& o : page.value("objects", json::array())) {
      pages.back().push_back(o["id"].get<std::string>());
    }
    if (!page.value("more", false)) break;
    next = page["next"].get<std::string>();
    ASSERT_LT(pages.size(), 10u) << "paging does not end";
  }
  // The first page takes note 0 (0.5 MB) and then note 1 (over the cap: allowed as the one
  // object past it); note 2 comes on the next page.
  std::vector<std::string> all;
  for (const auto& p : pages) {
    EXPECT_FALSE(p.empty());
    all.insert(all.end(), p.begin(), p.end());
  }
  EXPECT_EQ(all, (std::vector<std::string>{NoteId(0), NoteId(1), NoteId(2)}));
  EXPECT_GE(pages.size(), 2u) << "the three notes (4 MB) came in one page over a 2 MiB cap";
}

}  // namespace
}  // namespace accord::testing
