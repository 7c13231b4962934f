/* symbols_threads.h — the JIT symbol-table entries of the threads part of libs/stdhost, as an
 * X-macro: `BESKID_STD_THREADS_SYMBOLS(X)` applies X to every entry point of the "Threads",
 * "Mutex and condition variable" and "Channels" sections of beskid/stdhost.h (src/symbols.c
 * includes it into beskid_runtime_symbols()). */
#ifndef BESKID_STDHOST_SYMBOLS_THREADS_H
#define BESKID_STDHOST_SYMBOLS_THREADS_H

#define BESKID_STD_THREADS_SYMBOLS(X)                                                              \
  X(beskid_std_thread_spawn)                                                                       \
  X(beskid_std_thread_join)                                                                        \
  X(beskid_std_thread_is_done)                                                                     \
  X(beskid_std_mutex_new)                                                                          \
  X(beskid_std_mutex_lock)                                                                         \
  X(beskid_std_mutex_try_lock)                                                                     \
  X(beskid_std_mutex_unlock)                                                                       \
  X(beskid_std_cond_new)                                                                           \
  X(beskid_std_cond_wait)                                                                          \
  X(beskid_std_cond_wait_timeout)                                                                  \
  X(beskid_std_cond_signal)                                                                        \
  X(beskid_std_cond_broadcast)                                                                     \
  X(beskid_std_channel_new)                                                                        \
  X(beskid_std_channel_send)                                                                       \
  X(beskid_std_channel_receive)                                                                    \
  X(beskid_std_channel_close)                                                                      \
  X(beskid_std_channel_len)

#endif
