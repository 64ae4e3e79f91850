/*
 * cserve is the C reference of pinion's benchmarks: the plainest epoll
 * server that speaks their echo and HTTP protocols, the "speed of light"
 * the Go servers (pinion's two models, gnet) are measured against. One
 * thread per loop, each with its own SO_REUSEPORT listener, level-triggered
 * epoll set and read buffer; no allocation per request.
 *
 *   cserve [-addr HOST:PORT] [-threads N] [-proto echo|http] [-max-conns N]
 *
 * Once every listener is up it prints one line,
 * "cserve: listening on 127.0.0.1:PORT (PROTO, c, N threads)", and it exits
 * 0 on SIGINT or SIGTERM. Build: cc -O2 -Wall -Wextra -std=gnu11 -pthread
 */
#define _GNU_SOURCE /* accept4, memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (64 << 10)     /* per-thread read buffer */
#define MAX_PENDING (4 << 20)   /* unsent bytes a connection may owe */
#define MAX_CARRY (8 << 10)     /* bytes of an incomplete HTTP request */
#define MAX_EVENTS 256

/* The HTTP responses: head + Date + tail [+ Connection] + CRLF CRLF + body,
 * fields in the order of pinion's codec.AppendResponse. */
#define HELLO "Hello, World!"
#define JSON "{\"message\":\"Hello, World!\"}"
#define NOTFOUND "Not Found\n"
#define BADREQ "Bad Request\n"
#define TOOBIG "Request Header Fields Too Large\n"
_Static_assert(sizeof HELLO - 1 == 13 && sizeof JSON - 1 == 27 && sizeof NOTFOUND - 1 == 10 &&
               sizeof BADREQ - 1 == 12 && sizeof TOOBIG - 1 == 32, "Content-Length literals");
#define STR(s) s, sizeof s - 1
#define HEAD(status) STR("HTTP/1.1 " status "\r\nServer: c\r\nDate: ")
#define TAIL(type, len) STR("\r\nContent-Type: " type "\r\nContent-Length: " len)
struct resp { const char *head; size_t hlen; const char *tail; size_t tlen; const char *body; size_t blen; };
enum { R_PLAIN, R_JSON, R_404, R_400, R_431 };
static const struct resp resps[] = {
	[R_PLAIN] = {HEAD("200 OK"), TAIL("text/plain", "13"), STR(HELLO)},
	[R_JSON] = {HEAD("200 OK"), TAIL("application/json", "27"), STR(JSON)},
	[R_404] = {HEAD("404 Not Found"), TAIL("text/plain", "10"), STR(NOTFOUND)},
	[R_400] = {HEAD("400 Bad Request"), TAIL("text/plain", "12"), STR(BADREQ)},
	[R_431] = {HEAD("431 Request Header Fields Too Large"), TAIL("text/plain", "32"), STR(TOOBIG)},
};

struct server {
	struct sockaddr_in addr;
	int threads, http, sigfd;
	long max_conns;
	atomic_long conns; /* open connections, all threads together */
};

/* A loop is one thread: its listener, its epoll instance, its buffers. */
struct loop {
	struct server *srv;
	pthread_t tid;
	int lfd, epfd;
	time_t paused;     /* accept off after EMFILE, until this second */
	char *in;          /* READ_BUF bytes */
	char *out;         /* HTTP responses of one read; grows, never shrinks */
	size_t outcap, outlen;
	time_t date_sec;   /* second of date: refreshed at most once a second */
	char date[30];
};

/* A conn is one accepted socket; its address is the epoll token. */
struct conn {
	int fd;
	int closing;           /* close once pend is flushed */
	char *pend;            /* unsent output; while any, the conn is not read */
	size_t poff, plen, pcap;
	char *carry;           /* HTTP: incomplete request, MAX_CARRY bytes */
	size_t clen;
};

static void die(const char *what) { perror(what); exit(1); }

static void set_events(struct loop *l, struct conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_close(struct loop *l, struct conn *c)
{
	close(c->fd); /* also removes it from the epoll set */
	free(c->pend);
	free(c->carry);
	free(c);
	atomic_fetch_sub(&l->srv->conns, 1);
}

/* send_some writes p[0:n] until done or EAGAIN and returns the bytes
 * written, or -1 on an error. */
static ssize_t send_some(int fd, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);
		if (w > 0)
			done += (size_t)w;
		else if (errno == EAGAIN)
			break;
		else if (errno != EINTR)
			return -1;
	}
	return (ssize_t)done;
}

