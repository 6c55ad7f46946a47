// Fixture for the layering check: coldstart/ must not include the data plane.
#include "proxy/worker.hpp"
