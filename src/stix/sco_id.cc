#include "stix/sco_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "accord/common/uuid.h"
#include "accord/stix/jcs.h"
#include "accord/stix/object.h"
#include "stix/jcs_dom.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The ID contributing properties of one SCO type (STIX 2.1 §6, table in STIX21-objects.md
// §3.2). `process` is absent on purpose: it has none, so its id is always a UUIDv4.
struct Recipe {
  std::string_view type;
  std::vector<std::string_view> props;
};

// Built once (function-local static, thread-safe initialisation); read-only afterwards.
const std::vector<Recipe>& Recipes() {
  static const std::vector<Recipe> kRecipes = {
      {"artifact", {"hashes", "payload_bin"}},
      {"autonomous-system", {"number"}},
      {"directory", {"path"}},
      {"domain-name", {"value"}},
      {"email-addr", {"value"}},
      {"email-message", {"from_ref", "subject", "body"}},
      {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
      {"ipv4-addr", {"value"}},
      {"ipv6-addr", {"value"}},
      {"mac-addr", {"value"}},
      {"mutex", {"name"}},
      {"network-traffic",
       {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"}},
      {"software", {"name", "cpe", "swid", "vendor", "version"}},
      {"url", {"value"}},
      {"user-account", {"account_type", "user_id", "account_login"}},
      {"windows-registry-key", {"key", "values"}},
      {"x509-certificate", {"hashes", "serial_number"}},
  };
  return kRecipes;
}

}  // namespace

// RFC 4122 §4.3 name-based UUID: SHA-1 over namespace bytes + name bytes, first 16 bytes of the
// digest, version nibble set to 5 (byte 6) and variant bits to 10 (byte 8). Returns "" when
// namespace_uuid does not parse. OpenSSL's EVP API is used because it is already linked for
// TLS; SHA-1's weaknesses do not matter here, it is an id derivation fixed by the spec.
std::string UuidV5(std::string_view namespace_uuid, std::string_view name) {
  auto ns = common::ParseUuid(namespace_uuid);
  if (!ns) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, ns->data(), ns->size());
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, md, &md_len);
  EVP_MD_CTX_free(ctx);
  md[6] = static_cast<unsigned char>((md[6] & 0x0F) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3F) | 0x80);
  common::UuidBytes id;
  std::copy(md, md + id.size(), id.begin());
  return common::FormatUuid(id);
}

// Builds the UUIDv5 "name" for an SCO (STIX21-objects.md §3.2): the RFC 8785 (JCS) canonical
// JSON of an object holding only the contributing properties that are present. nullopt when
// the type has no recipe (custom SCOs, process), when none of its properties is present (the
// spec then requires a UUIDv4), or when a value has no canonical form.
// Values are canonicalised from the parsed DOM, not copied from the input text, so whitespace
// and member order in the input do not change the id.
std::optional<std::string> ScoIdName(std::string_view type, simdjson::dom::object obj) {
  const Recipe* recipe = nullptr;
  // A linear scan of 17 short strings: too few for a hash map to be worth it.
  for (const auto& r : Recipes()) {
    if (r.type == type) recipe = &r;
  }
  if (recipe == nullptr) return std::nullopt;
  std::vector<std::string_view> names = recipe->props;
  std::sort(names.begin(), names.end());  // all ASCII: byte order == UTF-16 order
  std::string out = "{";
  bool any = false;
  for (std::string_view name : names) {
    element v;
    if (obj[name].get(v)) continue;
    std::string value;
    if (name == "hashes" && v.type() == element_type::OBJECT) {
      // Details fixed by python-stix2's _generate_id (§3.2): one hash only, preferring MD5, SHA-1,
      // SHA-256, SHA-512, else the first key in document order (simdjson iterates in input order),
      // emitted as a one-member object.
      simdjson::dom::object h = v.get_object().value_unsafe();
      // One hash only, by the reference implementation's preference (spec digest §3.2).
      std::string_view chosen;
      element chosen_value;
      bool found = false;
      for (std::string_view pref : {"MD5", "SHA-1", "SHA-256", "SHA-512"}) {
        if (!h[pref].get(chosen_value)) {
          chosen = pref;
          found = true;
          break;
        }
      }
      if (!found) {
        for (auto field : h) {
          chosen = field.key;
          chosen_value = field.value;
          found = true;
          break;
        }
      }
      if (!found) continue;
      value = "{";
      AppendCanonicalString(chosen, &value);
      value.push_back(':');
      if (!AppendCanonical(chosen_value, &value).ok()) return std::nullopt;
      value.push_back('}');
    } else {
      // An object with a repeated member name has no canonical form, hence no id.
      if (!AppendCanonical(v, &value).ok()) return std::nullopt;
    }
    if (any) out.push_back(',');
    any = true;
    AppendCanonicalString(name, &out);
    out.push_back(':');
    out.append(value);
  }
  if (!any) return std::nullopt;
  out.push_back('}');
  return out;
}

// "<type>--<uuidv5>" in the STIX SCO namespace (kScoNamespace, STIX21-objects.md §3.2), or
// nullopt when ScoIdName has none. Consumers MUST NOT reject an SCO whose id differs (§3.2):
// validate.cc only warns on a v5 id that does not reproduce.
std::optional<std::string> ComputeScoId(std::string_view type, simdjson::dom::object obj) {
  auto name = ScoIdName(type, obj);
  if (!name) return std::nullopt;
  std::string id(type);
  id.append("--");
  id.append(UuidV5(kScoNamespace, *name));
  return id;
}

}  // namespace accord::stix::detail

namespace accord::stix {

std::optional<std::string> DeterministicScoId(std::string_view sco_json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(sco_json.data(), sco_json.size()).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::object obj;
  std::string_view type;
  if (doc.get_object().get(obj) != simdjson::SUCCESS ||
      obj["type"].get(type) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return detail::ComputeScoId(type, obj);
}

// Semantic JSON equality: byte-equal text short-circuits (the common case when the same object
// arrives twice); otherwise both sides are compared in JCS canonical form. Unparseable input
// is never equal to anything.
bool SameJson(std::string_view a, std::string_view b) {
  if (a == b) return true;
  auto ca = CanonicalJson(a);
  auto cb = CanonicalJson(b);
  return ca.ok() && cb.ok() && *ca == *cb;
}

}  // namespace accord::stix
