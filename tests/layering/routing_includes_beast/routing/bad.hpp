// Fixture for the layering check: routing/ must not include Beast.
#include <boost/beast/http/parser.hpp>
