// NATS JetStream for telemetry (issue 17): sensors publish events into a stream, matching
// workers consume it as one consumer group. A thin layer over libnats (the NATS C client,
// Debian's libnats-dev); docs/SCALE_OUT.md has the deployment and the delivery guarantees.
//
//   ACCORD_ASSIGN_OR_RETURN(auto js, JetStream::Connect("nats://127.0.0.1:4222"));
//   ACCORD_RETURN_IF_ERROR(js->EnsureStream("TELEMETRY", "telemetry.>", "telemetry.dns"));
//   ACCORD_RETURN_IF_ERROR(js->Publish("telemetry.dns", line));  // asynchronous
//   ACCORD_RETURN_IF_ERROR(js->Flush());                         // every publish acknowledged
//
//   ConsumerOptions co{"TELEMETRY", "telemetry.>", "matchers"};
//   ACCORD_ASSIGN_OR_RETURN(auto consumer, js->Consume(co));
//   std::vector<Message> batch;
//   ACCORD_RETURN_IF_ERROR(consumer->Fetch(256, 1000, &batch));
//   for (Message& m : batch) { ...; m.Ack(); }
//
// Errors carry the server's or the library's text and say what was being done.
// A JetStream and what it hands out are used from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"

// libnats types, opaque here.
typedef struct __natsMsg natsMsg;                    // NOLINT(bugprone-reserved-identifier)
typedef struct __natsConnection natsConnection;      // NOLINT(bugprone-reserved-identifier)
typedef struct __natsSubscription natsSubscription;  // NOLINT(bugprone-reserved-identifier)
typedef struct __jsCtx jsCtx;                        // NOLINT(bugprone-reserved-identifier)

namespace accord::stream {

/// True for the URLs this layer takes: nats://HOST[:PORT] (a comma-separated list is several
/// servers of one cluster).
bool IsNatsUrl(std::string_view s);

/// One delivered message. Acknowledge it (Ack) only once its effect is durable; one not
/// acknowledged is delivered again after the consumer's ack wait.
class Message {
 public:
  Message() = default;
  Message(Message&& o) noexcept;
  Message& operator=(Message&& o) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  std::string_view data() const;
  /// The message's sequence in its stream: unique per message, the same on redelivery.
  uint64_t stream_sequence() const { return stream_seq_; }
  /// 1 on first delivery, more on redeliveries.
  uint64_t delivered() const { return delivered_; }
  /// Acknowledges the message (not waiting for the server). A lost ack means one more
  /// delivery, never a lost message.
  absl::Status Ack();

 private:
  friend class Consumer;
  natsMsg* msg_ = nullptr;
  uint64_t stream_seq_ = 0, delivered_ = 0;
};

struct ConsumerOptions {
  std::string stream;   // the stream (created with EnsureStream when missing)
  std::string subject;  // filter subject (wildcards allowed)
  std::string durable;  // consumer name: workers with one name share the messages
  /// Seconds before an unacknowledged message is delivered again (to any worker).
  double ack_wait_s = 30;
  /// Most messages delivered and not yet acknowledged, over all workers of the consumer.
  int64_t max_ack_pending = 20000;
};

/// A pull consumer: a worker of the group named by ConsumerOptions::durable.
class Consumer {
 public:
  ~Consumer();
  /// Appends up to `max` messages to `out`, waiting at most `timeout_ms` for them; appends
  /// none when none came in time (not an error).
  absl::Status Fetch(int max, int64_t timeout_ms, std::vector<Message>* out);
  /// Messages of the consumer's subject not yet delivered to any worker (server's count).
  absl::StatusOr<uint64_t> Pending();

 private:
  friend class JetStream;
  natsSubscription* sub_ = nullptr;
};

class JetStream {
 public:
  ~JetStream();
  /// Connects to `url` (nats://HOST:PORT, or a comma-separated list of one cluster's
  /// servers). The client reconnects by itself after a server restart.
  static absl::StatusOr<std::unique_ptr<JetStream>> Connect(const std::string& url);
  /// Creates stream `name` holding `subjects` (a subject or a wildcard such as "telemetry.>";
  /// file storage) when it does not exist. Then, FailedPrecondition unless the stream holds
  /// `subject` (empty: `subjects`): one of its subjects is the same, or a '>' wildcard covering
  /// it.
  absl::Status EnsureStream(const std::string& name, const std::string& subjects,
                            const std::string& subject = "");
  /// Publishes `data` on `subject` without waiting for the stream's acknowledgement; at most
  /// a few thousand publishes are outstanding (this then waits). `msg_id` (when not empty)
  /// lets the stream drop a duplicate sent within its duplicate window (2 minutes).
  absl::Status Publish(const std::string& subject, std::string_view data,
                       const std::string& msg_id = "");
  /// Waits until every publish is acknowledged by the stream; an error names how many were
  /// not.
  absl::Status Flush(int64_t timeout_ms = 30000);
  /// Joins (creating when missing) the durable pull consumer of `options`.
  absl::StatusOr<std::unique_ptr<Consumer>> Consume(const ConsumerOptions& options);

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace accord::stream
