// Points of contact (include/accord/requests/contact.h).
#include "accord/requests/contact.h"

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "requests/objects.h"

namespace accord::requests {

namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr int64_t kDayMicros = 86400LL * 1000000;

int DayIndex(std::string_view d) {
  for (size_t i = 0; i < kDays.size(); ++i) {
    if (kDays[i] == d) return static_cast<int>(i);
  }
  return -1;
}

// "HH" or "HH:MM" to minutes of the day; "24" (or "24:00") as the end of the day. -1 if bad.
int Minutes(std::string_view s) {
  std::string_view hh = s, mm = "00";
  if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    hh = s.substr(0, colon);
    mm = s.substr(colon + 1);
  }
  int h = 0, m = 0;
  if (hh.size() != 2 || mm.size() != 2 || !absl::SimpleAtoi(absl::string_view(hh.data(), 2), &h) ||
      !absl::SimpleAtoi(absl::string_view(mm.data(), 2), &m) || h < 0 || h > 24 || m < 0 ||
      m > 59 || (h == 24 && m != 0)) {
    return -1;
  }
  return h * 60 + m;
}

// Weekday of `t` (0 = Monday) and minute of its day, UTC. 1970-01-01 was a Thursday.
void DayAndMinute(common::Micros t, int* day, int* minute) {
  int64_t days = t / kDayMicros;
  int64_t rest = t % kDayMicros;
  if (rest < 0) {
    rest += kDayMicros;
    --days;
  }
  *day = static_cast<int>(((days + 3) % 7 + 7) % 7);
  *minute = static_cast<int>(rest / (60LL * 1000000));
}

bool IsIdentityId(std::string_view id) { return detail::IsIdOf(id, "identity"); }
using detail::Stamp;

}  // namespace

std::string_view Name(ContactRole role) {
  return role == ContactRole::kPolicy ? "policy" : "technical";
}

absl::StatusOr<ContactRole> ParseContactRole(std::string_view s) {
  if (s == "policy") return ContactRole::kPolicy;
  if (s == "technical") return ContactRole::kTechnical;
  return absl::InvalidArgumentError(
      common::Cat("unknown contact role '", s, "' (policy, technical)"));
}

absl::StatusOr<Hours> Hours::Parse(std::string_view text) {
  Hours h;
  h.text_ = std::string(text);
  const std::string_view kForm =
      "expected \"24/7\" or ranges like \"Mon-Fri 08-18 UTC\" or "
      "\"Sat,Sun 09:30-12 UTC\", separated by ';'";
  if (absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())) == "24/7") {
    h.ranges_.push_back({0x7f, 0, 24 * 60});
    return h;
  }
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), ';')) {
    part = absl::StripAsciiWhitespace(part);
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          common::Cat("hours '", common::View(part), "': ", why, "; ", kForm));
    };
    std::vector<absl::string_view> words = absl::StrSplit(part, ' ', absl::SkipEmpty());
    if (words.size() != 3) return bad("three words wanted (days, times, UTC)");
    if (words[2] != "UTC") return bad("times must be given in UTC");
    Range r;
    for (absl::string_view item : absl::StrSplit(words[0], ',')) {
      std::vector<absl::string_view> span = absl::StrSplit(item, '-');
      if (span.size() > 2) return bad(common::Cat("'", common::View(item), "' is not a day"));
      const int a = DayIndex(common::View(span[0]));
      const int b = span.size() == 2 ? DayIndex(common::View(span[1])) : a;
      if (a < 0 || b < 0) return bad(common::Cat("'", common::View(item), "' is not a day"));
      for (int d = a;; d = (d + 1) % 7) {  // "Sat-Mon" wraps over the week's end
        r.days |= 1u << d;
        if (d == b) break;
      }
    }
    std::vector<absl::string_view> times = absl::StrSplit(words[1], '-');
    if (times.size() != 2) return bad("the times must be FROM-TO");
    r.from = Minutes(common::View(times[0]));
    r.to = Minutes(common::View(times[1]));
    if (r.from < 0 || r.to < 0 || r.from == 24 * 60) {
      return bad(common::Cat("'", common::View(words[1]), "' is not HH[:MM]-HH[:MM]"));
    }
    if (r.from == r.to) return bad("a range must not be empty");
    h.ranges_.push_back(r);
  }
  return h;
}

bool Hours::Covers(common::Micros t) const {
  int day = 0, minute = 0;
  DayAndMinute(t, &day, &minute);
  const int yesterday = (day + 6) % 7;
  for (const Range& r : ranges_) {
    if (r.from < r.to) {
      if ((r.days >> day & 1u) && minute >= r.from && minute < r.to) return true;
    } else {  // past midnight: the evening of a day named, or the morning after one
      if ((r.days >> day & 1u) && minute >= r.from) return true;
      if ((r.days >> yesterday & 1u) && minute < r.to) return true;
    }
  }
  return false;
}

absl::Status Validate(const Contact& c) {
  auto bad = [&](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(common::Cat("contact '", c.name, "': ", field, " ", why));
  };
  if (absl::StripAsciiWhitespace(absl::string_view(c.name)).empty()) {
    return bad("name", "must not be empty");
  }
  const size_t at = c.email.find('@');
  if (at == std::string::npos || at == 0 || c.email.find('@', at + 1) != std::string::npos ||
      c.email.find('.', at) == std::string::npos || c.email.back() == '.' ||
      c.email.find_first_of(" \t\r\n<>\"") != std::string::npos) {
    return bad("email", common::Cat("'", c.email, "' is not an e-mail address"));
  }
  if (c.phone.find_first_not_of("0123456789 +-()./") != std::string::npos) {
    return bad("phone", common::Cat("'", c.phone, "' may hold only digits, spaces and +-()./"));
  }
  if (!c.hours.empty()) {
    absl::StatusOr<Hours> h = Hours::Parse(c.hours);
    if (!h.ok()) return bad("hours", common::View(h.status().message()));
  }
  if (c.order < 0) return bad("order", "must not be negative");
  if (!IsIdentityId(c.node)) return bad("node", "must be the node's identity id");
  return absl::OkStatus();
}

