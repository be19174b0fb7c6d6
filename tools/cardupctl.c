/* SPDX-License-Identifier: BSD-2-Clause */
/* cardupctl.c — the local shell's view of a running cardupd (SPEC §4): status,
 * readers, a manual check, and the event stream, through the daemon's loopback kiosk
 * API (SPEC §5). HTTP/1.0 over a plain socket: the API is loopback-only and small.
 * Exit codes: 0 ok, 1 runtime failure (daemon unreachable, check failed), 2 usage or
 * configuration error. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "autoconf.h"
#include "version.h"
#include "core/config.h"

#define RESP_MAX	(256 * 1024)

struct target {
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	char			hostport[96];
};

static int
usage(FILE *f)
{
	fprintf(f, "usage: cardupctl [-c FILE] [-u URL] [-t SECONDS] COMMAND\n"
	    "  status            readers, cards and what cardupd is doing\n"
	    "  readers           reader names, one per line\n"
	    "  check [READER]    manual check (READER may be left out when one card is in)\n"
	    "  events            follow state changes (one JSON document per line)\n"
	    "  -c, --config FILE    configuration file for kiosk.listen (default %s)\n"
	    "  -u, --url URL        the kiosk API, e.g. http://127.0.0.1:8080 (overrides -c)\n"
	    "  -t, --timeout SECS   how long check waits for the answer (default 30)\n"
	    "  -h, --help           print this help and exit\n"
	    "      --version        print the version and exit\n"
	    "exit: 0 ok, 1 runtime failure, 2 usage or configuration error\n",
	    CONFIG_CONFIG_PATH_DEFAULT);
	return 2;
}

/* "http://IP:PORT[/]" or "IP:PORT". */
static int
parse_target(const char *url, struct target *t)
{
	char host[64], hp[96];
	unsigned port;
	size_t n;

	if (strncmp(url, "http://", 7) == 0)
		url += 7;
	snprintf(hp, sizeof(hp), "%s", url);
	n = strlen(hp);
	if (n > 0 && hp[n - 1] == '/')
		hp[n - 1] = '\0';
	if (cfg_split_listen(hp, host, sizeof(host), &port) == -1)
		return -1;
	memset(&t->ss, 0, sizeof(t->ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &in6->sin6_addr);
		t->sslen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&t->ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &in->sin_addr);
		t->sslen = sizeof(*in);
	}
	snprintf(t->hostport, sizeof(t->hostport), "%s", hp);
	return 0;
}

