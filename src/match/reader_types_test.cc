// EventReader::SetWantedTypes (issue 11): a reader told which SCO types the indicators
// mention leaves the others out, keeps the SCOs those refer to, and still yields every record
// as an event, so stream positions are unchanged. And Program::Types() names every type a
// comparison mentions, anchored or not.
#include <algorithm>
#include <string>
#include <vector>

#include "accord/match/engine.h"
#include "accord/match/input.h"
#include "gtest/gtest.h"

namespace accord::match {
namespace {

// A dns.log and a conn.log row (Zeek TSV), hand-written.
const char* kLog =
    "#separator \\x09\n#set_separator\t,\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n"
    "1700000000.0\tC1\t10.0.0.1\t5353\t10.0.0.53\t53\tudp\tevil.example\t192.0.2.7,cname.example\n"
    "1700000001.0\tC2\t10.0.0.2\t5353\t10.0.0.53\t53\tudp\tgood.example\t-\n";

// Suricata EVE lines, hand-written: a DNS query, an HTTP request, a file, and a stats record
// (nothing to match: not an event, wanted types or not).
const char* kEve =
    R"({"timestamp":"2018-03-24T14:37:19Z","event_type":"dns","src_ip":"10.0.0.1",)"
    R"("dest_ip":"10.0.0.53","proto":"UDP","dns":{"rrname":"evil.example"}})"
    "\n"
    R"({"timestamp":"2018-03-24T14:37:20Z","event_type":"stats","stats":{"uptime":5}})"
    "\n"
    R"({"timestamp":"2018-03-24T14:37:21Z","event_type":"http","src_ip":"10.0.0.2",)"
    R"("dest_ip":"192.0.2.8","http":{"hostname":"www.example","url":"/x"}})"
    "\n"
    R"({"timestamp":"2018-03-24T14:37:22Z","event_type":"fileinfo","src_ip":"192.0.2.8",)"
    R"("dest_ip":"10.0.0.2","fileinfo":{"filename":"a.exe","md5":"00"}})"
    "\n";

// The SCO types of each event the reader yields.
std::vector<std::vector<std::string>> Read(const std::vector<std::string>* wanted,
                                           InputFormat format = InputFormat::kZeek) {
  auto r = EventReader::Open(
      format, common::InputStream::FromBuffer(format == InputFormat::kZeek ? kLog : kEve), "log",
      nullptr, [](std::string_view, std::string_view) {});
  EXPECT_TRUE(r.ok()) << r.status();
  if (wanted) (*r)->SetWantedTypes(*wanted);
  std::vector<std::vector<std::string>> out;
  Observation o;
  for (;;) {
    auto more = (*r)->Next(&o);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    std::vector<std::string> types;
    for (const Sco& s : o.scos()) types.emplace_back(o.Type(s));
    std::sort(types.begin(), types.end());
    out.push_back(types);
  }
  return out;
}

TEST(ReaderTypesTest, UnwantedScosAreLeftOutButEveryRecordIsAnEvent) {
  // Everything (by hand, from docs/MATCH_INPUTS.md "Zeek"): src and dst addresses,
  // network-traffic, the query's domain-name and its one IP answer (the CNAME is skipped).
  auto all = Read(nullptr);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], (std::vector<std::string>{"domain-name", "ipv4-addr", "ipv4-addr", "ipv4-addr",
                                              "network-traffic"}));
  EXPECT_EQ(all[1],
            (std::vector<std::string>{"domain-name", "ipv4-addr", "ipv4-addr", "network-traffic"}));
  // domain-name only: the query, and the answer it refers to (resolves_to_refs).
  std::vector<std::string> domains = {"domain-name"};
  auto d = Read(&domains);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], (std::vector<std::string>{"domain-name", "ipv4-addr"}));
  EXPECT_EQ(d[1], (std::vector<std::string>{"domain-name"}));
  // network-traffic only: it and the addresses it refers to.
  std::vector<std::string> nt = {"network-traffic"};
  auto n = Read(&nt);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[1], (std::vector<std::string>{"ipv4-addr", "ipv4-addr", "network-traffic"}));
  // A type no record has: nothing is built, and both records are still events.
  std::vector<std::string> files = {"file"};
  auto f = Read(&files);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(f[0].empty());
  EXPECT_TRUE(f[1].empty());
  std::vector<std::string> star = {"*"};
  EXPECT_EQ(Read(&star), all);
}

TEST(ReaderTypesTest, SuricataLeavesOutUnwantedScosButKeepsEveryEvent) {
  using V = std::vector<std::string>;
  // Everything (docs/MATCH_INPUTS.md "Suricata EVE JSON"): src/dst addresses and
  // network-traffic on each; the DNS rrname, the HTTP hostname and its url, the file.
  auto all = Read(nullptr, InputFormat::kSuricata);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], (V{"domain-name", "ipv4-addr", "ipv4-addr", "network-traffic"}));
  EXPECT_EQ(all[1], (V{"domain-name", "ipv4-addr", "ipv4-addr", "network-traffic", "url"}));
  EXPECT_EQ(all[2], (V{"file", "ipv4-addr", "ipv4-addr", "network-traffic"}));
  V domains = {"domain-name"};
  auto d = Read(&domains, InputFormat::kSuricata);
  ASSERT_EQ(d.size(), 3u);  // the file event is still an event, with nothing in it
  EXPECT_EQ(d[0], (V{"domain-name"}));
  EXPECT_EQ(d[1], (V{"domain-name"}));
  EXPECT_TRUE(d[2].empty());
  V ips = {"ipv4-addr"};
  auto i = Read(&ips, InputFormat::kSuricata);
  ASSERT_EQ(i.size(), 3u);
  for (const V& e : i) EXPECT_EQ(e, (V{"ipv4-addr", "ipv4-addr"}));
  V nt = {"network-traffic"};
  auto n = Read(&nt, InputFormat::kSuricata);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[1], (V{"ipv4-addr", "ipv4-addr", "network-traffic"}));
  V urls_files = {"url", "file"};
  auto u = Read(&urls_files, InputFormat::kSuricata);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_TRUE(u[0].empty());
  EXPECT_EQ(u[1], (V{"url"}));
  EXPECT_EQ(u[2], (V{"file"}));
  V star = {"*"};
  EXPECT_EQ(Read(&star, InputFormat::kSuricata), all);
}

TEST(ReaderTypesTest, ProgramTypesNameEveryComparedType) {
  auto p = Program::Build(
      {{"indicator--1", "[domain-name:value = 'a.example']"},
       {"indicator--2", "[ipv4-addr:value = '10.0.0.1' AND network-traffic:dst_port > 1]"},
       {"indicator--3", "[file:name = 'x'] FOLLOWEDBY [url:value LIKE '%y%']"}},
      MatchOptions{});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->Types(), (std::vector<std::string>{"domain-name", "file", "ipv4-addr",
                                                     "network-traffic", "url"}));
  MatchOptions interpret;
  interpret.interpret = true;
  auto q = Program::Build({{"indicator--1", "[domain-name:value = 'a.example']"}}, interpret);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->Types(), (std::vector<std::string>{"*"}));
}

}  // namespace
}  // namespace accord::match
