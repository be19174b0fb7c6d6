/* SPDX-License-Identifier: BSD-2-Clause */
/* view.c — see view.h. json-c builds both documents; a reader's update list is one
 * function for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/buf.h"
#include "core/view.h"
#include "version.h"

#define CLOCK_PLAUSIBLE	1704067200LL	/* 2024-01-01: a kiosk clock before it is wrong */

/* see view.h */
int
view_add_query(char *out, size_t cap, const char *url, const char *param,
    const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	const char *frag = strchr(url, '#');
	size_t base = frag ? (size_t)(frag - url) : strlen(url), o;
	int n;

	n = snprintf(out, cap, "%.*s%c%s=", (int)base, url,
	    memchr(url, '?', base) ? '&' : '?', param);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (o + 4 >= cap)
			return -1;
		if (plain)
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hexd[*p >> 4];
			out[o++] = hexd[*p & 15];
		}
	}
	if (frag != NULL) {
		if (o + strlen(frag) >= cap)
			return -1;
		strcpy(out + o, frag);
		o += strlen(frag);
	}
	out[o] = '\0';
	return 0;
}

/* The URL Proceed goes to: the CMS's portal_url, plus the SERAM session id (SPEC §7)
 * and the way back to the kiosk page when configured. A URL that would not fit is
 * given without the additions (the portal still works, only less conveniently). */
static void
portal_url(char *out, size_t cap, const struct agent_reader *r, const struct cfg *cfg,
    const char *kiosk_origin)
{
	char tmp[CMS_URL_MAX + 64];

	snprintf(out, cap, "%s", r->result.portal_url);
	if (r->session_id[0] != '\0') {
		if (view_add_query(tmp, sizeof(tmp), out, "seram_session", r->session_id) == 0)
			snprintf(out, cap, "%s", tmp);
	}
	if (cfg->kiosk_return_param[0] != '\0' &&
	    view_add_query(tmp, sizeof(tmp), out, cfg->kiosk_return_param, kiosk_origin) == 0)
		snprintf(out, cap, "%s", tmp);
}

static json_object *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

/* root as a string the caller frees (NULL when out of memory); drops root. */
static char *
to_string(json_object *root)
{
	char *js = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));

	json_object_put(root);
	return js;
}

/* The end of both snapshots' making: root becomes the snapshot's text (*text, which
 * the snapshot owns). A snapshot whose text could not be made is freed: NULL. */
static void *
seal(void *snap, char **text, json_object *root)
{
	if ((*text = to_string(root)) == NULL) {
		free(snap);
		return NULL;
	}
	return snap;
}

/* Frees a snapshot and its text (both may be NULL). */
static void
drop(void *snap, char *text)
{
	free(text);
	free(snap);
}

/* A reader's pending updates, [{"type", "description"}], for both snapshots. */
static json_object *
updates_json(const struct agent_reader *r)
{
	json_object *ups = json_object_new_array();

	for (size_t u = 0; u < r->result.n_updates; u++) {
		json_object *ju = json_object_new_object();

		json_object_object_add(ju, "type",
		    json_object_new_string(r->result.updates[u].type));
		json_object_object_add(ju, "description",
		    json_object_new_string(r->result.updates[u].description));
		json_object_array_add(ups, ju);
	}
	return ups;
}

/* A reader's object as both snapshots start it: name, card, phase. */
static json_object *
reader_json(const struct agent_reader *r)
{
	json_object *jr = json_object_new_object();

	json_object_object_add(jr, "name", json_object_new_string(r->name));
	json_object_object_add(jr, "card",
	    json_object_new_string(r->card_present ? "present" : "absent"));
	json_object_object_add(jr, "phase", json_object_new_string(agent_phase_name(r->phase)));
	return jr;
}

static void prereq(json_object *arr, const char *id, const char *name, int ok,
    const char *detail);

