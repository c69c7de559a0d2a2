// The CLI's read exits (`get`, `list`, `export`, `contact list`): the egress gate and the
// audit log as the local operator meets them.
#pragma once

#include <memory>
#include <string>

#include "accord/audit/log.h"
#include "accord/common/strings.h"
#include "accord/federation/directory.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {

// Objects leave `get`, `list` and `export` through the node's egress gate (docs/EGRESS.md),
// addressed to the local operator. Objects the gate withholds are counted and reported.
struct Egress {
  std::unique_ptr<policy::Gate> gate;
  policy::EgressReader reader;
  uint64_t withheld = 0;
  std::string reason;

  std::unique_ptr<audit::Log> log;
  absl::Status audit_status;
  policy::Audience audience{policy::Audience::Kind::kLocalOperator, OperatorName(), {}};

  // Every delivery is written to the node's audit log (issue 13): who, which versions, which
  // were withheld; a read whose entry cannot be written delivers nothing.
  // `for_peer`: what that peer's agreement lets it have (its TLP rules and redaction profile),
  // as a sync would deliver it, for an operator who hands a partner a file.
  Egress(store::Store* s, const Globals& g, const std::string& for_peer = {})
      : gate(for_peer.empty() ? policy::NewNodeGate(s)
                              : federation::NewFederatedGate(s, g.data_dir)),
        reader(s, gate.get()) {
    if (!for_peer.empty()) audience = policy::Audience::Peer(for_peer);
    auto l = audit::Log::Open(g.data_dir, s);
    if (l.ok()) {
      log = std::move(*l);
      reader.set_audit(log.get());
    } else {
      audit_status = l.status();
    }
  }
  void Count(const policy::GatedPage& p) {
    if (p.withheld && withheld == 0) reason = p.withheld_reason;
    withheld += p.withheld;
  }
  // 0, or (after saying why) the permission exit code when the gate withheld anything.
  int Finish(policy::Exit exit) const {
    if (withheld == 0) return 0;
    return Fail(absl::PermissionDeniedError(
        common::Cat(policy::ExitName(exit), ": ", withheld,
                    " object version(s) withheld by the egress gate (", reason, ")")));
  }
};

}  // namespace accord::cli
