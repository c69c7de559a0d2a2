// What the CLI's commands share of the field's formats (docs/FORMATS.md): the node's
// warninglists, and the sensor exports of `accord export --format`.
#pragma once

#include <string>

#include "accord/common/status.h"
#include "accord/formats/warninglist.h"
#include "cli/cli.h"

namespace accord::cli {

/// Where `accord warninglist load` keeps the lists: <data>/warninglists/<name>.json.
std::string WarninglistDir(const Globals& g);

/// The node's warninglists, compiled; an empty set when none was loaded. Entries that cannot
/// be used were reported when the list was loaded and are skipped silently here.
absl::StatusOr<formats::WarninglistSet> LoadNodeWarninglists(const Globals& g);

/// `accord export --format F` for the sensor formats (zeek-intel, suricata-datasets,
/// suricata-iprep, list, csv) and misp.
struct SensorExportFlags {
  std::string format;
  std::string collection;
  std::string out_dir;    // write the files here once
  std::string watch_dir;  // write them here and keep them current
  double interval = 2.0;  // --watch: seconds between checks of the store
  uint32_t sid_base = 9200000;
  bool keep_warninglisted = false;  // export values on the node's warninglists too
};
int ExportForSensors(const Globals& g, const SensorExportFlags& f);

}  // namespace accord::cli
