// The one translation unit that compiles Asio and Asio's SSL support; every other file
// sees only their declarations (BOOST_ASIO_SEPARATE_COMPILATION). Beast is compiled
// apart, in beast_impl.cpp, so that libraries which must not speak HTTP (routing,
// coldstart) can use Asio without Beast.
#include <boost/asio/version.hpp>

#if defined(BOOST_ASIO_HAS_IO_URING) && BOOST_ASIO_VERSION < 102700
// Asio before 1.27 (Boost 1.81) prepares its cancel and timeout-remove submissions
// without setting their user data, and liburing since 2.2 no longer clears it when it
// hands out a submission slot: once the ring has wrapped, such a submission carries
// whatever operation last used its slot, and its completion is taken for that
// operation's. An I/O queue then completes twice, is pushed twice onto an intrusive
// operation list, and the operations behind it are lost: their sockets stop being
// served while the kernel holds nothing for them. Asio 1.27 clears the user data in
// io_uring_service::get_sqe; this does the same for the one caller, the io_uring
// service compiled below (only this file compiles Asio's implementation).
#include <liburing.h>

static inline ::io_uring_sqe* ignite_io_uring_get_cleared_sqe(::io_uring* ring) {
  ::io_uring_sqe* sqe = ::io_uring_get_sqe(ring);
  if (sqe) ::io_uring_sqe_set_data(sqe, nullptr);
  return sqe;
}
#define io_uring_get_sqe ignite_io_uring_get_cleared_sqe
#endif

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

#if defined(BOOST_ASIO_HAS_IO_URING) && BOOST_ASIO_VERSION < 102700
#undef io_uring_get_sqe
#endif
