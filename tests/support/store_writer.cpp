// store_writer: commits numbered writes to a sqlite_store as fast as it can, for the
// kill -9 durability test (tests/unit/routing/sqlite_store_test.cpp).
//
//   store_writer <state-file> [max-writes=100000]
//
// Write n (the revision it commits) is one txn: compare /last at the mod_revision the
// previous write gave it, put /last = n and /writes/<n, 8 digits> = n. After txn()
// returns, prints "n\n" and flushes: every number on stdout is an acknowledged write.
// Exit 0 after max-writes, 1 on a state_error, 2 on bad usage, 3 if a compare fails
// (someone else wrote) or a revision is not the one expected.

#include <cstdio>
#include <exception>
#include <string>

#include "routing/sqlite_store.hpp"

int main(int argc, char** argv) {
  using namespace ignite::routing;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: store_writer <state-file> [max-writes]\n");
    return 2;
  }
  long max_writes = 100'000;
  if (argc == 3) {
    try {
      max_writes = std::stol(argv[2]);
    } catch (const std::exception&) {
      std::fprintf(stderr, "store_writer: bad max-writes: %s\n", argv[2]);
      return 2;
    }
  }
  try {
    sqlite_store store(argv[1]);
    const auto last = store.get("/last");
    revision last_mod = last ? last->mod_revision : 0;
    for (long i = 0; i < max_writes; ++i) {
      const revision n = store.current_revision() + 1;
      char key[32];
      std::snprintf(key, sizeof key, "/writes/%08lld", static_cast<long long>(n));
      const auto value = std::to_string(n);
      const auto result = store.txn({compare{"/last", last_mod}}, {operation{operation::kind::put, "/last", value},
                                                                   operation{operation::kind::put, key, value}});
      if (!result.succeeded || result.at != n) {
        std::fprintf(stderr, "store_writer: write %lld: succeeded=%d at=%lld\n", static_cast<long long>(n),
                     result.succeeded, static_cast<long long>(result.at));
        return 3;
      }
      last_mod = result.at;
      std::printf("%lld\n", static_cast<long long>(n));
      std::fflush(stdout);
    }
  } catch (const state_error& e) {
    std::fprintf(stderr, "store_writer: %s\n", e.what());
    return 1;
  }
  return 0;
}
