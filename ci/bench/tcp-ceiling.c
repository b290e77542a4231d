/* What one core of this machine can write over loopback TCP at all: a writer pinned to
 * CPU 1 writes 40-byte messages (an SSE token event's size) round-robin to N sockets,
 * flat out for 5 s, while a reader pinned to CPU 0 epoll-reads them. ci/bench/sse prints
 * it beside the event rate it asks of its server, so that a server falling behind is
 * seen to be the machine's limit, not the harness's.
 *
 *   tcp-ceiling N   prints: CEILING <messages/s written> <messages/s read> */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int n, *wfd, *rfd;
static volatile int stop;
static long wrote, got;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *writer(void *unused) {
  (void)unused;
  char m[40];
  memset(m, 'x', sizeof m);
  pin(1);
  for (int i = 0; !stop; i = (i + 1) % n)
    if (write(wfd[i], m, sizeof m) == (ssize_t)sizeof m) wrote++;
  return NULL;
}

int main(int argc, char **argv) {
  n = argc > 1 ? atoi(argv[1]) : 0;
  if (n <= 0) { fprintf(stderr, "usage: tcp-ceiling N\n"); return 2; }
  wfd = calloc(n, sizeof *wfd);
  rfd = calloc(n, sizeof *rfd);
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  if (bind(l, (void *)&a, sizeof a) || listen(l, 4096) || getsockname(l, (void *)&a, &al)) {
    perror("tcp-ceiling: listen");
    return 1;
  }
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    wfd[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(wfd[i], (void *)&a, sizeof a) || (rfd[i] = accept(l, NULL, NULL)) < 0) {
      perror("tcp-ceiling: connect");
      return 1;
    }
    setsockopt(wfd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(rfd[i], F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.fd = rfd[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, rfd[i], &e);
  }
  pin(0);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  double t0 = now();
  struct epoll_event ev[512];
  static char buf[65536];
  while (now() - t0 < 5) {
    int k = epoll_wait(ep, ev, 512, 100);
    for (int i = 0; i < k; i++)
      for (;;) {
        ssize_t r = read(ev[i].data.fd, buf, sizeof buf);
        if (r <= 0) break;
        got += r / 40;
        if (r < (ssize_t)sizeof buf) break;
      }
  }
  stop = 1;
  pthread_join(t, NULL);
  double d = now() - t0;
  printf("CEILING %.0f %.0f\n", wrote / d, got / d);
  return 0;
}
