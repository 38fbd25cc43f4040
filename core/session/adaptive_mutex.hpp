// A mutex that spins briefly before it sleeps, for the session's state.
#pragma once

#include <mutex>

#if defined(__GLIBC__)
#include <pthread.h>
#endif

namespace qix::core {

/// The session's lock. Its holders (the I/O thread reading an answer, the event thread or a host thread
/// sending the next call) keep it for well under a microsecond, and on a busy session two of them meet
/// there all the time: a plain mutex then puts the second to sleep in the kernel and the first wakes it on
/// unlock, two system calls and a context switch for a wait shorter than either. This one tries a while in
/// user space first (glibc's adaptive mutex: a bounded spin, then the same sleep); elsewhere it is a
/// std::mutex. Lockable (lock_guard, unique_lock, scoped_lock); not for condition_variable (none waits on
/// it). Not recursive, not movable.
#if defined(__GLIBC__) && defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
class AdaptiveMutex {
 public:
  AdaptiveMutex() noexcept = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
  ~AdaptiveMutex() { pthread_mutex_destroy(&m_); }

  void lock() noexcept { pthread_mutex_lock(&m_); }
  bool try_lock() noexcept { return pthread_mutex_trylock(&m_) == 0; }
  void unlock() noexcept { pthread_mutex_unlock(&m_); }

 private:
  pthread_mutex_t m_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
};
#else
using AdaptiveMutex = std::mutex;
#endif

}  // namespace qix::core
