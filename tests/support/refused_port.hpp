#pragma once

#include <cstdint>

namespace ignite::test {

// A loopback port nothing listens on: bound by the kernel's choice, then closed, so a
// connect to 127.0.0.1:port is refused (as long as nobody else happens to take it).
std::uint16_t refused_port();

}  // namespace ignite::test
