// The one translation unit that compiles Asio and Asio's SSL support; every other file
// sees only their declarations (BOOST_ASIO_SEPARATE_COMPILATION). Beast is compiled
// apart, in beast_impl.cpp, so that libraries which must not speak HTTP (routing,
// coldstart) can use Asio without Beast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