/* conn_send writes p, or keeps what the socket does not take in c->pend and
 * waits for EPOLLOUT instead of EPOLLIN: a peer that does not read stops
 * being read, so its backlog is bounded by one read's output. It returns -1
 * when c was closed. */
static int conn_send(struct loop *l, struct conn *c, const char *p, size_t n)
{
	ssize_t w = send_some(c->fd, p, n);
	if (w == (ssize_t)n)
		return 0;
	size_t left = w < 0 ? 0 : n - (size_t)w;
	char *b;
	if (left > c->pcap && left <= MAX_PENDING && (b = realloc(c->pend, left)))
		c->pend = b, c->pcap = left;
	if (w < 0 || left > c->pcap) {
		conn_close(l, c);
		return -1;
	}
	memcpy(c->pend, p + w, left);
	c->poff = 0, c->plen = left;
	set_events(l, c, EPOLLOUT);
	return 0;
}

/* conn_flush writes c->pend on EPOLLOUT and goes back to reading once it
 * is gone (or closes c, if it was to close then). */
static void conn_flush(struct loop *l, struct conn *c)
{
	ssize_t w = send_some(c->fd, c->pend + c->poff, c->plen - c->poff);
	if (w >= 0 && (c->poff += (size_t)w) < c->plen)
		return;
	if (w < 0 || c->closing) {
		conn_close(l, c);
	} else {
		c->poff = c->plen = 0;
		set_events(l, c, EPOLLIN);
	}
}

static int http_serve(struct loop *l, struct conn *c, const char *p, size_t n);

/* conn_read reads and answers until a short read (level-triggered epoll
 * reports the socket again if more arrives) or until output is pending.
 * The carried bytes of an incomplete HTTP request go in front of the new
 * ones in the read buffer. */
static void conn_read(struct loop *l, struct conn *c)
{
	for (;;) {
		size_t have = c->clen, room = READ_BUF - have;
		if (have)
			memcpy(l->in, c->carry, have);
		ssize_t n = read(c->fd, l->in + have, room);
		if (n > 0) {
			c->clen = 0;
			int r = l->srv->http ? http_serve(l, c, l->in, have + (size_t)n)
			                     : conn_send(l, c, l->in, (size_t)n);
			if (r < 0 || c->plen || (size_t)n < room)
				return;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(l, c);
			return;
		} else if (errno == EAGAIN) {
			return;
		}
	}
}

static void put(struct loop *l, const char *s, size_t n)
{
	memcpy(l->out + l->outlen, s, n);
	l->outlen += n;
}

/* respond appends response r; conn is "" or a Connection field. */
static void respond(struct loop *l, int r, const char *conn)
{
	const struct resp *p = &resps[r];
	if (l->outcap - l->outlen < 256 && !(l->out = realloc(l->out, l->outcap *= 2)))
		die("realloc"); /* 256 bytes hold any response */
	put(l, p->head, p->hlen);
	put(l, l->date, 29);
	put(l, p->tail, p->tlen);
	put(l, conn, strlen(conn));
	put(l, "\r\n\r\n", 4);
	put(l, p->body, p->blen);
}

/* has_token says whether the field value v[0:n] holds tok, case-insensitively. */
static int has_token(const char *v, size_t n, const char *tok)
{
	size_t k = strlen(tok);
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(v + i, tok, k) == 0)
			return 1;
	return 0;
}

/* http_route picks the response to the request p[0:n], a request line and
 * header fields ending in CRLF CRLF, and says whether the connection stays
 * open: HTTP/1.1 keeps it unless "Connection: close", HTTP/1.0 closes it
 * unless "Connection: keep-alive". Bodies are not supported: a request that
 * announces one is refused, since its body would be parsed as a request. */
