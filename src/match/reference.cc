// The reference interpreter: every leaf evaluated on every observation, then the binding
// search. Slow and obviously faithful to the spec digest §11; the compiled engine is tested
// against it.
#include "accord/match/engine.h"
#include "match/eval.h"

namespace accord::match {

bool MatchAll(const ObsExpr& e, const std::vector<Observation>& observations,
              const MatchOptions& options, std::vector<uint32_t>* binding, uint64_t* type_errors) {
  // A fresh evaluator per call: no cache or counter carries over between calls. Every leaf
  // is evaluated on every observation into `sat`, the table the binding search reads.
  detail::Evaluator ev;
  std::vector<const ObsExpr*> leaves;
  detail::CollectLeaves(e, &leaves);
  std::vector<detail::ObsFacts> facts;
  std::vector<std::vector<uint8_t>> sat;
  for (const Observation& o : observations) {
    facts.push_back({o.first_observed, o.last_observed, o.number_observed});
    auto& row = sat.emplace_back(leaves.size(), 0);
    for (size_t i = 0; i < leaves.size(); ++i) row[i] = ev.EvalComp(leaves[i]->comp, o) ? 1 : 0;
  }
  detail::EvalOptions eo;
  eo.strict_within = options.strict_within;
  eo.max_bindings = options.max_bindings;
  bool r = detail::FindBinding(e, facts, sat, eo, &ev.counters, binding);
  if (type_errors) *type_errors = ev.counters.type_errors;
  return r;
}

}  // namespace accord::match
