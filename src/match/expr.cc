#include "accord/match/expr.h"

namespace accord::match {

// A key that is not plain ([A-Za-z0-9_]+) is quoted, with ' and \ escaped, so distinct paths
// always give distinct text; the engine interns paths by it. The text follows pattern syntax
// but need not re-parse (a plain key may be a keyword such as IN); pattern/printer.cc is the
// canonical printer.
std::string ObjectPath::ToString() const {
  std::string out = type;
  out.push_back(':');
  bool first = true;
  for (const PathStep& s : steps) {
    switch (s.kind) {
      case PathStep::Kind::kKey: {
        if (!first) out.push_back('.');
        bool plain = !s.key.empty();
        for (char c : s.key) {
          if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) plain = false;
        }
        if (plain) {
          out += s.key;
        } else {
          out.push_back('\'');
          for (char c : s.key) {
            if (c == '\'' || c == '\\') out.push_back('\\');
            out.push_back(c);
          }
          out.push_back('\'');
        }
        break;
      }
      case PathStep::Kind::kIndex:  // (not "[" + ... + "]": g++ 12 -O3 -Wrestrict false positive)
        out.push_back('[');
        out += std::to_string(s.index);
        out.push_back(']');
        break;
      case PathStep::Kind::kAny: out += "[*]"; break;
    }
    first = false;
  }
  return out;
}

}  // namespace accord::match