static int http_route(const char *p, size_t n, int *keep, int *v10)
{
	const char *eol = memmem(p, n, "\r\n", 2), *end = p + n;
	*v10 = eol - p >= 9 && memcmp(eol - 9, " HTTP/1.0", 9) == 0;
	*keep = !*v10;
	if (n > MAX_CARRY)
		return *keep = 0, R_431;
	for (const char *f = eol + 2; f < end - 2;) {
		const char *fe = memmem(f, (size_t)(end - f), "\r\n", 2);
		const char *v = memchr(f, ':', (size_t)(fe - f));
		if (v) {
			size_t name = (size_t)(v - f), vlen = (size_t)(fe - v - 1);
			if (name == 14 && strncasecmp(f, "Content-Length", 14) == 0) {
				for (v++; v < fe && (*v == ' ' || *v == '\t' || *v == '0'); v++)
					;
				if (v < fe) /* anything but zeros and blanks */
					return *keep = 0, R_400;
			} else if (name == 17 && strncasecmp(f, "Transfer-Encoding", 17) == 0) {
				return *keep = 0, R_400;
			} else if (name == 10 && strncasecmp(f, "Connection", 10) == 0) {
				if (has_token(v + 1, vlen, "close"))
					*keep = 0;
				else if (has_token(v + 1, vlen, "keep-alive"))
					*keep = 1;
			}
		}
		f = fe + 2;
	}
	if (n >= 15 && memcmp(p, "GET /plaintext ", 15) == 0)
		return R_PLAIN;
	if (n >= 10 && memcmp(p, "GET /json ", 10) == 0)
		return R_JSON;
	return R_404;
}

/* http_serve answers every complete request in p[0:n] with one write and
 * keeps an incomplete tail in c->carry. It returns -1 when c was closed. */
static int http_serve(struct loop *l, struct conn *c, const char *p, size_t n)
{
	const char *end = p + n;
	int keep = 1, v10;
	l->outlen = 0;
	while (keep && p < end) {
		const char *e = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!e)
			break;
		int r = http_route(p, (size_t)(e + 4 - p), &keep, &v10);
		respond(l, r, !keep ? "\r\nConnection: close" : v10 ? "\r\nConnection: keep-alive" : "");
		p = e + 4;
	}
	if (keep && p < end) {
		if (end - p > MAX_CARRY) {
			respond(l, R_431, "\r\nConnection: close");
			keep = 0;
		} else {
			if (!c->carry && !(c->carry = malloc(MAX_CARRY)))
				die("malloc");
			memcpy(c->carry, p, (size_t)(end - p));
			c->clen = (size_t)(end - p);
		}
	}
	c->closing = !keep;
	if (conn_send(l, c, l->out, l->outlen) < 0)
		return -1;
	if (c->closing && !c->plen) {
		/* Input after the last request is dropped: a client that sends
		 * more after "Connection: close" may see a reset. */
		conn_close(l, c);
		return -1;
	}
	return 0;
}

/* accept_all drains the accept queue. Out of descriptors, it stops watching
 * the listener for a second or so rather than spin on a queue it cannot
 * drain. Above max_conns it closes what it accepts. */
static void accept_all(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				struct epoll_event e = {.events = 0, .data.ptr = l};
				epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->lfd, &e);
				l->paused = time(NULL) + 1;
				return;
			}
			if (errno == EAGAIN)
				return;
			continue; /* ECONNABORTED, EINTR, ... */
		}
		struct conn *c;
		if (atomic_fetch_add(&l->srv->conns, 1) >= l->srv->max_conns || !(c = calloc(1, sizeof *c))) {
			atomic_fetch_sub(&l->srv->conns, 1);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
			conn_close(l, c);
	}
}

/* run is a thread's loop. Tokens: l is the listener, NULL the signalfd
 * (never read, so a SIGINT or SIGTERM wakes every thread), else a conn. A
 * conn is freed only while handling its own event, and epoll reports an fd
 * at most once per batch, so no later event of a batch names a freed conn. */
static void *run(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(l->epfd, evs, MAX_EVENTS, l->paused ? 1000 : -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		time_t now = time(NULL); /* vDSO, no system call */
		if (l->srv->http && now != l->date_sec) {
			struct tm tm;
			strftime(l->date, sizeof l->date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
			l->date_sec = now;
		}
		for (int i = 0; i < n; i++) {
			void *tok = evs[i].data.ptr;
			struct conn *c = tok;
			if (!tok)
				return NULL;
			if (tok == l)
				accept_all(l);
			else if (c->plen) /* waiting for EPOLLOUT; EPOLLERR and EPOLLHUP fail send */
				conn_flush(l, c);
			else
				conn_read(l, c);
		}
		if (l->paused && now >= l->paused) {
			struct epoll_event e = {.events = EPOLLIN, .data.ptr = l};
			epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->lfd, &e);
			l->paused = 0;
		}
	}
}

