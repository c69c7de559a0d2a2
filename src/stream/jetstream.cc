// JetStream over libnats (jetstream.h).
#include "accord/stream/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <string>
#include <utility>

#include "accord/common/strings.h"

namespace accord::stream {

namespace {

// "doing: library text (JetStream error N)". Unavailable for connection trouble, which a caller
// may retry; Internal otherwise.
absl::Status NatsError(std::string_view doing, natsStatus s,
                       jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && text.find(detail) == std::string::npos) {
    text = common::Cat(text, ": ", detail);
  }
  if (jerr != 0) text = common::Cat(text, " (JetStream error ", static_cast<int>(jerr), ")");
  std::string msg = common::Cat(doing, ": ", text);
  switch (s) {
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_TIMEOUT:
    case NATS_IO_ERROR:
    case NATS_NO_RESPONDERS: return absl::UnavailableError(msg);
    default: return absl::InternalError(msg);
  }
}

}  // namespace

bool IsNatsUrl(std::string_view s) { return s.rfind("nats://", 0) == 0 && s.size() > 7; }

// ---- Message --------------------------------------------------------------------------------

Message::Message(Message&& o) noexcept
    : msg_(std::exchange(o.msg_, nullptr)), stream_seq_(o.stream_seq_), delivered_(o.delivered_) {}

Message& Message::operator=(Message&& o) noexcept {
  if (this != &o) {
    if (msg_ != nullptr) natsMsg_Destroy(msg_);
    msg_ = std::exchange(o.msg_, nullptr);
    stream_seq_ = o.stream_seq_;
    delivered_ = o.delivered_;
  }
  return *this;
}

Message::~Message() {
  if (msg_ != nullptr) natsMsg_Destroy(msg_);
}

std::string_view Message::data() const {
  if (msg_ == nullptr) return {};
  return {natsMsg_GetData(msg_), static_cast<size_t>(natsMsg_GetDataLength(msg_))};
}

absl::Status Message::Ack() {
  if (msg_ == nullptr) return absl::FailedPreconditionError("acknowledging an empty message");
  natsStatus s = natsMsg_Ack(msg_, nullptr);
  if (s != NATS_OK) {
    return NatsError(common::Cat("acknowledging stream message ", stream_seq_), s);
  }
  return absl::OkStatus();
}

// ---- Consumer -------------------------------------------------------------------------------

Consumer::~Consumer() {
  // Leaves the durable consumer on the server (Destroy without Unsubscribe): other workers and
  // later runs go on with it.
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
}

absl::Status Consumer::Fetch(int max, int64_t timeout_ms, std::vector<Message>* out) {
  natsMsgList list{nullptr, 0};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, std::max(max, 1),
                                        std::max<int64_t>(timeout_ms, 1), &jerr);
  if (s == NATS_TIMEOUT) return absl::OkStatus();
  if (s != NATS_OK) return NatsError("fetching messages", s, jerr);
  absl::Status st;
  for (int i = 0; i < list.Count; ++i) {
    Message m;
    m.msg_ = list.Msgs[i];
    list.Msgs[i] = nullptr;
    jsMsgMetaData* meta = nullptr;
    natsStatus ms = natsMsg_GetMetaData(&meta, m.msg_);
    if (ms != NATS_OK) {
      // Not a JetStream message: it cannot be acknowledged or identified; left unacknowledged.
      if (st.ok()) st = NatsError("reading a message's JetStream metadata", ms);
      continue;
    }
    m.stream_seq_ = meta->Sequence.Stream;
    m.delivered_ = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    out->push_back(std::move(m));
  }
  natsMsgList_Destroy(&list);
  return st;
}

absl::StatusOr<uint64_t> Consumer::Pending() {
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &jerr);
  if (s != NATS_OK) return NatsError("reading the consumer's state", s, jerr);
  uint64_t n = ci->NumPending;
  jsConsumerInfo_Destroy(ci);
  return n;
}

// ---- JetStream ------------------------------------------------------------------------------