std::string ToStix(const Contact& c) {
  OrderedJson o;
  o["type"] = "identity";
  o["spec_version"] = "2.1";
  o["id"] = c.id;
  o["created"] = Stamp(c.created);
  o["modified"] = Stamp(c.created);
  o["created_by_ref"] = c.node;
  o["name"] = c.name;
  o["identity_class"] = "individual";
  o["roles"] = OrderedJson::array({Name(c.role)});
  std::string info = c.email;
  if (!c.phone.empty()) info += common::Cat("; ", c.phone);
  info += common::Cat("; ", c.hours.empty() ? "24/7" : c.hours);
  o["contact_information"] = info;
  OrderedJson& ext = o["extensions"][std::string(kContactExtension)];
  ext["extension_type"] = "property-extension";
  ext["role"] = Name(c.role);
  ext["email"] = c.email;
  if (!c.phone.empty()) ext["phone"] = c.phone;
  ext["hours"] = c.hours.empty() ? "24/7" : c.hours;
  ext["node_ref"] = c.node;
  ext["order"] = c.order;
  return o.dump();
}

absl::StatusOr<Contact> ContactFromStix(std::string_view json) {
  OrderedJson o = OrderedJson::parse(json, nullptr, false);
  if (o.is_discarded() || !o.is_object()) {
    return absl::InvalidArgumentError("contact: not a JSON object");
  }
  const std::string id =
      o.contains("id") && o["id"].is_string() ? o["id"].get<std::string>() : std::string("contact");
  auto bad = [&](std::string_view key, std::string_view why) {
    return absl::InvalidArgumentError(common::Cat(id, ": '", key, "' ", why));
  };
  if (!o.contains("type") || o["type"] != "identity") return bad("type", "must be identity");
  auto ext_it = o.find("extensions");
  if (ext_it == o.end() || !ext_it->is_object() ||
      !ext_it->contains(std::string(kContactExtension)) ||
      !(*ext_it)[std::string(kContactExtension)].is_object()) {
    return bad("extensions", "must carry the contact extension");
  }
  const OrderedJson& ext = (*ext_it)[std::string(kContactExtension)];
  auto str = [&](const OrderedJson& from, const char* key, bool required,
                 std::string* out) -> absl::Status {
    auto it = from.find(key);
    if (it == from.end()) return required ? bad(key, "is required") : absl::OkStatus();
    if (!it->is_string()) return bad(key, "must be a string");
    *out = it->get<std::string>();
    return absl::OkStatus();
  };
  Contact c;
  c.id = id;
  if (!IsIdentityId(c.id)) return bad("id", "must be an identity id");
  ACCORD_RETURN_IF_ERROR(str(o, "name", true, &c.name));
  std::string role;
  ACCORD_RETURN_IF_ERROR(str(ext, "role", true, &role));
  absl::StatusOr<ContactRole> r = ParseContactRole(role);
  if (!r.ok()) return bad("role", common::View(r.status().message()));
  c.role = *r;
  ACCORD_RETURN_IF_ERROR(str(ext, "email", true, &c.email));
  ACCORD_RETURN_IF_ERROR(str(ext, "phone", false, &c.phone));
  ACCORD_RETURN_IF_ERROR(str(ext, "hours", true, &c.hours));
  if (c.hours == "24/7") c.hours.clear();
  ACCORD_RETURN_IF_ERROR(str(ext, "node_ref", true, &c.node));
  std::string creator;
  ACCORD_RETURN_IF_ERROR(str(o, "created_by_ref", true, &creator));
  if (creator != c.node) return bad("created_by_ref", "must be the contact's node_ref");
  auto order = ext.find("order");
  if (order == ext.end() || !order->is_number_integer()) return bad("order", "must be an integer");
  c.order = static_cast<int>(std::clamp<int64_t>(order->get<int64_t>(), -1, 1000000));
  std::string created;
  ACCORD_RETURN_IF_ERROR(str(o, "created", true, &created));
  absl::StatusOr<common::ParsedTimestamp> t = common::ParseTimestamp(created);
  if (!t.ok()) return bad("created", "is not a timestamp");
  c.created = t->micros;
  absl::Status valid = Validate(c);
  if (!valid.ok()) return bad("extensions", common::View(valid.message()));
  return c;
}

std::vector<Contact> EscalationOrder(const std::vector<Contact>& contacts, std::string_view node,
                                     common::Micros now) {
  struct Entry {
    bool covered;
    const Contact* c;
  };
  std::vector<Entry> entries;
  entries.reserve(contacts.size());
  for (const Contact& c : contacts) {
    if (c.node != node) continue;
    absl::StatusOr<Hours> h = Hours::Parse(c.hours.empty() ? "24/7" : c.hours);
    entries.push_back({h.ok() && h->Covers(now), &c});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.covered != b.covered) return a.covered;
    if (a.c->order != b.c->order) return a.c->order < b.c->order;
    return a.c->name < b.c->name;
  });
  std::vector<Contact> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) out.push_back(*e.c);
  return out;
}

}  // namespace accord::requests
