#include "cli/import_hooks.h"

namespace accord::cli {

// Weak so that the pattern layer's command file can provide the real check.
__attribute__((weak)) ObjectCheck DefaultObjectCheck() { return nullptr; }

}  // namespace accord::cli
