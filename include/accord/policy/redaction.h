// Redaction profiles (issue 13, point 4; docs/PRIVACY.md "Redaction"): what a node removes or
// coarsens in an object before it leaves for an audience that may not have the personal data
// in it. Profiles are named in the node's TOML configuration, `<data>/accord.toml`:
//
//   [redaction.profiles.partners]
//   drop_types = ["email-addr", "user-account"]      # removed, with every reference to them
//   drop_identity_classes = ["individual"]
//   victim_ranges = ["10.0.0.0/8", "192.0.2.0/24"]  # addresses inside are generalised
//   generalise_ipv4 = 24                              # ... to this prefix length
//   generalise_ipv6 = 48
//   strip_url_query = true
//   text_patterns = ['[\w.+-]+@[\w-]+\.[\w.]+']      # PCRE2, applied to free-text properties
//
//   [redaction.roles]
//   reader = "partners"                               # what readers get
//
// and chosen per peer agreement (`[share] redaction = "NAME"`, docs/FEDERATION.md).
//
// A Redactor works on a copy: the stored original never changes. What it does to one object:
//   1. An object of a dropped type, or an identity of a dropped class, is dropped.
//   2. Every reference (`*_ref`, `*_refs`, at any depth) to a dropped object is removed. An
//      object left without what it must refer to (a relationship's source_ref or target_ref,
//      a sighting's sighting_of_ref, the object_refs of observed-data, report, grouping, note,
//      opinion) is dropped too. A reference to an address or URL object is rewritten to the
//      id of its redacted copy (SCO ids are UUIDv5 of the value: the old id would let anyone
//      recover a victim address by trying the few candidates of its range); one that cannot
//      be looked up is removed.
//   3. `value` of ipv4-addr / ipv6-addr inside a victim range becomes the range's generalised
//      CIDR (10.1.2.3 -> 10.1.2.0/24); a URL loses its query and fragment.
//   4. In every other string (descriptions, names, patterns, custom properties; not ids,
//      types, timestamps or vocabulary members), victim addresses are generalised, URL queries
//      stripped and text_patterns' matches replaced by "[redacted]".
//   5. A changed object carries the redaction extension (kRedactionExtension) naming the
//      profile and what was done; an SCO whose id was derived from its value gets the id of its
//      new value.
// The caller (the egress gate) then signs the copy as this node: a redacted object is never
// passed off as its originator's.
//
// A Redactor created with a cache size remembers its results (Redactor::Create): an object's
// text is redacted again only when it was never seen, was forgotten, or when one of the objects
// its redaction looked up reads differently now.
//
// Thread safety: a Redactor is immutable after Create() but for the results it remembers, which
// it locks itself; Redact() may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/ip.h"
#include "accord/common/status.h"

namespace accord::policy {

/// The extension-definition that marks a redacted copy:
///   "extensions": {"<kRedactionExtension>": {"extension_type": "property-extension",
///       "profile": "partners", "actions": ["generalised 2 victim addresses", ...]}}
inline constexpr std::string_view kRedactionExtension =
    "extension-definition--5d0f6c2b-9e3a-4b7d-8c1f-2a6e4b9d7c30";

struct RedactionProfile {
  std::string name;
  std::vector<std::string> drop_types;
  std::vector<std::string> drop_identity_classes;
  std::vector<common::IpPrefix> victim_ranges;
  int generalise_ipv4 = 24;
  int generalise_ipv6 = 48;
  bool strip_url_query = false;
  std::vector<std::string> text_patterns;  ///< PCRE2 (UTF mode)
};

/// The profiles and the role defaults of one configuration.
struct RedactionConfig {
  std::map<std::string, RedactionProfile, std::less<>> profiles;
  std::map<std::string, std::string, std::less<>> roles;  ///< role name -> profile name
  /// `[redaction] cache_mib`: the memory each profile may use to remember its results.
  size_t cache_bytes = size_t{32} << 20;
};

/// Parses `[redaction]` of a TOML document (`source` names it in errors, with the line). A
/// document without it gives an empty config. InvalidArgument naming the profile, the key and
/// the rule for: an unknown key, a wrong type, a range or prefix length that does not parse,
/// a pattern PCRE2 refuses, a role that names no profile.
absl::StatusOr<RedactionConfig> ParseRedactionConfig(std::string_view toml,
                                                     std::string_view source);

/// `<data>/accord.toml`'s `[redaction]`; an empty config when the file does not exist.
absl::StatusOr<RedactionConfig> LoadRedactionConfig(const std::string& data_dir);

class Redactor {
 public:
  /// Compiles the profile's patterns. InvalidArgument naming the pattern when one is refused.
  /// `precheck` false: Redact always walks the whole object (tests compare the two ways).
  /// `cache_bytes`: the memory for remembered results (objects' texts, what their redaction
  /// looked up, and the results); 0 remembers nothing.
  static absl::StatusOr<std::shared_ptr<const Redactor>> Create(RedactionProfile profile,
                                                                bool precheck = true,
                                                                size_t cache_bytes = 0);
  ~Redactor();

  /// The JSON of an object by id (a referenced identity or SCO), or nullopt when unknown.
  using Lookup = std::function<std::optional<std::string>(std::string_view id)>;

  struct Result {
    enum class Kind { kUnchanged, kRedacted, kDropped };
    Kind kind = Kind::kUnchanged;
    std::string json;                  ///< kRedacted: the copy
    std::string reason;                ///< kDropped: why; kRedacted: what was done
    std::vector<std::string> actions;  ///< kRedacted: each kind of change, with counts
  };

  /// What the caller knows of the text it passes.
  enum class Input {
    kAny,     ///< anything a partner or a file gave: what is not a JSON object is dropped
    kObject,  ///< a JSON object: a stored object's JSON (the store keeps nothing else), or a
              ///< copy the gate made of one; not parsed again to find that out
  };

  /// Objects shorter than this are checked each time, never remembered: their check costs
  /// about what finding a remembered result does.
  static constexpr size_t kRememberedMinBytes = 512;

  /// What the profile does to one object. Not JSON, or not an object: kDropped (fail closed).
  /// A `stamp` other than 0 is the caller's word that, while it passes the same stamp, `lookup`
  /// answers an id as it did the first time (a gate's look-up memo, which reads each referenced
  /// object once while the store stands): a remembered result is then checked against the answers
  /// already given under it, without asking again. A caller that cannot say so passes 0.
  Result Redact(std::string_view object_json, const Lookup& lookup, Input input = Input::kAny,
                uint64_t stamp = 0) const;

  /// True only when Redact would return kUnchanged, decided on the raw text without building
  /// a DOM (Redact asks it first). False says nothing: the object may still be unchanged.
  bool SurelyUnchanged(std::string_view object_json, const Lookup& lookup,
                       Input input = Input::kAny) const;

  /// The remembered results: results served from memory (`hits`), computed (`misses`), and
  /// what is held now.
  struct CacheStats {
    uint64_t hits = 0, misses = 0;
    size_t entries = 0, bytes = 0;
  };
  CacheStats cache_stats() const;

  const RedactionProfile& profile() const { return profile_; }

 private:
  explicit Redactor(RedactionProfile profile);
  Result Compute(std::string_view object_json, const Lookup& lookup, Input input) const;
  struct Impl;
  RedactionProfile profile_;
  std::unique_ptr<Impl> impl_;
  friend struct RedactionWalk;
};

}  // namespace accord::policy
