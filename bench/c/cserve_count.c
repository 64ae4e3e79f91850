/* cserve_count repeats N times (default 20000) the C reference's
 * user-space work for one batch of 16 pipelined GET /plaintext requests, as
 * `pinion load -proto http -pipeline 16` sends them: http_serve's loop
 * (memmem for CRLF CRLF, http_route, respond) without the send, the work
 * that BenchmarkHTTPServePipelined16 (cmd/pinion/internal/proto) does for
 * pinion. Counted with callgrind, the difference between two N divided by
 * the requests between them is instructions per request:
 *
 *   cc -O2 -pthread -w -o /tmp/cserve_count bench/c/cserve_count.c
 *   valgrind --tool=callgrind /tmp/cserve_count 10000
 *   valgrind --tool=callgrind /tmp/cserve_count 20000
 */
#define main cserve_main
#include "cserve.c"
#undef main
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	static const char req[] = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n";
	char in[16 * sizeof req];
	size_t len = 0;
	for (int i = 0; i < 16; i++) { memcpy(in + len, req, sizeof req - 1); len += sizeof req - 1; }
	struct loop l = {0};
	l.outcap = 4096; l.out = malloc(l.outcap);
	memcpy(l.date, "Sun, 06 Nov 1994 08:49:37 GMT", 30);
	size_t total = 0;
	for (long k = 0; k < n; k++) {
		const char *p = in, *end = in + len;
		int keep = 1, v10;
		l.outlen = 0;
		while (keep && p < end) {
			const char *e = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
			if (!e) break;
			int r = http_route(p, (size_t)(e + 4 - p), &keep, &v10);
			respond(&l, r, !keep ? "\r\nConnection: close" : v10 ? "\r\nConnection: keep-alive" : "");
			p = e + 4;
		}
		total += l.outlen;
	}
	printf("%zu\n", total);
	return 0;
}