/* The kiosk state document is written straight into one buffer: it is made on every
 * state change, and a json-c tree of it cost ~27 allocations (two readers) where this
 * costs one or two (base/buf). Strings are escaped as json-c escapes them, '/'
 * excepted. */

/* Before a member ("key":) or an array element: the comma unless it is the first. */
static void
jw_sep(struct buf *w, const char *key)
{
	if (w->len > 0 && w->p[w->len - 1] != '{' && w->p[w->len - 1] != '[')
		buf_put(w, ",", 1);
	if (key != NULL) {
		buf_put(w, "\"", 1);
		buf_puts(w, key);
		buf_put(w, "\":", 2);
	}
}

/* key: s as a JSON string, or null when s is NULL. */
static void
jw_str(struct buf *w, const char *key, const char *s)
{
	static const char hexd[] = "0123456789abcdef";
	const char *run;

	jw_sep(w, key);
	if (s == NULL) {
		buf_puts(w, "null");
		return;
	}
	buf_put(w, "\"", 1);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = "\\u00";

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': buf_puts(w, "\\\""); break;
		case '\\': buf_puts(w, "\\\\"); break;
		case '\n': buf_puts(w, "\\n"); break;
		case '\r': buf_puts(w, "\\r"); break;
		case '\t': buf_puts(w, "\\t"); break;
		case '\b': buf_puts(w, "\\b"); break;
		case '\f': buf_puts(w, "\\f"); break;
		default:
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			buf_put(w, esc, 6);
		}
	}
	buf_put(w, run, (size_t)(s - run));
	buf_put(w, "\"", 1);
}

/* key: "" as null, like str_or_null. */
static void
jw_str_or_null(struct buf *w, const char *key, const char *s)
{
	jw_str(w, key, s[0] != '\0' ? s : NULL);
}

static void
jw_int(struct buf *w, const char *key, long long v)
{
	char b[24];

	jw_sep(w, key);
	snprintf(b, sizeof(b), "%lld", v);
	buf_puts(w, b);
}

static void
jw_bool(struct buf *w, const char *key, int v)
{
	jw_sep(w, key);
	buf_puts(w, v ? "true" : "false");
}

/* key: { (or [ with array) — the caller closes it. */
static void
jw_open(struct buf *w, const char *key, int array)
{
	jw_sep(w, key);
	buf_put(w, array ? "[" : "{", 1);
}

