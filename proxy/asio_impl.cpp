// The one translation unit that compiles Asio, Beast and Asio's SSL support; every
// other file sees only their declarations (BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
