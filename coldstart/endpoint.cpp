#include "coldstart/endpoint.hpp"

namespace ignite::coldstart {

endpoint::endpoint(std::string host, std::uint16_t port)
    : host_(std::move(host)), port_(port), address_(host_ + ":" + std::to_string(port_)) {}

}  // namespace ignite::coldstart
