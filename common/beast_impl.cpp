// The one translation unit that compiles Beast (BOOST_BEAST_SEPARATE_COMPILATION); it
// builds on the precompiled Asio of asio_impl.cpp.
#include <boost/beast/src.hpp>