JetStream::~JetStream() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Connect(const std::string& url) {
  if (!IsNatsUrl(url)) {
    return absl::InvalidArgumentError(
        common::Cat("'", url, "' is not a NATS URL (nats://HOST:PORT)"));
  }
  auto js = std::unique_ptr<JetStream>(new JetStream());
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
  // Keep trying after a server restart (a cluster member's failure): -1 is without end.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsConnection_Connect(&js->nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return NatsError(common::Cat("connecting to ", url), s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  jo.PublishAsync.MaxPending = 4096;
  s = natsConnection_JetStream(&js->js_, js->nc_, &jo);
  if (s != NATS_OK) return NatsError(common::Cat("opening JetStream on ", url), s);
  return js;
}

namespace {

// True when stream subject `have` holds every message of `want`: the same subject or filter,
// ">" or a "prefix.>" wildcard covering it.
bool Holds(std::string_view have, std::string_view want) {
  if (have == want || have == ">") return true;
  if (have.size() < 2 || have.substr(have.size() - 2) != ".>") return false;
  std::string_view prefix = have.substr(0, have.size() - 1);  // "telemetry."
  return want.size() > prefix.size() && want.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::Status JetStream::EnsureStream(const std::string& name, const std::string& subjects,
                                     const std::string& subject) {
  const std::string& want = subject.empty() ? subjects : subject;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    const char* list[] = {subjects.c_str()};
    cfg.Subjects = list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
    if (s != NATS_OK) return NatsError(common::Cat("creating stream '", name, "'"), s, jerr);
  } else if (s != NATS_OK) {
    return NatsError(common::Cat("reading stream '", name, "'"), s, jerr);
  }
  bool holds = false;
  std::string have;
  for (int i = 0; i < si->Config->SubjectsLen; ++i) {
    holds = holds || Holds(si->Config->Subjects[i], want);
    common::Append(&have, have.empty() ? "" : ", ", si->Config->Subjects[i]);
  }
  jsStreamInfo_Destroy(si);
  if (!holds) {
    return absl::FailedPreconditionError(common::Cat(
        "stream '", name, "' holds ", have.empty() ? "no subject" : have, ", not subject '", want,
        "'; name a subject it holds, or another stream (accord ingest "
        "--stream-subjects sets what a new stream holds)"));
  }
  return absl::OkStatus();
}

absl::Status JetStream::Publish(const std::string& subject, std::string_view data,
                                const std::string& msg_id) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  natsStatus s = js_PublishAsync(js_, subject.c_str(), data.data(), static_cast<int>(data.size()),
                                 msg_id.empty() ? nullptr : &po);
  if (s != NATS_OK) return NatsError(common::Cat("publishing on '", subject, "'"), s);
  return absl::OkStatus();
}

absl::Status JetStream::Flush(int64_t timeout_ms) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  if (s == NATS_OK) return absl::OkStatus();
  natsMsgList pending{nullptr, 0};
  int n = 0;
  if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
    n = pending.Count;
    natsMsgList_Destroy(&pending);
  }
  return NatsError(
      common::Cat("waiting for the stream to acknowledge publishes (", n, " not acknowledged)"), s);
}

absl::StatusOr<std::unique_ptr<Consumer>> JetStream::Consume(const ConsumerOptions& options) {
  if (options.durable.empty()) {
    return absl::InvalidArgumentError("a stream consumer needs a durable name (--durable)");
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Config.Durable = options.durable.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.AckWait = static_cast<int64_t>(options.ack_wait_s * 1e9);
  so.Config.MaxAckPending = options.max_ack_pending;
  so.Config.DeliverPolicy = js_DeliverAll;
  auto c = std::unique_ptr<Consumer>(new Consumer());
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&c->sub_, js_, options.subject.c_str(), options.durable.c_str(),
                                  nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return NatsError(common::Cat("joining consumer '", options.durable, "' of stream '",
                                 options.stream, "' on subject '", options.subject, "'"),
                     s, jerr);
  }
  return c;
}

}  // namespace accord::stream