/* see view.h */
struct web_snapshot *
view_kiosk(const struct agent *a, const struct cfg *cfg, const char *kiosk_origin,
    const char *setup_code, const char *admin_fingerprint, const char *admin_error,
    int64_t now_ms, unsigned long seq)
{
	struct web_snapshot *s;
	struct buf w = BUF_INIT;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->seq = seq;
	jw_open(&w, NULL, 0);
	jw_int(&w, "seq", (long long)seq);
	jw_open(&w, "ui", 0);
	jw_str(&w, "lang", cfg->kiosk_lang);
	jw_bool(&w, "manual_check", cfg->kiosk_manual_check);
	/* Until an administrator has set a password, whoever stands at the kiosk can
	 * read the one-time setup code (physical presence is the proof). The page
	 * expects the keys even when there is none. */
	jw_str(&w, "setup_code", setup_code);
	jw_str(&w, "admin_fingerprint", setup_code != NULL ? admin_fingerprint : NULL);
	buf_puts(&w, "}");
	/* What keeps a part of the device from working, said on the kiosk's own state
	 * (cardupctl status shows it): the admin listener that did not start. */
	jw_open(&w, "prerequisites", 1);
	if (admin_error != NULL) {
		jw_open(&w, NULL, 0);
		jw_str(&w, "id", "admin");
		jw_str(&w, "name", "Remote administration listening");
		jw_bool(&w, "ok", 0);
		jw_str(&w, "detail", admin_error);
		buf_puts(&w, "}");
	}
	buf_puts(&w, "]");
	jw_open(&w, "readers", 1);
	for (int i = 0; i < a->top; i++) {
		const struct agent_reader *r = &a->r[i];
		struct web_reader_view *v;

		if (!r->used)
			continue;
		snprintf(s->rd[s->n].name, sizeof(s->rd[s->n].name), "%s", r->name);
		s->rd[s->n].card_present = r->card_present;
		v = &s->r[s->n++];
		snprintf(v->name, sizeof(v->name), "%s", r->name);
		v->card_present = r->card_present;
		jw_open(&w, NULL, 0);
		jw_str(&w, "name", r->name);
		jw_str(&w, "card", r->card_present ? "present" : "absent");
		jw_str(&w, "phase", agent_phase_name(r->phase));
		if (r->phase == AGENT_PROMPT) {
			snprintf(v->prompt_id, sizeof(v->prompt_id), "%s", r->prompt_id);
			portal_url(v->portal_url, sizeof(v->portal_url), r, cfg, kiosk_origin);
			jw_open(&w, "prompt", 0);
			jw_str(&w, "id", r->prompt_id);
			jw_open(&w, "updates", 1);
			for (size_t u = 0; u < r->result.n_updates; u++) {
				jw_open(&w, NULL, 0);
				jw_str(&w, "type", r->result.updates[u].type);
				jw_str(&w, "description", r->result.updates[u].description);
				buf_puts(&w, "}");
			}
			buf_puts(&w, "]");
			jw_int(&w, "expires_in_s", (long long)agent_prompt_left_s(a, i, now_ms));
			jw_bool(&w, "manual", r->manual);
			buf_puts(&w, "}");
		} else
			jw_str(&w, "prompt", NULL);
		if (r->session) {
			jw_open(&w, "session", 0);
			jw_str_or_null(&w, "progress", r->progress);
			buf_puts(&w, "}");
		} else
			jw_str(&w, "session", NULL);
		jw_str_or_null(&w, "message", r->message);
		jw_str_or_null(&w, "code", r->code);
		buf_puts(&w, "}");
	}
	buf_puts(&w, "]}");
	if ((s->json = buf_take(&w, &s->json_len)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* see view.h */
void
web_snapshot_free(struct web_snapshot *snap)
{
	drop(snap, snap != NULL ? snap->json : NULL);
}

static void
prereq(json_object *arr, const char *id, const char *name, int ok, const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_array_add(arr, o);
}

/* see view.h */
struct admin_snapshot *
view_admin(const struct agent *a, const struct cfg *cfg, const struct metrics *m,
    int pcsc_up, long long wall, long long started)
{
	struct admin_snapshot *s;
	json_object *root, *readers, *checks, *cms, *pre, *cnt;
	const struct metrics_check *last = metrics_recent(m, 0);
	char detail[64];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	root = json_object_new_object();
	json_object_object_add(root, "device", json_object_new_string(cfg->device_id));
	json_object_object_add(root, "version", json_object_new_string(CARDUPD_VERSION));
	json_object_object_add(root, "time", json_object_new_int64(wall));
	json_object_object_add(root, "uptime_s", json_object_new_int64(wall - started));
	readers = json_object_new_array();
	for (int i = 0; i < a->top; i++) {
		const struct agent_reader *r = &a->r[i];
		json_object *jr;

		if (!r->used)
			continue;
		snprintf(s->r[s->n].name, sizeof(s->r[s->n].name), "%s", r->name);
		s->r[s->n++].card_present = r->card_present;
		jr = reader_json(r);
		json_object_object_add(jr, "message", str_or_null(r->message));
		json_object_object_add(jr, "code", str_or_null(r->code));
		json_object_object_add(jr, "updates", r->phase == AGENT_PROMPT ||
		    r->phase == AGENT_PORTAL ? updates_json(r) : json_object_new_array());
		json_object_array_add(readers, jr);
	}
	json_object_object_add(root, "readers", readers);
	checks = json_object_new_array();
	for (size_t i = 0; i < METRICS_RECENT; i++) {
		const struct metrics_check *c = metrics_recent(m, i);
		json_object *jc;

		if (c == NULL)
			break;
		jc = json_object_new_object();
		json_object_object_add(jc, "when", json_object_new_int64(c->when));
		json_object_object_add(jc, "reader", json_object_new_string(c->reader));
		json_object_object_add(jc, "trigger", json_object_new_string(c->trigger));
		json_object_object_add(jc, "result", json_object_new_string(c->result));
		json_object_object_add(jc, "latency_ms", json_object_new_int64(c->latency_ms));
		json_object_object_add(jc, "http_status", json_object_new_int(c->http_status));
		json_object_array_add(checks, jc);
	}
	json_object_object_add(root, "checks", checks);
	cms = json_object_new_object();
	json_object_object_add(cms, "url", json_object_new_string(cfg->cms_url));
	json_object_object_add(cms, "reachable", last == NULL ? NULL :
	    json_object_new_boolean(last->http_status != 0));
	json_object_object_add(cms, "last_result", last ? json_object_new_string(last->result) :
	    NULL);
	json_object_object_add(cms, "last_latency_ms", last ?
	    json_object_new_int64(last->latency_ms) : NULL);
	json_object_object_add(cms, "last_when", last ? json_object_new_int64(last->when) : NULL);
	json_object_object_add(root, "cms", cms);
	cnt = json_object_new_object();
	json_object_object_add(cnt, "insertions", json_object_new_int64((int64_t)a->count.insertions));
	json_object_object_add(cnt, "checks", json_object_new_int64((int64_t)a->count.checks));
	json_object_object_add(cnt, "checks_failed",
	    json_object_new_int64((int64_t)a->count.checks_failed));
	json_object_object_add(cnt, "prompts_shown",
	    json_object_new_int64((int64_t)a->count.prompts_shown));
	json_object_object_add(cnt, "pcscd_reconnects",
	    json_object_new_int64((int64_t)m->pcscd_reconnects));
	json_object_object_add(root, "counters", cnt);
	pre = json_object_new_array();
	prereq(pre, "component", "Administration component enabled", 1, "built in");
	prereq(pre, "cms_url", "CMS URL set", cfg->cms_url[0] != '\0', cfg->cms_url);
	prereq(pre, "pcscd", "pcscd reachable", pcsc_up, pcsc_up ? "connected" :
	    "not connected");
	snprintf(detail, sizeof(detail), "unix time %lld", wall);
	prereq(pre, "clock", "Clock plausible", wall >= CLOCK_PLAUSIBLE, detail);
	json_object_object_add(root, "prerequisites", pre);
	/* The Prometheus text is not rendered here: GET /metrics renders these copies
	 * when scraped (web/admin/status.c), far less often than the state changes. */
	s->metrics = *m;
	metrics_gauges_take(&s->gauges, a, pcsc_up);
	return seal(s, &s->status_json, root);
}

/* see view.h */
void
admin_snapshot_free(struct admin_snapshot *snap)
{
	drop(snap, snap != NULL ? snap->status_json : NULL);
}

/* see view.h */
enum view_pick
view_pick_reader(const struct view_reader *r, size_t n, const char *want, size_t *idx)
{
	size_t with_card = 0;

	if (want == NULL || want[0] == '\0') {
		for (size_t i = 0; i < n; i++)
			if (r[i].card_present) {
				with_card++;
				*idx = i;
			}
		return with_card == 1 ? VIEW_PICK_OK : VIEW_PICK_AMBIGUOUS;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, want) == 0) {
			*idx = i;
			return r[i].card_present ? VIEW_PICK_OK : VIEW_PICK_NO_CARD;
		}
	return VIEW_PICK_UNKNOWN;
}
