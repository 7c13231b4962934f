/**
 * @file platform_posix.h
 * @brief POSIX definitions of the platform library's handle types (included by platform.h).
 *
 * The types are defined here, not hidden behind pointers, so that callers can embed a mutex or a
 * condition variable in their own structures without allocating.
 */
#ifndef BESKID_PLATFORM_POSIX_H
#define BESKID_PLATFORM_POSIX_H

#include <pthread.h>

/** @brief A joinable thread. */
typedef struct beskid_os_thread_t {
  pthread_t handle; /**< The POSIX thread. */
  int joinable;     /**< Non-zero until joined. */
} beskid_os_thread_t;

/** @brief A non-recursive mutex. */
typedef struct beskid_os_mutex_t {
  pthread_mutex_t handle; /**< The POSIX mutex. */
} beskid_os_mutex_t;

/** @brief A condition variable waiting on the monotonic clock. */
typedef struct beskid_os_cond_t {
  pthread_cond_t handle; /**< The POSIX condition variable. */
} beskid_os_cond_t;

/** @brief A flag for beskid_os_once(). */
typedef pthread_once_t beskid_os_once_t;

/** @brief Static initialiser of a ::beskid_os_once_t. */
#define BESKID_OS_ONCE_INIT PTHREAD_ONCE_INIT

/** @brief An open directory listing (beskid_os_dir_open()). */
typedef struct beskid_os_dir_t {
  void *handle; /**< The POSIX `DIR *`, NULL once closed. */
} beskid_os_dir_t;

/** @brief A thread-local storage slot. */
typedef pthread_key_t beskid_os_tls_t;

#endif