static int
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Connects and sends one HTTP/1.0 request (no chunked answers, the server closes). */
static int
request(const struct target *t, const char *method, const char *path, const char *body)
{
	char head[512];
	int fd, n;

	if ((fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&t->ss, t->sslen) == -1) {
		close(fd);
		return -1;
	}
	if (body != NULL)
		n = snprintf(head, sizeof(head), "%s %s HTTP/1.0\r\nHost: %s\r\n"
		    "User-Agent: cardupctl\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n", method, path, t->hostport, strlen(body));
	else
		n = snprintf(head, sizeof(head), "%s %s HTTP/1.0\r\nHost: %s\r\n"
		    "User-Agent: cardupctl\r\n\r\n", method, path, t->hostport);
	if (n < 0 || (size_t)n >= sizeof(head) || send_all(fd, head, (size_t)n) == -1 ||
	    (body != NULL && send_all(fd, body, strlen(body)) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads a whole answer: status and body (malloc'd). Returns the status or -1. */
static int
fetch(const struct target *t, const char *method, const char *path, const char *body,
    char **out)
{
	char *buf, *sep;
	size_t len = 0;
	ssize_t r;
	int fd, status;

	*out = NULL;
	if ((fd = request(t, method, path, body)) == -1)
		return -1;
	if ((buf = malloc(RESP_MAX + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (len < RESP_MAX && (r = recv(fd, buf + len, RESP_MAX - len, 0)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 ||
	    (sep = strstr(buf, "\r\n\r\n")) == NULL) {
		free(buf);
		return -1;
	}
	memmove(buf, sep + 4, len - (size_t)(sep + 4 - buf) + 1);
	*out = buf;
	return status;
}

static json_object *
get_state(const struct target *t)
{
	char *body;
	json_object *o = NULL;
	int st = fetch(t, "GET", "/api/v1/state", NULL, &body);

	if (st == 200)
		o = json_tokener_parse(body);
	else if (st > 0)
		fprintf(stderr, "cardupctl: GET /api/v1/state: HTTP %d: %s\n", st, body);
	free(body);
	return o;
}

static const char *
sget(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
cmd_status(const struct target *t, int names_only)
{
	json_object *st = get_state(t), *readers;

	if (st == NULL) {
		fprintf(stderr, "cardupctl: no answer from cardupd at http://%s/\n", t->hostport);
		return 1;
	}
	if (!json_object_object_get_ex(st, "readers", &readers)) {
		json_object_put(st);
		return 1;
	}
	if (!names_only && json_object_array_length(readers) == 0)
		printf("no readers\n");
	for (size_t i = 0; i < json_object_array_length(readers); i++) {
		json_object *r = json_object_array_get_idx(readers, i);
		const char *msg = sget(r, "message"), *code = sget(r, "code");

		if (names_only) {
			printf("%s\n", sget(r, "name"));
			continue;
		}
		printf("%s: card %s, %s%s%s%s\n", sget(r, "name"), sget(r, "card"),
		    sget(r, "phase"), code ? " [" : "", code ? code : "", code ? "]" : "");
		if (msg != NULL)
			printf("  %s\n", msg);
	}
	json_object_put(st);
	return 0;
}

/* Reads one SSE "data:" document from fd into a malloc'd string (NULL at the end).
 * buf and len carry what was read past it. */
static char *
sse_next(int fd, char *buf, size_t *len, size_t cap, int timeout_ms)
{
	for (;;) {
		char *end = NULL, *d;

		/* An event ends at a blank line. */
		if ((end = strstr(buf, "\n\n")) != NULL) {
			char *doc = NULL;

			*end = '\0';
			if ((d = strstr(buf, "data: ")) != NULL)
				doc = strdup(d + 6);
			memmove(buf, end + 2, *len - (size_t)(end + 2 - buf) + 1);
			*len -= (size_t)(end + 2 - buf);
			if (doc != NULL)
				return doc;
			continue;
		}
		struct pollfd pfd = { fd, POLLIN, 0 };
		int pr = poll(&pfd, 1, timeout_ms);
		ssize_t r;

		if (pr == 0 || (pr == -1 && errno != EINTR))
			return NULL;
		if (pr == -1)
			continue;
		if (*len + 1 >= cap)
			return NULL;
		r = recv(fd, buf + *len, cap - *len - 1, 0);
		if (r <= 0)
			return NULL;
		*len += (size_t)r;
		buf[*len] = '\0';
		/* Drop the HTTP header block the first time round. */
		if (strncmp(buf, "HTTP/", 5) == 0 && (d = strstr(buf, "\r\n\r\n")) != NULL) {
			int st = 0;

			sscanf(buf, "HTTP/%*d.%*d %d", &st);
			if (st != 200)
				return NULL;
			memmove(buf, d + 4, *len - (size_t)(d + 4 - buf) + 1);
			*len -= (size_t)(d + 4 - buf);
		}
	}
}

static int
cmd_events(const struct target *t)
{
	static char buf[RESP_MAX + 1];
	size_t len = 0;
	char *doc;
	int fd = request(t, "GET", "/api/v1/events", NULL);

	if (fd == -1) {
		fprintf(stderr, "cardupctl: no answer from cardupd at http://%s/\n", t->hostport);
		return 1;
	}
	buf[0] = '\0';
	while ((doc = sse_next(fd, buf, &len, sizeof(buf), -1)) != NULL) {
		printf("%s\n", doc);
		fflush(stdout);
		free(doc);
	}
	close(fd);
	fprintf(stderr, "cardupctl: event stream ended\n");
	return 1;
}

/* The reader called name in a state document, or NULL. */
static json_object *
find_reader(json_object *st, const char *name)
{
	json_object *readers;

	if (st == NULL || !json_object_object_get_ex(st, "readers", &readers))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(readers); i++) {
		json_object *r = json_object_array_get_idx(readers, i);
		const char *n = sget(r, "name");

		if (n != NULL && strcmp(n, name) == 0)
			return r;
	}
	return NULL;
}

static int
cmd_check(const struct target *t, const char *reader, int timeout_s)
{
	static char buf[RESP_MAX + 1];
	json_object *req = json_object_new_object(), *st, *r, *seqo;
	char name[256] = "", *body, *doc;
	int64_t seq0 = 0;
	size_t len = 0;
	int status, fd, rc = 1;
	time_t end = time(NULL) + timeout_s;

	if ((st = get_state(t)) == NULL) {
		fprintf(stderr, "cardupctl: no answer from cardupd at http://%s/\n", t->hostport);
		json_object_put(req);
		return 1;
	}
	if (json_object_object_get_ex(st, "seq", &seqo))
		seq0 = json_object_get_int64(seqo);
	json_object_put(st);
	/* Follow the events before asking, so that no change is missed. */
	if ((fd = request(t, "GET", "/api/v1/events", NULL)) == -1) {
		json_object_put(req);
		return 1;
	}
	if (reader != NULL)
		json_object_object_add(req, "reader", json_object_new_string(reader));
	status = fetch(t, "POST", "/api/v1/check",
	    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &body);
	json_object_put(req);
	if (status != 202) {
		json_object *e = body ? json_tokener_parse(body) : NULL;

		fprintf(stderr, "cardupctl: check refused: %s\n",
		    e && sget(e, "error") ? sget(e, "error") : status < 0 ? "no answer" : "?");
		json_object_put(e);
		free(body);
		close(fd);
		return status == 404 || status == 409 ? 2 : 1;
	}
	free(body);
	if (reader != NULL)
		snprintf(name, sizeof(name), "%s", reader);
	buf[0] = '\0';
	while (time(NULL) < end &&
	    (doc = sse_next(fd, buf, &len, sizeof(buf), (int)(end - time(NULL)) * 1000)) != NULL) {
		const char *phase, *msg;

		st = json_tokener_parse(doc);
		free(doc);
		if (st == NULL || !json_object_object_get_ex(st, "seq", &seqo) ||
		    json_object_get_int64(seqo) <= seq0) {
			json_object_put(st);
			continue;
		}
		if (name[0] == '\0') {	/* the one reader with a card */
			json_object *readers;

			json_object_object_get_ex(st, "readers", &readers);
			for (size_t i = 0; readers && i < json_object_array_length(readers); i++) {
				json_object *x = json_object_array_get_idx(readers, i);

				if (sget(x, "card") && strcmp(sget(x, "card"), "present") == 0)
					snprintf(name, sizeof(name), "%s", sget(x, "name"));
			}
		}
		r = find_reader(st, name);
		phase = r ? sget(r, "phase") : NULL;
		msg = r ? sget(r, "message") : NULL;
		if (phase != NULL && strcmp(phase, "prompt") == 0) {
			json_object *p, *ups;

			printf("%s: update found:\n", name);
			if (json_object_object_get_ex(r, "prompt", &p) &&
			    json_object_object_get_ex(p, "updates", &ups))
				for (size_t i = 0; i < json_object_array_length(ups); i++)
					printf("  %s: %s\n", sget(json_object_array_get_idx(ups, i),
					    "type"), sget(json_object_array_get_idx(ups, i),
					    "description"));
			rc = 0;
			json_object_put(st);
			break;
		}
		if (phase != NULL && msg != NULL && (strcmp(phase, "up_to_date") == 0 ||
		    strcmp(phase, "check_failed") == 0)) {
			const char *code = sget(r, "code");

			printf("%s: %s%s%s%s\n", name, msg, code ? " [" : "", code ? code : "",
			    code ? "]" : "");
			rc = strcmp(phase, "up_to_date") == 0 ? 0 : 1;
			json_object_put(st);
			break;
		}
		if (phase != NULL && strcmp(phase, "idle") == 0 && r != NULL &&
		    strcmp(sget(r, "card"), "absent") == 0) {
			printf("%s: the card was removed\n", name);
			json_object_put(st);
			break;
		}
		json_object_put(st);
	}
	close(fd);
	if (rc == 1 && time(NULL) >= end)
		fprintf(stderr, "cardupctl: no answer within %d s\n", timeout_s);
	return rc;
}

int
main(int argc, char *argv[])
{
	static char err[CFG_ERR_MAX];
	static struct cfg c;
	const char *cfg_path = CONFIG_CONFIG_PATH_DEFAULT, *url = NULL;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct target t;
	int ch, timeout_s = 30;

	while ((ch = getopt_long(argc, argv, "c:u:t:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			if (timeout_s <= 0)
				return usage(stderr);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("cardupctl %s\n", CARDUPD_VERSION);
			return 0;
		default:
			return usage(stderr);
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage(stderr);
	if (url == NULL) {
		if (cfg_load(cfg_path, &c, err, sizeof(err)) == -1) {
			fprintf(stderr, "cardupctl: %s(use -u URL to name the daemon)\n", err);
			return 2;
		}
		url = c.kiosk_listen;
	}
	if (parse_target(url, &t) == -1) {
		fprintf(stderr, "cardupctl: %s: expected http://IP:PORT\n", url);
		return 2;
	}
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		return cmd_status(&t, 0);
	if (strcmp(argv[0], "readers") == 0 && argc == 1)
		return cmd_status(&t, 1);
	if (strcmp(argv[0], "check") == 0 && argc <= 2)
		return cmd_check(&t, argc == 2 ? argv[1] : NULL, timeout_s);
	if (strcmp(argv[0], "events") == 0 && argc == 1)
		return cmd_events(&t);
	return usage(stderr);
}
