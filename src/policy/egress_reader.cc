#include "accord/policy/egress_reader.h"

#include <utility>

namespace accord::policy {

void EgressReader::AdmitAll(std::vector<store::StoredObject>&& in, const Audience& audience,
                            Exit exit, GatedPage* out) {
  out->objects.reserve(in.size());
  for (store::StoredObject& o : in) {
    Decision d = gate_->Admit(o, audience, exit);
    switch (d.verdict) {
      case Decision::Verdict::kAllow: out->objects.push_back(std::move(o)); break;
      case Decision::Verdict::kReplace:
        // The copy leaves; the stored original is untouched (it was read, not referenced).
        o.json = std::move(d.json);
        out->objects.push_back(std::move(o));
        ++out->replaced;
        break;
      case Decision::Verdict::kDeny:
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
  return out;
}

absl::StatusOr<GatedPage> EgressReader::Get(const std::string& id, store::VersionSelect versions,
                                            const Audience& audience, Exit exit) {
  ACCORD_RETURN_IF_ERROR(gate_->CheckExit(audience, exit));
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> objs, store_->Get(id, versions));
  GatedPage out;
  AdmitAll(std::move(objs), audience, exit, &out);
  return out;
}

}  // namespace accord::policy
