/* admin_state.c — the admin snapshot: what the dashboard and /metrics show, built by
 * the main loop from the agent, the running configuration and the metrics. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "web/admin/admin.h"
#include "version.h"

#define CLOCK_PLAUSIBLE	1704067200LL	/* 2024-01-01: a kiosk clock before it is wrong */

static json_object *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
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

/* see admin.h */
struct admin_snapshot *
admin_snapshot_build(const struct agent *a, const struct cfg *cfg,
    const struct metrics *m, int pcsc_up, int64_t now_ms, long long wall,
    long long started)
{
	struct admin_snapshot *s;
	json_object *root, *readers, *checks, *cms, *pre, *cnt;
	const struct metrics_check *last = metrics_recent(m, 0);
	char detail[64];
	const char *js;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	root = json_object_new_object();
	json_object_object_add(root, "device", json_object_new_string(cfg->device_id));
	json_object_object_add(root, "version", json_object_new_string(CARDUPD_VERSION));
	json_object_object_add(root, "time", json_object_new_int64(wall));
	json_object_object_add(root, "uptime_s", json_object_new_int64(wall - started));
	readers = json_object_new_array();
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		const struct agent_reader *r = &a->r[i];
		json_object *jr, *ups;

		if (!r->used)
			continue;
		snprintf(s->r[s->n].name, sizeof(s->r[s->n].name), "%s", r->name);
		s->r[s->n++].card_present = r->card_present;
		jr = json_object_new_object();
		json_object_object_add(jr, "name", json_object_new_string(r->name));
		json_object_object_add(jr, "card",
		    json_object_new_string(r->card_present ? "present" : "absent"));
		json_object_object_add(jr, "phase",
		    json_object_new_string(agent_phase_name(r->phase)));
		json_object_object_add(jr, "message", str_or_null(r->message));
		json_object_object_add(jr, "code", str_or_null(r->code));
		ups = json_object_new_array();
		if (r->phase == AGENT_PROMPT || r->phase == AGENT_PORTAL)
			for (size_t u = 0; u < r->result.n_updates; u++) {
				json_object *ju = json_object_new_object();

				json_object_object_add(ju, "type",
				    json_object_new_string(r->result.updates[u].type));
				json_object_object_add(ju, "description", json_object_new_string(
				    r->result.updates[u].description));
				json_object_array_add(ups, ju);
			}
		json_object_object_add(jr, "updates", ups);
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
	(void)now_ms;
	js = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	s->status_json = strdup(js);
	json_object_put(root);
	s->metrics = metrics_render(m, a, pcsc_up);
	if (s->status_json == NULL || s->metrics == NULL) {
		admin_snapshot_free(s);
		return NULL;
	}
	return s;
}

/* see admin.h */
void
admin_snapshot_free(struct admin_snapshot *snap)
{
	if (snap == NULL)
		return;
	free(snap->status_json);
	free(snap->metrics);
	free(snap);
}
