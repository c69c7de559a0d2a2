#include "accord/policy/egress_reader.h"

#include <utility>

#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::policy {

void EgressReader::AdmitAll(std::vector<store::StoredObject>&& in, const Audience& audience,
                            Exit exit, GatedPage* out) {
  out->objects.reserve(in.size());
  for (store::StoredObject& o : in) {
    Decision d = gate_->Admit(o, audience, exit);
    if (!d.profile.empty() && out->profile.empty()) out->profile = d.profile;
    switch (d.verdict) {
      case Decision::Verdict::kAllow: out->objects.push_back(std::move(o)); break;
      case Decision::Verdict::kReplace:
        // The copy leaves; the stored original is untouched (it was read, not referenced).
        if (out->replaced_refs.size() < audit::kMaxVersionsPerEntry) {
          out->replaced_refs.push_back(RefOf(o));
        }
        o.json = std::move(d.json);
        out->objects.push_back(std::move(o));
        ++out->replaced;
        break;
      case Decision::Verdict::kDeny:
        if (out->denied_refs.size() < audit::kMaxVersionsPerEntry) {
          out->denied_refs.push_back(RefOf(o));
        }
        if (out->withheld++ == 0) out->withheld_reason = std::move(d.reason);
        break;
    }
  }
}

absl::StatusOr<GatedPage> EgressReader::List(const store::Query& query, const Audience& audience,
                                             Exit exit) {
  ACCORD_RETURN_IF_ERROR(gate_->CheckExit(audience, exit));
  ACCORD_ASSIGN_OR_RETURN(store::Page page, store_->List(query));
  GatedPage out;
  out.more = page.more;
  out.next = std::move(page.next);
  AdmitAll(std::move(page.objects), audience, exit, &out);
  ACCORD_RETURN_IF_ERROR(Audit(audience, exit, query.collection.value_or(""), out));
  return out;
}

absl::StatusOr<GatedPage> EgressReader::Get(const std::string& id, store::VersionSelect versions,
                                            const Audience& audience, Exit exit) {
  ACCORD_RETURN_IF_ERROR(gate_->CheckExit(audience, exit));
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> objs, store_->Get(id, versions));
  GatedPage out;
  AdmitAll(std::move(objs), audience, exit, &out);
  ACCORD_RETURN_IF_ERROR(Audit(audience, exit, {}, out));
  return out;
}

// Fails the read when the entry cannot be written: nothing leaves unrecorded.
absl::Status EgressReader::Audit(const Audience& audience, Exit exit, const std::string& collection,
                                 const GatedPage& page) {
  if (!audit_ || (page.objects.empty() && page.withheld == 0)) return absl::OkStatus();
  auto st = audit_->Append(EgressEntry(audience, exit, collection, page.objects, page));
  if (!st.ok()) {
    return absl::Status(st.status().code(),
                        common::Cat("nothing was delivered: the audit log could not be written: ",
                                    common::View(st.status().message())));
  }
  return absl::OkStatus();
}

audit::VersionRef RefOf(const store::StoredObject& o) {
  return {o.id, common::FormatTimestamp(o.modified)};
}

std::string ActorOf(const Audience& a) {
  switch (a.kind) {
    case Audience::Kind::kLocalOperator:
      return a.name.empty() ? "operator" : common::Cat("operator:", a.name);
    case Audience::Kind::kUser: return common::Cat("user:", a.name);
    case Audience::Kind::kAnonymous: return "anonymous";
    case Audience::Kind::kPeer: return common::Cat("peer:", a.name);
    case Audience::Kind::kSensor: return common::Cat("sensor:", a.name);
  }
  return "unknown";
}

audit::Entry EgressEntry(const Audience& audience, Exit exit, const std::string& collection,
                         const std::vector<store::StoredObject>& delivered, const GatedPage& page) {
  audit::Entry e;
  e.actor = ActorOf(audience);
  e.action = "egress";
  e.exit = std::string(ExitName(exit));
  e.collection = collection;
  if (audience.kind == Audience::Kind::kPeer) e.peer = audience.name;
  e.objects.reserve(delivered.size());
  for (const auto& o : delivered) e.objects.push_back(o.id, o.modified);
  e.denied = page.denied_refs;
  e.redacted = page.replaced_refs;
  e.profile = page.profile;
  if (page.withheld || page.replaced) {
    e.detail = common::Cat(page.withheld, " withheld, ", page.replaced, " redacted");
    if (!page.withheld_reason.empty()) e.detail += common::Cat(" (", page.withheld_reason, ")");
  }
  return e;
}

}  // namespace accord::policy
