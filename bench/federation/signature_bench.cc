// The per-version cost of provenance (issue 12): what a node pays to sign a version it
// originated as it leaves, and to check a received one (the two dominate federation's
// throughput, bench/federation/run.py). libsodium's raw Ed25519 sign and verify of the same
// bytes are the floor.
//
// Usage: build-rel/bench/federation/signature_bench
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <string>

#include "accord/federation/signature.h"

namespace {

const std::string kObject =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--cd613e30-d8f1-4adf-91b7-584a2265b1f5","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"bench 0","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.0']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"labels":["benchmark"]})";
const std::string kSigner = "identity--16cfb621-e94b-4e65-a81f-30960987ea79";

const accord::federation::KeyPair& Keys() {
  static const accord::federation::KeyPair k = accord::federation::NewKeyPair();
  return k;
}

void BM_SigningBytes(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(accord::federation::SigningBytes(kObject));
}
BENCHMARK(BM_SigningBytes);

void BM_Sign(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(accord::federation::Sign(kObject, kSigner, Keys().secret_key));
  }
}
BENCHMARK(BM_Sign);

void BM_Verify(benchmark::State& state) {
  const std::string signed_json = *accord::federation::Sign(kObject, kSigner, Keys().secret_key);
  for (auto _ : state) {
    benchmark::DoNotOptimize(accord::federation::Verify(signed_json, Keys().public_key));
  }
}
BENCHMARK(BM_Verify);

// The floor: libsodium alone over the canonical bytes.
void BM_RawEd25519Sign(benchmark::State& state) {
  const std::string bytes = *accord::federation::SigningBytes(kObject);
  unsigned char sig[crypto_sign_BYTES];
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                         bytes.size(),
                         reinterpret_cast<const unsigned char*>(Keys().secret_key.data()));
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_RawEd25519Sign);

void BM_RawEd25519Verify(benchmark::State& state) {
  const std::string bytes = *accord::federation::SigningBytes(kObject);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size(),
                       reinterpret_cast<const unsigned char*>(Keys().secret_key.data()));
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(
        sig, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
        reinterpret_cast<const unsigned char*>(Keys().public_key.data()));
    benchmark::DoNotOptimize(rc);
  }
}
BENCHMARK(BM_RawEd25519Verify);

}  // namespace

BENCHMARK_MAIN();