/* listen_on opens a SO_REUSEPORT listener on a; every thread has its own, and
 * the kernel spreads new connections across them. */
static int listen_on(const struct sockaddr_in *a)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    bind(fd, (const struct sockaddr *)a, sizeof *a) < 0 || listen(fd, SOMAXCONN) < 0)
		die("listen");
	return fd;
}

static void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "cserve: %s%s\nusage: cserve [-addr HOST:PORT] [-threads N] "
	        "[-proto echo|http] [-max-conns N]\n", msg, arg);
	exit(2);
}

/* number parses a decimal integer from lo to hi for flag name. */
static long number(const char *name, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage("bad value for ", name);
	return v;
}

static void parse_addr(struct sockaddr_in *a, const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		usage("-addr wants IPv4 HOST:PORT, got ", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)number("-addr port", colon + 1, 0, 65535));
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		usage("-addr wants IPv4 HOST:PORT, got ", s);
}

int main(int argc, char **argv)
{
	struct server srv = {.threads = 1, .max_conns = 20000};
	parse_addr(&srv.addr, "127.0.0.1:9000");
	for (int i = 1; i < argc; i++) { /* -flag value, -flag=value, --flag */
		const char *f = argv[i] + (strncmp(argv[i], "--", 2) == 0);
		if (strcmp(f, "-h") == 0 || strcmp(f, "-help") == 0)
			usage("", "");
		char *v = strchr(argv[i], '=');
		if (v)
			*v++ = 0;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			usage("missing value for ", argv[i]);
		if (strcmp(f, "-addr") == 0)
			parse_addr(&srv.addr, v);
		else if (strcmp(f, "-threads") == 0)
			srv.threads = (int)number(f, v, 1, 1024);
		else if (strcmp(f, "-max-conns") == 0)
			srv.max_conns = number(f, v, 1, 1L << 30);
		else if (strcmp(f, "-proto") == 0 && (!strcmp(v, "echo") || !strcmp(v, "http")))
			srv.http = !strcmp(v, "http");
		else
			usage("bad flag or value: ", f);
	}

	/* Go raises the soft open-file limit to the hard one at start; so does
	 * the reference, so that both can hold as many connections. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* SIGINT and SIGTERM are blocked in every thread (they inherit the mask)
	 * and stay pending on the signalfd each epoll set watches. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (srv.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd");

	struct loop *loops = calloc((size_t)srv.threads, sizeof *loops);
	for (int i = 0; i < srv.threads; i++) {
		struct loop *l = &loops[i];
		l->srv = &srv;
		l->lfd = listen_on(&srv.addr);
		if (i == 0) { /* port 0: the rest bind the port the kernel chose */
			socklen_t len = sizeof srv.addr;
			getsockname(l->lfd, (struct sockaddr *)&srv.addr, &len);
		}
		l->in = malloc(READ_BUF);
		l->outcap = 64 << 10;
		l->out = malloc(l->outcap);
		if (!l->in || !l->out || (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("loop");
		struct epoll_event el = {.events = EPOLLIN, .data.ptr = l}, es = {.events = EPOLLIN};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->lfd, &el) < 0 ||
		    epoll_ctl(l->epfd, EPOLL_CTL_ADD, srv.sigfd, &es) < 0)
			die("epoll_ctl");
	}
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &srv.addr.sin_addr, host, sizeof host);
	printf("cserve: listening on %s:%d (%s, c, %d threads)\n", host, ntohs(srv.addr.sin_port),
	       srv.http ? "http" : "echo", srv.threads);
	fflush(stdout);
	for (int i = 0; i < srv.threads; i++)
		if (pthread_create(&loops[i].tid, NULL, run, &loops[i]) != 0)
			die("pthread_create");
	for (int i = 0; i < srv.threads; i++)
		pthread_join(loops[i].tid, NULL);
	return 0;
}
