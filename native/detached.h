// A worker thread nobody joins: it reports through its threadsafe function and frees its own
// context (the layer extractor, the push gzip). Returns pthread_create's error, 0 on success.
#ifndef BERTH_DETACHED_H
#define BERTH_DETACHED_H
#include <pthread.h>

static inline int start_detached(void *(*fn)(void *), void *arg) {
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int e = pthread_create(&t, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return e;
}

#endif
