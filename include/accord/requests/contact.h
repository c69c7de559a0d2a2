// Points of contact (issue 14, point 1; docs/REQUESTS.md "Contacts"): a node's policy and
// technical contacts as STIX identity objects, the hours each covers, and the order in which an
// overdue request escalates through them.
//
// A contact is an `identity` (identity_class "individual", `roles` ["policy"] or
// ["technical"], `contact_information` for people to read) made by its node
// (`created_by_ref`), with the same details for machines under Accord's contact extension
// (kContactExtension, a property-extension): role, email, phone, hours, node and order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"

namespace accord::requests {

inline constexpr std::string_view kContactExtension =
    "extension-definition--9d41f3b6-2c8e-4a57-b1d0-7e6f5a3c2b19";
/// The collection that holds the node's own contacts (shared with peers by their agreements).
inline constexpr const char* kContactsCollection = "contacts";

enum class ContactRole { kPolicy, kTechnical };
std::string_view Name(ContactRole role);
absl::StatusOr<ContactRole> ParseContactRole(std::string_view s);  ///< "policy", "technical"

/// When a contact answers: "24/7", or ranges "DAYS HH[:MM]-HH[:MM] UTC" separated by ";",
/// where DAYS is a day ("Mon"), a span ("Mon-Fri") or a list ("Sat,Sun"). A range that ends
/// before it starts runs past midnight ("Mon-Sun 18-08 UTC": nights, each starting on the day
/// named). Times are UTC only.
class Hours {
 public:
  /// InvalidArgument naming the part that does not parse and the form expected.
  static absl::StatusOr<Hours> Parse(std::string_view text);
  /// Whether `t` falls inside.
  bool Covers(common::Micros t) const;
  const std::string& text() const { return text_; }

 private:
  struct Range {
    unsigned days = 0;     // bit d: weekday d (0 = Monday) starts the range
    int from = 0, to = 0;  // minutes of the day, [from, to); to < from runs past midnight
  };
  std::string text_;
  std::vector<Range> ranges_;
};

struct Contact {
  std::string id;  ///< identity--<uuid>
  std::string name;
  ContactRole role = ContactRole::kTechnical;
  std::string email;
  std::string phone;  ///< may be empty
  std::string hours;  ///< Hours text; empty means "24/7"
  std::string node;   ///< the node's identity id
  int order = 0;      ///< escalation order among the node's contacts, lowest first
  common::Micros created = 0;
};

/// InvalidArgument naming the field: an empty name, an e-mail address without one '@' and a
/// dot after it, a phone number with anything but digits, spaces and "+-()./", hours that do
/// not parse, a negative order.
absl::Status Validate(const Contact& c);
/// The identity object (unsigned: the federation layer signs it).
std::string ToStix(const Contact& c);
/// Reads a contact back; InvalidArgument naming the object and the property when it is not an
/// identity with the contact extension, or a detail is malformed.
absl::StatusOr<Contact> ContactFromStix(std::string_view json);

/// The order in which `node`'s contacts are tried at time `now`: those whose hours cover
/// `now` first, then the others; within each, by `order`, then by name. Other nodes' contacts
/// are left out.
std::vector<Contact> EscalationOrder(const std::vector<Contact>& contacts, std::string_view node,
                                     common::Micros now);

}  // namespace accord::requests
