#include "accord/common/status.h"

#include <cstdio>
#include <cstdlib>

namespace accord::common::detail {

void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, cond);
  std::abort();
}

}  // namespace accord::common::detail
