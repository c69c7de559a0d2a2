// accord node init | show, accord verify: the node's identity and key pair, and the check of
// object signatures (issue 12, docs/FEDERATION.md).
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/node.h"
#include "accord/federation/signature.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

struct NodeFlags {
  std::string name;
  bool json = false;
  std::string id;  // verify
};

void PrintNode(const federation::NodeInfo& n, bool json) {
  const std::string key = common::Base64Encode(n.public_key);
  if (json) {
    std::cout
        << nlohmann::json{{"identity", n.identity}, {"name", n.name}, {"public_key", key}}.dump()
        << "\n";
  } else {
    std::cout << "identity:   " << n.identity << "\nname:       " << n.name
              << "\npublic key: " << key << "\n";
  }
}

int NodeInit(const Globals& g, const NodeFlags& f) {
  auto store = OpenDataStore(g, true);
  if (!store.ok()) return Fail(store.status());
  auto node = federation::InitNode(**store, g.data_dir, f.name, common::NowMicros());
  if (!node.ok()) return Fail(node.status());
  PrintNode(*node, f.json);
  absl::Status st =
      AuditChange(g, "key.create",
                  common::Cat("node key pair and identity ", node->identity, " (public key ",
                              common::Base64Encode(node->public_key), ")"));
  return st.ok() ? 0 : Fail(st);
}

int NodeShow(const Globals& g, const NodeFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto node = federation::LoadNode(**store);
  if (!node.ok()) return Fail(node.status());
  if (!*node) {
    return Fail(
        absl::NotFoundError("this node has no identity yet: run `accord node init --name NAME`"));
  }
  PrintNode(**node, f.json);
  return 0;
}

int NodeTrust(const Globals& g, const NodeFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  if (absl::Status st = federation::TrustIdentity(**store, f.id); !st.ok()) return Fail(st);
  std::cout << "trusted: the key that " << f.id << "'s own signed identity object carries\n";
  absl::Status st = AuditChange(g, "key.trust", common::Cat("identity ", f.id));
  return st.ok() ? 0 : Fail(st);
}

int VerifyObject(const Globals& g, const NodeFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  // What is printed (ids, versions, signers) leaves as `accord get` does: through the egress
  // gate, to the local operator.
  std::unique_ptr<policy::Gate> gate = policy::NewNodeGate(store->get());
  policy::EgressReader reader(store->get(), gate.get());
  auto page = reader.Get(f.id, store::VersionSelect::kAll, policy::Audience::LocalOperator(),
                         policy::Exit::kGet);
  if (!page.ok()) return Fail(page.status());
  if (page->objects.empty()) {
    if (page->withheld) {
      return Fail(absl::PermissionDeniedError(
          common::Cat(f.id, ": withheld by the egress gate (", page->withheld_reason, ")")));
    }
    return Fail(absl::NotFoundError(common::Cat("no object ", f.id)));
  }
  auto trust = federation::LoadKeyTrust(**store, g.data_dir);
  if (!trust.ok()) return Fail(trust.status());
  int bad = 0;
  nlohmann::json out = nlohmann::json::array();
  federation::SignatureChecker checker(**store, *trust);
  for (const store::StoredObject& v : page->objects) {
    absl::StatusOr<federation::SignatureCheck> c = checker.Check(v.json);
    if (!c.ok()) return Fail(c.status());
    const std::string& signer = c->signer;
    std::string result;
    switch (c->verdict) {
      case federation::SignatureCheck::Verdict::kValid: result = "valid"; break;
      case federation::SignatureCheck::Verdict::kInvalid:
        result = common::Cat("invalid: ", c->detail);
        break;
      case federation::SignatureCheck::Verdict::kMalformed:
        result = common::Cat("malformed: ", c->detail);
        break;
      case federation::SignatureCheck::Verdict::kUnsigned: result = "unsigned"; break;
      case federation::SignatureCheck::Verdict::kNoKey: result = c->detail; break;
    }
    if (result != "valid") ++bad;
    const std::string modified = v.has_modified ? common::FormatTimestampMillis(v.modified) : "";
    if (f.json) {
      out.push_back({{"id", v.id}, {"modified", modified}, {"signer", signer}, {"result", result}});
    } else {
      std::cout << v.id << " " << (modified.empty() ? "-" : modified) << " "
                << (signer.empty() ? "-" : signer) << " " << result << "\n";
    }
  }
  if (f.json) std::cout << out.dump() << "\n";
  if (page->withheld) {
    return Fail(absl::PermissionDeniedError(common::Cat(
        page->withheld, " version(s) withheld by the egress gate (", page->withheld_reason, ")")));
  }
  return bad ? 1 : 0;
}

}  // namespace

void RegisterNodeCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto f = std::make_shared<NodeFlags>();
  auto* node = app.add_subcommand("node", "The node's identity and signing key");
  node->require_subcommand(1);
  auto* init =
      node->add_subcommand("init", "Create the node's identity object and Ed25519 key pair (once)");
  AddDataOption(init, g);
  init->add_option("--name", f->name, "The organisation's name, as peers will see it")->required();
  init->add_flag("--json", f->json, "Print as JSON");
  init->callback([g, f, exit_code] { *exit_code = NodeInit(*g, *f); });
  auto* show = node->add_subcommand("show", "Print the node's identity, name and public key");
  AddDataOption(show, g);
  show->add_flag("--json", f->json, "Print as JSON");
  show->callback([g, f, exit_code] { *exit_code = NodeShow(*g, *f); });
  auto* trust = node->add_subcommand(
      "trust", "Trust the key a signer's identity object introduces ([federation] key_trust)");
  AddDataOption(trust, g);
  trust->add_option("identity", f->id, "The signer's identity id")->required();
  trust->callback([g, f, exit_code] { *exit_code = NodeTrust(*g, *f); });
  auto* verify =
      app.add_subcommand("verify", "Check the signature of every stored version of an object");
  AddDataOption(verify, g);
  verify->add_option("id", f->id, "The object's id")->required();
  verify->add_flag("--json", f->json, "Print as JSON");
  verify->callback([g, f, exit_code] { *exit_code = VerifyObject(*g, *f); });
}

}  // namespace accord::cli
