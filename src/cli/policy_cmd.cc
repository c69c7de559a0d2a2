// `accord policy lockdown on|off|status`: the operator's switch that closes every exit of the
// node (docs/EGRESS.md). The switch is a store setting; the egress gate of every process using
// the store (a running `accord serve` included) reads it within a second.
#include <iostream>

#include "accord/common/strings.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

int Lockdown(const Globals& g, const std::string& what) {
  store::Options o;
  o.dir = g.data_dir;
  o.create = false;  // a switch on a node that does not exist would protect nothing
  auto s = store::Store::Open(o);
  if (!s.ok()) return Fail(s.status());
  if (what == "on" || what == "off") {
    auto st = policy::SetLockdown(**s, what == "on");
    if (!st.ok()) return Fail(st);
    st = AuditChange(g, "policy.lockdown", what);
    if (!st.ok()) return Fail(st);
  } else if (what != "status") {
    return Fail(absl::InvalidArgumentError(
        common::Cat("lockdown takes on, off or status, found '", what, "'")));
  }
  auto on = policy::LockdownOn(**s);
  if (!on.ok()) return Fail(on.status());
  std::cout << (*on ? "lockdown: on (nothing leaves this node: TAXII reads, export, get, list, "
                      "push, match output and sightings are refused)\n"
                    : "lockdown: off\n");
  return 0;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* p = app.add_subcommand("policy", "The node's egress policy (docs/EGRESS.md)");
  p->require_subcommand(1);
  auto* l = p->add_subcommand(
      "lockdown", "Close (on) or reopen (off) every exit of the node, or show the switch");
  AddDataOption(l, g);
  auto what = std::make_shared<std::string>();
  l->add_option("STATE", *what, "on, off or status")->required();
  l->callback([g, what, exit_code] { *exit_code = Lockdown(*g, *what); });
}

}  // namespace accord::cli
