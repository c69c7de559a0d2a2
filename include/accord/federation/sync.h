// Sync (issue 12, points 6 to 8; docs/FEDERATION.md "Sync"): this node pulls, over TAXII 2.1,
// every collection its agreement with a peer names in [accept] `from`, into the local
// collection `into`.
//
// - Incremental and resumable: one `added_after` cursor per (peer, remote collection), the
//   peer's X-TAXII-Date-Added-Last of the last page stored, committed in the same store
//   transaction as that page's objects. A crash at any instant loses nothing and stores
//   nothing twice (a version received twice is stored once).
// - Every received version runs the one ingest path (validation, pattern check), then the
//   federation checks (ReceiveCheck): a good signature by a trusted signer, the signer of the
//   object's first version (version ownership). A version that fails them is held in the
//   store's quarantine with the reason and the peer's name, never stored in a collection and
//   never forwarded. A version another peer sent first with other content is a content
//   conflict (the store's quarantine, too).
// - Loops stop: a version signed by this node is never taken back from a peer, and the egress
//   gate never returns to a peer what it originated or gave us.
// - Bounded against a hostile peer: a page bigger than max_page_bytes, with more objects than
//   asked for, or whose cursor does not advance fails that collection's round; a round reads
//   at most max_pages_per_round pages.
//
// Thread safety: functions may run concurrently with a server on the same store; one sync at a
// time per store (the serve loop, or `accord sync --once`).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/store/store.h"

namespace accord::federation {

/// One (peer, remote collection) of one round.
struct SyncCollectionReport {
  std::string peer;
  std::string collection;  // the peer's collection
  std::string into;        // the local collection
  uint64_t pages = 0;
  uint64_t received = 0;     // versions read from the peer's pages
  uint64_t added = 0;        // new versions stored
  uint64_t duplicates = 0;   // versions this node already had
  uint64_t quarantined = 0;  // held back (signature, signer, ownership) or content conflicts
  uint64_t refused = 0;      // refused by the ingest path (not valid STIX, a bad pattern)
  uint64_t skipped = 0;      // types the agreement does not accept; this node's own versions
  bool caught_up = false;    // the last page read said nothing more follows
  bool identities = false;   // identity objects were stored (held versions are checked again)
  std::string error;         // empty: the round succeeded
  std::string note;          // a success worth knowing about (the peer serves no such collection)
};

struct SyncReport {
  std::vector<SyncCollectionReport> collections;
  uint64_t released = 0;  // held versions (unknown signer) that passed when checked again
  bool ok() const {
    for (const auto& c : collections) {
      if (!c.error.empty()) return false;
    }
    return true;
  }
};

/// One round with every peer that has an agreement (or only `only_peer`, when not empty).
/// NotFound when `only_peer` is not a peer; FailedPrecondition before `accord node init`.
/// A peer that fails is reported (and recorded for `accord peer status`); the others go on.
absl::StatusOr<SyncReport> SyncOnce(store::Store& store, const std::string& data_dir,
                                    const std::string& only_peer);

/// `accord quarantine release` for a held version: runs every check again; when it passes,
/// the version is stored in the collection it was meant for and the entry removed. Otherwise
/// FailedPrecondition with the reason, and the entry stays.
absl::Status ReleaseHeld(store::Store& store, const std::string& data_dir, int64_t qid);

/// What `accord peer status` shows for one (peer, remote collection).
struct CollectionStatus {
  std::string collection;
  common::Micros last_attempt = 0;
  common::Micros last_success = 0;
  uint64_t failures = 0;  // consecutive failed rounds
  std::string last_error;
  common::Micros last_error_at = 0;
  std::string cursor;        // the peer's date_added of the last version committed
  bool caught_up = false;    // the last successful round read everything there was
  uint64_t lag_objects = 0;  // versions known to wait: read but not committed (0 caught up)
  uint64_t received = 0;     // versions received over all rounds
};
struct PeerStatus {
  std::string peer;
  std::vector<CollectionStatus> collections;
  uint64_t quarantined = 0;  // entries in quarantine that this peer sent
};
absl::StatusOr<std::vector<PeerStatus>> SyncStatus(store::Store& store);

/// `accord serve`'s sync: one round per peer every sync_interval seconds, a failed peer retried
/// after an exponential back-off with jitter ([federation] retry_base_ms, retry_max_s).
class SyncLoop {
 public:
  SyncLoop(store::Store* store, std::string data_dir);
  ~SyncLoop();  // Stop()s
  void Start();
  /// Stops at the next page or wait; a request in flight is cancelled within about a second.
  void Stop();

 private:
  void Run();
  store::Store* const store_;
  const std::string data_dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // read between pages
  std::thread thread_;
};

}  // namespace accord::federation
