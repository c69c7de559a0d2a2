// accord contact add | list (issue 14, point 1; docs/REQUESTS.md "Contacts")
#include <iostream>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/federation/node.h"
#include "accord/ingest/ingest.h"
#include "accord/requests/contact.h"
#include "cli/cli.h"
#include "cli/egress.h"

namespace accord::cli {
namespace {

struct ContactFlags {
  std::string name, role, email, phone, hours;
  int order = 0;
  bool json = false;
};

int ContactAdd(const Globals& g, const ContactFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto node = federation::LoadNode(**store);
  if (!node.ok()) return Fail(node.status());
  if (!*node) {
    return Fail(absl::FailedPreconditionError(
        "a contact belongs to this node's identity: run `accord node init --name NAME` first"));
  }
  auto role = requests::ParseContactRole(f.role);
  if (!role.ok()) return Fail(role.status());
  requests::Contact c;
  c.id = "identity--" + common::NewUuid4();
  c.name = f.name;
  c.role = *role;
  c.email = f.email;
  c.phone = f.phone;
  c.hours = f.hours == "24/7" ? "" : f.hours;
  c.node = (*node)->identity;
  c.order = f.order;
  c.created = common::NowMicros();
  if (absl::Status v = requests::Validate(c); !v.ok()) return Fail(v);
  ingest::Options opts;
  opts.collection = requests::kContactsCollection;
  opts.origin.entry_point = "contact-add";
  opts.strict = true;
  ingest::Import run(store->get(), opts);
  const std::string line = requests::ToStix(c) + "\n";  // the source reads it in place
  auto src = ingest::BufferSource("contact add", line);
  if (absl::Status st = run.Add(*src); !st.ok()) return Fail(st);
  auto r = run.Finish();
  if (!r.ok()) return Fail(r.status());
  if (!r->committed) {
    std::string why = r->not_committed_why;
    for (const auto& p : r->checked.problems) why += "; " + p.message;
    return Fail(absl::InternalError(common::Cat("contact not stored: ", why)));
  }
  absl::Status audited = AuditChange(
      g, "contact.add",
      common::Cat(c.id, " '", c.name, "' (", requests::Name(c.role), ", order ", c.order, ")"));
  if (!audited.ok()) return Fail(audited);
  std::cout << c.id << "\n";
  return 0;
}

int ContactList(const Globals& g, bool json) {
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  store::Query q;
  q.types = {"identity"};
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);
  auto page = egress.reader.List(q, egress.audience, policy::Exit::kListJson);
  if (!page.ok()) return Fail(page.status());
  egress.Count(*page);
  // Node names, from the nodes' identity objects among the same page.
  std::map<std::string, std::string> node_names;
  std::vector<requests::Contact> contacts;
  for (const auto& o : page->objects) {
    absl::StatusOr<requests::Contact> c = requests::ContactFromStix(o.json);
    if (c.ok()) {
      contacts.push_back(*std::move(c));
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(o.json, nullptr, false);
    if (j.is_object() && j.value("identity_class", "") == "organization") {
      node_names[o.id] = j.value("name", "");
    }
  }
  auto own = federation::LoadNode(**s);
  const std::string self = own.ok() && *own ? (*own)->identity : std::string();
  // By node (this node first), then in each node's escalation order at this moment.
  std::map<std::string, std::vector<requests::Contact>> by_node;
  for (const auto& c : contacts) by_node[c.node].push_back(c);
  const common::Micros now = common::NowMicros();
  nlohmann::json out = nlohmann::json::array();
  auto print_node = [&](const std::string& node) {
    for (const requests::Contact& c : requests::EscalationOrder(by_node[node], node, now)) {
      auto hours = requests::Hours::Parse(c.hours.empty() ? "24/7" : c.hours);
      const bool on_duty = hours.ok() && hours->Covers(now);
      const std::string node_name = node_names.count(node) ? node_names[node] : node;
      if (json) {
        out.push_back({{"id", c.id},
                       {"name", c.name},
                       {"role", requests::Name(c.role)},
                       {"email", c.email},
                       {"phone", c.phone},
                       {"hours", c.hours.empty() ? "24/7" : c.hours},
                       {"order", c.order},
                       {"on_duty", on_duty},
                       {"node", node},
                       {"node_name", node_name},
                       {"own", node == self}});
      } else {
        std::cout << (node == self ? "own  " : "peer ") << node_name << "  "
                  << requests::Name(c.role) << "  " << c.order << "  " << c.name << "  " << c.email
                  << (c.phone.empty() ? "" : "  " + c.phone) << "  "
                  << (c.hours.empty() ? "24/7" : c.hours) << (on_duty ? "  (on duty)" : "") << "\n";
      }
    }
  };
  if (by_node.count(self)) print_node(self);
  for (const auto& [node, list] : by_node) {
    if (node != self) print_node(node);
  }
  if (json) std::cout << out.dump() << "\n";
  return egress.Finish(policy::Exit::kListJson);
}

}  // namespace

void RegisterContactCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* contact = app.add_subcommand("contact", "This node's points of contact, and its peers'");
  contact->require_subcommand(1);
  auto f = std::make_shared<ContactFlags>();
  auto* add = contact->add_subcommand("add", "Add a point of contact of this node");
  AddDataOption(add, g);
  add->add_option("name", f->name, "Who (a person or a desk)")->required();
  add->add_option("--role", f->role, "policy or technical")->required();
  add->add_option("--email", f->email, "E-mail address")->required();
  add->add_option("--phone", f->phone, "Telephone number");
  add->add_option("--hours", f->hours,
                  "When they answer: \"24/7\" (the default) or e.g. \"Mon-Fri 08-18 UTC\"");
  add->add_option("--order", f->order, "Escalation order, lowest first (default 0)");
  add->callback([g, f, exit_code] { *exit_code = ContactAdd(*g, *f); });
  auto* list = contact->add_subcommand(
      "list", "The directory: own contacts and the peers', in escalation order");
  AddDataOption(list, g);
  list->add_flag("--json", f->json, "Machine-readable output");
  list->callback([g, f, exit_code] { *exit_code = ContactList(*g, f->json); });
}

}  // namespace accord::cli
