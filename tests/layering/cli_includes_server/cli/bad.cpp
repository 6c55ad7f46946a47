// Fixture for the layering check: the CLI links no server library.
#include "coldstart/version_pool.hpp"
