// `accord ingest --to nats://...`: a sensor's logs into a NATS JetStream stream, one event per
// message, for the matching workers (`accord match --from nats://...`, issue 17).
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/stream/framing.h"
#include "accord/stream/jetstream.h"
#include "cli/cli.h"

namespace accord::cli {

namespace {

struct IngestFlags {
  std::vector<std::string> files;
  std::string to;
  std::string stream = "TELEMETRY";
  std::string subject;
  std::string stream_subjects;  // what a stream created here holds (default: --subject)
};

int RunIngest(const IngestFlags& f) {
  if (!stream::IsNatsUrl(f.to)) {
    return Fail(absl::InvalidArgumentError(
        common::Cat("--to '", f.to, "': only NATS JetStream is supported (nats://HOST:PORT)")));
  }
  if (f.subject.empty()) return Fail(absl::InvalidArgumentError("--subject is required"));
  auto js = stream::JetStream::Connect(f.to);
  if (!js.ok()) return Fail(js.status());
  if (absl::Status s = (*js)->EnsureStream(
          f.stream, f.stream_subjects.empty() ? f.subject : f.stream_subjects, f.subject);
      !s.ok()) {
    return Fail(s);
  }
  std::vector<std::string> files = f.files;
  if (files.empty()) files.push_back("-");
  uint64_t published = 0, skipped = 0;
  std::string msg;
  for (const std::string& file : files) {
    auto in = common::InputStream::Open(file);
    if (!in.ok()) return Fail(in.status());
    stream::LogFramer framer(std::move(*in), file == "-" ? "<stdin>" : file,
                             [](std::string_view loc, std::string_view why) {
                               std::cerr << "accord: " << loc << ": skipped: " << why << "\n";
                             });
    for (;;) {
      absl::StatusOr<bool> more = framer.Next(&msg);
      if (!more.ok()) {
        // What was published stays published: say how far it got.
        (void)(*js)->Flush();
        std::cerr << "accord: " << published << " event(s) published before the error\n";
        return Fail(more.status());
      }
      if (!*more) break;
      if (absl::Status s = (*js)->Publish(f.subject, msg); !s.ok()) {
        std::cerr << "accord: " << published << " event(s) handed to the stream before the error"
                  << " (the stream acknowledged those before the last few thousand)\n";
        return Fail(s);
      }
      ++published;
    }
    skipped += framer.stats().skipped;
  }
  if (absl::Status s = (*js)->Flush(); !s.ok()) {
    std::cerr << "accord: " << published << " event(s) published; the stream did not acknowledge "
              << "all of them\n";
    return Fail(s);
  }
  std::cerr << "accord: " << published << " event(s) published to stream '" << f.stream
            << "' on subject '" << f.subject << "'";
  if (skipped) std::cerr << ", " << skipped << " skipped";
  std::cerr << "\n";
  return skipped ? 1 : 0;
}

}  // namespace

void RegisterStreamCommands(CLI::App& app, Globals* g, int* exit_code) {
  (void)g;
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* cmd = app.add_subcommand(
      "ingest", "Publish telemetry logs into a NATS JetStream stream, one event per message");
  cmd->add_option("files", flags->files,
                  "Zeek (TSV or JSON), Suricata EVE or JSON-lines logs (gzip ok), '-' for "
                  "standard input");
  cmd->add_option("--to", flags->to, "nats://HOST:PORT")->required();
  cmd->add_option("--stream", flags->stream, "JetStream stream (created when missing)")
      ->capture_default_str();
  cmd->add_option("--subject", flags->subject, "Subject to publish on")->required();
  cmd->add_option("--stream-subjects", flags->stream_subjects,
                  "Subjects a stream created here holds, such as 'telemetry.>' (default: "
                  "--subject)");
  cmd->callback([flags, exit_code] { *exit_code = RunIngest(*flags); });
}

}  // namespace accord::cli
